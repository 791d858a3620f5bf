-- Triage: the queue's state on each submission, staff accounts, sessions, API tokens, private
-- notes, the audit log, and full-text search over summary and message.

ALTER TABLE submissions ADD COLUMN labels TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE submissions ADD COLUMN assignee TEXT;
ALTER TABLE submissions ADD COLUMN duplicate_of UUID;
ALTER TABLE submissions ADD COLUMN fingerprint TEXT;
ALTER TABLE submissions ADD COLUMN updated_at TIMESTAMPTZ;
ALTER TABLE submissions ADD COLUMN search TSVECTOR
    GENERATED ALWAYS AS (to_tsvector('simple', coalesce(summary, '') || ' ' || message)) STORED;

CREATE INDEX submissions_by_status ON submissions (status, received_at DESC, id DESC);
CREATE INDEX submissions_by_kind ON submissions (kind, received_at DESC, id DESC);
CREATE INDEX submissions_by_fingerprint ON submissions (fingerprint);
CREATE INDEX submissions_search ON submissions USING GIN (search);
CREATE INDEX submissions_labels ON submissions USING GIN (labels);

CREATE TABLE staff_users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('triager', 'webmaster', 'admin')),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES staff_users (name) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('triager', 'webmaster', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE staff_notes (
    id            UUID PRIMARY KEY,
    submission_id UUID NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    author        TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX staff_notes_by_submission ON staff_notes (submission_id, created_at);

-- Who did what, when. Never an e-mail address: a person is named by the blind index only.
CREATE TABLE audit_log (
    id            BIGSERIAL PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    submission_id UUID,
    blind_index   TEXT,
    detail        TEXT
);
