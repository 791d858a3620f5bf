//! The export as one ZIP with a dated name, to send to the person: `export.json` (everything,
//! each file's place in the archive added), the files themselves under
//! `files/{submission}/{n}-{name}`, and `README.txt`, a short summary a person can read.

use std::fmt::Write as _;
use std::io::{Cursor, Write};

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::ContactVault;
use super::export::{Export, export};
use super::requests::PrivacyError;
use crate::blobs::Blobs;
use crate::store::Store;

/// A finished archive and the name to give it.
#[derive(Debug)]
pub struct ExportZip {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A file name safe as one path segment inside the archive.
fn segment(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    match cleaned.trim_start_matches('.') {
        "" => "file".to_owned(),
        rest => rest.to_owned(),
    }
}

fn readme(export: &Export) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Your data as stored by our feedback service, {}.\n",
        export.generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(out, "{}\n", export.note);
    let _ = writeln!(out, "Submissions: {}", export.submissions.len());
    for s in &export.submissions {
        let _ = writeln!(
            out,
            "\n- {} ({}), received {}, status {}",
            s.summary.as_deref().unwrap_or("(no summary)"),
            s.kind,
            s.received_at.format("%Y-%m-%d %H:%M UTC"),
            s.triage["status"].as_str().unwrap_or("")
        );
        let excerpt: String = s.message.chars().take(200).collect();
        let _ = writeln!(out, "  Message: {excerpt}");
        if !s.attachments.is_empty() {
            let _ = writeln!(
                out,
                "  Files: {} (in the files folder)",
                s.attachments.len()
            );
        }
        if !s.notes.is_empty() {
            let _ = writeln!(out, "  Notes by the product team: {}", s.notes.len());
        }
    }
    let _ = writeln!(
        out,
        "\nTimes your contact details were viewed or exported by staff: {}",
        export.contact_access.len()
    );
    for a in &export.contact_access {
        let _ = writeln!(
            out,
            "- {} by {} ({})",
            a.at.format("%Y-%m-%d %H:%M UTC"),
            a.staff,
            a.action
        );
    }
    out.push_str("\nEverything above is in export.json, in full.\n");
    out
}

/// Exports (and audits) everything tied to `email`, as a ZIP with the files.
pub async fn export_zip(
    store: &dyn Store,
    blobs: &Blobs,
    vault: &ContactVault,
    email: &str,
    actor: &str,
) -> Result<ExportZip, anyhow::Error> {
    let export = export(store, vault, email, actor)
        .await
        .map_err(|e: PrivacyError| anyhow::Error::new(e))?;
    let mut document = serde_json::to_value(&export)?;
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o600);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (i, submission) in export.submissions.iter().enumerate() {
        for (n, key) in submission.object_keys.iter().enumerate() {
            let entry = &mut document["submissions"][i]["attachments"][n];
            let name = entry["filename"].as_str().unwrap_or("file");
            let path = format!("files/{}/{}-{}", submission.id, n + 1, segment(name));
            let bytes = blobs.get(key).await?;
            zip.start_file(path.as_str(), options)?;
            zip.write_all(&bytes)?;
            entry["file"] = serde_json::Value::String(path);
        }
    }
    zip.start_file("export.json", options)?;
    zip.write_all(&serde_json::to_vec_pretty(&document)?)?;
    zip.start_file("README.txt", options)?;
    zip.write_all(readme(&export).as_bytes())?;
    let bytes = zip.finish()?.into_inner();
    Ok(ExportZip {
        file_name: format!(
            "feedbackd-export-{}.zip",
            export.generated_at.format("%Y-%m-%d")
        ),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_segment() {
        assert_eq!(segment("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(segment("shot.png"), "shot.png");
        assert_eq!(segment("..."), "file");
        assert_eq!(segment("a\nb/c"), "a_b_c");
    }
}
