-- The directory (§7): departments, members, every address in use, mail groups, the change log
-- that user/list reads, and the per-tenant event log that openapi/listen reads.

-- Departments keep stable numeric ids (Tencent's newer API addresses them by id; the root is
-- implicit, id 1 there). parent_id NULL: directly under the root. path: names joined by '/'.
CREATE TABLE departments (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES departments(id),
    name      TEXT NOT NULL,
    path      TEXT NOT NULL,
    UNIQUE (tenant_id, path)
);
CREATE INDEX departments_parent ON departments(tenant_id, parent_id);

CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER   NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    address       TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    gender        INTEGER    NOT NULL DEFAULT 0,
    position      TEXT    NOT NULL DEFAULT '',
    tel           TEXT    NOT NULL DEFAULT '',
    mobile        TEXT    NOT NULL DEFAULT '',
    ext_id        TEXT    NOT NULL DEFAULT '',
    -- argon2id of the password, or of its MD5 hex when password_md5 (then a login MD5s first);
    -- empty: no password (imported without one), sign-in only through SSO
    password_hash TEXT    NOT NULL DEFAULT '',
    password_md5  BOOLEAN NOT NULL DEFAULT FALSE,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    -- user/openwxtoken: password logins need a second factor (TOTP)
    second_factor BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms    INTEGER    NOT NULL,
    updated_ms    INTEGER    NOT NULL
);
CREATE INDEX members_tenant ON members(tenant_id, id);

CREATE TABLE mail_groups (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    address    TEXT  NOT NULL UNIQUE,
    name       TEXT  NOT NULL,
    status     TEXT  NOT NULL,
    created_ms INTEGER  NOT NULL
);

-- One namespace for every address in use, so that a member's address, an alias and a group can
-- never collide (§7.1 alias_exists). kind is the user/check Type: 1 member, 2 alias, 3 group.
CREATE TABLE addresses (
    address   TEXT  PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind      INTEGER  NOT NULL,
    member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,
    group_id  INTEGER REFERENCES mail_groups(id) ON DELETE CASCADE,
    position  INTEGER  NOT NULL DEFAULT 0
);
CREATE INDEX addresses_member ON addresses(member_id);

CREATE TABLE member_departments (
    member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    department_id INTEGER NOT NULL REFERENCES departments(id),
    position      INTEGER  NOT NULL,
    PRIMARY KEY (member_id, department_id)
);
CREATE INDEX member_departments_department ON member_departments(department_id);

-- A group's members: a member (member_id) or a nested group (subgroup_id), never both.
CREATE TABLE group_members (
    group_id    INTEGER NOT NULL REFERENCES mail_groups(id) ON DELETE CASCADE,
    member_id   INTEGER REFERENCES members(id) ON DELETE CASCADE,
    subgroup_id INTEGER REFERENCES mail_groups(id) ON DELETE CASCADE,
    position    INTEGER  NOT NULL
);
CREATE UNIQUE INDEX group_members_member ON group_members(group_id, member_id) WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX group_members_subgroup ON group_members(group_id, subgroup_id) WHERE subgroup_id IS NOT NULL;
CREATE INDEX group_members_by_member ON group_members(member_id);
CREATE INDEX group_members_by_subgroup ON group_members(subgroup_id);

CREATE TABLE group_allow (
    group_id INTEGER NOT NULL REFERENCES mail_groups(id) ON DELETE CASCADE,
    address  TEXT  NOT NULL,
    position INTEGER  NOT NULL,
    PRIMARY KEY (group_id, address)
);

-- The change log of user/list: one row per member change, by address (a DEL then an ADD of one
-- address is one MOD for a client that knew it). Not tied to members: deleted members stay here.
CREATE TABLE dir_changes (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    ver       INTEGER  NOT NULL,
    seq       INTEGER  NOT NULL,
    address   TEXT  NOT NULL,
    action    INTEGER  NOT NULL
);
CREATE INDEX dir_changes_ver ON dir_changes(tenant_id, ver, seq);

-- Changes at or below this version were pruned: a user/list from an older Ver gets the full list.
ALTER TABLE tenants ADD COLUMN changelog_floor INTEGER NOT NULL DEFAULT 0;

-- Notices for openapi/listen, appended in the transaction of the change that causes them.
-- Ids only grow (cursors point into this table).
CREATE TABLE events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    at_ms     INTEGER  NOT NULL,
    kind      TEXT  NOT NULL,
    payload   TEXT  NOT NULL
);
CREATE INDEX events_tenant ON events(tenant_id, id);
