-- A member's own mailbox quota in bytes (RFC 9208 STORAGE); NULL: the server's default
-- (`mailbox_quota_mb`, 0 for none). Usage is summed over the member's copies (the index
-- mailbox_member finds them).
ALTER TABLE members ADD COLUMN quota_bytes BIGINT;
