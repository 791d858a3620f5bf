//! Triage. Automatic triage at intake: routing rules from configuration (labels, assignee), a
//! fingerprint of the normalised text that groups likely duplicates, and spam signals that put
//! a submission in `spam` instead of the queue (pure functions of the parsed submission, here).
//! Triage by staff: the [`desk`] service that the JSON API and the triage view share.

mod counts;
pub mod desk;

pub use counts::{FACET_DAYS, StatusCounts};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::{Status, Submission};

/// One routing rule; every condition that is set must match, words match case-insensitively
/// anywhere in the summary or message (any one word is enough).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    pub kind: Option<String>,
    pub webapp_version_prefix: Option<String>,
    pub server_version_prefix: Option<String>,
    pub browser: Option<String>,
    pub words: Vec<String>,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
}

/// Spam thresholds.
#[derive(Debug, Clone, Copy)]
pub struct SpamPolicy {
    /// A form sent faster than this after opening was not filled in by a person.
    pub min_fill_ms: u64,
    /// This many links or more, making up over a third of the words, is spam.
    pub max_links: usize,
}

impl Default for SpamPolicy {
    fn default() -> Self {
        Self {
            min_fill_ms: 2_000,
            max_links: 3,
        }
    }
}

/// What automatic triage decided for a new submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    pub fingerprint: String,
}

impl Rule {
    fn matches(&self, s: &Submission, text: &str) -> bool {
        let env = &s.environment;
        self.kind.as_deref().is_none_or(|k| k == s.kind.as_str())
            && self
                .webapp_version_prefix
                .as_deref()
                .is_none_or(|p| env.webapp_version.as_str().starts_with(p))
            && self
                .server_version_prefix
                .as_deref()
                .is_none_or(|p| env.server_version.as_str().starts_with(p))
            && self
                .browser
                .as_deref()
                .is_none_or(|b| env.browser.brand.eq_ignore_ascii_case(b))
            && (self.words.is_empty()
                || self.words.iter().any(|w| text.contains(&w.to_lowercase())))
    }
}

/// Applies the rules (labels accumulate, the first assignee wins) and the spam signals.
pub fn triage(s: &Submission, rules: &[Rule], spam: SpamPolicy) -> Verdict {
    let text = format!(
        "{} {}",
        s.summary.as_ref().map_or("", |x| x.as_str()),
        s.message.as_str()
    )
    .to_lowercase();
    let mut labels: Vec<String> = Vec::new();
    let mut assignee = None;
    for rule in rules.iter().filter(|r| r.matches(s, &text)) {
        for label in &rule.labels {
            if !labels.contains(label) {
                labels.push(label.clone());
            }
        }
        if assignee.is_none() {
            assignee.clone_from(&rule.assignee);
        }
    }
    let status = if is_spam(s, &text, spam) {
        Status::Spam
    } else {
        Status::New
    };
    Verdict {
        status,
        labels,
        assignee,
        fingerprint: fingerprint(&text),
    }
}

fn is_spam(s: &Submission, text: &str, policy: SpamPolicy) -> bool {
    let signals = &s.spam_signals;
    let too_fast = signals.fill_ms.is_some_and(|ms| ms < policy.min_fill_ms);
    let words = text.split_whitespace().count().max(1);
    let links = text.matches("http://").count()
        + text.matches("https://").count()
        + text.matches("www.").count();
    let link_heavy = links >= policy.max_links && links * 3 > words;
    signals.honeypot_filled || too_fast || link_heavy
}

/// SHA-256 (first 16 hex digits) of the text reduced to its words: lower case, letters only,
/// so that re-sent or slightly edited reports group together.
pub fn fingerprint(text: &str) -> String {
    let normalised: Vec<String> = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() > 1)
        .map(str::to_lowercase)
        .collect();
    hex::encode(&Sha256::digest(normalised.join(" ").as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Browser, RawForm, RawValue, Terms};

    fn submission(pairs: &[(&str, &str)]) -> Submission {
        let mut raw = RawForm::default();
        let base = [
            ("kind", "bug"),
            ("message", "The calendar crashes when I open it"),
            ("webapp_version", "6.4.2"),
            ("server_version", "9.1"),
            ("screen_resolution", "800x600"),
            ("url", "https://x.example/"),
            ("terms_version", "t"),
            ("terms_accepted", "true"),
        ];
        for (k, v) in base
            .iter()
            .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
            .chain(pairs)
        {
            raw.push(*k, RawValue::Text((*v).to_owned()));
        }
        let browser = Browser {
            brand: "Firefox".into(),
            version: None,
        };
        Submission::parse(&raw, &Terms::new("t", "x"), browser).unwrap()
    }

    #[test]
    fn rules_route_by_kind_version_browser_and_words() {
        let rules = vec![
            Rule {
                words: vec!["Crash".into()],
                labels: vec!["crash".into()],
                assignee: Some("ann".into()),
                ..Rule::default()
            },
            Rule {
                webapp_version_prefix: Some("6.4".into()),
                labels: vec!["v6.4".into()],
                assignee: Some("bob".into()),
                ..Rule::default()
            },
            Rule {
                kind: Some("feature".into()),
                labels: vec!["idea".into()],
                ..Rule::default()
            },
            Rule {
                browser: Some("firefox".into()),
                labels: vec!["firefox".into()],
                ..Rule::default()
            },
        ];
        let verdict = triage(&submission(&[]), &rules, SpamPolicy::default());
        assert_eq!(verdict.labels, ["crash", "v6.4", "firefox"]);
        assert_eq!(verdict.assignee.as_deref(), Some("ann"));
        assert_eq!(verdict.status, Status::New);
    }

    #[test]
    fn fingerprints_ignore_case_punctuation_and_numbers() {
        assert_eq!(
            fingerprint("The calendar CRASHES!! (build 1234)"),
            fingerprint("the calendar crashes build 99")
        );
        assert_ne!(
            fingerprint("the calendar crashes"),
            fingerprint("the mail crashes")
        );
    }

    #[test]
    fn spam_signals() {
        let policy = SpamPolicy::default();
        assert_eq!(
            triage(&submission(&[("website", "http://x")]), &[], policy).status,
            Status::Spam
        );
        assert_eq!(
            triage(&submission(&[("form_ms", "300")]), &[], policy).status,
            Status::Spam
        );
        assert_eq!(
            triage(&submission(&[("form_ms", "9000")]), &[], policy).status,
            Status::New
        );
        let links = "buy https://a.example https://b.example www.c.example now";
        assert_eq!(
            triage(&submission(&[("message", links)]), &[], policy).status,
            Status::Spam
        );
        let one_link = "the page https://a.example/x shows a blank calendar after login today";
        assert_eq!(
            triage(&submission(&[("message", one_link)]), &[], policy).status,
            Status::New
        );
    }
}
