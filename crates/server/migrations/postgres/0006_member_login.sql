-- Password logins to the web mailbox. A member whose second factor is forced (user/openwxtoken)
-- enrols a TOTP secret on first use; the secret is sealed by the vault (it must be read back to
-- check codes), and `last_step` refuses a code's second use. A password accepted for such a member
-- opens only a login challenge (hashed id, short-lived) until the code is given.
CREATE TABLE member_totp (
    member_id     BIGINT  PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    secret_sealed BYTEA   NOT NULL,
    confirmed     BOOLEAN NOT NULL DEFAULT FALSE,
    last_step     BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE login_challenges (
    id_hash    BYTEA   PRIMARY KEY,
    tenant_id  BIGINT  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id  BIGINT  NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    expires_ms BIGINT  NOT NULL
);
