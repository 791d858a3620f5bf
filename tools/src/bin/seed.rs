//! `seed`: fills a feedbackd database with realistic submissions, for the queue and privacy
//! benchmarks (`tests/bench/queue`). Not part of the service; never point it at a real database.
//!
//! ```text
//! seed --count 1000000 [--target-email pat@example.org]... [--target-count 3] [--batch 50000]
//! ```
//!
//! It reads the normal configuration (`FEEDBACKD_DATABASE_URL`, `FEEDBACKD_DATA_DIR`,
//! `FEEDBACKD_STORAGE_URL`, the contact keys …), opens the services like `feedbackd serve` does
//! (which applies the migrations), then:
//!
//! 1. inserts `--count` submissions with bulk SQL generated inside the database (SQLite: a
//!    recursive CTE, PostgreSQL: `generate_series`), `--batch` rows per transaction. Each gets a
//!    terms record, about 20 % a contacts row with a random blind index and random "sealed"
//!    bytes (never opened). `received_at` spans the last two years with volume growing over
//!    time (three times as many per day at the end as at the start), ids are UUIDv7-like (time
//!    first, as the service makes them), and kind, status (mostly `new` in the last 45 days,
//!    mostly closed before), WebApp version (a release a month, 15 % still on the previous
//!    one), server version, browser, labels, assignee, screen, URL and text vary;
//! 2. inserts `--target-count` submissions for each `--target-email` through the real code path
//!    (`Store::insert_submission`, contact sealed by the service's `ContactVault`), so that
//!    export and erasure of those addresses work for real;
//! 3. checkpoints the SQLite WAL, or runs `VACUUM (ANALYZE)` on PostgreSQL (what autovacuum
//!    would do after such a load; SQLite is analyzed by the service's housekeeping pass).
//!
//! Progress and timings go to stderr; stdout gets `key=value` lines a script can read
//! (`webapp_version_current`, `webapp_version_year_old`, …).
//!
//! `seed --explain` inserts nothing: it reads SQL statements from stdin, one a line, and prints
//! each one's plan (`EXPLAIN QUERY PLAN` with the SQLite built into feedbackd, or PostgreSQL's
//! `EXPLAIN (ANALYZE, BUFFERS)`) and its median time over a few runs on a plain connection.

use std::str::FromStr;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Row};
use uuid::Uuid;

use feedbackd::app::Services;
use feedbackd::domain::{Contact, ContactEmail, ContactName};
use feedbackd::store::{ContactRow, InsertOutcome, SubmissionRow, TermsRecord};
use feedbackd::{Settings, triage};

#[derive(Debug, Parser)]
#[command(about = "Fill a feedbackd database with realistic submissions (benchmarks only)")]
struct Args {
    /// Submissions generated in bulk.
    #[arg(long, required_unless_present = "explain")]
    count: Option<u64>,
    /// An address whose submissions go through the real intake path (repeatable).
    #[arg(long = "target-email")]
    target_emails: Vec<String>,
    /// Submissions per target address.
    #[arg(long, default_value_t = 3)]
    target_count: u32,
    /// Rows per bulk transaction.
    #[arg(long, default_value_t = 50_000)]
    batch: u64,
    /// Insert nothing: read SQL statements from stdin, one a line, and print each one's plan
    /// (with feedbackd's own SQLite, or PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)`) and timing.
    #[arg(long, conflicts_with = "count")]
    explain: bool,
}

/// Days covered by the generated submissions, ending now.
const SPAN_DAYS: i64 = 730;
/// Submissions this recent are mostly still `new`.
const RECENT_DAYS: i64 = 45;
/// One WebApp release a month over the span.
const RELEASES: usize = 24;
/// The release a year before the current one.
const YEAR_OLD_RELEASE: usize = RELEASES - 13;
/// Fraction of rows with contact details, in percent.
const CONTACT_PERCENT: u32 = 20;

