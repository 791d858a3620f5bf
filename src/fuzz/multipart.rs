//! Fuzz target for `http::body::read_multipart` with a `memory://` store: it never panics,
//! never reads past the body limit nor keeps more than the limits allow, a refusal leaves
//! nothing stored once its `Staged` is discarded, an acceptance stores exactly what it
//! reports, and cutting the body into chunks anywhere gives the same outcome as one chunk.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use proptest::prelude::*;
use proptest::sample::Index;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{config, corpus, mutated};
use crate::attachments::{ALLOWED_TYPES, Limits, Staged};
use crate::blobs::{Blobs, StorageOptions};
use crate::domain::{RawForm, RawValue};
use crate::http::body::{Received, TEXT_ALLOWANCE, read_multipart};
use crate::http::error::ApiError;

/// Small limits, so that random bodies cross them often, and roomier ones that the seeds fit.
const LIMITS: [Limits; 2] = [
    Limits {
        max_attachments: 2,
        max_attachment_bytes: 4096,
        max_total_attachment_bytes: 6144,
    },
    Limits {
        max_attachments: 5,
        max_attachment_bytes: 16 * 1024,
        max_total_attachment_bytes: 32 * 1024,
    },
];

/// The boundary a seed uses: the first line that starts with `--`; `nowhere` when none does.
fn boundary_of(seed: &[u8]) -> String {
    let text = String::from_utf8_lossy(seed);
    text.split('\n')
        .find_map(|line| line.strip_prefix("--"))
        .map(|rest| rest.trim_end_matches('\r').to_owned())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "nowhere".to_owned())
}

/// A body built part by part, for inputs that get past the framing more often than mutations do.
fn built_body() -> impl Strategy<Value = (String, Vec<u8>)> {
    let contents: Vec<Vec<u8>> = vec![
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec(),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec(),
        b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!".to_vec(),
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec(),
        "2026-11-30T12:00:00Z INFO log line \u{1b}[32mok\u{1b}[0m\n"
            .as_bytes()
            .to_vec(),
        Vec::new(),
    ];
    let part = (
        prop_oneof![
            3 => Just("attachment".to_owned()),
            3 => proptest::sample::select(&["kind", "message", "url", "rating", "summary"][..]).prop_map(str::to_owned),
            1 => "[a-z_\"]{0,10}",
        ],
        proptest::option::of("[a-zA-Z0-9 ./\\\\:\"<>é-]{0,24}"),
        proptest::sample::select(contents),
        0usize..6000,
        proptest::sample::select(&["text/plain", "application/octet-stream", "image/png"][..]),
    );
    (
        "[A-Za-z0-9'()+_,./:=?-]{1,70}",
        proptest::collection::vec(part, 0..6),
        proptest::bool::weighted(0.85),
    )
        .prop_map(|(boundary, parts, closed)| {
            let mut body = Vec::new();
            for (name, filename, content, pad, content_type) in parts {
                body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                let disposition = match filename {
                    Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
                    None => format!("form-data; name=\"{name}\""),
                };
                body.extend_from_slice(
                    format!("Content-Disposition: {disposition}\r\n").as_bytes(),
                );
                body.extend_from_slice(format!("Content-Type: {content_type}\r\n\r\n").as_bytes());
                body.extend_from_slice(&content);
                // Text-like padding makes sizes cross the limits now and then.
                if !content.is_empty() {
                    body.extend(std::iter::repeat_n(b'a', pad));
                }
                body.extend_from_slice(b"\r\n");
            }
            if closed {
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            }
            (boundary, body)
        })
}

