-- When each staff member last looked at the queue, and the visit before: what is "new since my
-- last visit". A visit ends after 30 minutes without a queue page.
CREATE TABLE staff_queue_visits (
    user_name   TEXT PRIMARY KEY NOT NULL,
    previous_at TIMESTAMPTZ,
    current_at  TIMESTAMPTZ NOT NULL
);

-- Named queue views of each staff member (the query string of /triage).
CREATE TABLE saved_views (
    user_name  TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_name, name)
);
