//! Two `feedbackd serve` processes on one database and one object store (PostgreSQL + S3 when
//! the suite runs on them, else one SQLite file + one folder): they migrate concurrently, accept
//! submissions in parallel, and never run a housekeeping pass at the same time.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{terms_version, test_settings};
use crate::served::{Served, signal, start};

fn replica(env: &[(String, String)], dir: &std::path::Path, n: usize) -> Served {
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend([
        ("FEEDBACKD_SWEEP_INTERVAL_SECS", "1"),
        ("FEEDBACKD_LOG_FORMAT", "json"),
        ("RUST_LOG", "warn,feedbackd::housekeeping=debug"),
    ]);
    start(dir.join(format!("replica-{n}.log")), &env)
}

/// (start, end) of each housekeeping pass in a replica's log, in microseconds.
fn passes(log: &std::path::Path) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut started = None;
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let at =
            chrono::DateTime::parse_from_rfc3339(entry["timestamp"].as_str().unwrap_or_default())
                .map(|t| t.timestamp_micros());
        match (entry["message"].as_str(), at) {
            (Some("housekeeping pass started"), Ok(at)) => started = Some(at),
            (Some("housekeeping pass finished"), Ok(at)) => {
                out.extend(started.take().map(|s| (s, at)))
            }
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn two_replicas_share_one_database_and_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(&dir).await;
    let mut env = vec![
        (
            "FEEDBACKD_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        ),
        ("FEEDBACKD_DATABASE_URL".to_owned(), settings.database_url()),
        ("FEEDBACKD_STORAGE_URL".to_owned(), settings.storage_url()),
        // Replicas must share the contact keys; the key file in the shared folder does that here.
    ];
    if let Some(endpoint) = &settings.s3_endpoint {
        env.push(("FEEDBACKD_S3_ENDPOINT".to_owned(), endpoint.clone()));
    }
    // Start both at once: their migrations race, and the database must come out right.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| replica(&env, dir.path(), 1));
        let b = s.spawn(|| replica(&env, dir.path(), 2));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut replicas = [a, b];

    let client = reqwest::Client::new();
    let terms_version = terms_version(&client, &replicas[0].base).await;
    let requests = (0..40).map(|i| {
        let base = &replicas[i % 2].base;
        let form = reqwest::multipart::Form::new()
            .text("kind", "bug")
            .text("message", format!("report {i} from a replica test"))
            .text("webapp_version", "1")
            .text("server_version", "2")
            .text("screen_resolution", "800x600")
            .text("url", "https://mail.example.org/")
            .text("terms_version", terms_version.clone())
            .text("terms_accepted", "true")
            .text("contact_email", format!("person{i}@example.org"))
            .part(
                "attachment",
                reqwest::multipart::Part::bytes(crate::helpers::PNG_1X1.to_vec())
                    .file_name("s.png"),
            );
        client
            .post(format!("{base}/api/v1/feedback"))
            .multipart(form)
            .send()
    });
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.unwrap().status(), 201);
    }
    // The lease is given up after every pass, so each replica gets its turn: wait for both,
    // or the overlap check below would compare one replica's passes with nothing.
    let started = Instant::now();
    while replicas.iter().any(|r| passes(&r.stderr_file).is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a replica ran no housekeeping pass within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for replica in &replicas {
        signal(&replica.child, "TERM");
    }
    for replica in &mut replicas {
        assert!(replica.child.wait().unwrap().success());
    }

    let store = feedbackd::store::connect(&settings.database_url())
        .await
        .unwrap();
    let counts = store.table_counts().await.unwrap();
    assert!(counts.contains(&("submissions", 40)), "{counts:?}");
    assert!(counts.contains(&("attachments", 40)), "{counts:?}");
    store.close().await;

    let (one, two) = (
        passes(&replicas[0].stderr_file),
        passes(&replicas[1].stderr_file),
    );
    assert!(
        !one.is_empty() && !two.is_empty(),
        "each replica ran a pass: {one:?} {two:?}"
    );
    for (s1, e1) in &one {
        for (s2, e2) in &two {
            assert!(
                e1 < s2 || e2 < s1,
                "passes overlapped: {s1}..{e1} and {s2}..{e2}"
            );
        }
    }
    for replica in &replicas {
        let log = std::fs::read_to_string(&replica.stderr_file).unwrap();
        assert!(
            !log.contains("ERROR") && !log.contains("\"level\":\"ERROR\""),
            "{log}"
        );
    }
}