/// A boundary and a body: mutated seeds, bodies built part by part, or random bytes.
fn multipart_input() -> impl Strategy<Value = (String, Vec<u8>)> {
    let seeds = corpus("multipart");
    let boundaries: Vec<String> = seeds.iter().map(|seed| boundary_of(seed)).collect();
    prop_oneof![
        4 => mutated(seeds.clone(), 2).prop_map(move |(n, body)| (boundaries[n].clone(), body)),
        2 => mutated(seeds.clone(), 12).prop_map(|(_, body)| (boundary_of(&body), body)),
        // A preamble (or a boundary-less body) of up to 300 KB: past every framing allowance.
        1 => (proptest::sample::select(seeds), 0usize..300_000).prop_map(|(seed, len)| {
            let mut body = b"preamble ".repeat(len / 9);
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&seed);
            (boundary_of(&seed), body)
        }),
        3 => built_body(),
        1 => ("[A-Za-z0-9-]{1,20}", proptest::collection::vec(any::<u8>(), 0..2048)),
    ]
}

/// The one call of `read_multipart` in the fuzz targets, for a fresh submission id.
pub(super) async fn read(
    body: Body,
    boundary: &str,
    limits: Limits,
    staged: &mut Staged,
) -> Result<Received, ApiError> {
    // A budget no fuzzed body can spend: the targets check parsing, not refusals for memory.
    let memory = crate::admission::memory::MemoryBudget::new(1 << 30);
    read_multipart(
        body,
        boundary.to_owned(),
        limits,
        Uuid::now_v7(),
        staged,
        &memory,
        15 * 1024 * 1024,
    )
    .await
}

/// What a read came to, without the generated object keys.
#[derive(Debug, PartialEq)]
enum Outcome {
    Accepted {
        form: String,
        files: Vec<(String, u64, String, &'static str)>,
    },
    Refused {
        code: &'static str,
        fields: Vec<(String, &'static str)>,
    },
}

fn refusal(error: &ApiError) -> Outcome {
    let (code, fields) = match error {
        ApiError::MalformedBody(_) => ("malformed_body", vec![]),
        ApiError::TooLarge(e) => ("too_large", vec![(e.field.clone(), e.code)]),
        ApiError::AttachmentTypeNotAllowed => ("attachment_type_not_allowed", vec![]),
        ApiError::Validation(errors) => (
            errors.code(),
            errors.0.iter().map(|e| (e.field.clone(), e.code)).collect(),
        ),
        ApiError::StorageUnavailable(e) => panic!("the memory store failed: {e:#}"),
        other => panic!("a body read answered {other:?}"),
    };
    Outcome::Refused { code, fields }
}

/// Everything in the store, as `(key, bytes)`.
async fn stored(blobs: &Blobs) -> Vec<(String, Bytes)> {
    let metas: Vec<_> = blobs
        .object_store()
        .list(None)
        .try_collect()
        .await
        .expect("listing the memory store");
    let mut objects = Vec::new();
    for meta in metas {
        let key = meta.location.to_string();
        let bytes = blobs.get(&key).await.expect("reading a stored object");
        objects.push((key, bytes));
    }
    objects
}

/// Reads `body` cut at `cuts`; checks the limits, what is stored, and that a refusal leaves
/// nothing behind; returns the outcome for comparison.
fn read_checked(limits: Limits, boundary: &str, body: &[u8], cuts: &[usize]) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let blobs = Blobs::from_url("memory://", &StorageOptions::default()).expect("memory store");
        let mut staged = Staged::new(blobs.clone());
        let mut chunks = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
            if cut > start {
                chunks.push(Bytes::copy_from_slice(&body[start..cut]));
                start = cut;
            }
        }
        let largest_chunk = chunks.iter().map(Bytes::len).max().unwrap_or(0);
        let consumed = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&consumed);
        let stream = futures::stream::iter(chunks).map(move |chunk| {
            counter.fetch_add(chunk.len(), Ordering::Relaxed);
            Ok::<_, std::io::Error>(chunk)
        });
        let result = read(Body::from_stream(stream), boundary, limits, &mut staged).await;

        let body_limit = usize::try_from(limits.max_total_attachment_bytes + TEXT_ALLOWANCE)
            .expect("a small limit");
        assert!(
            consumed.load(Ordering::Relaxed) <= body_limit + largest_chunk,
            "read {} bytes past the body limit",
            consumed.load(Ordering::Relaxed)
        );
        match result {
            Ok(received) => {
                let outcome = check_accepted(limits, &received, &blobs).await;
                staged.discard().await;
                outcome
            }
            Err(error) => {
                staged.discard().await;
                let left = stored(&blobs).await;
                assert!(left.is_empty(), "a refusal left {} object(s)", left.len());
                refusal(&error)
            }
        }
    })
}

