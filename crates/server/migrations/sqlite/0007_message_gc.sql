-- A message's bytes are deleted with its last mailbox copy (a deleted mail, a deleted member):
-- finding whether copies remain needs the copies by message.
CREATE INDEX mailbox_message ON mailbox(message_id);

-- Messages orphaned before this migration (deleted members' mail) go now.
DELETE FROM messages WHERE NOT EXISTS (SELECT 1 FROM mailbox WHERE mailbox.message_id = messages.id);
