-- A tenant's own spam thresholds (rspamd scores, in tenths), overriding the server's
-- spam_junk_score and spam_reject_score; NULL: the server's.
ALTER TABLE tenants ADD COLUMN spam_junk_tenths BIGINT;
ALTER TABLE tenants ADD COLUMN spam_reject_tenths BIGINT;
