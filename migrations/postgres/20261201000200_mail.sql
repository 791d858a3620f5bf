-- E-mail: staff addresses and subscriptions, the daily digest's bookmark, and replies to the
-- submitter. A staff address is a colleague's work address, not a submitter's contact detail,
-- but it is still never logged.
ALTER TABLE staff_users ADD COLUMN email TEXT;
-- When this staff member's last digest was queued: the next one covers what came after.
ALTER TABLE staff_users ADD COLUMN last_digest_at TIMESTAMPTZ;

-- Which kinds a staff member hears about, and how; no row means "off".
CREATE TABLE staff_subscriptions (
    user_name TEXT NOT NULL REFERENCES staff_users (name) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('bug', 'feature', 'feedback')),
    mode      TEXT NOT NULL CHECK (mode IN ('at_once', 'digest')),
    PRIMARY KEY (user_name, kind)
);

CREATE INDEX staff_subscriptions_by_kind ON staff_subscriptions (kind, mode);

-- What staff wrote to the submitter: kept with the submission, redacted by a contact erasure,
-- deleted with the submission.
CREATE TABLE replies (
    id            UUID PRIMARY KEY,
    submission_id UUID NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    author        TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX replies_by_submission ON replies (submission_id, created_at);
