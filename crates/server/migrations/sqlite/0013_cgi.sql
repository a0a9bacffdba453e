-- The newer Exmail API (EXMAIL_API.md) on the same directory.
-- A tenant's corp id and one secret per application (directory, sso, mail, log, option), sealed
-- with the vault because an admin must be able to reveal it; tokens are scoped to (tenant, app)
-- and stored as SHA-256 hashes like every other token.
ALTER TABLE tenants ADD COLUMN corp_id TEXT;
-- The operator's switch (bizmail tenant disable): a disabled tenant's APIs, logins and inbound
-- mail are refused; nothing of it is deleted.
ALTER TABLE tenants ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX tenants_corp_id ON tenants(corp_id);

CREATE TABLE corp_apps (
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    app           TEXT    NOT NULL,
    secret_sealed BLOB    NOT NULL,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    rotated_ms    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, app)
);

CREATE TABLE corp_tokens (
    token_hash BLOB    PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    app        TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX corp_tokens_app ON corp_tokens(tenant_id, app);
CREATE INDEX corp_tokens_expiry ON corp_tokens(expires_ms);

-- Single sign-on of the newer API (service/get_login_url): as on the real service, a member's first
-- SSO login asks for their password once to authorize it (a tenant switch, on by default); a
-- password change or a new SSO secret takes the authorization back.
ALTER TABLE tenants ADD COLUMN sso_confirm_password BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE members ADD COLUMN sso_authorized BOOLEAN NOT NULL DEFAULT FALSE;
-- Which API issued a ticket: 'bizauth' (the old mail/authkey) or 'openapi'
-- (service/get_login_url). A ticket opens only its own URL form, so the newer API's first-login
-- password cannot be skipped by presenting its ticket in the old form.
ALTER TABLE sso_tickets ADD COLUMN kind TEXT NOT NULL DEFAULT 'bizauth';
-- Logins waiting for one more step, each a short-lived id held by the browser (hashed, like every
-- secret): kind 'sso' (a burned SSO ticket that owes the member's password), 'password' (a right
-- password whose member must choose a new one: cpwd_login).
CREATE TABLE pending_logins (
    id_hash    BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    expires_ms INTEGER NOT NULL
);

-- Departments sort by (ord, id) in the newer API; members may be made to change their password at
-- the next login (cpwd_login) and may be kept off IMAP/SMTP or POP/SMTP (useroption types 2, 3).
ALTER TABLE departments ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN cpwd_login BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE members ADD COLUMN imap_smtp BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE members ADD COLUMN pop_smtp BOOLEAN NOT NULL DEFAULT TRUE;

-- A mail group may hold whole departments (their members, sub-departments included, at delivery).
CREATE TABLE group_departments (
    group_id      INTEGER NOT NULL REFERENCES mail_groups(id) ON DELETE CASCADE,
    department_id INTEGER NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    PRIMARY KEY (group_id, department_id)
);
CREATE INDEX group_departments_department ON group_departments(department_id);

-- Tags: client-chosen or next ids per tenant, unique names, members and departments.
CREATE TABLE tags (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    tag_id    INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, tag_id),
    UNIQUE (tenant_id, name)
);
CREATE TABLE tag_members (
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    tag_id        INTEGER NOT NULL,
    member_id     INTEGER REFERENCES members(id) ON DELETE CASCADE,
    department_id INTEGER REFERENCES departments(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL
);
CREATE UNIQUE INDEX tag_members_member ON tag_members(tenant_id, tag_id, member_id) WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX tag_members_department ON tag_members(tenant_id, tag_id, department_id) WHERE department_id IS NOT NULL;

-- What log/mail, log/mailstatus and log/login answer from: one row per delivery, refusal or
-- submission, and one per mailbox login. Pruned by housekeeping after log_retention_days.
CREATE TABLE mail_log (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    at_ms     INTEGER NOT NULL,
    mailtype  INTEGER NOT NULL,
    status    INTEGER NOT NULL,
    sender    TEXT    NOT NULL,
    receiver  TEXT    NOT NULL,
    subject   TEXT    NOT NULL
);
CREATE INDEX mail_log_tenant ON mail_log(tenant_id, at_ms);
CREATE TABLE login_log (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    at_ms     INTEGER NOT NULL,
    ip        TEXT    NOT NULL,
    kind      INTEGER NOT NULL
);
CREATE INDEX login_log_member ON login_log(member_id, at_ms);

-- The new-mail callback (§4.7): a tenant's receiver, its Token (sealed, as base64 text) and
-- EncodingAESKey (sealed), and how far into the event log notices have been copied to the
-- outbox. The outbox holds each
-- notice's plaintext until a receiver answers 2xx or its last retry fails; a node takes a row for
-- a while by writing lease_ms with a compare-and-set.
CREATE TABLE callbacks (
    tenant_id     INTEGER PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    url           TEXT    NOT NULL,
    token         TEXT    NOT NULL,
    key_sealed    BLOB    NOT NULL,
    event_cursor  INTEGER NOT NULL,
    delivered     INTEGER NOT NULL DEFAULT 0,
    dropped       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE callback_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    event_id   INTEGER NOT NULL,
    plaintext  TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_ms    INTEGER NOT NULL,
    lease_ms   INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, event_id)
);
CREATE INDEX callback_outbox_due ON callback_outbox(next_ms);
