-- An Idempotency-Key is scoped by content: the SHA-256 of the submission it first stored.
-- The same key with other content is refused (422 idempotency_key_reused) instead of being
-- answered with another submitter's receipt. Keys stored before this column replay as before
-- (they expire within 24 hours).
ALTER TABLE idempotency_keys ADD COLUMN content_sha256 TEXT;
