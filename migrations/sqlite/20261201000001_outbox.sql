-- The outbox: messages to deliver (webhooks, e-mail), written in the same transaction as the
-- change that causes them and deleted once delivered. A message that keeps failing becomes
-- 'dead' and stays until an admin retries or discards it. Payloads never hold contact details.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event           TEXT NOT NULL,
    submission_id   TEXT,
    destination     TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_until   TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL
) STRICT;

CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX outbox_by_submission ON outbox (submission_id, id) WHERE submission_id IS NOT NULL;
