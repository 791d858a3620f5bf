//! The e-mail templates (in `templates/`, plain text and HTML, each in English, Dutch and
//! German), rendered with minijinja. The first line of a text template is the subject
//! (`Subject: …`), then a blank line, then the body; `.html` templates escape every value.

use minijinja::{Environment, Value};

/// The languages of the widget, and so of mail.
pub const LANGUAGES: [&str; 3] = ["en", "nl", "de"];

/// One rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The templates, compiled once.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("reply.txt", include_str!("templates/reply.txt")),
        ("reply.html", include_str!("templates/reply.html")),
        (
            "acknowledgement.txt",
            include_str!("templates/acknowledgement.txt"),
        ),
        (
            "acknowledgement.html",
            include_str!("templates/acknowledgement.html"),
        ),
        ("staff.txt", include_str!("templates/staff.txt")),
        ("staff.html", include_str!("templates/staff.html")),
        ("digest.txt", include_str!("templates/digest.txt")),
        ("digest.html", include_str!("templates/digest.html")),
    ] {
        env.add_template(name, source)
            .expect("the bundled mail templates parse");
    }
    env
}

/// A supported language: `wanted` if it is one, else English.
pub fn language(wanted: &str) -> &'static str {
    LANGUAGES
        .into_iter()
        .find(|l| l.eq_ignore_ascii_case(wanted.trim()))
        .unwrap_or("en")
}

/// The name of a kind in a language.
pub fn kind_name(kind: &str, lang: &str) -> &'static str {
    match (kind, lang) {
        ("bug", "nl") => "Foutmelding",
        ("bug", "de") => "Fehlermeldung",
        ("bug", _) => "Bug report",
        ("feature", "nl") => "Functievoorstel",
        ("feature", "de") => "Funktionswunsch",
        ("feature", _) => "Feature request",
        (_, _) => "Feedback",
    }
}

/// Renders `name` (`reply`, `acknowledgement`, `staff`, `digest`) with `context`.
pub fn render(
    env: &Environment<'static>,
    name: &str,
    context: &Value,
) -> Result<Rendered, minijinja::Error> {
    let text = env.get_template(&format!("{name}.txt"))?.render(context)?;
    let html = env.get_template(&format!("{name}.html"))?.render(context)?;
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    let subject = first
        .strip_prefix("Subject:")
        .unwrap_or(first)
        .trim()
        .to_owned();
    Ok(Rendered {
        // A subject is one line whatever the values held.
        subject: subject.replace(['\r', '\n'], " "),
        text: body.trim_start_matches('\n').to_owned(),
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn every_template_renders_in_every_language() {
        let env = templates();
        for lang in LANGUAGES {
            let reply = render(
                &env,
                "reply",
                &context! { lang, reference => "REF-1", body => "Fixed <b>now</b>." },
            )
            .unwrap();
            assert!(reply.subject.contains("REF-1"), "{lang}: {}", reply.subject);
            assert!(
                reply.text.starts_with("Fixed <b>now</b>."),
                "{lang}: {:?}",
                reply.text
            );
            assert!(
                reply.html.contains("Fixed &lt;b&gt;now") && !reply.html.contains("<b>"),
                "{lang}"
            );
            let ack = render(
                &env,
                "acknowledgement",
                &context! { lang, reference => "REF-2", withdraw_url => "https://x/withdraw?id=1&token=2" },
            )
            .unwrap();
            assert!(ack.subject.contains("REF-2") && ack.text.contains("REF-2"));
            assert!(ack.text.contains("https://x/withdraw?id=1&token=2"));
            assert!(ack.html.contains("id=1&amp;token=2"));
            let staff = render(
                &env,
                "staff",
                &context! { lang, kind => "bug", kind_name => kind_name("bug", lang), title => "Crash",
                    text => "It crashed", webapp_version => "6.4", browser => "Firefox 128",
                    link => "https://x/triage/feedback/1", received_at => "now",
                    subscriptions_url => "https://x/triage/subscriptions" },
            )
            .unwrap();
            assert!(
                staff.subject.contains("Crash")
                    && staff.text.contains("https://x/triage/feedback/1")
            );
            let digest = render(
                &env,
                "digest",
                &context! { lang, total => 3, more => 1, queue_url => "https://x/triage",
                    subscriptions_url => "https://x/triage/subscriptions",
                    items => vec![context! { kind_name => "Feedback", title => "Nice", link => "https://x/1" }] },
            )
            .unwrap();
            assert!(digest.subject.contains('3') && digest.text.contains("https://x/1"));
        }
        assert_ne!(
            render(
                &env,
                "reply",
                &context! { lang => "de", reference => "R", body => "b" }
            )
            .unwrap()
            .subject,
            render(
                &env,
                "reply",
                &context! { lang => "en", reference => "R", body => "b" }
            )
            .unwrap()
            .subject
        );
    }

    #[test]
    fn unknown_languages_fall_back_to_english() {
        assert_eq!(language("NL"), "nl");
        assert_eq!(language("fr"), "en");
    }
}
