//! The stats the database keeps (per hour and per day, migration `20261201000500`) answer
//! exactly what counting the submissions gives: a seeded loop inserts, changes (status to and
//! from spam, kind, version, browser, time) and deletes submissions across hours, days and
//! edges, by single and bulk statements and through the store's triage, and after each round
//! compares `Store::stats` for random ranges, groupings and team offsets with counting a
//! model of the rows kept by the test, before and after housekeeping folds the counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use feedbackd::domain::{Status, TriagePatch};
use feedbackd::notify::{Event, Fanout};
use feedbackd::store::{AuditEntry, StatsDimension, StatsQuery, StatsRow};
use uuid::Uuid;

use crate::raw_db::{execute, is_sqlite, rows, spawn_with_db};

/// SplitMix64: a small seeded generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
}

const KINDS: [&str; 3] = ["bug", "feature", "feedback"];
const STATUSES: [&str; 5] = ["new", "triaged", "done", "spam", "spam"];
const VERSIONS: [&str; 3] = ["6.3.0", "6.3.1", "6.4.0"];
const BROWSERS: [&str; 3] = ["Chrome", "Firefox", "Safari"];
/// Team offsets: UTC, whole hours either side, and the half and quarter hours of India, Nepal
/// and Adelaide.
const OFFSETS: [i32; 7] = [0, 3_600, -18_000, 46_800, 19_800, 20_700, 34_200];
const DAYS: i64 = 4;

#[derive(Clone, Debug)]
struct Sub {
    at: DateTime<Utc>,
    kind: &'static str,
    status: &'static str,
    version: &'static str,
    browser: &'static str,
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 30, 0, 0, 0).unwrap()
}

/// A time in the test's days, often on or next to an hour's edge (microseconds: what
/// PostgreSQL keeps).
fn time(rng: &mut Rng) -> DateTime<Utc> {
    let hour = base() + Duration::hours(i64::try_from(rng.below(24 * DAYS as u64)).unwrap());
    match rng.below(4) {
        0 => hour,
        1 => hour - Duration::microseconds(1),
        2 => hour + Duration::minutes(30),
        _ => hour + Duration::microseconds(i64::try_from(rng.below(3_600_000_000)).unwrap()),
    }
}

fn sql_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

fn random_sub(rng: &mut Rng) -> Sub {
    Sub {
        at: time(rng),
        kind: rng.pick(&KINDS),
        status: rng.pick(&STATUSES),
        version: rng.pick(&VERSIONS),
        browser: rng.pick(&BROWSERS),
    }
}

