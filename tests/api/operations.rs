//! Failure paths: storage failing mid-request, orphan sweeping, graceful shutdown.

use std::time::Duration;

use bytes::Bytes;
use feedbackd::Application;
use feedbackd::attachments::sweeper::sweep_orphans;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use crate::helpers::{PNG_1X1, file_part, problem, spawn_app, test_settings};

#[tokio::test]
async fn a_database_failure_is_503_with_retry_after_and_removes_the_uploads() {
    let app = spawn_app().await;
    app.state.store.close().await;
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(PNG_1X1, "s.png", "image/png"));
    let response = app.post_form(form).await;
    assert_eq!(response.headers()["retry-after"], "5");
    problem(response, 503, "storage_unavailable").await;
    assert_eq!(app.object_keys().await, Vec::<String>::new());
}

#[tokio::test]
async fn the_sweeper_removes_old_orphans_and_keeps_referenced_objects() {
    let app = spawn_app().await;
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(PNG_1X1, "kept.png", "image/png"));
    assert_eq!(app.post_form(form).await.status(), 201);
    let orphan = Path::from("attachments/00000000-0000-0000-0000-000000000000/crash-leftover");
    app.state
        .blobs
        .object_store()
        .put(&orphan, Bytes::from_static(b"left by a crash").into())
        .await
        .unwrap();
    assert_eq!(app.object_keys().await.len(), 2);

    let young = sweep_orphans(
        &app.state.blobs,
        app.state.store.as_ref(),
        Duration::from_secs(3600),
    );
    assert_eq!(
        young.await.unwrap(),
        0,
        "objects younger than the grace age are left alone"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let old = sweep_orphans(
        &app.state.blobs,
        app.state.store.as_ref(),
        Duration::from_secs(1),
    );
    assert_eq!(old.await.unwrap(), 1);
    let left = app.object_keys().await;
    assert_eq!(left.len(), 1);
    assert_ne!(left[0], orphan.to_string());
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let data_dir = tempfile::tempdir().unwrap();
    let settings = test_settings(&data_dir).await;
    let app = Application::build(settings).await.unwrap();
    let (addr, state) = (app.public_addr(), app.state());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    // A slow upload: the body arrives in pieces, and shutdown is asked for in the middle.
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
    let terms = state.terms.version.clone();
    let boundary = "slowBoundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nbug\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nslow\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"webapp_version\"\r\n\r\n1\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"server_version\"\r\n\r\n2\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"screen_resolution\"\r\n\r\n800x600\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"url\"\r\n\r\nhttps://x.example/\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"terms_version\"\r\n\r\n{terms}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"terms_accepted\"\r\n\r\ntrue\r\n"
    );
    tx.unbounded_send(Ok(Bytes::from(head))).unwrap();
    let request = tokio::spawn(
        reqwest::Client::new()
            .post(format!("http://{addr}/api/v1/feedback"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(reqwest::Body::wrap_stream(rx))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !server.is_finished(),
        "the server waits for the request in flight"
    );
    tx.unbounded_send(Ok(Bytes::from(format!("--{boundary}--\r\n"))))
        .unwrap();
    drop(tx);

    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 201);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once the request is done")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn a_stalled_upload_times_out_as_a_problem_and_its_object_is_removed() {
    let app = crate::helpers::spawn_app_with(|s| s.request_timeout_secs = 1).await;
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
    let mut head =
        b"--B\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.png\"\r\n\r\n"
            .to_vec();
    head.extend_from_slice(PNG_1X1);
    head.resize(head.len() + 600 * 1024, 7); // past one local part: an upload is under way
    tx.unbounded_send(Ok(Bytes::from(head))).unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .header("content-type", "multipart/form-data; boundary=B")
        .body(reqwest::Body::wrap_stream(rx))
        .send()
        .await
        .unwrap();
    problem(response, 408, "request_timeout").await;
    drop(tx);
    for _ in 0..50 {
        if app.object_keys().await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.assert_nothing_stored().await;
}
