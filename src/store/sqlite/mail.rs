//! SQLite: replies, staff addresses and subscriptions, the daily digest's bookmark.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::SqliteStore;
use super::intake::uuid_column;
use super::outbox::insert_outbox_entries;
use super::triage::insert_audit_row;
use crate::store::mail::{
    DigestItem, DigestMessage, MailPreferences, MailStore, OutboxEntry, ReplyOutcome, ReplyRow,
    SubscriptionMode, excerpt,
};
use crate::store::{AuditEntry, StoreError};

fn reply_from_row(r: &SqliteRow) -> Result<ReplyRow, sqlx::Error> {
    Ok(ReplyRow {
        id: uuid_column(r, "id")?,
        submission_id: uuid_column(r, "submission_id")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

#[async_trait]
impl MailStore for SqliteStore {
    async fn insert_reply(
        &self,
        reply: &ReplyRow,
        message: &OutboxEntry,
        audit: &AuditEntry,
    ) -> Result<ReplyOutcome, StoreError> {
        self.settle_inbox().await?;
        let id = reply.submission_id.to_string();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM submissions WHERE id = ?")
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(ReplyOutcome::NotFound);
        }
        // The blind index is there exactly when an address was given.
        let address: Option<Option<String>> =
            sqlx::query_scalar("SELECT blind_index FROM contacts WHERE submission_id = ?")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
        if address.flatten().is_none() {
            return Ok(ReplyOutcome::NoContact);
        }
        sqlx::query(
            "INSERT INTO replies (id, submission_id, author, body, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(reply.id.to_string())
        .bind(&id)
        .bind(&reply.author)
        .bind(&reply.body)
        .bind(reply.created_at)
        .execute(&mut *tx)
        .await?;
        insert_outbox_entries(&mut tx, std::slice::from_ref(message)).await?;
        insert_audit_row(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(ReplyOutcome::Stored)
    }

    async fn replies(&self, submission: Uuid) -> Result<Vec<ReplyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, submission_id, author, body, created_at FROM replies \
             WHERE submission_id = ? ORDER BY created_at, id",
        )
        .bind(submission.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(reply_from_row).collect::<Result<_, _>>()?)
    }

    async fn reply(&self, id: Uuid) -> Result<Option<ReplyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, submission_id, author, body, created_at FROM replies WHERE id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(reply_from_row).transpose()?)
    }

    async fn mail_preferences(&self, user: &str) -> Result<MailPreferences, StoreError> {
        let email: Option<Option<String>> =
            sqlx::query_scalar("SELECT email FROM staff_users WHERE name = ?")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT kind, mode FROM staff_subscriptions WHERE user_name = ? ORDER BY kind",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(MailPreferences {
            email: email.flatten(),
            subscriptions: rows
                .into_iter()
                .filter_map(|(kind, mode)| SubscriptionMode::parse(&mode).map(|m| (kind, m)))
                .collect(),
        })
    }

    async fn set_mail_preferences(
        &self,
        user: &str,
        preferences: &MailPreferences,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query("UPDATE staff_users SET email = ? WHERE name = ?")
            .bind(&preferences.email)
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM staff_subscriptions WHERE user_name = ?")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for (kind, mode) in &preferences.subscriptions {
            if *mode == SubscriptionMode::Off {
                continue;
            }
            sqlx::query("INSERT INTO staff_subscriptions (user_name, kind, mode) VALUES (?, ?, ?)")
                .bind(user)
                .bind(kind)
                .bind(mode.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn subscribers(
        &self,
        kind: &str,
        mode: SubscriptionMode,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.name, u.email FROM staff_subscriptions s \
             JOIN staff_users u ON u.name = s.user_name \
             WHERE s.kind = ? AND s.mode = ? AND u.email IS NOT NULL AND u.email <> '' \
             ORDER BY u.name",
        )
        .bind(kind)
        .bind(mode.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    async fn queue_digests(
        &self,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        message: &DigestMessage,
    ) -> Result<u64, StoreError> {
        self.settle_inbox().await?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let users: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT u.name, u.last_digest_at FROM staff_users u \
             WHERE u.email IS NOT NULL AND u.email <> '' AND EXISTS ( \
               SELECT 1 FROM staff_subscriptions s WHERE s.user_name = u.name AND s.mode = 'digest') \
             ORDER BY u.name",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut queued = 0;
        for (user, last) in users {
            if last.is_some_and(|last| last >= due) {
                continue;
            }
            let since = last.unwrap_or(due - Duration::days(1));
            insert_outbox_entries(&mut tx, &[message(&user, since, now)]).await?;
            sqlx::query("UPDATE staff_users SET last_digest_at = ? WHERE name = ?")
                .bind(now)
                .bind(&user)
                .execute(&mut *tx)
                .await?;
            queued += 1;
        }
        tx.commit().await?;
        Ok(queued)
    }

    async fn digest_items(
        &self,
        kinds: &[String],
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<(Vec<DigestItem>, i64), StoreError> {
        self.settle_inbox().await?;
        let kinds = serde_json::to_string(kinds).expect("strings serialise");
        const MATCHING: &str = "FROM submissions WHERE kind IN (SELECT value FROM json_each(?)) \
             AND received_at > ? AND received_at <= ? AND status <> 'spam'";
        let total: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {MATCHING}")))
                .bind(&kinds)
                .bind(since)
                .bind(until)
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, received_at, kind, summary, message {MATCHING} \
             ORDER BY received_at, id LIMIT ?"
        )))
        .bind(&kinds)
        .bind(since)
        .bind(until)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                let message: String = r.try_get("message")?;
                Ok(DigestItem {
                    id: uuid_column(r, "id")?,
                    received_at: r.try_get("received_at")?,
                    kind: r.try_get("kind")?,
                    summary: r.try_get("summary")?,
                    excerpt: excerpt(&message),
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((items, total))
    }
}

/// Replaces the person's name and address in the replies to the submissions `ids_json` (a
/// contact erasure); returns how many changed.
pub(super) async fn redact_replies(
    tx: &mut sqlx::SqliteConnection,
    ids_json: &str,
    terms: &[String],
) -> Result<u64, sqlx::Error> {
    let replies: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, body FROM replies WHERE submission_id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids_json)
    .fetch_all(&mut *tx)
    .await?;
    let mut changed = 0;
    for (id, body) in replies {
        if let Some(body) = crate::domain::redact::redact(&body, terms) {
            sqlx::query("UPDATE replies SET body = ? WHERE id = ?")
                .bind(body)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}
