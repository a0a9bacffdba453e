-- `bizmail migrate mail`: how far each source folder of each member was copied. A source folder
-- is named by the source (`host:port`) and its decoded name; `uidvalidity` and `last_uid` are
-- the source's. Every batch of copied messages commits together with its row here, so an
-- interrupted run resumes exactly after the last message it stored and never stores one twice.
-- `copied` counts the messages this row stands for (the report and `migrate verify`).
CREATE TABLE migrated_folders (
    member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    source      TEXT    NOT NULL,
    folder      TEXT    NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    copied      INTEGER NOT NULL DEFAULT 0,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (member_id, source, folder)
);
