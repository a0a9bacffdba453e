-- The web console (/admin/). Operators run the whole server (several tenants); tenant admins
-- are the `admins` rows. Console sign-in always asks for a TOTP code: `console_totp` holds each
-- account's sealed secret (enrolled at the first sign-in) and the last time step accepted;
-- `console_challenges` a password accepted while the code is owed; `console_sessions` the signed-in
-- browsers. `kind` says which table `account_id` points into: 'admin' or 'operator'. Ids are
-- stored only as SHA-256 hashes.
CREATE TABLE operators (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE console_totp (
    kind          TEXT    NOT NULL,
    account_id    INTEGER NOT NULL,
    secret_sealed BLOB    NOT NULL,
    confirmed     BOOLEAN NOT NULL DEFAULT FALSE,
    last_step     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, account_id)
);

CREATE TABLE console_challenges (
    id_hash    BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    account_id INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);

CREATE TABLE console_sessions (
    id_hash    BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    account_id INTEGER NOT NULL,
    csrf       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL
);
CREATE INDEX console_sessions_account ON console_sessions(kind, account_id);
CREATE INDEX oplog_tenant_time ON oplog(tenant_id, at_ms);

-- The newer API's callback deliveries, one row per attempt (delivered, to be retried, dropped),
-- for the console's delivery log; kept `log_retention_days` like the mail and login logs.
CREATE TABLE callback_attempts (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    at_ms     INTEGER NOT NULL,
    -- the notice's MsgType (Mail, UnRead) and the member it is about
    kind      TEXT    NOT NULL,
    member    TEXT    NOT NULL,
    -- 'delivered', 'retry' or 'dropped', and why an attempt failed
    outcome   TEXT    NOT NULL,
    detail    TEXT    NOT NULL
);
CREATE INDEX callback_attempts_tenant ON callback_attempts(tenant_id, id);
CREATE INDEX callback_attempts_time ON callback_attempts(at_ms);
