//! Similar, not only identical, text: a submission's likely duplicates include others worded
//! differently. The search index finds candidates (an OR of the submission's most distinctive
//! words as prefixes, best ranked first, in a time window around it); they are then kept only
//! when they share enough of those words, so one common word is not enough.
//!
//! "Distinctive" is judged from the text alone, not from how often a word occurs in the whole
//! table (reading that is a scan on PostgreSQL): words of four letters or more that are not
//! common English words, longest first. Each is cut to a crude stem (`crashes`, `crashed` and
//! `crashing` all become `crash`) and searched as a prefix, on both backends alike.

use uuid::Uuid;

use super::desk::Desk;
use crate::store::{StoreError, SubmissionRow};

/// Near-duplicates by text listed after them, from the best ranked candidates.
const SIMILAR_SHOWN: usize = 5;
const SIMILAR_CANDIDATES: u32 = 20;
/// Days before and after a submission in which near-duplicates are looked for.
pub const SIMILAR_WINDOW_DAYS: i64 = 30;

/// Most words of a submission searched for.
pub const MAX_TERMS: usize = 8;
/// Fewest shared words that make a near-duplicate (and at least half of those searched).
pub const MIN_SHARED: usize = 2;

/// Common words that say nothing about what a report is about.
const STOPWORDS: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "also",
    "always",
    "anything",
    "around",
    "back",
    "because",
    "been",
    "before",
    "being",
    "both",
    "cannot",
    "could",
    "didn",
    "does",
    "doesn",
    "doing",
    "done",
    "each",
    "even",
    "ever",
    "every",
    "from",
    "have",
    "having",
    "here",
    "into",
    "just",
    "like",
    "make",
    "makes",
    "many",
    "more",
    "most",
    "much",
    "must",
    "never",
    "nothing",
    "only",
    "other",
    "over",
    "please",
    "really",
    "same",
    "should",
    "since",
    "some",
    "something",
    "still",
    "such",
    "than",
    "thank",
    "thanks",
    "that",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "this",
    "those",
    "through",
    "time",
    "very",
    "want",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "will",
    "with",
    "without",
    "would",
    "your",
];

/// The lower-case words of a text: letters and digits.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A crude stem: common endings cut while four letters or more remain.
fn stem(word: &str) -> String {
    let mut stem = word;
    for ending in ["ing", "ed", "es", "s"] {
        if let Some(cut) = stem.strip_suffix(ending)
            && cut.chars().count() >= 4
        {
            stem = cut;
            break;
        }
    }
    if let Some(cut) = stem.strip_suffix('e')
        && cut.chars().count() >= 4
    {
        stem = cut;
    }
    stem.to_owned()
}

/// The submission's most distinctive words, as stems to search as prefixes: at most
/// [`MAX_TERMS`], longest first (ties in the order they occur).
pub fn distinctive_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in words(text) {
        if word.chars().count() < 4
            || word.chars().all(|c| c.is_ascii_digit())
            || STOPWORDS.contains(&word.as_str())
        {
            continue;
        }
        let stem = stem(&word);
        if !terms.contains(&stem) {
            terms.push(stem);
        }
    }
    terms.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
    terms.truncate(MAX_TERMS);
    terms
}

/// How many of `terms` start a word of `text` (what the prefix search matched in it).
pub fn shared_terms(terms: &[String], text: &str) -> usize {
    let words: Vec<String> = words(text).collect();
    terms
        .iter()
        .filter(|t| words.iter().any(|w| w.starts_with(t.as_str())))
        .count()
}

/// Whether a candidate's text shares enough of the searched terms to be a near-duplicate.
pub fn is_near_duplicate(terms: &[String], text: &str) -> bool {
    let shared = shared_terms(terms, text);
    shared >= MIN_SHARED && shared * 2 >= terms.len()
}

/// Submissions worded like `row` (not identically: those are already in `identical`), received
/// within [`SIMILAR_WINDOW_DAYS`] of it, best ranked first.
pub(super) async fn near_duplicates(
    desk: &Desk<'_>,
    row: &SubmissionRow,
    identical: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    let text = format!(
        "{} {}",
        row.summary.as_deref().unwrap_or_default(),
        row.message
    );
    let terms = distinctive_terms(&text);
    if terms.len() < MIN_SHARED {
        return Ok(Vec::new());
    }
    let window = chrono::Duration::days(SIMILAR_WINDOW_DAYS);
    let candidates = desk
        .store
        .similar_text(
            row.id,
            &terms,
            row.received_at - window,
            row.received_at + window,
            SIMILAR_CANDIDATES,
        )
        .await?;
    Ok(candidates
        .into_iter()
        .filter(|c| !identical.contains(&c.id))
        .filter(|c| {
            let text = format!("{} {}", c.summary.as_deref().unwrap_or_default(), c.message);
            is_near_duplicate(&terms, &text)
        })
        .map(|c| c.id)
        .take(SIMILAR_SHOWN)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_long_uncommon_words_cut_to_stems() {
        assert_eq!(
            distinctive_terms("The export button CRASHES the app when I click it, again and again"),
            ["export", "button", "crash", "click"]
        );
        assert_eq!(stem("clicking"), "click");
        assert_eq!(stem("arrives"), "arriv");
        assert_eq!(stem("arrive"), "arriv");
        assert_eq!(stem("uses"), "uses", "too short to cut");
        assert!(distinctive_terms("it is so, 2026 1234").is_empty());
        let many = "alpha bravo charlie delta echoes foxtrot golfing hotels indian juliet kilos";
        assert_eq!(distinctive_terms(many).len(), MAX_TERMS);
    }

    #[test]
    fn a_reworded_report_is_near_and_one_shared_word_is_not() {
        let terms = distinctive_terms("The export button crashes the app when I click it");
        assert!(is_near_duplicate(
            &terms,
            "Clicking Export makes the whole app crash"
        ));
        assert!(!is_near_duplicate(&terms, "Export to CSV lacks a column"));
        assert!(!is_near_duplicate(
            &terms,
            "The calendar shows the wrong week"
        ));
    }
}
