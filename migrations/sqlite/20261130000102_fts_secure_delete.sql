-- Deleting from the full-text index removes the entries from its segments at once (FTS5
-- `secure-delete`, SQLite 3.42+), instead of leaving them until segments are merged: an
-- erased or redacted text leaves no tokens behind, without rewriting the whole index.
INSERT INTO submissions_text (submissions_text, rank) VALUES ('secure-delete', 1);
