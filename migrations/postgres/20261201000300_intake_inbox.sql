-- The durable intake path (issue 15): a submission is acknowledged once it is committed to this
-- narrow append-only inbox (no secondary index, no full-text index, no trigger), and a
-- background indexer moves inbox rows into `submissions` and its tables in large batches, one
-- transaction per batch that inserts the rows and deletes them from the inbox (`FOR UPDATE
-- SKIP LOCKED`, so replicas sharing the database never move a row twice): crash-safe and
-- idempotent. `payload` is the whole submission as JSON (store::SubmissionRow).
CREATE TABLE intake_inbox (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id UUID NOT NULL,
    payload       TEXT NOT NULL
);

-- The idempotency key is written in the durable commit, beside the inbox row, before its
-- submission exists in `submissions`: so no foreign key. An erased or withdrawn submission
-- still takes its key along, by trigger (only deletions fire it; intake pays nothing).
ALTER TABLE idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_submission_id_fkey;
CREATE INDEX idempotency_keys_by_submission ON idempotency_keys (submission_id);

CREATE FUNCTION submissions_delete_idempotency_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM idempotency_keys WHERE submission_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER submissions_delete_idempotency_keys AFTER DELETE ON submissions
    FOR EACH ROW EXECUTE FUNCTION submissions_delete_idempotency_keys();
