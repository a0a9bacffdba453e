-- Client-specific passwords for mail clients (IMAP, POP3): what a member whose second factor is
-- forced signs in with, since no code can be typed into a mail client. Generated, never chosen,
-- so a SHA-256 of the (normalized) password is enough to store; shown once.
CREATE TABLE app_passwords (
    member_id   BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    hash        BLOB  NOT NULL,
    created_ms  BIGINT NOT NULL,
    PRIMARY KEY (member_id, name)
);
CREATE INDEX app_passwords_hash ON app_passwords(member_id, hash);
