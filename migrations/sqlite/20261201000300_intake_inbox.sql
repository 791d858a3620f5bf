-- The durable intake path (issue 15): a submission is acknowledged once it is committed to this
-- narrow append-only inbox (no secondary index, no full-text index, no trigger), and a
-- background indexer moves inbox rows into `submissions` and its tables in large batches, one
-- transaction per batch that inserts the rows and deletes them from the inbox: crash-safe and
-- idempotent (a batch is either moved whole or still in the inbox). `payload` is the whole
-- submission as JSON (store::SubmissionRow).
CREATE TABLE intake_inbox (
    seq           INTEGER PRIMARY KEY,
    submission_id TEXT NOT NULL,
    payload       TEXT NOT NULL
) STRICT;

-- The idempotency key is written in the durable commit, beside the inbox row, before its
-- submission exists in `submissions`: so no foreign key. An erased or withdrawn submission
-- still takes its key along, by trigger (only deletions fire it; intake pays nothing).
CREATE TABLE idempotency_keys_new (
    key_hash       TEXT PRIMARY KEY NOT NULL,
    submission_id  TEXT NOT NULL,
    response       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    content_sha256 TEXT
) STRICT;
INSERT INTO idempotency_keys_new (key_hash, submission_id, response, created_at, content_sha256)
    SELECT key_hash, submission_id, response, created_at, content_sha256 FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_by_submission ON idempotency_keys (submission_id);

CREATE TRIGGER submissions_delete_idempotency_keys AFTER DELETE ON submissions BEGIN
    DELETE FROM idempotency_keys WHERE submission_id = OLD.id;
END;
