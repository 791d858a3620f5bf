//! The read-and-decide loop: the inbox and its pills, previous/next and "Save & next" within
//! the view a submission was opened from, the way back to the same page, pages both ways, and
//! filter choices drawn from the data.

use serde_json::json;

use super::defects::{SAFARI_UA, follow, submit_as};
use super::{app_with_staff, attr, csrf, log_in, unattr};

/// The `href` of the first link whose text is `text`.
fn link(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!(">{text}</a>"))?;
    let start = html[..end].rfind("href=\"")? + 6;
    let raw = &html[start..start + html[start..].find('"')?];
    Some(unattr(raw))
}

#[tokio::test]
async fn a_submission_leads_to_its_neighbours_in_the_view_and_back() {
    let app = app_with_staff().await;
    let ids: Vec<_> = {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(app.submit(&app.valid_json()).await);
        }
        ids
    };
    let mut bug = app.valid_json();
    bug["kind"] = json!("bug");
    bug["summary"] = json!("Broken");
    bug.as_object_mut().unwrap().remove("rating");
    let other_kind = app.submit(&bug).await;
    let (oldest, middle, newest) = (ids[0], ids[1], ids[2]);
    let browser = log_in(&app, "tina").await;

    let queue = browser.page(&app, "/triage?kind=feedback").await;
    let opened = format!("/triage/feedback/{middle}?kind=feedback");
    assert!(
        queue.contains(&format!("href=\"{}\"", attr(&opened))),
        "rows keep the view"
    );
    let page = browser.page(&app, &opened).await;
    assert_eq!(
        link(&page, "‹ Previous").unwrap(),
        format!("/triage/feedback/{newest}?kind=feedback")
    );
    assert_eq!(
        link(&page, "Next ›").unwrap(),
        format!("/triage/feedback/{oldest}?kind=feedback")
    );
    assert_eq!(
        link(&page, "← Back to the queue").unwrap(),
        "/triage?kind=feedback"
    );
    assert!(
        !page.contains(&other_kind.to_string()),
        "another kind is not a neighbour"
    );

    let saved = browser
        .post(
            &app,
            &format!("/triage/feedback/{middle}"),
            &[
                ("csrf", &csrf(&page)),
                ("view", "kind=feedback"),
                ("status", "triaged"),
                ("then", "next"),
            ],
        )
        .await;
    assert_eq!(
        saved.headers()["location"].to_str().unwrap(),
        format!("/triage/feedback/{oldest}?kind=feedback&notice=Saved.")
    );
    let last = follow(&app, &browser, saved).await;
    assert!(
        last.contains("Saved.") && !last.contains("Save &amp; next"),
        "the last one has no next"
    );
    assert_eq!(
        app.state
            .store
            .submission(middle)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "triaged"
    );
    // The inbox (new only) no longer holds the triaged one: its neighbours skip it.
    let inbox_page = browser
        .page(&app, &format!("/triage/feedback/{newest}"))
        .await;
    assert_eq!(
        link(&inbox_page, "Next ›").unwrap(),
        format!("/triage/feedback/{oldest}")
    );
}

#[tokio::test]
async fn the_inbox_pills_pages_and_choices() {
    let app = app_with_staff().await;
    for _ in 0..2 {
        app.submit(&app.valid_json()).await;
    }
    let safari = submit_as(&app, SAFARI_UA, &app.valid_json()).await;
    let browser = log_in(&app, "tina").await;
    let queue = browser.page(&app, "/triage").await;
    assert!(queue.contains("<h1>Inbox"), "the inbox by default");
    assert_eq!(
        link(&queue, "Assigned to me").unwrap(),
        "/triage?status=all&assignee=tina"
    );
    assert!(
        queue.contains("label=\"Firefox (2)\"") && queue.contains("label=\"Safari (1)\""),
        "browsers with counts"
    );
    assert!(
        queue.contains("<option value=\"tina\">tina</option>"),
        "a staff picker"
    );

    let all = browser
        .page(&app, &link(&queue, "Select all on this page").unwrap())
        .await;
    assert_eq!(all.matches("name=\"ids\"").count(), 3);
    assert_eq!(all.matches("\" checked>").count(), 3, "every row ticked");
    assert_eq!(queue.matches("\" checked>").count(), 0);

    let first = browser.page(&app, "/triage?limit=1").await;
    assert!(first.contains(&safari.to_string()) && link(&first, "← Newer").is_none());
    let second = browser.page(&app, &link(&first, "Older →").unwrap()).await;
    assert!(!second.contains(&safari.to_string()));
    let back = browser.page(&app, &link(&second, "← Newer").unwrap()).await;
    assert!(back.contains(&safari.to_string()), "pages go both ways");

    let chip = "/triage?browser=Safari";
    assert!(
        queue.contains(&format!("href=\"{}\" title=\"Only Safari\"", attr(chip))),
        "a chip filters by its value"
    );
    let filtered = browser.page(&app, chip).await;
    assert!(filtered.contains(&safari.to_string()) && filtered.contains("1 matching"));
}

