-- Received mail. A message's bytes are stored once, in the database, in the same transaction as
-- every mailbox copy, its unread count and its new-mail event: the SMTP 250 is sent only after that
-- commit, so a mail is durable (and visible everywhere) exactly when its sender is told so. Files
-- beside the database would need their own fsync and a second source of truth across nodes.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER  NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    raw         BLOB NOT NULL,
    size        INTEGER  NOT NULL,
    from_header TEXT  NOT NULL,
    to_header   TEXT  NOT NULL,
    subject     TEXT  NOT NULL,
    date_header TEXT  NOT NULL,
    message_id  TEXT  NOT NULL,
    summary     TEXT  NOT NULL,
    received_ms INTEGER  NOT NULL
);

-- One copy per mailbox: the MailId of pushes and of /cgi-bin/login?mailid=…
CREATE TABLE mailbox (
    mail_id     TEXT    PRIMARY KEY,
    tenant_id   INTEGER    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id   INTEGER    NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    message_id  INTEGER    NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seen        BOOLEAN NOT NULL DEFAULT FALSE,
    received_ms INTEGER    NOT NULL
);
CREATE INDEX mailbox_member ON mailbox(member_id, received_ms);

-- Unread mails in the member's inbox, kept with every change (mail/newcount, pushes, the inbox).
ALTER TABLE members ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
