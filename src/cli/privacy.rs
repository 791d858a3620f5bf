//! `feedbackd privacy export|erase`: a person's review and removal requests from the command
//! line, with a flow that cannot trap the person: the mail and a preview of what would be
//! removed are shown first, the scope is asked for explicitly (no default), contact-only
//! comes with the warning that a later full erasure becomes impossible, and "everything"
//! needs the address typed back. Every refusal (invalid address, a declined or missing
//! answer, closed input) exits non-zero.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use crate::app;
use crate::domain::ContactEmail;
use crate::privacy::export_zip::export_zip;
use crate::privacy::requests::{self, PreviewItem};
use crate::store::EraseScope;

/// Lines of the removal e-mail's text shown before deciding.
const MAIL_LINES: usize = 8;

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print, as JSON, everything stored about an e-mail address (with --zip, write it with
    /// the files as feedbackd-export-YYYY-MM-DD.zip in the current folder).
    Export {
        /// The person's address (`t@example.org` or `Tom <t@example.org>`).
        #[arg(long)]
        email: String,
        /// Write a ZIP (export.json, the files, README.txt) instead of printing JSON.
        #[arg(long)]
        zip: bool,
    },
    /// Remove what is tied to an address: its contact details only, or everything (the
    /// submissions, their files and contact details). Shows what would be removed first.
    Erase {
        /// The person's address (`t@example.org` or `Tom <t@example.org>`).
        #[arg(long, required_unless_present = "eml", conflicts_with = "eml")]
        email: Option<String>,
        /// The person's removal e-mail (.eml): shown, and the address taken from `From:`.
        #[arg(long, value_name = "FILE")]
        eml: Option<PathBuf>,
        /// What to remove; asked for when not given.
        #[arg(long, value_parser = parse_scope, conflicts_with = "everything")]
        scope: Option<EraseScope>,
        /// The same as `--scope everything`.
        #[arg(long)]
        everything: bool,
        /// Do not ask for confirmation (the scope must then be given).
        #[arg(long)]
        yes: bool,
    },
}

fn parse_scope(raw: &str) -> Result<EraseScope, String> {
    match raw {
        "contact" => Ok(EraseScope::Contact),
        "everything" => Ok(EraseScope::Everything),
        _ => Err("expected contact or everything".to_owned()),
    }
}

/// The address in `t@x.org` or `Name <t@x.org>`, validated like a contact address.
pub fn address_of(raw: &str) -> anyhow::Result<String> {
    let raw = raw.trim();
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    match ContactEmail::parse(inner.trim()) {
        Ok(Some(email)) => Ok(email.as_str().to_owned()),
        _ => anyhow::bail!("not a valid e-mail address: {raw}"),
    }
}

/// One answer from standard input; a closed input is a refusal, never a default.
fn ask(question: &str) -> anyhow::Result<String> {
    eprint!("{question} ");
    let mut answer = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    anyhow::ensure!(
        read > 0,
        "no answer (standard input is closed): nothing removed"
    );
    Ok(answer.trim().to_owned())
}

/// The sender named by the `From:` header of a message's raw bytes, as a valid address.
pub(crate) fn sender_in(bytes: &[u8]) -> anyhow::Result<String> {
    let message = mail_parser::MessageParser::default()
        .parse(bytes)
        .context("the file is not an e-mail message")?;
    let from = message
        .from()
        .and_then(|from| from.first())
        .context("the e-mail has no From: address")?;
    address_of(from.address().context("the e-mail has no From: address")?)
}

/// Prints the removal e-mail's From, Date, Subject and first lines; returns the sender.
fn show_mail(eml: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(eml).with_context(|| format!("reading {}", eml.display()))?;
    let sender = sender_in(&bytes)?;
    let message = mail_parser::MessageParser::default()
        .parse(&bytes)
        .context("the file is not an e-mail message")?;
    let from = message
        .from()
        .and_then(|from| from.first())
        .context("the e-mail has no From: address")?;
    let address = from.address().context("the e-mail has no From: address")?;
    let shown_from = match from.name() {
        Some(name) => format!("{name} <{address}>"),
        None => address.to_owned(),
    };
    eprintln!("From:    {shown_from}");
    eprintln!(
        "Date:    {}",
        message
            .date()
            .map_or("(none)".to_owned(), |d| d.to_rfc822())
    );
    eprintln!("Subject: {}", message.subject().unwrap_or("(none)"));
    let text = message.body_text(0).unwrap_or_default();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(MAIL_LINES)
    {
        eprintln!("  | {line}");
    }
    eprintln!();
    Ok(sender)
}

