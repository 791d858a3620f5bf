//! Fuzz target for the two body encodings of `POST /api/v1/feedback`: `read_json` never panics
//! on any bytes and refuses only with `malformed_body` or `too_large`; and a valid form sent as
//! JSON, or as multipart cut into chunks anywhere, reads back to the same submission as the
//! form itself.

use axum::body::Body;
use bytes::Bytes;
use proptest::prelude::*;
use proptest::sample::Index;

use super::form::{assert_same, browser, terms, to_raw, valid_form};
use super::multipart::read;
use super::{config, corpus, mutated};
use crate::attachments::{Limits, Staged};
use crate::blobs::{Blobs, StorageOptions};
use crate::domain::{RawForm, RawValue, Submission};
use crate::http::body::{JSON_BODY_LIMIT, read_json};
use crate::http::error::ApiError;

const BOUNDARY: &str = "----WebKitFormBoundaryfuzz0123456789";

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn chunked(bytes: &[u8], cuts: &[Index]) -> Body {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.push(bytes.len());
    at.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in at {
        if cut > start {
            chunks.push(Ok::<_, std::io::Error>(Bytes::copy_from_slice(
                &bytes[start..cut],
            )));
            start = cut;
        }
    }
    Body::from_stream(futures::stream::iter(chunks))
}

fn as_json(pairs: &[(String, RawValue)]) -> Vec<u8> {
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(name, value)| {
            let value = match value {
                RawValue::Text(text) => serde_json::Value::String(text.clone()),
                RawValue::Bool(b) => serde_json::Value::Bool(*b),
                other => panic!("a valid form holds no {other:?}"),
            };
            (name.clone(), value)
        })
        .collect();
    serde_json::to_vec(&map).expect("JSON")
}

fn as_multipart(pairs: &[(String, RawValue)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in pairs {
        let text = match value {
            RawValue::Text(text) => text.clone(),
            RawValue::Bool(b) => b.to_string(),
            other => panic!("a valid form holds no {other:?}"),
        };
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{text}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn parsed(form: &RawForm) -> Result<Submission, TestCaseError> {
    Submission::parse(form, &terms(), browser())
        .map_err(|e| TestCaseError::fail(format!("refused: {:?}", e.0)))
}

fn json_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => mutated(corpus("json"), 6).prop_map(|(_, bytes)| bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        1 => (1usize..2000).prop_map(|depth| {
            format!("{{\"kind\":{}1{}}}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_json_body_is_read_or_refused_cleanly(
        bytes in json_input(),
        cuts in proptest::collection::vec(any::<Index>(), 0..4),
    ) {
        match block_on(read_json(chunked(&bytes, &cuts))) {
            Ok(received) => {
                prop_assert!(bytes.len() <= JSON_BODY_LIMIT);
                prop_assert!(received.attachments.is_empty());
                prop_assert!(received.form.fields.len() <= bytes.len() / 4);
            }
            Err(ApiError::MalformedBody(_)) => {}
            Err(ApiError::TooLarge(e)) => {
                prop_assert!(bytes.len() > JSON_BODY_LIMIT);
                prop_assert_eq!(e.code, "body_too_large");
            }
            Err(other) => prop_assert!(false, "a JSON read answered {:?}", other),
        }
    }

    #[test]
    fn valid_forms_read_the_same_in_either_encoding(
        pairs in valid_form(),
        cuts in proptest::collection::vec(any::<Index>(), 0..6),
    ) {
        let direct = parsed(&to_raw(&pairs))?;

        let json = block_on(read_json(chunked(&as_json(&pairs), &cuts)))
            .map_err(|e| TestCaseError::fail(format!("JSON refused: {e:?}")))?;
        assert_same(&direct, &parsed(&json.form)?);

        let from_multipart = block_on(async {
            let blobs = Blobs::from_url("memory://", &StorageOptions::default()).expect("memory store");
            let mut staged = Staged::new(blobs);
            let body = chunked(&as_multipart(&pairs), &cuts);
            let read = read(body, BOUNDARY, Limits::default(), &mut staged).await;
            staged.discard().await;
            read
        })
        .map_err(|e| TestCaseError::fail(format!("multipart refused: {e:?}")))?;
        prop_assert!(from_multipart.attachments.is_empty());
        assert_same(&direct, &parsed(&from_multipart.form)?);
    }
}
