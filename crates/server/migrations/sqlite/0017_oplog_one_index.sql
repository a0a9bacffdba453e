-- The operation log keeps one index: (tenant_id, at_ms). Every API call writes a row, and each
-- index is another B-tree insert per row (measured: 2.5 us a row with two, 1.7 with one, in
-- 64-row statements). The newest-first reads order by (at_ms, id) and walk this index backwards;
-- the old (tenant_id, id) index served only them.
DROP INDEX IF EXISTS oplog_tenant;