const KINDS: &[(&str, u32)] = &[("bug", 50), ("feature", 22), ("feedback", 28)];
/// Percentages that make a row `feedback` (the last kind): `r1 % 100 >= 72`.
const FEEDBACK_FROM: u32 = 72;
const STATUS_RECENT: &[(&str, u32)] = &[
    ("new", 55),
    ("triaged", 20),
    ("in_progress", 10),
    ("done", 6),
    ("wont_fix", 2),
    ("duplicate", 3),
    ("spam", 4),
];
const STATUS_OLDER: &[(&str, u32)] = &[
    ("new", 2),
    ("triaged", 10),
    ("in_progress", 3),
    ("done", 55),
    ("wont_fix", 14),
    ("duplicate", 9),
    ("spam", 7),
];
const BROWSERS: &[(&str, u32)] = &[
    ("Chrome", 46),
    ("Firefox", 18),
    ("Safari", 10),
    ("Edge", 11),
    ("Mobile Safari", 6),
    ("Chrome Mobile", 5),
    ("Opera", 2),
    ("Samsung Internet", 2),
];
const SERVER_VERSIONS: &[&str] = &[
    "9.4.2", "9.5.0", "9.5.3", "9.6.1", "10.0.0", "10.0.4", "10.1.2", "10.2.0",
];
const SCREENS: &[(i32, i32)] = &[
    (1920, 1080),
    (1366, 768),
    (1536, 864),
    (2560, 1440),
    (1440, 900),
    (1280, 720),
    (390, 844),
    (414, 896),
];
const PAGES: &[&str] = &[
    "mail/inbox",
    "mail/compose",
    "calendar/week",
    "contacts",
    "settings/account",
    "files",
];
const LABELS: &[&str] = &[
    "ui",
    "crash",
    "performance",
    "login",
    "sync",
    "calendar",
    "mail",
    "attachments",
    "i18n",
    "accessibility",
];
const ASSIGNEES: &[&str] = &["ann", "bob", "chen", "dana"];
const SUMMARIES: &[&str] = &[
    "Calendar does not load",
    "Cannot attach a file",
    "Search finds nothing",
    "Dark mode please",
    "Login loops back to the start page",
    "Mail list scrolls slowly",
    "Reminder e-mails arrive twice",
    "Contacts import fails",
    "Compose window loses my draft",
    "Week view shows the wrong time zone",
    "Add keyboard shortcuts",
    "Settings page is blank",
    "Attachment preview is blurry",
    "Cannot drag mails into folders",
    "Offline mode",
    "Spell check ignores my language",
    "Notifications do not appear",
    "Shared calendar is read-only",
    "Signature loses its formatting",
    "Export contacts as vCard",
    "Filters run twice",
    "Sidebar overlaps the message",
    "Big attachments time out",
    "Great update, thanks",
];
const OPENINGS: &[&str] = &[
    "When I open the calendar the page stays white.",
    "After the last update the inbox takes ages to load.",
    "I tried to attach a PDF and nothing happened.",
    "Searching for an old message never returns anything.",
    "Every morning I have to log in again.",
    "The compose window closed and my draft was gone.",
    "Reminders for meetings arrive twice on my phone.",
    "It would be great to have a dark theme.",
    "I love the new layout of the mail list.",
    "Dragging a mail into a folder does nothing.",
    "The week view shows my meetings one hour late.",
    "Importing contacts from a CSV file fails halfway.",
    "Notifications stopped working on this browser.",
    "The settings page shows an empty box.",
    "Previews of images are very blurry.",
    "Please add shortcuts for archive and delete.",
];
const MIDDLES: &[&str] = &[
    "It happens on every try since Monday.",
    "My colleagues see the same thing.",
    "Reloading the page does not help.",
    "It worked fine last week.",
    "Only on the laptop, the phone is fine.",
    "Clearing the cache changed nothing.",
    "The spinner keeps turning forever.",
    "An error message flashes and disappears.",
    "It is slow with large folders especially.",
    "I use it all day for work.",
    "It started after I changed my password.",
    "The same happens in a private window.",
    "Sometimes it works after a few minutes.",
    "We are a team of twelve people.",
    "Nothing in the help pages explains it.",
    "It is the only problem I have.",
];
const ENDINGS: &[&str] = &[
    "Thanks for looking into it.",
    "Could you fix this soon please?",
    "Otherwise the app is great.",
    "This blocks my daily work.",
    "Happy to send more details.",
    "Keep up the good work!",
    "Is there a workaround?",
    "I attached nothing, sorry.",
    "Please tell me when it is fixed.",
    "Best regards.",
    "This is really annoying.",
    "Not urgent but nice to have.",
    "Our whole office is affected.",
    "Let me know if you need logs.",
    "Cheers.",
    "Thank you!",
];

