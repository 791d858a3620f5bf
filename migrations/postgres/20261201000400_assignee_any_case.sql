-- The queue's assignee filter ignores case (`lower(s.assignee) = <the name, lower-cased>`), which
-- the index on the column as stored cannot serve: among a million submissions a rare assignee
-- walked the newest-first index. Index the expression instead, with the queue's order; no
-- query reads the old index any more.
DROP INDEX submissions_by_assignee;
CREATE INDEX submissions_by_assignee ON submissions (lower(assignee), received_at DESC, id DESC);
