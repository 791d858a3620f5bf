-- When a submission's contact details were erased (a privacy request or the retention period),
-- so staff read "erased" instead of "none given".
ALTER TABLE submissions ADD COLUMN contact_erased_at TEXT;
