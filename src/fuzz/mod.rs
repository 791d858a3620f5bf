//! Property-based fuzz targets (proptest, stable Rust) for the code that reads untrusted input.
//!
//! Each target is an ordinary `#[test]`, so `cargo test` runs a short smoke of every one. The
//! number of cases is raised for a long run with `FEEDBACKD_FUZZ_CASES` (or proptest's own
//! `PROPTEST_CASES`); a failing case is shrunk and kept under `proptest-regressions/fuzz/`,
//! and replayed first on every later run. See docs/FUZZING.md.
//!
//! Inputs come from two sources: fully random values, and the seed corpus under
//! `tests/fuzz/corpus/<target>/` with [`mutated`] edits (bit flips, byte inserts and deletes,
//! splices with another seed, truncation) applied to it.

mod eml;
mod encodings;
mod filename;
mod form;
mod multipart;
mod page_url;
mod query;
mod sniff;
mod useragent;

use std::path::PathBuf;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

/// The proptest configuration of a target whose smoke run has `smoke_cases` cases.
///
/// `FEEDBACKD_FUZZ_CASES=N` runs every target `N` times; otherwise `PROPTEST_CASES=N` does
/// (proptest reads it itself); otherwise the smoke count, sized to keep `cargo test` quick.
pub(crate) fn config(smoke_cases: u32) -> Config {
    let from_env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let cases = from_env("FEEDBACKD_FUZZ_CASES")
        .or_else(|| from_env("PROPTEST_CASES"))
        .unwrap_or(smoke_cases);
    Config {
        cases,
        // Shrinking a large input in a debug build can take long; this is plenty to get small.
        max_shrink_iters: 2048,
        ..Config::default()
    }
}

/// The seed files of one target, sorted by name so that a run is reproducible.
pub(crate) fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading the corpus {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .map(|path| std::fs::read(path).expect("a readable seed"))
        .collect();
    assert!(!seeds.is_empty(), "the corpus {} is empty", dir.display());
    seeds
}

/// The seeds of a text target, one per line of every file (blank lines and `#` comments
/// skipped): for inputs such as User-Agents and file names, where one line is one input.
pub(crate) fn corpus_lines(target: &str) -> Vec<String> {
    corpus(target)
        .iter()
        .flat_map(|seed| {
            String::from_utf8_lossy(seed)
                .lines()
                .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One edit of a seed, positions given relative to its length so they shrink well.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    FlipBit(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    /// A copy of a slice of another seed (or of this one), inserted here.
    Splice(Index, Index, Index, usize),
    /// A stretch of the input repeated, as a long run of framing or a doubled header would be.
    Repeat(Index, usize, usize),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        2 => (any::<Index>(), interesting_bytes()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        2 => (any::<Index>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (any::<Index>(), any::<Index>(), any::<Index>(), 1usize..256)
            .prop_map(|(at, seed, from, n)| Mutation::Splice(at, seed, from, n)),
        1 => (any::<Index>(), 1usize..32, 1usize..64)
            .prop_map(|(at, n, times)| Mutation::Repeat(at, n, times)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

/// Bytes that tend to matter to parsers: framing, quotes, line breaks, NUL, invalid UTF-8.
fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..8),
        Just(b"\r\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(b"--".to_vec()),
        Just(b"\"".to_vec()),
        Just(b";".to_vec()),
        Just(b"\0".to_vec()),
        Just(vec![0xff, 0xfe]),
        Just(vec![0xe2, 0x80]),
        Just("\u{202e}".as_bytes().to_vec()),
    ]
}

fn position(at: &Index, len: usize) -> usize {
    if len == 0 { 0 } else { at.index(len + 1) }
}

/// Applies `edits` to `seed`; `seeds` is where splices copy from.
pub(crate) fn apply(seed: &[u8], seeds: &[Vec<u8>], edits: &[Mutation]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for edit in edits {
        match edit {
            Mutation::FlipBit(at, bit) => {
                if !data.is_empty() {
                    let i = at.index(data.len());
                    data[i] ^= 1 << bit;
                }
            }
            Mutation::Insert(at, bytes) => {
                let i = position(at, data.len());
                data.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete(at, n) => {
                if !data.is_empty() {
                    let i = at.index(data.len());
                    let end = (i + n).min(data.len());
                    data.drain(i..end);
                }
            }
            Mutation::Splice(at, seed, from, n) => {
                let other = &seeds[seed.index(seeds.len())];
                if !other.is_empty() {
                    let start = from.index(other.len());
                    let end = (start + n).min(other.len());
                    let i = position(at, data.len());
                    data.splice(i..i, other[start..end].iter().copied());
                }
            }
            Mutation::Repeat(at, n, times) => {
                if !data.is_empty() {
                    let start = at.index(data.len());
                    let end = (start + n).min(data.len());
                    let stretch = data[start..end].to_vec();
                    for _ in 0..*times {
                        data.splice(end..end, stretch.iter().copied());
                    }
                }
            }
            Mutation::Truncate(at) => {
                let i = position(at, data.len());
                data.truncate(i);
            }
        }
    }
    data
}

/// A seed of `seeds` with up to `max_edits` mutations applied, as `(seed number, input)`.
pub(crate) fn mutated(
    seeds: Vec<Vec<u8>>,
    max_edits: usize,
) -> impl Strategy<Value = (usize, Vec<u8>)> {
    let count = seeds.len();
    (
        0..count,
        proptest::collection::vec(mutation(), 0..=max_edits),
    )
        .prop_map(move |(n, edits)| (n, apply(&seeds[n], &seeds, &edits)))
}

/// Text for targets that take `&str`: mutated seed lines (made valid UTF-8 lossily), text that
/// stresses Unicode handling, and fully random strings.
pub(crate) fn text_input(seeds: Vec<String>, max_len: usize) -> impl Strategy<Value = String> {
    let bytes: Vec<Vec<u8>> = seeds.into_iter().map(String::into_bytes).collect();
    prop_oneof![
        3 => mutated(bytes, 6).prop_map(|(_, b)| String::from_utf8_lossy(&b).into_owned()),
        1 => proptest::collection::vec(any::<char>(), 0..max_len).prop_map(String::from_iter),
        1 => proptest::string::string_regex(&format!(r"[ \t./\\:*?<>|A-Za-z0-9\x00-\x1f\x7f\u{{80}}-\u{{9f}}\u{{200b}}-\u{{202e}}\u{{feff}}]{{0,{max_len}}}"))
            .expect("a valid pattern"),
    ]
}
