//! Stored browser brands are canonical: new rows through the parser's mapping, old rows
//! through the migration that rewrites them (run here on rows written the old way).

use crate::raw_db::{execute, is_sqlite, rows, spawn_with_db};

const SQLITE_MIGRATION: &str =
    include_str!("../../migrations/sqlite/20261130000100_canonical_brands.sql");
const POSTGRES_MIGRATION: &str =
    include_str!("../../migrations/postgres/20261130000100_canonical_brands.sql");

#[tokio::test]
async fn an_ios_agent_is_stored_as_its_brand_alone() {
    let (app, _) = spawn_with_db().await;
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .header(
            "user-agent",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
        )
        .json(&app.valid_json())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let row = app.state.store.submission(id).await.unwrap().unwrap();
    assert_eq!(row.browser_brand, "Chrome");
    assert_eq!(row.browser_version.as_deref(), Some("126.0"));
}

#[tokio::test]
async fn the_migration_rewrites_brands_that_name_an_os_or_device() {
    let (app, url) = spawn_with_db().await;
    let old = [
        ("Chrome Mobile iOS", Some("126.0"), "Chrome", Some("126.0")),
        ("Firefox iOS", Some("127.0"), "Firefox", Some("127.0")),
        (
            "Chrome Mobile WebView",
            Some("126.0"),
            "Chrome",
            Some("126.0"),
        ),
        ("Mobile Safari", Some("17.5"), "Safari", Some("17.5")),
        ("Opera Mini", Some("7.5"), "Opera", Some("7.5")),
        (
            "Samsung Internet",
            Some("25.0"),
            "Samsung Internet",
            Some("25.0"),
        ),
        ("Facebook", Some("470.0"), "Other", None),
        ("Firefox", Some("128.0"), "Firefox", Some("128.0")),
    ];
    let mut ids = Vec::new();
    for (brand, version, _, _) in old {
        let id = app.submit(&app.valid_json()).await;
        // Plain SQL on `submissions` needs the row out of the intake inbox first.
        app.state.store.settle().await.unwrap();
        let version = version.map_or("NULL".to_owned(), |v| format!("'{v}'"));
        execute(
            &url,
            &format!(
                "UPDATE submissions SET browser_brand = '{brand}', browser_version = {version} \
                 WHERE id = '{id}'"
            ),
        )
        .await;
        ids.push(id);
    }
    let before = rows(&url, "SELECT browser_brand FROM submissions").await;
    assert!(
        before
            .iter()
            .any(|r| r[0].1.as_deref() == Some("Chrome Mobile iOS"))
    );

    let migration = if is_sqlite(&url) {
        SQLITE_MIGRATION
    } else {
        POSTGRES_MIGRATION
    };
    execute(&url, migration).await;
    for (id, (_, _, brand, version)) in ids.into_iter().zip(old) {
        let row = app.state.store.submission(id).await.unwrap().unwrap();
        assert_eq!(
            (row.browser_brand.as_str(), row.browser_version.as_deref()),
            (brand, version)
        );
    }
    // Run again, nothing changes.
    execute(&url, migration).await;
    let after = rows(
        &url,
        "SELECT browser_brand FROM submissions ORDER BY browser_brand",
    )
    .await;
    let brands: Vec<_> = after.iter().filter_map(|r| r[0].1.clone()).collect();
    assert!(
        brands
            .iter()
            .all(|b| !b.contains("Mobile") && !b.contains("iOS")),
        "{brands:?}"
    );
}
