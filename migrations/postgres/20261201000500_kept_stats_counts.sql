-- Submissions per hour and per day, kept by triggers in the transaction that changes them (as
-- `submission_status_counts`), so that the trends page and `GET /api/v1/internal/stats` read a
-- few thousand kept rows for a 90-day range instead of counting every submission in it (about
-- 177,000 rows among 1,000,000: 0.3–0.6 s). `src/store/shared/stats.rs` reads whole buckets
-- from here and counts the parts of the range that cut a bucket (its edges, and day
-- boundaries of an offset that is not whole hours) from `submissions` itself.
--
-- Two tables, because one keyed by hour and all four columns would hold nearly a row per
-- submission (about 80 an hour, spread over kinds, statuses, 25 versions and 10 browsers):
--  * per hour (UTC), kind and status: days in any team offset of whole hours, kinds, statuses;
--  * per day (UTC), kind, status, WebApp version and browser: versions and browsers.
-- Buckets are whole hours (days) since 1970. As in `submission_status_counts`, the rows an
-- intake transaction writes (this hour's, kind, `new`) would be hot rows locked until its
-- commit, so each backend writes its own slot and readers sum them.
CREATE TABLE submission_hourly_counts (
    hour    BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    status  TEXT NOT NULL,
    slot    SMALLINT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (hour, kind, status, slot)
);

CREATE TABLE submission_daily_counts (
    day             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    webapp_version  TEXT NOT NULL,
    browser_brand   TEXT NOT NULL,
    slot            SMALLINT NOT NULL,
    n               BIGINT NOT NULL,
    PRIMARY KEY (day, kind, status, webapp_version, browser_brand, slot)
);

-- The bucket of a time: whole hours (3600) or days (86400) since 1970, exact (`extract`
-- gives a numeric).
CREATE FUNCTION submissions_bucket(at TIMESTAMPTZ, secs INTEGER) RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN floor(extract(epoch FROM at) / secs)::BIGINT;

INSERT INTO submission_hourly_counts (hour, kind, status, slot, n)
SELECT submissions_bucket(received_at, 3600), kind, status, 0, COUNT(*)
FROM submissions GROUP BY 1, 2, 3;

INSERT INTO submission_daily_counts (day, kind, status, webapp_version, browser_brand, slot, n)
SELECT submissions_bucket(received_at, 86400), kind, status, webapp_version, browser_brand, 0,
    COUNT(*)
FROM submissions GROUP BY 1, 2, 3, 4, 5;

-- Statement-level, over the transition tables: a bulk change (or the indexer's move of a
-- batch) costs one upsert per group it touches, not one per row; an update that leaves the
-- counted columns alone writes nothing. Keys are written in order, so that two transactions
-- lock shared rows in the same order and cannot deadlock on them.
CREATE FUNCTION submissions_keep_stats_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO submission_hourly_counts AS c (hour, kind, status, slot, n)
        SELECT submissions_bucket(received_at, 3600) AS hour, kind, status,
            pg_backend_pid() % 16, COUNT(*)
        FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (hour, kind, status, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
        INSERT INTO submission_daily_counts AS c
            (day, kind, status, webapp_version, browser_brand, slot, n)
        SELECT submissions_bucket(received_at, 86400) AS day, kind, status, webapp_version,
            browser_brand, pg_backend_pid() % 16, COUNT(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, kind, status, webapp_version, browser_brand, slot)
        DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO submission_hourly_counts AS c (hour, kind, status, slot, n)
        SELECT submissions_bucket(received_at, 3600) AS hour, kind, status,
            pg_backend_pid() % 16, -COUNT(*)
        FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (hour, kind, status, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
        INSERT INTO submission_daily_counts AS c
            (day, kind, status, webapp_version, browser_brand, slot, n)
        SELECT submissions_bucket(received_at, 86400) AS day, kind, status, webapp_version,
            browser_brand, pg_backend_pid() % 16, -COUNT(*)
        FROM old_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, kind, status, webapp_version, browser_brand, slot)
        DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO submission_hourly_counts AS c (hour, kind, status, slot, n)
        SELECT hour, kind, status, pg_backend_pid() % 16, SUM(delta)
        FROM (SELECT submissions_bucket(received_at, 3600) AS hour, kind, status, -1 AS delta
              FROM old_rows
              UNION ALL
              SELECT submissions_bucket(received_at, 3600), kind, status, 1 FROM new_rows)
            AS changed
        GROUP BY hour, kind, status HAVING SUM(delta) <> 0 ORDER BY hour, kind, status
        ON CONFLICT (hour, kind, status, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
        INSERT INTO submission_daily_counts AS c
            (day, kind, status, webapp_version, browser_brand, slot, n)
        SELECT day, kind, status, webapp_version, browser_brand, pg_backend_pid() % 16,
            SUM(delta)
        FROM (SELECT submissions_bucket(received_at, 86400) AS day, kind, status,
                  webapp_version, browser_brand, -1 AS delta
              FROM old_rows
              UNION ALL
              SELECT submissions_bucket(received_at, 86400), kind, status, webapp_version,
                  browser_brand, 1
              FROM new_rows) AS changed
        GROUP BY day, kind, status, webapp_version, browser_brand HAVING SUM(delta) <> 0
        ORDER BY day, kind, status, webapp_version, browser_brand
        ON CONFLICT (day, kind, status, webapp_version, browser_brand, slot)
        DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER submissions_kept_counts_insert AFTER INSERT ON submissions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submissions_keep_stats_counts();
CREATE TRIGGER submissions_kept_counts_delete AFTER DELETE ON submissions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submissions_keep_stats_counts();
CREATE TRIGGER submissions_kept_counts_update AFTER UPDATE ON submissions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submissions_keep_stats_counts();
