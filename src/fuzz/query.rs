//! Fuzz target for the queue's query (`/api/v1/internal/feedback` and the `/triage` view both
//! read it as `ListQuery`): any query string is parsed without panicking, straight from the URI
//! as axum's `Query` does; an accepted one holds only values within their documented ranges;
//! a refused one names only its parameters with stable codes; issued cursors round-trip.

use axum::extract::Query;
use axum::http::Uri;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::{config, corpus_lines, text_input};
use crate::domain::{Kind, Status, parse_label};
use crate::http::internal::query::{ListQuery, encode_cursor};
use crate::store::{MAX_PAGE, QueueCursor};

const PARAMETERS: &[&str] = &[
    "kind",
    "status",
    "q",
    "label",
    "assignee",
    "webapp_version",
    "server_version",
    "browser",
    "from",
    "to",
    "cursor",
    "limit",
];

/// Query strings: mutated seeds, and pairs of known or random names with odd values.
fn query_string() -> impl Strategy<Value = String> {
    let seeds = corpus_lines("query");
    let value = prop_oneof![
        text_input(seeds.clone(), 40),
        "[0-9+-]{0,12}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}))?",
    ];
    let pair = (
        prop_oneof![4 => proptest::sample::select(PARAMETERS).prop_map(str::to_owned), 1 => "[a-z_%]{0,8}"],
        value,
    )
        .prop_map(|(name, value)| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair(&name, &value)
                .finish()
        });
    prop_oneof![
        1 => text_input(seeds, 200),
        2 => proptest::collection::vec(pair, 0..8).prop_map(|pairs| pairs.join("&")),
    ]
}

fn check(query: &ListQuery) {
    match query.parse() {
        Ok(request) => {
            assert!((1..=MAX_PAGE).contains(&request.limit));
            let filter = &request.filter;
            if let Some(kind) = &filter.kind {
                assert!(Kind::parse(kind).is_ok_and(|k| k.as_str() == kind));
            }
            if let Some(status) = &filter.status {
                assert!(Status::parse(status).is_some_and(|s| s.as_str() == status));
            }
            if let Some(label) = &filter.label {
                assert_eq!(
                    parse_label(label).as_ref(),
                    Some(label),
                    "a label is kept canonical"
                );
            }
            for text in [
                &filter.assignee,
                &filter.webapp_version,
                &filter.server_version,
                &filter.browser,
                &filter.text,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!text.is_empty() && text.trim() == text);
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty());
            for error in &errors.0 {
                assert!(
                    PARAMETERS.contains(&error.field.as_str()),
                    "{}",
                    error.field
                );
                assert!(
                    ["invalid", "out_of_range"].contains(&error.code),
                    "{}",
                    error.code
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_query_string_parses_within_ranges(raw in query_string()) {
        // As the handlers receive it: axum's `Query` over the request's URI.
        let uri = format!("/triage?{}", raw.replace(['#', ' '], "%20"));
        if let Ok(uri) = uri.parse::<Uri>()
            && let Ok(Query(query)) = Query::<ListQuery>::try_from_uri(&uri)
        {
            check(&query);
        }
    }

    #[test]
    fn any_parameter_values_parse_within_ranges(
        values in proptest::collection::vec(proptest::option::of(any::<String>()), 12),
    ) {
        let v = |i: usize| values[i].clone();
        check(&ListQuery {
            kind: v(0), status: v(1), q: v(2), label: v(3), assignee: v(4),
            webapp_version: v(5), server_version: v(6), browser: v(7), from: v(8),
            to: v(9), cursor: v(10), limit: v(11),
        });
    }

    #[test]
    fn issued_cursors_round_trip(
        secs in 0i64..=253_402_300_799,
        nanos in 0u32..1_000_000_000,
        id in any::<u128>(),
    ) {
        let received_at: DateTime<Utc> = Utc.timestamp_opt(secs, nanos).single().expect("in range");
        let cursor = QueueCursor { received_at, id: Uuid::from_u128(id) };
        let query = ListQuery { cursor: Some(encode_cursor(cursor)), ..ListQuery::default() };
        let request = query.parse().map_err(|e| TestCaseError::fail(format!("{:?}", e.0)))?;
        prop_assert_eq!(request.cursor, Some(cursor));
    }
}
