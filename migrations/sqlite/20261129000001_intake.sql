-- Intake: a submission with exactly the disclosed environment, its terms record, its
-- attachments (metadata; the bytes live in object storage), its sealed contact details and
-- the idempotency keys that answer retries.

CREATE TABLE submissions (
    id              TEXT PRIMARY KEY NOT NULL,
    received_at     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('bug', 'feature', 'feedback')),
    status          TEXT NOT NULL DEFAULT 'new',
    summary         TEXT,
    message         TEXT NOT NULL,
    rating          INTEGER CHECK (rating BETWEEN 1 AND 5),
    webapp_version  TEXT NOT NULL,
    server_version  TEXT NOT NULL,
    browser_brand   TEXT NOT NULL,
    browser_version TEXT,
    screen_width    INTEGER NOT NULL,
    screen_height   INTEGER NOT NULL,
    page_url        TEXT NOT NULL
) STRICT;

CREATE INDEX submissions_newest ON submissions (received_at DESC, id DESC);

CREATE TABLE terms_acceptances (
    submission_id TEXT PRIMARY KEY NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    terms_version TEXT NOT NULL,
    terms_sha256  TEXT NOT NULL,
    widget        TEXT NOT NULL,
    button        TEXT NOT NULL CHECK (button IN ('submit', 'send')),
    accepted_at   TEXT NOT NULL
) STRICT;

CREATE TABLE attachments (
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    object_key    TEXT NOT NULL UNIQUE,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    PRIMARY KEY (submission_id, position)
) STRICT;

CREATE TABLE contacts (
    submission_id TEXT PRIMARY KEY NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    blind_index   TEXT,
    sealed        BLOB NOT NULL,
    key_id        TEXT NOT NULL
) STRICT;

CREATE INDEX contacts_by_blind_index ON contacts (blind_index);

CREATE TABLE idempotency_keys (
    key_hash      TEXT PRIMARY KEY NOT NULL,
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    response      TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
