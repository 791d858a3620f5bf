//! Redaction of a person's name and address from text staff (or the person) wrote, for a
//! contact erasure: case-insensitive, whole words only, so "Pat" never eats "Patch".

/// What replaces each occurrence.
pub const REDACTED: &str = "[removed]";

/// Names shorter than this are not redacted: "Al" or "J" would hit ordinary words.
const MIN_TERM_CHARS: usize = 3;

/// `text` with every whole-word, case-insensitive occurrence of any of `terms` replaced by
/// [`REDACTED`]; `None` when nothing was found.
pub fn redact(text: &str, terms: &[String]) -> Option<String> {
    let mut terms: Vec<Vec<char>> = terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| t.chars().count() >= MIN_TERM_CHARS)
        .map(|t| t.chars().flat_map(char::to_lowercase).collect())
        .collect();
    // The longest first, so a full name goes as one piece before any of its parts.
    terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    let mut previous: Option<char> = None;
    'scan: while let Some(first) = rest.chars().next() {
        if !previous.is_some_and(char::is_alphanumeric) {
            for term in &terms {
                if let Some(len) = match_at(rest, term) {
                    let after = rest[len..].chars().next();
                    if !after.is_some_and(char::is_alphanumeric) {
                        out.push_str(REDACTED);
                        changed = true;
                        previous = rest[..len].chars().last();
                        rest = &rest[len..];
                        continue 'scan;
                    }
                }
            }
        }
        out.push(first);
        previous = Some(first);
        rest = &rest[first.len_utf8()..];
    }
    changed.then_some(out)
}

/// The byte length of the prefix of `text` that equals `term` (already lowercased), if any.
fn match_at(text: &str, term: &[char]) -> Option<usize> {
    let mut wanted = term.iter();
    let mut lowered = Vec::new();
    for (index, c) in text.char_indices() {
        lowered.clear();
        lowered.extend(c.to_lowercase());
        for l in &lowered {
            if wanted.next() != Some(l) {
                return None;
            }
        }
        if wanted.as_slice().is_empty() {
            return Some(index + c.len_utf8());
        }
    }
    None
}

/// The terms to redact for one contact: the address, the full name and each part of it.
pub fn contact_terms(name: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut terms: Vec<String> = email.into_iter().map(str::to_owned).collect();
    if let Some(name) = name {
        terms.push(name.to_owned());
        terms.extend(name.split_whitespace().map(str::to_owned));
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> Vec<String> {
        vec!["Pat Example".to_owned(), "pat@example.org".to_owned()]
    }

    #[test]
    fn whole_words_case_insensitive() {
        assert_eq!(
            redact("Called PAT EXAMPLE (Pat@Example.ORG) about it.", &terms()).as_deref(),
            Some("Called [removed] ([removed]) about it.")
        );
        assert_eq!(
            redact("Crème: ÉLODIE Brûlée wrote", &["élodie brûlée".to_owned()]).as_deref(),
            Some("Crème: [removed] wrote")
        );
    }

    #[test]
    fn name_parts_too() {
        let terms = contact_terms(Some("Pat Example"), Some("pat@example.org"));
        assert_eq!(
            redact("pat called; Pat Example again", &terms).as_deref(),
            Some("[removed] called; [removed] again")
        );
    }

    #[test]
    fn parts_of_other_words_and_short_names_stay() {
        assert_eq!(redact("xpat@example.orgy and Pat Examples", &terms()), None);
        assert_eq!(redact("Al said hello", &["Al".to_owned()]), None);
        assert_eq!(redact("nothing here", &[]), None);
    }
}
