//! The public edge as an attacker meets it: login floods, forged `X-Forwarded-For`, loose
//! JSON types and enumerations, unknown content encodings.

use serde_json::json;

use crate::helpers::{has_error, problem, spawn_app, spawn_app_with};

async fn login(
    app: &crate::helpers::TestApp,
    forwarded_for: &[&str],
    name: &str,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url("/triage/login"))
        .form(&[("name", name), ("password", "not the password")]);
    for line in forwarded_for {
        request = request.header("x-forwarded-for", *line);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_login_flood_from_one_client_is_refused_per_client_as_a_page() {
    let app = spawn_app_with(|s| {
        s.trusted_proxy_hops = 1;
        s.login_attempts_per_minute = 10;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        // Random names: a throttle keyed by name alone never fires.
        let response = login(&app, &["198.51.100.7"], &format!("guess{i}")).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "a person sees a page, not JSON"
            );
            let page = response.text().await.unwrap();
            assert!(page.contains("Too many login attempts"), "{page}");
        }
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    // Another client is not affected.
    assert_eq!(login(&app, &["198.51.100.8"], "guess").await.status(), 401);
}

#[tokio::test]
async fn names_that_cannot_exist_are_refused_without_being_remembered() {
    let app = spawn_app().await;
    for i in 0..8 {
        let name = format!("no such name {i} <script>");
        assert_eq!(login(&app, &[], &name).await.status(), 401);
    }
    // Only the client is remembered: invalid names never reach the name throttle's map.
    assert_eq!(app.state.login_guard.remembered(), 1);
}

#[tokio::test]
async fn every_forwarded_for_line_counts_and_only_trusted_hops_are_believed() {
    let app = spawn_app_with(|s| {
        s.trusted_proxy_hops = 1;
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = 1;
    })
    .await;
    let post = |lines: &'static [&'static str]| {
        let mut request = app
            .client
            .post(app.url("/api/v1/feedback"))
            .json(&json!({"kind": "nope"}));
        for line in lines {
            request = request.header("x-forwarded-for", *line);
        }
        request.send()
    };
    // The client writes its own first line; the proxy appends the address it saw.
    let first = post(&["203.0.113.1", "198.51.100.7"]).await.unwrap();
    assert_eq!(first.status(), 422);
    let forged = post(&["203.0.113.2", "198.51.100.7"]).await.unwrap();
    problem(forged, 429, "rate_limited").await;
    let forged_in_one_line = post(&["203.0.113.3, 198.51.100.7"]).await.unwrap();
    assert_eq!(forged_in_one_line.status(), 429);
    let other_client = post(&["198.51.100.8"]).await.unwrap();
    assert_eq!(other_client.status(), 422);
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn json_values_of_the_wrong_type_are_refused_not_converted() {
    let app = spawn_app().await;
    let mut body = app.valid_json();
    body["message"] = json!(123);
    body["webapp_version"] = json!(6.4);
    let problem = problem(app.post_json(&body).await, 422, "validation_failed").await;
    assert!(has_error(&problem, "message", "invalid_type"), "{problem}");
    assert!(
        has_error(&problem, "webapp_version", "invalid_type"),
        "{problem}"
    );
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn enumerated_values_are_matched_exactly() {
    let app = spawn_app().await;
    for (field, value) in [
        ("kind", json!(" feedback")),
        ("kind", json!("Feedback")),
        ("rating", json!(" 3")),
        ("rating", json!("3 ")),
        ("button", json!("Send")),
    ] {
        let mut body = app.valid_json();
        body[field] = value.clone();
        let response = app.post_json(&body).await;
        let problem = problem(response, 422, "validation_failed").await;
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{field}={value} accepted: {problem}"
        );
    }
    // The plain values still work, as JSON types and as multipart text.
    let mut body = app.valid_json();
    body["rating"] = json!("3");
    assert_eq!(app.post_json(&body).await.status(), 201);
}

#[tokio::test]
async fn a_body_in_an_encoding_we_do_not_decode_is_415() {
    let app = spawn_app().await;
    for encoding in ["gzip", "br", "identity, gzip", "x-unknown"] {
        let response = app
            .client
            .post(app.url("/api/v1/feedback"))
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(serde_json::to_vec(&app.valid_json()).unwrap())
            .send()
            .await
            .unwrap();
        problem(response, 415, "unsupported_media_type").await;
    }
    let identity = app
        .client
        .post(app.url("/api/v1/feedback"))
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .body(serde_json::to_vec(&app.valid_json()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), 201);
}

/// Sends `head` and then `body_bytes` of `fill` over a raw connection without finishing the
/// body, and reads what the service answers meanwhile.
async fn answer_before_the_body_ends(
    app: &crate::helpers::TestApp,
    content_type: &str,
    declared: usize,
    prefix: &[u8],
    fill: u8,
    sent: usize,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/feedback HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {declared}\r\n\r\n",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(prefix).await.unwrap();
    let chunk = vec![fill; 16 * 1024];
    let mut written = prefix.len();
    while written < sent {
        // The service may answer and stop reading at any point: then writing fails.
        if stream.write_all(&chunk).await.is_err() {
            break;
        }
        written += chunk.len();
    }
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut answer))
        .await
        .expect("answered while the body was still arriving")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

