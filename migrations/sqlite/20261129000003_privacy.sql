-- Privacy operations: objects whose rows are gone and that must still be deleted from object
-- storage (erasure, retention), and leases so that only one replica runs each periodic job.

CREATE TABLE pending_deletions (
    object_key TEXT PRIMARY KEY NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE job_leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

