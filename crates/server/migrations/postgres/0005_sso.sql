-- Single sign-on (§4): one-time tickets from openapi/mail/authkey, burned by /cgi-bin/login, and
-- the web-mailbox sessions they open. Only SHA-256 hashes of tickets and session ids are stored.
CREATE TABLE sso_tickets (
    ticket_hash BYTEA   PRIMARY KEY,
    tenant_id   BIGINT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id   BIGINT    NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    expires_ms  BIGINT    NOT NULL,
    used        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sso_tickets_expiry ON sso_tickets(expires_ms);

CREATE TABLE web_sessions (
    id_hash    BYTEA PRIMARY KEY,
    tenant_id  BIGINT  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id  BIGINT  NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    -- the anti-CSRF token of this session's forms
    csrf       TEXT  NOT NULL,
    created_ms BIGINT  NOT NULL,
    last_ms    BIGINT  NOT NULL
);
