//! The outbox with the real binary: messages queued when the service is SIGKILLed are all
//! delivered after the restart, and two replicas on one database drain one outbox without
//! delivering a message twice.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{terms_version, test_settings};
use crate::receiver::{Mode, Receiver, hook_url, new_secret};
use crate::served::{Served, signal, start};

/// A configuration file with one webhook endpoint and a fast worker.
fn write_config(dir: &Path, addr: std::net::SocketAddr, secret: &str) -> String {
    let path = dir.join("feedbackd.toml");
    std::fs::write(
        &path,
        format!(
            "[notify]\npoll_interval_ms = 20\ndelivery_timeout_ms = 500\nbackoff_base_ms = 20\n\
             backoff_cap_ms = 100\nretry_limit = 1000\n\n[[notify.webhooks]]\nname = \"tracker\"\n\
             url = \"{}\"\nsecret = \"{secret}\"\n",
            hook_url(addr)
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// The database URL a replica of `env` uses.
fn database_url(env: &[(String, String)], dir: &Path) -> String {
    env.iter()
        .find(|(k, _)| k == "FEEDBACKD_DATABASE_URL")
        .map_or_else(
            || format!("sqlite://{}", dir.join("feedbackd.db").display()),
            |(_, v)| v.clone(),
        )
}

/// The environment of a replica on the test's backends.
async fn environment(dir: &Path, config: String) -> Vec<(String, String)> {
    let settings = test_settings(&tempfile::tempdir().unwrap()).await;
    let mut env = vec![
        ("FEEDBACKD_DATA_DIR".to_owned(), dir.display().to_string()),
        ("FEEDBACKD_CONFIG".to_owned(), config),
        ("FEEDBACKD_LOG_FORMAT".to_owned(), "json".to_owned()),
        ("RUST_LOG".to_owned(), "info".to_owned()),
    ];
    if let Some(url) = settings.database_url {
        env.push(("FEEDBACKD_DATABASE_URL".to_owned(), url));
    }
    env
}

fn run(env: &[(String, String)], dir: &Path, name: &str) -> Served {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    start(dir.join(format!("{name}.log")), &env)
}

async fn submit(client: &reqwest::Client, base: &str, terms: &str, n: usize) {
    let response = client
        .post(format!("{base}/api/v1/feedback"))
        .json(&json!({
            "kind": "bug", "message": format!("outbox process test {n}"),
            "webapp_version": "1", "server_version": "2", "screen_resolution": "800x600",
            "url": "https://mail.example.org/", "terms_version": terms, "terms_accepted": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

/// `feedbackd_notify_messages_total{channel="webhook",outcome="sent"}` of a running replica.
async fn sent(served: &Served) -> u64 {
    let metrics_url = served
        .announced
        .iter()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("http") && l.contains("metrics"))
        })
        .expect("serve announces its metrics URL")
        .to_owned();
    let text = reqwest::get(metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| {
            l.starts_with("feedbackd_notify_messages_total{channel=\"webhook\",outcome=\"sent\"}")
        })
        .and_then(|l| l.split_whitespace().last())
        .map_or(0, |n| n.parse().unwrap())
}

fn distinct_ids(received: &[crate::receiver::Received]) -> usize {
    let mut ids: Vec<&str> = received.iter().map(|r| r.webhook_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

#[tokio::test]
async fn messages_queued_at_a_sigkill_are_all_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, key) = new_secret();
    // The receiver's port is held (bound, never accepting) while it is "down": a port only
    // picked and left free can be taken meanwhile by another test's server, whose answers
    // (a 404 is a permanent failure) would kill the messages this test waits for.
    let parked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = parked.local_addr().unwrap();
    let env = environment(dir.path(), write_config(dir.path(), down, &secret)).await;
    let mut first = run(&env, dir.path(), "first");
    let client = reqwest::Client::new();
    let terms = terms_version(&client, &first.base).await;
    for n in 0..6 {
        submit(&client, &first.base, &terms, n).await;
    }
    // Attempts time out and are retried while the receiver is down; then the process dies,
    // some of them claimed (the claims expire after `claim_time`).
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(&first.child, "KILL");
    first.child.wait().unwrap();

    drop(parked);
    let receiver = Receiver::start(down, key, Mode::Accept).await;
    let mut second = run(&env, dir.path(), "second");
    let received = receiver.wait_for(6, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 6, "none twice");
    assert_eq!(distinct_ids(&received), 6);
    assert!(
        received
            .iter()
            .all(|r| r.body["type"] == "submission.created")
    );
    signal(&second.child, "TERM");
    let status = second.child.wait().unwrap();
    let log = std::fs::read_to_string(&second.stderr_file).unwrap();
    assert!(status.success(), "{status}: {log}");
}

#[tokio::test]
async fn two_replicas_drain_one_outbox_delivering_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, key) = new_secret();
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), key, Mode::Accept).await;
    let env = environment(dir.path(), write_config(dir.path(), receiver.addr, &secret)).await;
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(&env, dir.path(), "replica-1"));
        let b = s.spawn(|| run(&env, dir.path(), "replica-2"));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut replicas = [a, b];
    let client = reqwest::Client::new();
    let terms = terms_version(&client, &replicas[0].base).await;
    let requests = (0..60).map(|n| submit(&client, &replicas[n % 2].base, &terms, n));
    futures::future::join_all(requests).await;

    let received = receiver.wait_for(60, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 60, "none twice");
    assert_eq!(distinct_ids(&received), 60);
    let (one, two) = (sent(&replicas[0]).await, sent(&replicas[1]).await);
    assert_eq!(one + two, 60, "{one} + {two}");
    assert!(
        one > 0 && two > 0,
        "both replicas delivered: {one} and {two}"
    );

    for replica in &replicas {
        signal(&replica.child, "TERM");
    }
    for replica in &mut replicas {
        assert!(replica.child.wait().unwrap().success());
        let log = std::fs::read_to_string(&replica.stderr_file).unwrap();
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("\"level\":\"ERROR\""))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[tokio::test]
async fn sigterm_gives_back_the_claims_of_deliveries_in_flight() {
    // A receiver that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let (secret, _) = new_secret();
    let config = write_config(dir.path(), hanging, &secret);
    let config_text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("delivery_timeout_ms = 500", "delivery_timeout_ms = 30000");
    std::fs::write(&config, config_text).unwrap();
    let env = environment(dir.path(), config).await;
    let url = database_url(&env, dir.path());
    let mut served = run(&env, dir.path(), "served");
    let client = reqwest::Client::new();
    let terms = terms_version(&client, &served.base).await;
    submit(&client, &served.base, &terms, 0).await;
    let claimed = "SELECT claimed_by FROM outbox WHERE claimed_by IS NOT NULL";
    let started = Instant::now();
    while crate::raw_db::rows(&url, claimed).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the message was claimed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stopping = Instant::now();
    signal(&served.child, "TERM");
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "shutdown did not wait for the hanging delivery: {:?}",
        stopping.elapsed()
    );
    assert!(
        crate::raw_db::rows(&url, claimed).await.is_empty(),
        "the claim was given back"
    );
    let pending = crate::raw_db::rows(&url, "SELECT state FROM outbox").await;
    assert_eq!(pending.len(), 1, "the message is still there: {pending:?}");
}
