-- The sandbox (docs/SANDBOX.md). A row marks a tenant as a sandbox: only then may faults be
-- injected, its clock be moved or its exchanges be recorded (a server with `sandbox = true`
-- creates the row on first use). `faults` is the fault plan as JSON ('' for none) and
-- `generation` counts its changes, so a server restarts its fault counters when the plan is
-- replaced. `key_hash` is the SHA-256 of the control key of the sandbox's HTTP endpoint.
CREATE TABLE sandboxes (
    tenant_id       INTEGER PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    faults          TEXT    NOT NULL DEFAULT '',
    generation      INTEGER NOT NULL DEFAULT 0,
    key_hash        BLOB,
    marked_ms       INTEGER NOT NULL
);
CREATE UNIQUE INDEX sandboxes_key ON sandboxes (key_hash);

-- The record of a sandbox's API exchanges: per client (the admin name of an OpenApi token, the
-- application of a newer-API token), the last few hundred requests and answers with secrets
-- masked. Bounded per client when written; deleted with the sandbox.
CREATE TABLE sandbox_exchanges (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    client           TEXT    NOT NULL,
    token            TEXT    NOT NULL,
    at_ms            INTEGER NOT NULL,
    duration_us      INTEGER NOT NULL,
    method           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    request_headers  TEXT    NOT NULL,
    request_body     TEXT    NOT NULL,
    status           INTEGER NOT NULL,
    response_headers TEXT    NOT NULL,
    response_body    TEXT    NOT NULL,
    fault            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sandbox_exchanges_client ON sandbox_exchanges (tenant_id, client, id);
