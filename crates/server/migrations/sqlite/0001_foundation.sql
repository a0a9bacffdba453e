-- Tenants, their domains and admins, the interface key, access tokens and the operation log.
-- Times are Unix milliseconds; booleans are 0/1.
CREATE TABLE tenants (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    -- nonce || ciphertext of the 32-hex-character interface key; NULL until the OpenApi is applied for
    openapi_key     BLOB,
    openapi_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- CIDR ranges allowed to call the OpenApi, one per line; empty means any address
    ip_allow        TEXT    NOT NULL DEFAULT '',
    dir_version     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE domains (
    name      TEXT    PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX domains_tenant ON domains(tenant_id);

CREATE TABLE admins (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE access_tokens (
    token_hash BLOB    PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX access_tokens_tenant ON access_tokens(tenant_id);
CREATE INDEX access_tokens_expiry ON access_tokens(expires_ms);

CREATE TABLE oplog (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER,
    at_ms     INTEGER NOT NULL,
    client_ip TEXT    NOT NULL,
    admin     TEXT    NOT NULL,
    endpoint  TEXT    NOT NULL,
    params    TEXT    NOT NULL,
    -- 0 for success, else the protocol's error code
    errcode   INTEGER NOT NULL
);
CREATE INDEX oplog_tenant ON oplog(tenant_id, id);