/// The WebApp release of month `i` of the span (0 = two years ago, `RELEASES - 1` = now).
fn webapp_version(i: usize) -> String {
    format!("{}.{}.{}", 5 + i / 8, i % 8, (i * 5) % 4)
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `(r / 100^k) % 100`: the k-th pair of decimal digits of a random column, 0..100.
fn pct(r: &str, k: u32) -> String {
    format!("({r} / {} % 100)", 100_i64.pow(k))
}

/// A value drawn by weight with `slice` (0..100; the weights add up to 100).
fn weighted(slice: &str, items: &[(&str, u32)]) -> String {
    let mut sql = String::from("CASE");
    let mut upto = 0;
    for (value, weight) in &items[..items.len() - 1] {
        upto += weight;
        sql.push_str(&format!(" WHEN {slice} < {upto} THEN {}", quoted(value)));
    }
    let (last, _) = items[items.len() - 1];
    sql.push_str(&format!(" ELSE {} END", quoted(last)));
    sql
}

/// The condition that `weighted(slice, items)` drew `name`.
fn band(slice: &str, items: &[(&str, u32)], name: &str) -> String {
    let mut lower = 0;
    for (value, weight) in items {
        if *value == name {
            return format!("({slice} >= {lower} AND {slice} < {})", lower + weight);
        }
        lower += weight;
    }
    "FALSE".to_owned()
}

/// `items[index % len]`, as SQL.
fn uniform<T: AsRef<str>>(index: &str, items: &[T]) -> String {
    let mut sql = format!("CASE ({index}) % {}", items.len());
    for (i, value) in items[..items.len() - 1].iter().enumerate() {
        sql.push_str(&format!(" WHEN {i} THEN {}", quoted(value.as_ref())));
    }
    sql.push_str(&format!(
        " ELSE {} END",
        quoted(items[items.len() - 1].as_ref())
    ));
    sql
}

/// Integers by index, as SQL.
fn uniform_int(index: &str, items: &[i32]) -> String {
    let mut sql = format!("CASE ({index}) % {}", items.len());
    for (i, value) in items[..items.len() - 1].iter().enumerate() {
        sql.push_str(&format!(" WHEN {i} THEN {value}"));
    }
    sql.push_str(&format!(" ELSE {} END", items[items.len() - 1]));
    sql
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The generated data's time line, in the backend's unit (ns on SQLite, µs on PostgreSQL).
#[derive(Debug, Clone, Copy)]
struct Timeline {
    start: i64,
    span: i64,
    /// One release period.
    month: i64,
    recent_from: i64,
}

impl Timeline {
    fn new(now: DateTime<Utc>, per_second: i64) -> anyhow::Result<Self> {
        let unit = |t: DateTime<Utc>| -> anyhow::Result<i64> {
            let nanos = t.timestamp_nanos_opt().context("time out of range")?;
            Ok(nanos / (1_000_000_000 / per_second))
        };
        let start = unit(now - Duration::days(SPAN_DAYS))?;
        let end = unit(now - Duration::minutes(1))?;
        let span = end - start;
        Ok(Self {
            start,
            span,
            month: span / RELEASES as i64 + 1,
            recent_from: unit(now - Duration::days(RECENT_DAYS))?,
        })
    }

    /// The time below which a fraction `f` of the rows lie: the daily volume grows linearly
    /// to three times its start, so F(τ) = (τ + τ²) / 2 over τ ∈ [0, 1].
    fn at(&self, f: f64) -> i64 {
        let tau = ((1.0 + 8.0 * f).sqrt() - 1.0) / 2.0;
        self.start + (tau * self.span as f64) as i64
    }
}

/// The per-row random columns: `r1`…`r4` (0..2^53), plus `t` (the time), `v` (the release
/// of that month) and `wv` (the release the row reports: 15 % still run the previous one).
fn row_sources(backend: Backend, line: &Timeline, a: u64, b: u64, count: u64) -> String {
    let t0 = line.at((a - 1) as f64 / count as f64);
    let t1 = line.at(b as f64 / count as f64);
    let step = ((t1 - t0) / (b + 1 - a) as i64).max(1);
    let last = RELEASES - 1;
    let (seq, rand) = match backend {
        Backend::Sqlite => (
            format!(
                "seq(n) AS (SELECT {a} UNION ALL SELECT n + 1 FROM seq WHERE n < {b}), g0 AS MATERIALIZED (SELECT n"
            ),
            "(random() & 9007199254740991)",
        ),
        Backend::Postgres => (
            "g0 AS MATERIALIZED (SELECT n".to_owned(),
            "floor(random() * 9007199254740992)::bigint",
        ),
    };
    let from = match backend {
        Backend::Sqlite => "FROM seq".to_owned(),
        Backend::Postgres => format!("FROM generate_series({a}::bigint, {b}::bigint) AS n"),
    };
    format!(
        "{seq}, {t0} + (n - {a}) * {step} + {rand} % {step} AS t, {rand} AS r1, {rand} AS r2, \
         {rand} AS r3, {rand} AS r4 {from}), \
         g1 AS (SELECT n, t, CASE WHEN (t - {start}) / {month} >= {last} THEN {last} \
         ELSE (t - {start}) / {month} END AS v, r1, r2, r3, r4 FROM g0), \
         g AS (SELECT n, t, v, v - CASE WHEN v > 0 AND {drift} < 15 THEN 1 ELSE 0 END AS wv, \
         r1, r2, r3, r4 FROM g1)",
        start = line.start,
        month = line.month,
        drift = pct("r1", 4),
    )
}

/// The columns both backends compute alike, in `COMMON_COLUMNS` order.
fn common_values(line: &Timeline) -> String {
    let versions: Vec<String> = (0..RELEASES).map(webapp_version).collect();
    let kind = weighted(&pct("r1", 0), KINDS);
    let status = format!(
        "CASE WHEN t >= {} THEN {} ELSE {} END",
        line.recent_from,
        weighted(&pct("r1", 1), STATUS_RECENT),
        weighted(&pct("r1", 1), STATUS_OLDER)
    );
    let is_feedback = format!("{} >= {FEEDBACK_FROM}", pct("r1", 0));
    let summary = format!(
        "CASE WHEN {is_feedback} AND {} < 70 THEN NULL ELSE {} END",
        pct("r2", 0),
        uniform("r2 / 100", SUMMARIES)
    );
    let message = format!(
        "{} || ' ' || {} || ' ' || {}",
        uniform("r2 / 10000", OPENINGS),
        uniform("r2 / 1000000", MIDDLES),
        uniform("r2 / 100000000", ENDINGS)
    );
    let rating = format!(
        "CASE WHEN {is_feedback} THEN 1 + {} % 5 ELSE NULL END",
        pct("r3", 0)
    );
    let browser = weighted(&pct("r1", 2), BROWSERS);
    let safari = [
        band(&pct("r1", 2), BROWSERS, "Safari"),
        band(&pct("r1", 2), BROWSERS, "Mobile Safari"),
    ]
    .join(" OR ");
    let browser_version = format!(
        "CASE WHEN {safari} THEN '17.' || ({minor} % 7) ELSE '' || (118 + v + {minor} % 3) END",
        minor = pct("r3", 1)
    );
    let screen = "r3 / 10000 % 8";
    let widths: Vec<i32> = SCREENS.iter().map(|(w, _)| *w).collect();
    let heights: Vec<i32> = SCREENS.iter().map(|(_, h)| *h).collect();
    let page_url = format!(
        "'https://mail.example.org/' || {} || '/' || (r3 / 1000000 % 5000)",
        uniform("r3 / 1000000000", PAGES)
    );
    let assignee = format!(
        "CASE WHEN {} < 35 THEN {} ELSE NULL END",
        pct("r4", 0),
        uniform("r4 / 100", ASSIGNEES)
    );
    [
        kind,
        status,
        summary,
        message,
        rating,
        uniform("wv", &versions),
        uniform("wv / 3", SERVER_VERSIONS),
        browser,
        browser_version,
        uniform_int(screen, &widths),
        uniform_int(screen, &heights),
        page_url,
        assignee,
    ]
    .join(", ")
}

const COMMON_COLUMNS: &str = "kind, status, summary, message, rating, webapp_version, \
    server_version, browser_brand, browser_version, screen_width, screen_height, page_url, assignee";

/// Labels: 70 % none, 22 % one, 8 % two (distinct).
fn labels(backend: Backend) -> String {
    let first = uniform("r4 / 10000", LABELS);
    let second = uniform(
        &format!(
            "r4 / 10000 % {n} + 1 + r4 / 100000000 % {m}",
            n = LABELS.len(),
            m = LABELS.len() - 1
        ),
        LABELS,
    );
    let share = pct("r4", 3);
    match backend {
        Backend::Sqlite => format!(
            "CASE WHEN {share} < 70 THEN '[]' WHEN {share} < 92 THEN '[\"' || {first} || '\"]' \
             ELSE '[\"' || {first} || '\",\"' || {second} || '\"]' END"
        ),
        Backend::Postgres => format!(
            "CASE WHEN {share} < 70 THEN '{{}}'::text[] WHEN {share} < 92 THEN ARRAY[{first}] \
             ELSE ARRAY[{first}, {second}] END"
        ),
    }
}

/// One bulk batch (rows `a..=b`) on SQLite: submissions, then their terms and contacts.
async fn sqlite_batch(
    conn: &mut SqliteConnection,
    parts: &BatchSql,
    line: &Timeline,
    (a, b, count): (u64, u64, u64),
) -> anyhow::Result<()> {
    let mut tx = conn.begin().await?;
    let lo: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM submissions")
        .fetch_one(&mut *tx)
        .await?;
    // A UUIDv7 layout: 48 bits of milliseconds, version 7, variant 10, random bits.
    let ms = "(t / 1000000)";
    let id = format!(
        "printf('%08x-%04x-7%03x-%04x-%012x', {ms} / 65536, {ms} % 65536, r4 % 4096, \
         32768 + r4 / 4096 % 16384, r3 % 281474976710656)"
    );
    let received_at = "strftime('%Y-%m-%dT%H:%M:%S', t / 1000000000, 'unixepoch') \
        || printf('.%09d', t % 1000000000) || '+00:00'";
    let sql = format!(
        "WITH RECURSIVE {sources} INSERT INTO submissions (id, received_at, {COMMON_COLUMNS}, \
         labels, fingerprint) SELECT {id}, {received_at}, {common}, {labels}, \
         printf('%016x', 4096 + r4 / 1000 % 300000) FROM g",
        sources = row_sources(Backend::Sqlite, line, a, b, count),
        common = parts.common,
        labels = parts.labels,
    );
    sqlx::query(AssertSqlSafe(sql))
        .persistent(false)
        .execute(&mut *tx)
        .await
        .context("inserting submissions")?;
    let terms = format!(
        "INSERT INTO terms_acceptances (submission_id, terms_version, terms_sha256, widget, \
         button, accepted_at) SELECT id, {}, {}, kind, \
         CASE kind WHEN 'feedback' THEN 'send' ELSE 'submit' END, received_at \
         FROM submissions WHERE rowid > {lo}",
        quoted(&parts.terms_version),
        quoted(&parts.terms_sha256)
    );
    sqlx::query(AssertSqlSafe(terms))
        .persistent(false)
        .execute(&mut *tx)
        .await
        .context("inserting terms records")?;
    let contacts = format!(
        "INSERT INTO contacts (submission_id, blind_index, sealed, key_id) \
         SELECT id, lower(hex(randomblob(32))), randomblob(80 + abs(random() % 48)), {} \
         FROM submissions WHERE rowid > {lo} AND abs(random() % 100) < {CONTACT_PERCENT}",
        quoted(&parts.key_id)
    );
    sqlx::query(AssertSqlSafe(contacts))
        .persistent(false)
        .execute(&mut *tx)
        .await
        .context("inserting contacts")?;
    tx.commit().await?;
    Ok(())
}

/// One bulk batch on PostgreSQL: one statement whose data-modifying CTEs write all three tables.
async fn postgres_batch(
    conn: &mut PgConnection,
    parts: &BatchSql,
    line: &Timeline,
    (a, b, count): (u64, u64, u64),
) -> anyhow::Result<()> {
    let ms = "(t / 1000)";
    let id = format!(
        "(lpad(to_hex({ms}), 12, '0') || '7' || lpad(to_hex(r4 % 4096), 3, '0') \
         || to_hex(8 + r4 / 4096 % 4) || lpad(to_hex(r4 / 16384 % 4096), 3, '0') \
         || lpad(to_hex(r3 % 281474976710656), 12, '0'))::uuid"
    );
    let received_at = "to_timestamp(t / 1000000) + (t % 1000000) * interval '1 microsecond'";
    let random_hex = "md5(random()::text)";
    let sql = format!(
        "WITH {sources}, \
         ins AS (INSERT INTO submissions (id, received_at, {COMMON_COLUMNS}, labels, fingerprint) \
           SELECT {id}, {received_at}, {common}, {labels}, \
           lpad(to_hex(4096 + r4 / 1000 % 300000), 16, '0') FROM g \
           RETURNING id, received_at, kind), \
         terms AS (INSERT INTO terms_acceptances (submission_id, terms_version, terms_sha256, \
           widget, button, accepted_at) SELECT id, {version}, {sha}, kind, \
           CASE kind WHEN 'feedback' THEN 'send' ELSE 'submit' END, received_at FROM ins) \
         INSERT INTO contacts (submission_id, blind_index, sealed, key_id) \
         SELECT id, {random_hex} || {random_hex}, \
           decode({random_hex} || {random_hex} || {random_hex} || {random_hex} || {random_hex} \
           || {random_hex}, 'hex'), {key_id} \
         FROM ins WHERE random() < {fraction}",
        sources = row_sources(Backend::Postgres, line, a, b, count),
        common = parts.common,
        labels = parts.labels,
        version = quoted(&parts.terms_version),
        sha = quoted(&parts.terms_sha256),
        key_id = quoted(&parts.key_id),
        fraction = f64::from(CONTACT_PERCENT) / 100.0,
    );
    sqlx::query(AssertSqlSafe(sql))
        .persistent(false)
        .execute(&mut *conn)
        .await
        .context("inserting a batch")?;
    Ok(())
}

/// SQL text shared by every batch.
#[derive(Debug)]
struct BatchSql {
    common: String,
    labels: String,
    terms_version: String,
    terms_sha256: String,
    key_id: String,
}

enum Bulk {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Bulk {
    async fn open(url: &str) -> anyhow::Result<(Self, Backend)> {
        if url.starts_with("sqlite:") {
            let conn = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Off)
                .foreign_keys(false)
                .pragma("cache_size", "-262144")
                .pragma("temp_store", "memory")
                .connect()
                .await
                .context("opening the SQLite database for the bulk load")?;
            Ok((Self::Sqlite(conn), Backend::Sqlite))
        } else {
            let mut conn = PgConnection::connect(url)
                .await
                .context("opening the PostgreSQL database for the bulk load")?;
            sqlx::query("SET synchronous_commit = off")
                .execute(&mut conn)
                .await?;
            Ok((Self::Postgres(conn), Backend::Postgres))
        }
    }

    async fn batch(
        &mut self,
        parts: &BatchSql,
        line: &Timeline,
        rows: (u64, u64, u64),
    ) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(conn) => sqlite_batch(conn, parts, line, rows).await,
            Self::Postgres(conn) => postgres_batch(conn, parts, line, rows).await,
        }
    }

    /// What a live database would have done by itself after such a load.
    async fn finish(self) -> anyhow::Result<&'static str> {
        match self {
            Self::Sqlite(mut conn) => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                Ok("WAL checkpoint")
            }
            Self::Postgres(mut conn) => {
                sqlx::query("VACUUM (ANALYZE) submissions, terms_acceptances, contacts")
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                Ok("VACUUM (ANALYZE)")
            }
        }
    }
}