#[tokio::test]
async fn likely_duplicates_show_what_they_are_and_are_marked_in_one_go() {
    let app = app_with_staff().await;
    let mut body = app.valid_json();
    body["message"] = json!("The calendar forgets my time zone every Monday.");
    let first = app.submit(&body).await;
    body["message"] = json!("the CALENDAR forgets my time zone, every monday!");
    let second = app.submit(&body).await;
    let original = app.submit(&body).await;
    let browser = log_in(&app, "tina").await;
    let queue = browser.page(&app, "/triage").await;
    assert_eq!(
        queue.matches("≈ 2 alike</a>").count(),
        3,
        "a count chip on each row"
    );
    let page = browser
        .page(&app, &format!("/triage/feedback/{original}"))
        .await;
    for id in [first, second] {
        assert!(
            page.contains(&format!("name=\"ids\" value=\"{id}\" checked")),
            "{id} offered"
        );
    }
    assert!(
        page.contains("The calendar forgets my time zone every Monday."),
        "with its text"
    );
    let marked = browser
        .post(
            &app,
            &format!("/triage/feedback/{original}/duplicates"),
            &[
                ("csrf", &csrf(&page)),
                ("view", ""),
                ("ids", &first.to_string()),
                ("ids", &second.to_string()),
            ],
        )
        .await;
    assert!(
        follow(&app, &browser, marked)
            .await
            .contains("Marked 2 submissions as duplicates of this one.")
    );
    for id in [first, second] {
        let row = app.state.store.submission(id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.duplicate_of),
            ("duplicate", Some(original))
        );
    }
    let page = browser
        .page(&app, &format!("/triage/feedback/{original}"))
        .await;
    assert_eq!(page.matches("(already marked)").count(), 2);
}

#[tokio::test]
async fn what_arrived_since_the_last_visit_is_marked() {
    let app = app_with_staff().await;
    let seen = app.submit(&app.valid_json()).await;
    let store = app.state.store.as_ref();
    let gap = chrono::Duration::minutes(30);
    // A visit after the first submission, then (over half an hour later) one after the second.
    store
        .record_queue_visit("tina", chrono::Utc::now(), gap)
        .await
        .unwrap();
    let unseen = app.submit(&app.valid_json()).await;
    store
        .record_queue_visit(
            "tina",
            chrono::Utc::now() + chrono::Duration::minutes(31),
            gap,
        )
        .await
        .unwrap();
    let browser = log_in(&app, "tina").await;
    let queue = browser.page(&app, "/triage").await;
    let pill = link(&queue, "New since my last visit").expect("the pill");
    let row = |html: &str, id: uuid::Uuid| {
        let at = html.find(&format!("value=\"{id}\"")).unwrap();
        html[..at]
            .rfind("<tr")
            .map(|start| html[start..at].to_owned())
            .unwrap()
    };
    assert!(row(&queue, unseen).contains("class=\"unseen\""));
    assert!(!row(&queue, seen).contains("unseen"));
    let since = browser.page(&app, &pill).await;
    assert!(
        since.contains(&unseen.to_string()) && !since.contains(&seen.to_string()),
        "{pill}"
    );
}

#[tokio::test]
async fn each_person_saves_and_forgets_named_views() {
    let app = app_with_staff().await;
    let tina = log_in(&app, "tina").await;
    let page = tina
        .page(&app, "/triage?status=all&browser=safari&cursor=x")
        .await;
    let saved = tina
        .post(
            &app,
            "/triage/views",
            &[
                ("csrf", &csrf(&page)),
                ("view", "status=all&browser=safari&cursor=x"),
                ("name", "Safari"),
                ("action", "save"),
            ],
        )
        .await;
    let page = follow(&app, &tina, saved).await;
    assert!(page.contains("Saved this view as “Safari”."));
    assert_eq!(
        link(&page, "★ Safari").unwrap(),
        "/triage?status=all&browser=safari",
        "without its page"
    );
    let wendy = log_in(&app, "wendy").await;
    assert!(
        !wendy.page(&app, "/triage").await.contains("★ Safari"),
        "views are personal"
    );
    let forgot = tina
        .post(
            &app,
            "/triage/views",
            &[
                ("csrf", &csrf(&page)),
                ("name", "Safari"),
                ("action", "delete"),
            ],
        )
        .await;
    let page = follow(&app, &tina, forgot).await;
    assert!(page.contains("Forgot the view “Safari”.") && !page.contains("★ Safari"));
    let unnamed = tina
        .post(
            &app,
            "/triage/views",
            &[("csrf", &csrf(&page)), ("name", " "), ("action", "save")],
        )
        .await;
    assert!(
        follow(&app, &tina, unnamed)
            .await
            .contains("1 to 40 characters")
    );
}

#[tokio::test]
async fn a_bulk_action_reaches_all_matching_not_only_this_page() {
    let app = app_with_staff().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.submit(&app.valid_json()).await);
    }
    let mut bug = app.valid_json();
    bug["kind"] = json!("bug");
    bug["summary"] = json!("Other kind");
    bug.as_object_mut().unwrap().remove("rating");
    let other = app.submit(&bug).await;
    let browser = log_in(&app, "tina").await;
    let page = browser.page(&app, "/triage?kind=feedback&limit=1").await;
    assert!(
        page.contains("all 3 matching this view"),
        "offered when the view has more pages"
    );
    let done = browser
        .post(
            &app,
            "/triage/bulk",
            &[
                ("csrf", &csrf(&page)),
                ("view", "kind=feedback&limit=1"),
                ("scope", "matching"),
                ("label", "weekly"),
            ],
        )
        .await;
    assert!(
        follow(&app, &browser, done)
            .await
            .contains("Updated 3 submissions")
    );
    for id in ids {
        assert_eq!(
            app.state
                .store
                .submission(id)
                .await
                .unwrap()
                .unwrap()
                .labels,
            vec!["weekly".to_owned()]
        );
    }
    assert!(
        app.state
            .store
            .submission(other)
            .await
            .unwrap()
            .unwrap()
            .labels
            .is_empty()
    );
}
