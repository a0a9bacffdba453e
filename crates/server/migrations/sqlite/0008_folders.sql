-- Folders for IMAP, POP3 and the web mailbox. A folder's UIDVALIDITY is its id: ids are never
-- reused (AUTOINCREMENT), so a folder deleted and made again under the same name gets a new one,
-- and a folder keeps its own for its whole life (a rename included). `uidnext` only grows: UIDs
-- are never reused. `modseq` is the folder's HIGHESTMODSEQ (CONDSTORE): every change of a copy
-- in it takes the next value.
CREATE TABLE folders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    special     TEXT,
    uidnext     INTEGER NOT NULL DEFAULT 1,
    modseq      INTEGER NOT NULL DEFAULT 1,
    subscribed  BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (member_id, name)
);

-- Each copy lives in one folder under one UID. `flags`: 1 \Answered, 2 \Flagged, 4 \Deleted,
-- 8 \Draft (\Seen stays the `seen` column the unread count is kept from); `keywords`: the
-- client's own flags, space-separated.
ALTER TABLE mailbox ADD COLUMN folder_id INTEGER REFERENCES folders(id) ON DELETE CASCADE;
ALTER TABLE mailbox ADD COLUMN uid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailbox ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailbox ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
ALTER TABLE mailbox ADD COLUMN modseq INTEGER NOT NULL DEFAULT 1;

-- Every member gets the five special folders; the mail received so far goes to INBOX, UIDs in
-- the order it arrived.
INSERT INTO folders (tenant_id, member_id, name, special)
    SELECT tenant_id, id, 'INBOX', 'inbox' FROM members;
INSERT INTO folders (tenant_id, member_id, name, special)
    SELECT tenant_id, id, 'Sent', 'sent' FROM members;
INSERT INTO folders (tenant_id, member_id, name, special)
    SELECT tenant_id, id, 'Drafts', 'drafts' FROM members;
INSERT INTO folders (tenant_id, member_id, name, special)
    SELECT tenant_id, id, 'Trash', 'trash' FROM members;
INSERT INTO folders (tenant_id, member_id, name, special)
    SELECT tenant_id, id, 'Junk', 'junk' FROM members;
UPDATE mailbox SET folder_id = f.id FROM folders f
    WHERE f.member_id = mailbox.member_id AND f.special = 'inbox';
UPDATE mailbox SET uid = r.n FROM (
    SELECT mail_id, ROW_NUMBER() OVER (PARTITION BY member_id ORDER BY received_ms, mail_id) AS n
    FROM mailbox) r
    WHERE r.mail_id = mailbox.mail_id;
UPDATE folders SET uidnext = 1 + COALESCE((SELECT MAX(uid) FROM mailbox b WHERE b.folder_id = folders.id), 0);
CREATE UNIQUE INDEX mailbox_folder_uid ON mailbox(folder_id, uid);
CREATE INDEX folders_special ON folders(member_id, special);