fn show_preview(email: &str, items: &[PreviewItem]) {
    eprintln!("{} submission(s) are tied to {email}:", items.len());
    for item in items {
        eprintln!(
            "  {}  {:<8} {:<10} {}",
            item.received_at.format("%Y-%m-%d %H:%M"),
            item.kind,
            item.status,
            item.summary.as_deref().unwrap_or(&item.excerpt)
        );
        if !item.files.is_empty() {
            eprintln!("      files: {}", item.files.join(", "));
        }
    }
}

/// The scope, asked for when not given: there is no default.
fn choose_scope(given: Option<EraseScope>, yes: bool) -> anyhow::Result<EraseScope> {
    if let Some(scope) = given {
        return Ok(scope);
    }
    anyhow::ensure!(!yes, "--yes needs --scope contact or --scope everything");
    eprintln!("What should be removed?");
    eprintln!("  contact     the name and address only; the feedback stays, anonymous");
    eprintln!("  everything  the submissions, their files and contact details");
    let answer = ask("Type contact or everything:")?;
    parse_scope(&answer).map_err(|_| anyhow::anyhow!("no scope chosen: nothing removed"))
}

fn confirm(scope: EraseScope, email: &str, count: usize, yes: bool) -> anyhow::Result<()> {
    if scope == EraseScope::Contact {
        eprintln!(
            "Warning: after this the feedback can no longer be found by {email}; if the person \
             later asks for everything to be removed, it cannot be done. Choose everything now \
             if the request is for all their data."
        );
    }
    if yes {
        return Ok(());
    }
    let confirmed = match scope {
        EraseScope::Contact => {
            matches!(
                ask("Remove the contact details? [y/N]")?.as_str(),
                "y" | "Y" | "yes"
            )
        }
        EraseScope::Everything => {
            let answer = ask(&format!(
                "This removes {count} submission(s) and their files for good. \
                 Type the address to confirm:"
            ))?;
            address_of(&answer).is_ok_and(|typed| typed.eq_ignore_ascii_case(email))
        }
    };
    anyhow::ensure!(confirmed, "not confirmed: nothing removed");
    Ok(())
}

pub async fn run(services: &app::Services, command: PrivacyCommand) -> anyhow::Result<()> {
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "webmaster".into())
    );
    let store = services.store.as_ref();
    match command {
        PrivacyCommand::Export { email, zip: true } => {
            let email = address_of(&email)?;
            let archive =
                export_zip(store, &services.blobs, &services.vault, &email, &actor).await?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&archive.file_name)
                .with_context(|| format!("creating {}", archive.file_name))?;
            std::io::Write::write_all(&mut file, &archive.bytes)?;
            file.sync_all()?;
            println!("{}", archive.file_name);
        }
        PrivacyCommand::Export { email, zip: false } => {
            let email = address_of(&email)?;
            let export = requests::export(store, &services.vault, &email, &actor).await?;
            println!("{}", serde_json::to_string_pretty(&export)?);
        }
        PrivacyCommand::Erase {
            email,
            eml,
            scope,
            everything,
            yes,
        } => {
            let email = match (email, eml) {
                (Some(email), _) => address_of(&email)?,
                (None, Some(eml)) => show_mail(&eml)?,
                (None, None) => anyhow::bail!("give --email or --eml"),
            };
            let items = requests::preview(store, &services.vault, &email, &actor).await?;
            show_preview(&email, &items);
            if items.is_empty() {
                eprintln!("feedbackd: nothing is tied to {email}; nothing removed");
                return Ok(());
            }
            let scope = choose_scope(everything.then_some(EraseScope::Everything).or(scope), yes)?;
            confirm(scope, &email, items.len(), yes)?;
            let report = requests::erase(
                store,
                &services.blobs,
                &services.vault,
                &email,
                scope,
                &actor,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_a_display_name() {
        assert_eq!(address_of("Tom <t@x.org>").unwrap(), "t@x.org");
        assert_eq!(address_of(" \"Doe, Tom\" <T@X.org> ").unwrap(), "T@X.org");
        assert_eq!(address_of("t@x.org").unwrap(), "t@x.org");
        assert!(address_of("Tom").is_err());
        assert!(address_of("Tom <>").is_err());
    }
}
