-- openapi/listen: one cursor per client (per access token) into the tenant's event log. It is
-- advanced with a compare-and-set when a notice is handed to a poll, so two polls of one token
-- never get the same notice. seen_ms: when the client last polled (the grace period runs from it).
CREATE TABLE listen_cursors (
    token_hash BLOB PRIMARY KEY,
    tenant_id  INTEGER  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    event_id   INTEGER  NOT NULL,
    seen_ms    INTEGER  NOT NULL
);
