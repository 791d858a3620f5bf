-- Submissions per hour and per day, kept by triggers in the transaction that changes them (as
-- `submission_status_counts`), so that the trends page and `GET /api/v1/internal/stats` read a
-- few thousand kept rows for a 90-day range instead of counting every submission in it (about
-- 177,000 rows among 1,000,000: 0.8–1 s). `src/store/shared/stats.rs` reads whole buckets
-- from here and counts the parts of the range that cut a bucket (its edges, and day
-- boundaries of an offset that is not whole hours) from `submissions` itself.
--
-- Two tables, because one keyed by hour and all four columns would hold nearly a row per
-- submission (about 80 an hour, spread over kinds, statuses, 25 versions and 10 browsers):
--  * per hour (UTC), kind and status: days in any team offset of whole hours, kinds, statuses;
--  * per day (UTC), kind, status, WebApp version and browser: versions and browsers.
-- Buckets are whole hours (days) since 1970, taken from the first 19 characters of
-- `received_at` (always UTC here): `unixepoch()` of the whole text rounds its fraction, and a
-- submission at 23:59:59.9999 would land in the next bucket. A row that falls to zero is
-- deleted in the same trigger: after an erasure no row remains that says a submission with
-- those attributes was there that day (readers skip zeros anyway).
CREATE TABLE submission_hourly_counts (
    hour    INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    status  TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (hour, kind, status)
) STRICT, WITHOUT ROWID;

CREATE TABLE submission_daily_counts (
    day             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    webapp_version  TEXT NOT NULL,
    browser_brand   TEXT NOT NULL,
    n               INTEGER NOT NULL,
    PRIMARY KEY (day, kind, status, webapp_version, browser_brand)
) STRICT, WITHOUT ROWID;

INSERT INTO submission_hourly_counts (hour, kind, status, n)
SELECT unixepoch(substr(received_at, 1, 19)) / 3600, kind, status, COUNT(*)
FROM submissions GROUP BY 1, 2, 3;

INSERT INTO submission_daily_counts (day, kind, status, webapp_version, browser_brand, n)
SELECT unixepoch(substr(received_at, 1, 19)) / 86400, kind, status, webapp_version,
    browser_brand, COUNT(*)
FROM submissions GROUP BY 1, 2, 3, 4, 5;

-- One upsert per table for each row inserted (the intake path, and the indexer's move).
CREATE TRIGGER submissions_kept_counts_insert AFTER INSERT ON submissions BEGIN
    INSERT INTO submission_hourly_counts (hour, kind, status, n)
    VALUES (unixepoch(substr(new.received_at, 1, 19)) / 3600, new.kind, new.status, 1)
    ON CONFLICT (hour, kind, status) DO UPDATE SET n = n + 1;
    INSERT INTO submission_daily_counts (day, kind, status, webapp_version, browser_brand, n)
    VALUES (unixepoch(substr(new.received_at, 1, 19)) / 86400, new.kind, new.status,
        new.webapp_version, new.browser_brand, 1)
    ON CONFLICT (day, kind, status, webapp_version, browser_brand) DO UPDATE SET n = n + 1;
END;

-- Erasure, withdrawal and retention.
CREATE TRIGGER submissions_kept_counts_delete AFTER DELETE ON submissions BEGIN
    UPDATE submission_hourly_counts SET n = n - 1
    WHERE hour = unixepoch(substr(old.received_at, 1, 19)) / 3600
        AND kind = old.kind AND status = old.status;
    UPDATE submission_daily_counts SET n = n - 1
    WHERE day = unixepoch(substr(old.received_at, 1, 19)) / 86400
        AND kind = old.kind AND status = old.status
        AND webapp_version = old.webapp_version AND browser_brand = old.browser_brand;
    DELETE FROM submission_hourly_counts
    WHERE hour = unixepoch(substr(old.received_at, 1, 19)) / 3600
        AND kind = old.kind AND status = old.status AND n = 0;
    DELETE FROM submission_daily_counts
    WHERE day = unixepoch(substr(old.received_at, 1, 19)) / 86400
        AND kind = old.kind AND status = old.status
        AND webapp_version = old.webapp_version AND browser_brand = old.browser_brand AND n = 0;
END;

-- A status change (to or from spam too), and any change of a counted column.
CREATE TRIGGER submissions_kept_counts_update_hourly
AFTER UPDATE OF received_at, kind, status ON submissions
WHEN old.received_at IS NOT new.received_at OR old.kind IS NOT new.kind
    OR old.status IS NOT new.status BEGIN
    UPDATE submission_hourly_counts SET n = n - 1
    WHERE hour = unixepoch(substr(old.received_at, 1, 19)) / 3600
        AND kind = old.kind AND status = old.status;
    DELETE FROM submission_hourly_counts
    WHERE hour = unixepoch(substr(old.received_at, 1, 19)) / 3600
        AND kind = old.kind AND status = old.status AND n = 0;
    INSERT INTO submission_hourly_counts (hour, kind, status, n)
    VALUES (unixepoch(substr(new.received_at, 1, 19)) / 3600, new.kind, new.status, 1)
    ON CONFLICT (hour, kind, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER submissions_kept_counts_update_daily
AFTER UPDATE OF received_at, kind, status, webapp_version, browser_brand ON submissions
WHEN old.received_at IS NOT new.received_at OR old.kind IS NOT new.kind
    OR old.status IS NOT new.status OR old.webapp_version IS NOT new.webapp_version
    OR old.browser_brand IS NOT new.browser_brand BEGIN
    UPDATE submission_daily_counts SET n = n - 1
    WHERE day = unixepoch(substr(old.received_at, 1, 19)) / 86400
        AND kind = old.kind AND status = old.status
        AND webapp_version = old.webapp_version AND browser_brand = old.browser_brand;
    DELETE FROM submission_daily_counts
    WHERE day = unixepoch(substr(old.received_at, 1, 19)) / 86400
        AND kind = old.kind AND status = old.status
        AND webapp_version = old.webapp_version AND browser_brand = old.browser_brand AND n = 0;
    INSERT INTO submission_daily_counts (day, kind, status, webapp_version, browser_brand, n)
    VALUES (unixepoch(substr(new.received_at, 1, 19)) / 86400, new.kind, new.status,
        new.webapp_version, new.browser_brand, 1)
    ON CONFLICT (day, kind, status, webapp_version, browser_brand) DO UPDATE SET n = n + 1;
END;