async fn check_accepted(limits: Limits, received: &Received, blobs: &Blobs) -> Outcome {
    let form = format!("{:?}", received.form);
    assert!(received.form.fields.len() <= 64, "at most 64 parts");
    for (name, value) in &received.form.fields {
        if let RawValue::Text(text) = value {
            assert!(
                text.len() <= RawForm::max_bytes(name),
                "a {} byte {name} kept",
                text.len()
            );
        }
    }
    let files = &received.attachments;
    assert!(files.len() <= limits.max_attachments);
    let total: u64 = files.iter().map(|f| f.size).sum();
    assert!(total <= limits.max_total_attachment_bytes);
    let objects = stored(blobs).await;
    assert_eq!(
        objects.len(),
        files.len(),
        "exactly the reported files are stored"
    );
    for file in files {
        assert!((1..=limits.max_attachment_bytes).contains(&file.size));
        assert!(ALLOWED_TYPES.contains(&file.content_type.split(';').next().unwrap_or("")));
        assert!(!file.filename.is_empty() && file.filename.chars().count() <= 255);
        let (_, bytes) = objects
            .iter()
            .find(|(key, _)| *key == file.object_key)
            .expect("a reported file is stored under its key");
        assert_eq!(bytes.len() as u64, file.size);
        assert_eq!(hex::encode(Sha256::digest(bytes)), file.sha256);
    }
    Outcome::Accepted {
        form,
        files: files
            .iter()
            .map(|f| (f.filename.clone(), f.size, f.sha256.clone(), f.content_type))
            .collect(),
    }
}

/// Roughly the bytes of `body` outside its parts' contents: the preamble, and from each
/// boundary to the end of its part's headers (or to the next boundary when they never end).
fn framing_bytes(boundary: &str, body: &[u8]) -> usize {
    let marker = format!("--{boundary}");
    let starts: Vec<usize> = body
        .windows(marker.len())
        .enumerate()
        .filter(|(_, w)| *w == marker.as_bytes())
        .map(|(i, _)| i)
        .collect();
    let Some(&first) = starts.first() else {
        return body.len();
    };
    let mut framing = first;
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(body.len());
        let part = &body[start..end];
        framing += part
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(part.len(), |p| p + 4);
    }
    framing
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn multipart_reads_are_bounded_clean_and_chunking_blind(
        limits in proptest::sample::select(&LIMITS[..]),
        (boundary, body) in multipart_input(),
        cuts in proptest::collection::vec(any::<Index>(), 1..8),
    ) {
        let one = read_checked(limits, &boundary, &body, &[]);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
        cuts.sort_unstable();
        let split = read_checked(limits, &boundary, &body, &cuts);
        // The framing limit is measured on what the parser holds, which depends on how the
        // bytes arrived: within one 16 KiB piece of the limit, a body may be read through in
        // one arrival and refused for its framing in another (DECISIONS.md, Framing). Nothing
        // else may depend on the cuts.
        let framing = |o: &Outcome| matches!(o, Outcome::Refused { code: "malformed_body", .. });
        if one != split && (framing(&one) || framing(&split)) {
            let estimate = framing_bytes(&boundary, &body);
            prop_assert!(
                estimate + 16 * 1024 > crate::http::body::FRAMING_LIMIT as usize,
                "cut at {:?}: {:?} / {:?} with only about {} bytes of framing",
                cuts, one, split, estimate
            );
        } else {
            prop_assert_eq!(one, split, "cut at {:?}", cuts);
        }
    }
}