#[tokio::test]
async fn a_multipart_body_without_its_boundary_is_refused_after_a_bounded_read() {
    let app = spawn_app().await;
    // 24 MiB declared, 2 MiB sent, no boundary anywhere: refused long before the end.
    let answer = answer_before_the_body_ends(
        &app,
        "multipart/form-data; boundary=nowhere",
        24 * 1024 * 1024,
        b"",
        b'a',
        2 * 1024 * 1024,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("malformed_body"), "{answer}");
    assert!(answer.contains("outside the parts"), "{answer}");
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_refused_client_still_sending_is_read_until_it_stops_then_closed_cleanly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/feedback HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; \
         boundary=nowhere\r\nContent-Length: {}\r\n\r\n",
        app.addr,
        24 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 16 * 1024];
    // The service answers after its first 64 KiB; send a little more than that, then read.
    for _ in 0..8 {
        stream.write_all(&chunk).await.unwrap();
    }
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut answer))
        .await
        .expect("answered while the body was still arriving")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // The client, not yet reading (a browser still uploading), goes on sending: the service
    // keeps reading and discarding instead of closing on it, so nothing is reset.
    for sent in 0..64 {
        stream
            .write_all(&chunk)
            .await
            .unwrap_or_else(|error| panic!("write {sent} after the answer: {error}"));
    }
    stream.shutdown().await.unwrap();
    // Then the service's FIN: an orderly end of stream, not a reset.
    let mut rest = Vec::new();
    let end = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut rest),
    )
    .await
    .expect("the service closes after the client stops");
    assert!(end.is_ok(), "{end:?}");
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn an_endless_part_header_is_refused_after_a_bounded_read() {
    let app = spawn_app().await;
    let prefix = b"--b\r\nContent-Disposition: form-data; name=\"kind\"\r\nX-Pad: ";
    let answer = answer_before_the_body_ends(
        &app,
        "multipart/form-data; boundary=b",
        24 * 1024 * 1024,
        prefix,
        b'x',
        2 * 1024 * 1024,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_spent_memory_budget_is_503_overloaded_until_it_is_returned() {
    // Room for one request reading its body, not two.
    let app = spawn_app_with(|s| s.intake_memory_budget_bytes = 256 * 1024).await;
    use tokio::io::AsyncWriteExt;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/feedback HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{\"kind\":",
        app.addr
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    // Wait until the slow request holds its reservation.
    for _ in 0..100 {
        if app.state.memory.available_bytes() < 256 * 1024 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let busy = app.post_json(&app.valid_json()).await;
    let retry: u64 = busy.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    problem(busy, 503, "overloaded").await;
    app.assert_nothing_stored().await;

    drop(slow);
    let mut status = 0;
    for _ in 0..100 {
        status = app.post_json(&app.valid_json()).await.status().as_u16();
        if status == 201 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        status, 201,
        "the budget came back when the slow client left"
    );
}

#[tokio::test]
async fn a_file_reserves_memory_as_it_arrives_up_to_its_upload_buffer() {
    // Room for reading one request and one 256 KiB step of a file's upload buffer.
    let app = spawn_app_with(|s| s.intake_memory_budget_bytes = (192 + 256) * 1024).await;
    let small = app.valid_bug_form().part(
        "attachment",
        crate::helpers::file_part(crate::helpers::PNG_1X1, "s.png", "image/png"),
    );
    assert_eq!(
        app.post_form(small).await.status(),
        201,
        "a small file fits"
    );
    let before = app.row_counts().await;
    let log = "a line of a long log file\n".repeat(40_000);
    let large = app.valid_bug_form().part(
        "attachment",
        crate::helpers::file_part(log.as_bytes(), "big.log", "text/plain"),
    );
    let response = app.post_form(large).await;
    if app.state.blobs.upload_buffer_bytes() <= 256 * 1024 {
        // A local folder buffers 128 KiB whatever the file's size: it fits.
        assert_eq!(response.status(), 201);
        return;
    }
    // S3 buffers up to three 5 MiB parts: a 1 MiB file outgrows the budget while it arrives.
    problem(response, 503, "overloaded").await;
    assert_eq!(app.row_counts().await, before);
    assert_eq!(
        app.object_keys().await.len(),
        1,
        "only the first file is kept"
    );
}