/// A submission for `email` through the service's own store and vault.
fn target_row(
    services: &Services,
    settings: &Settings,
    email: &str,
    received_at: DateTime<Utc>,
    n: u32,
) -> anyhow::Result<SubmissionRow> {
    let secs = u64::try_from(received_at.timestamp()).context("time before 1970")?;
    let id = Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        secs,
        received_at.timestamp_subsec_nanos(),
    ));
    let field = |(code, message): (&str, String)| anyhow::anyhow!("{code}: {message}");
    let contact = Contact {
        name: ContactName::parse("Pat Example").map_err(field)?,
        email: ContactEmail::parse(email).map_err(field)?,
    };
    let sealed = services.vault.seal(id, &contact);
    anyhow::ensure!(sealed.blind_index.is_some(), "{email} has no blind index");
    let terms = settings.terms()?;
    let summary = format!("Calendar reminders arrive twice ({n})");
    let message = "Since the last update every reminder reaches me twice, on the laptop and \
                   on the phone. Please have a look."
        .to_owned();
    Ok(SubmissionRow {
        id,
        received_at,
        kind: feedbackd::domain::Kind::Bug,
        status: feedbackd::domain::Status::New,
        fingerprint: Some(triage::fingerprint(&format!("{summary} {message}"))),
        summary: Some(summary),
        message,
        rating: None,
        webapp_version: webapp_version(RELEASES - 1),
        server_version: SERVER_VERSIONS[SERVER_VERSIONS.len() - 1].into(),
        browser_brand: "Firefox".into(),
        browser_version: Some("128.0".into()),
        screen_width: 1920,
        screen_height: 1080,
        page_url: "https://mail.example.org/calendar/week".into(),
        labels: Vec::new(),
        assignee: None,
        duplicate_of: None,
        terms: TermsRecord {
            version: terms.version,
            sha256: terms.sha256,
            widget: "bug".into(),
            button: "submit".into(),
            accepted_at: received_at,
        },
        attachments: Vec::new(),
        contact: Some(ContactRow {
            blind_index: sealed.blind_index,
            sealed: sealed.sealed,
            key_id: sealed.key_id,
        }),
    })
}

