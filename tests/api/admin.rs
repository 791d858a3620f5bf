//! The public extras (terms, limits, CORS, rate limits) and the admin listener.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn terms_are_served_with_their_digest() {
    let app = spawn_app().await;
    let terms: Value = reqwest::get(app.url("/api/v1/terms"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = terms["text"].as_str().unwrap();
    assert!(text.contains("never made public"));
    assert_eq!(
        terms["sha256"],
        hex::encode(Sha256::digest(text.as_bytes()))
    );
    assert_eq!(terms["version"], app.terms_version);
}

#[tokio::test]
async fn configured_terms_replace_the_default_and_old_versions_are_refused() {
    let app = spawn_app_with(|s| {
        s.terms_version = "v9".into();
        s.terms_text = Some("Our own terms.".into());
    })
    .await;
    let terms: Value = reqwest::get(app.url("/api/v1/terms"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(terms["version"], "v9");
    assert_eq!(terms["text"], "Our own terms.");
    let mut body = app.valid_json();
    body["terms_version"] = "2026-11-01".into();
    problem(app.post_json(&body).await, 422, "terms_outdated").await;
}

#[tokio::test]
async fn limits_are_published_for_the_widget() {
    let app = spawn_app_with(|s| s.max_attachments = 3).await;
    let limits: Value = reqwest::get(app.url("/api/v1/limits"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limits["max_attachments"], 3);
    assert_eq!(limits["max_attachment_bytes"], 10 * 1024 * 1024);
    assert_eq!(limits["max_total_attachment_bytes"], 25 * 1024 * 1024);
}

#[tokio::test]
async fn cors_allows_only_configured_origins_and_sets_no_cookies() {
    let app = spawn_app_with(|s| s.allowed_origins = vec!["https://mail.example.org".into()]).await;
    let client = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/feedback"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,idempotency-key",
            )
            .send()
    };
    let allowed = preflight("https://mail.example.org").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://mail.example.org"
    );
    assert!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let response = client
        .post(app.url("/api/v1/feedback"))
        .header("origin", "https://mail.example.org")
        .json(&app.valid_json())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://mail.example.org"
    );
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn a_client_over_its_rate_is_429_with_retry_after_and_nothing_stored() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = 2;
    })
    .await;
    let mut bad = app.valid_json();
    bad["kind"] = "nope".into();
    for _ in 0..2 {
        problem(app.post_json(&bad).await, 422, "validation_failed").await;
    }
    let response = app.post_json(&app.valid_json()).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    problem(response, 429, "rate_limited").await;
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn health_readiness_and_metrics_on_the_admin_listener() {
    let app = spawn_app().await;
    assert_eq!(
        reqwest::get(app.admin_url("/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = reqwest::get(app.admin_url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let report = ready.text().await.unwrap();
    assert!(
        report.starts_with("database: ok\nobject_store: ok\n"),
        "{report}"
    );

    assert_eq!(app.post_json(&app.valid_json()).await.status(), 201);
    let mut bad = app.valid_json();
    bad["url"] = "nope".into();
    assert_eq!(app.post_json(&bad).await.status(), 422);

    let metrics = reqwest::get(app.admin_url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "feedbackd_submissions_accepted_total{kind=\"feedback\"} 1",
        "feedbackd_rejections_total{code=\"validation_failed\"} 1",
        "feedbackd_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/feedback\",status=\"201\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }
    let public_metrics = reqwest::get(app.url("/metrics")).await.unwrap();
    problem(public_metrics, 404, "not_found").await;
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.store.close().await;
    let ready = reqwest::get(app.admin_url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(
        ready
            .text()
            .await
            .unwrap()
            .contains("database: unavailable")
    );
}

#[tokio::test]
async fn the_widget_and_demo_page_are_served() {
    let app = spawn_app().await;
    let script = reqwest::get(app.url("/widget/feedback.js")).await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let page = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(page.text().await.unwrap().contains("/widget/feedback.js"));
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems_too() {
    let app = spawn_app().await;
    problem(
        reqwest::get(app.url("/api/v1/nothing")).await.unwrap(),
        404,
        "not_found",
    )
    .await;
    let wrong = reqwest::get(app.url("/api/v1/feedback")).await.unwrap();
    assert_eq!(wrong.headers()["allow"], "POST");
    problem(wrong, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/feedback",
        "/api/v1/terms",
        "/api/v1/limits",
        "/api/v1/internal/feedback",
        "/api/v1/internal/feedback/{id}",
        "/api/v1/internal/feedback/{id}/attachments/{n}",
        "/api/v1/internal/privacy/export",
        "/api/v1/internal/privacy/erase",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let submit = &doc["paths"]["/api/v1/feedback"]["post"];
    for status in ["201", "400", "413", "415", "422", "429", "503"] {
        assert!(
            submit["responses"][status].is_object(),
            "{status} documented"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn browsers_post_only_from_the_webapp_or_the_service_itself() {
    let app = spawn_app_with(|s| s.allowed_origins = vec!["https://mail.example.org".into()]).await;
    let post = |origin: String| {
        app.client
            .post(app.url("/api/v1/feedback"))
            .header("origin", origin)
            .json(&app.valid_json())
            .send()
    };
    problem(
        post("https://evil.example".into()).await.unwrap(),
        403,
        "origin_not_allowed",
    )
    .await;
    problem(
        post("null".into()).await.unwrap(),
        403,
        "origin_not_allowed",
    )
    .await;
    app.assert_nothing_stored().await;
    assert_eq!(
        post("https://mail.example.org".into())
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        post(format!("http://{}", app.addr)).await.unwrap().status(),
        201,
        "the demo page"
    );
    assert_eq!(
        app.post_json(&app.valid_json()).await.status(),
        201,
        "no Origin: not a browser"
    );
}
