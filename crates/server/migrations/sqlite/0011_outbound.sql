-- Sending. `dkim_keys`: each tenant domain's signing keys, the private key sealed with the vault
-- (like interface keys); `active` marks the one that signs new mail, and a retired selector stays
-- until an admin removes it, so the DNS record of mail still in flight keeps verifying.
CREATE TABLE dkim_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   BIGINT  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    domain      TEXT    NOT NULL,
    selector    TEXT    NOT NULL,
    algorithm   TEXT    NOT NULL,
    sealed_key  BLOB    NOT NULL,
    public_key  TEXT    NOT NULL,
    active      BOOLEAN NOT NULL,
    created_ms  BIGINT  NOT NULL,
    UNIQUE (domain, selector)
);

-- The outbound queue: a submitted message's bytes once (signed), and one row per remote recipient.
-- A row is `queued` until delivered (`sent`) or given up (`failed`); a node takes a row for a while
-- by writing `lease_ms` with a compare-and-set, so nodes sharing the database never send one row
-- twice at once.
CREATE TABLE outbound_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   BIGINT  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id   BIGINT  REFERENCES members(id) ON DELETE SET NULL,
    sender      TEXT    NOT NULL,
    raw         BLOB    NOT NULL,
    created_ms  BIGINT  NOT NULL
);
CREATE TABLE outbound (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  BIGINT  NOT NULL REFERENCES outbound_messages(id) ON DELETE CASCADE,
    tenant_id   BIGINT  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    recipient   TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'queued',
    attempts    BIGINT  NOT NULL DEFAULT 0,
    next_ms     BIGINT  NOT NULL,
    lease_ms    BIGINT  NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_ms  BIGINT  NOT NULL,
    updated_ms  BIGINT  NOT NULL
);
CREATE INDEX outbound_due ON outbound(state, next_ms);
CREATE INDEX outbound_message ON outbound(message_id);

-- One row per message a member submits, for the hourly sending limit (pruned after an hour).
CREATE TABLE submissions (
    member_id   BIGINT  NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    at_ms       BIGINT  NOT NULL
);
CREATE INDEX submissions_member ON submissions(member_id, at_ms);