/// Times of one query, run `RUNS` times on a plain connection like the service's.
const RUNS: usize = 7;

/// `--explain`: the plan of each statement on stdin, then its median and slowest time.
async fn explain(url: &str) -> anyhow::Result<()> {
    let statements: Vec<String> = std::io::stdin()
        .lines()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let sqlite = url.starts_with("sqlite:");
    let mut sqlite_conn = None;
    let mut pg_conn = None;
    if sqlite {
        sqlite_conn = Some(
            SqliteConnectOptions::from_str(url)?
                .read_only(true)
                .connect()
                .await?,
        );
    } else {
        pg_conn = Some(PgConnection::connect(url).await?);
    }
    if let Some(conn) = sqlite_conn.as_mut() {
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&mut *conn)
            .await?;
        println!("-- SQLite {version} (built into feedbackd), default connection settings");
    }
    for sql in statements {
        println!("\n-- {sql}");
        let mut times = Vec::with_capacity(RUNS);
        let mut rows = 0;
        if let Some(conn) = sqlite_conn.as_mut() {
            // Rows of `EXPLAIN QUERY PLAN`: id, parent, notused, detail.
            let plan = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(3)?)))
                .collect::<Result<Vec<(i64, i64, String)>, sqlx::Error>>()?;
            let mut depth = std::collections::HashMap::new();
            for (id, parent, detail) in plan {
                let d = depth.get(&parent).map_or(0, |d| d + 1);
                depth.insert(id, d);
                println!("{}{detail}", "  ".repeat(d));
            }
            for _ in 0..RUNS {
                let start = Instant::now();
                rows = sqlx::query(AssertSqlSafe(sql.clone()))
                    .fetch_all(&mut *conn)
                    .await?
                    .len();
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        } else if let Some(conn) = pg_conn.as_mut() {
            let plan: Vec<String> =
                sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")))
                    .fetch_all(&mut *conn)
                    .await?;
            for line in plan {
                println!("{line}");
            }
            for _ in 0..RUNS {
                let start = Instant::now();
                rows = sqlx::query(AssertSqlSafe(sql.clone()))
                    .fetch_all(&mut *conn)
                    .await?
                    .len();
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "-- {rows} rows; {RUNS} runs: median {:.2} ms, slowest {:.2} ms",
            times[RUNS / 2],
            times[RUNS - 1]
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.batch > 0, "--batch must be positive");
    let settings = Settings::load(None)?;
    let url = settings.database_url();
    if args.explain {
        return explain(&url).await;
    }
    let count = args.count.context("--count is required")?;
    let began = Instant::now();
    let services = Services::open(&settings)
        .await
        .context("opening the services")?;
    eprintln!(
        "seed: database opened and migrated in {:.1} s",
        began.elapsed().as_secs_f64()
    );

    let (mut bulk, backend) = Bulk::open(&url).await?;
    let per_second = match backend {
        Backend::Sqlite => 1_000_000_000,
        Backend::Postgres => 1_000_000,
    };
    let now = Utc::now();
    let line = Timeline::new(now, per_second)?;
    let terms = settings.terms()?;
    let key_id = services
        .vault
        .seal(
            Uuid::nil(),
            &Contact {
                name: None,
                email: None,
            },
        )
        .key_id;
    let parts = BatchSql {
        common: common_values(&line),
        labels: labels(backend),
        terms_version: terms.version,
        terms_sha256: terms.sha256,
        key_id,
    };

    let loading = Instant::now();
    let mut a = 1;
    while a <= count {
        let b = (a + args.batch - 1).min(count);
        bulk.batch(&parts, &line, (a, b, count)).await?;
        let secs = loading.elapsed().as_secs_f64();
        eprintln!(
            "seed: {b}/{} rows, {secs:.1} s, {:.0} rows/s",
            count,
            b as f64 / secs.max(1e-9)
        );
        a = b + 1;
    }
    let load_secs = loading.elapsed().as_secs_f64();

    let targets = Instant::now();
    let mut inserted = 0;
    for (i, email) in args.target_emails.iter().enumerate() {
        for n in 0..args.target_count {
            let days = (i as i64 * 37 + i64::from(n) * 101) % (SPAN_DAYS - 10) + 1;
            let received_at = now - Duration::days(days) - Duration::seconds(i as i64 * 61 + 7);
            let row = target_row(&services, &settings, email, received_at, n)?;
            let outcome = services
                .store
                .insert_submission(row, None, Vec::new())
                .await?;
            anyhow::ensure!(outcome == InsertOutcome::Inserted, "target not inserted");
            inserted += 1;
        }
    }
    let target_secs = targets.elapsed().as_secs_f64();

    let finishing = Instant::now();
    let finish = bulk.finish().await?;
    let finish_secs = finishing.elapsed().as_secs_f64();
    let counts = services.store.table_counts().await?;
    services.store.close().await;

    eprintln!(
        "seed: {} bulk rows in {load_secs:.1} s ({:.0} rows/s), {inserted} target submissions \
         in {target_secs:.1} s, {finish} in {finish_secs:.1} s, {:.1} s in all",
        count,
        count as f64 / load_secs.max(1e-9),
        began.elapsed().as_secs_f64()
    );
    for (table, n) in &counts {
        println!("rows_{table}={n}");
    }
    println!("webapp_version_current={}", webapp_version(RELEASES - 1));
    println!(
        "webapp_version_year_old={}",
        webapp_version(YEAR_OLD_RELEASE)
    );
    println!("load_seconds={load_secs:.1}");
    println!("finish_seconds={finish_secs:.1}");
    Ok(())
}