fn ids_sql(ids: &[Uuid]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What counting the model gives.
fn expected(model: &BTreeMap<Uuid, Sub>, query: &StatsQuery) -> Vec<StatsRow> {
    let mut groups: BTreeMap<Vec<String>, i64> = BTreeMap::new();
    if query.by.is_empty() {
        groups.insert(Vec::new(), 0);
    }
    for sub in model.values() {
        if sub.status == "spam"
            || sub.at < query.from
            || sub.at >= query.to
            || query.kind.as_deref().is_some_and(|k| k != sub.kind)
        {
            continue;
        }
        let keys = query
            .by
            .iter()
            .map(|d| match d {
                StatsDimension::Day => (sub.at + Duration::seconds(query.offset_secs.into()))
                    .format("%Y-%m-%d")
                    .to_string(),
                StatsDimension::Kind => sub.kind.to_owned(),
                StatsDimension::WebappVersion => sub.version.to_owned(),
                StatsDimension::Browser => sub.browser.to_owned(),
                StatsDimension::Status => sub.status.to_owned(),
            })
            .collect();
        *groups.entry(keys).or_default() += 1;
    }
    groups
        .into_iter()
        .map(|(keys, count)| StatsRow { keys, count })
        .collect()
}

fn random_query(rng: &mut Rng) -> StatsQuery {
    let edge = |rng: &mut Rng| {
        let t = time(rng) - Duration::hours(12);
        match rng.below(3) {
            0 => t,
            // A team day's start in some offset, or a UTC day's.
            1 => base() + Duration::days(i64::try_from(rng.below(DAYS as u64)).unwrap()),
            _ => t + Duration::seconds(i64::try_from(rng.below(86_400)).unwrap()),
        }
    };
    let (a, b) = (edge(rng), edge(rng));
    let (from, to) = if a < b {
        (a, b)
    } else {
        (b - Duration::hours(1), a + Duration::hours(30))
    };
    let offset = rng.pick(&OFFSETS);
    let mut by: Vec<StatsDimension> = Vec::new();
    for _ in 0..rng.below(4) {
        let d = rng.pick(&StatsDimension::ALL);
        if !by.contains(&d) {
            by.push(d);
        }
    }
    let kind = (rng.below(3) == 0).then(|| (rng.pick(&KINDS)).to_owned());
    // A team day of this offset begins at the range's start now and then.
    let from = if rng.below(4) == 0 {
        from - Duration::seconds(offset.into())
    } else {
        from
    };
    StatsQuery {
        from,
        to,
        by,
        kind,
        offset_secs: offset,
    }
}

#[tokio::test]
async fn kept_stats_equal_counting_the_submissions() {
    let (app, url) = spawn_with_db().await;
    let store = app.state.store.as_ref();
    let seed = std::env::var("KEPT_STATS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(13);
    let mut rng = Rng(seed);
    let mut model: BTreeMap<Uuid, Sub> = BTreeMap::new();
    let audit = AuditEntry {
        at: Utc::now(),
        actor: "test".to_owned(),
        action: "triage".to_owned(),
        submission_id: None,
        detail: None,
    };
    for round in 0..6 {
        // Inserts, in one statement (PostgreSQL's triggers see them all at once).
        let mut values = Vec::new();
        for _ in 0..40 {
            let (id, sub) = (Uuid::new_v4(), random_sub(&mut rng));
            values.push(format!(
                "('{id}', '{}', '{}', '{}', 'text', '{}', '1.0', '{}', 1, 1, 'https://e.example/')",
                sql_time(sub.at),
                sub.kind,
                sub.status,
                sub.version,
                sub.browser
            ));
            model.insert(id, sub);
        }
        execute(
            &url,
            &format!(
                "INSERT INTO submissions (id, received_at, kind, status, message, webapp_version, \
                 server_version, browser_brand, screen_width, screen_height, page_url) VALUES {}",
                values.join(", ")
            ),
        )
        .await;
        let ids: Vec<Uuid> = model.keys().copied().collect();
        // Single changes of each counted column, and of one not counted.
        for _ in 0..12 {
            let id = rng.pick(&ids);
            let other = random_sub(&mut rng);
            let sub = model.get_mut(&id).unwrap();
            let set = match rng.below(6) {
                0 => {
                    sub.status = other.status;
                    format!("status = '{}'", other.status)
                }
                1 => {
                    sub.kind = other.kind;
                    format!("kind = '{}'", other.kind)
                }
                2 => {
                    sub.version = other.version;
                    format!("webapp_version = '{}'", other.version)
                }
                3 => {
                    sub.browser = other.browser;
                    format!("browser_brand = '{}'", other.browser)
                }
                4 => {
                    sub.at = other.at;
                    format!("received_at = '{}'", sql_time(other.at))
                }
                _ => "assignee = 'ann'".to_owned(),
            };
            execute(
                &url,
                &format!("UPDATE submissions SET {set} WHERE id = '{id}'"),
            )
            .await;
        }
        // A bulk change through the store: some to spam, or back from it.
        let chosen: Vec<Uuid> = (0..8).map(|_| rng.pick(&ids)).collect();
        let status = if round % 2 == 0 {
            Status::Spam
        } else {
            Status::Triaged
        };
        let patch = TriagePatch {
            status: Some(status),
            ..TriagePatch::default()
        };
        let mut unique = chosen.clone();
        unique.sort();
        unique.dedup();
        store
            .apply_triage(
                &unique,
                &patch,
                &audit,
                &Fanout::none(Event::SubmissionUpdated),
            )
            .await
            .unwrap()
            .unwrap();
        for id in &unique {
            model.get_mut(id).unwrap().status = status.as_str();
        }
        // A bulk change of time and version in one statement.
        let moved: Vec<Uuid> = (0..5).map(|_| rng.pick(&ids)).collect();
        execute(
            &url,
            &format!(
                "UPDATE submissions SET webapp_version = '6.4.0', received_at = '{}' \
                 WHERE id IN ({})",
                sql_time(base() + Duration::hours(30)),
                ids_sql(&moved)
            ),
        )
        .await;
        for id in &moved {
            let sub = model.get_mut(id).unwrap();
            sub.version = "6.4.0";
            sub.at = base() + Duration::hours(30);
        }
        // Deletions: one, and several in one statement.
        let gone: Vec<Uuid> = (0..1 + rng.below(6)).map(|_| rng.pick(&ids)).collect();
        execute(
            &url,
            &format!("DELETE FROM submissions WHERE id IN ({})", ids_sql(&gone)),
        )
        .await;
        for id in &gone {
            model.remove(id);
        }

        if round % 2 == 1 {
            // Housekeeping folds PostgreSQL's slots (the test's connections wrote several).
            store.fold_kept_counts().await.unwrap();
            if !is_sqlite(&url) {
                let left = rows(
                    &url,
                    "SELECT (SELECT COUNT(*) FROM submission_hourly_counts \
                       WHERE slot <> 0 OR n = 0)::text AS hourly, \
                     (SELECT COUNT(*) FROM submission_daily_counts \
                       WHERE slot <> 0 OR n = 0)::text AS daily",
                )
                .await;
                assert_eq!(
                    left[0]
                        .iter()
                        .map(|(_, n)| n.as_deref())
                        .collect::<Vec<_>>(),
                    [Some("0"), Some("0")],
                    "one row a group after folding"
                );
            }
        }
        for _ in 0..30 {
            let query = random_query(&mut rng);
            let got = store.stats(&query).await.unwrap();
            assert_eq!(
                got,
                expected(&model, &query),
                "seed {seed}, round {round}, {query:?}"
            );
        }
    }
    // The whole test span, per day in each offset, by everything at once.
    for offset in OFFSETS {
        let query = StatsQuery {
            from: base() - Duration::days(1),
            to: base() + Duration::days(DAYS + 1),
            by: StatsDimension::ALL.to_vec(),
            kind: None,
            offset_secs: offset,
        };
        let got = store.stats(&query).await.unwrap();
        assert_eq!(got, expected(&model, &query), "offset {offset}");
        assert!(!got.is_empty());
    }
}
