-- Triage: the queue's state on each submission, staff accounts, sessions, API tokens, private
-- notes, the audit log, and full-text search over summary and message.

ALTER TABLE submissions ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE submissions ADD COLUMN assignee TEXT;
ALTER TABLE submissions ADD COLUMN duplicate_of TEXT;
ALTER TABLE submissions ADD COLUMN fingerprint TEXT;
ALTER TABLE submissions ADD COLUMN updated_at TEXT;

CREATE INDEX submissions_by_status ON submissions (status, received_at DESC, id DESC);
CREATE INDEX submissions_by_kind ON submissions (kind, received_at DESC, id DESC);
CREATE INDEX submissions_by_fingerprint ON submissions (fingerprint);

CREATE VIRTUAL TABLE submissions_text USING fts5 (
    summary, message, content = 'submissions', content_rowid = 'rowid'
);
CREATE TRIGGER submissions_text_insert AFTER INSERT ON submissions BEGIN
    INSERT INTO submissions_text (rowid, summary, message)
    VALUES (new.rowid, new.summary, new.message);
END;
CREATE TRIGGER submissions_text_delete AFTER DELETE ON submissions BEGIN
    INSERT INTO submissions_text (submissions_text, rowid, summary, message)
    VALUES ('delete', old.rowid, old.summary, old.message);
END;
CREATE TRIGGER submissions_text_update AFTER UPDATE OF summary, message ON submissions BEGIN
    INSERT INTO submissions_text (submissions_text, rowid, summary, message)
    VALUES ('delete', old.rowid, old.summary, old.message);
    INSERT INTO submissions_text (rowid, summary, message)
    VALUES (new.rowid, new.summary, new.message);
END;

CREATE TABLE staff_users (
    name          TEXT PRIMARY KEY NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('triager', 'webmaster', 'admin')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_name  TEXT NOT NULL REFERENCES staff_users (name) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_tokens (
    name       TEXT PRIMARY KEY NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('triager', 'webmaster', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE staff_notes (
    id            TEXT PRIMARY KEY NOT NULL,
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    author        TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE INDEX staff_notes_by_submission ON staff_notes (submission_id, created_at);

-- Who did what, when. Never an e-mail address: a person is named by the blind index only.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    submission_id TEXT,
    blind_index   TEXT,
    detail        TEXT
) STRICT;
