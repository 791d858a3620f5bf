//! PostgreSQL: replies, staff addresses and subscriptions, the daily digest's bookmark.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::PostgresStore;
use super::outbox::insert_outbox_entries;
use super::triage::insert_audit_row;
use crate::store::mail::{
    DigestItem, DigestMessage, MailPreferences, MailStore, OutboxEntry, ReplyOutcome, ReplyRow,
    SubscriptionMode, excerpt,
};
use crate::store::{AuditEntry, StoreError};

fn reply_from_row(r: &PgRow) -> Result<ReplyRow, sqlx::Error> {
    Ok(ReplyRow {
        id: r.try_get("id")?,
        submission_id: r.try_get("submission_id")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

#[async_trait]
impl MailStore for PostgresStore {
    async fn insert_reply(
        &self,
        reply: &ReplyRow,
        message: &OutboxEntry,
        audit: &AuditEntry,
    ) -> Result<ReplyOutcome, StoreError> {
        self.settle_inbox().await?;
        let id = reply.submission_id;
        let mut tx = self.pool.begin().await?;
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM submissions WHERE id = $1 FOR SHARE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(ReplyOutcome::NotFound);
        }
        // The blind index is there exactly when an address was given.
        let address: Option<Option<String>> = sqlx::query_scalar(
            "SELECT blind_index FROM contacts WHERE submission_id = $1 FOR SHARE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if address.flatten().is_none() {
            return Ok(ReplyOutcome::NoContact);
        }
        sqlx::query(
            "INSERT INTO replies (id, submission_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(reply.id)
        .bind(id)
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
             WHERE submission_id = $1 ORDER BY created_at, id",
        )
        .bind(submission)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(reply_from_row).collect::<Result<_, _>>()?)
    }

    async fn reply(&self, id: Uuid) -> Result<Option<ReplyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, submission_id, author, body, created_at FROM replies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(reply_from_row).transpose()?)
    }

    async fn mail_preferences(&self, user: &str) -> Result<MailPreferences, StoreError> {
        let email: Option<Option<String>> =
            sqlx::query_scalar("SELECT email FROM staff_users WHERE name = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT kind, mode FROM staff_subscriptions WHERE user_name = $1 ORDER BY kind",
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
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE staff_users SET email = $1 WHERE name = $2")
            .bind(&preferences.email)
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM staff_subscriptions WHERE user_name = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for (kind, mode) in &preferences.subscriptions {
            if *mode == SubscriptionMode::Off {
                continue;
            }
            sqlx::query(
                "INSERT INTO staff_subscriptions (user_name, kind, mode) VALUES ($1, $2, $3)",
            )
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
             WHERE s.kind = $1 AND s.mode = $2 AND u.email IS NOT NULL AND u.email <> '' \
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
        let mut tx = self.pool.begin().await?;
        let users: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT u.name, u.last_digest_at FROM staff_users u \
             WHERE u.email IS NOT NULL AND u.email <> '' AND EXISTS ( \
               SELECT 1 FROM staff_subscriptions s WHERE s.user_name = u.name AND s.mode = 'digest') \
             ORDER BY u.name FOR UPDATE OF u",
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
            sqlx::query("UPDATE staff_users SET last_digest_at = $1 WHERE name = $2")
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
        const MATCHING: &str = "FROM submissions WHERE kind = ANY($1) \
             AND received_at > $2 AND received_at <= $3 AND status <> 'spam'";
        let total: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {MATCHING}")))
                .bind(kinds)
                .bind(since)
                .bind(until)
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, received_at, kind, summary, message {MATCHING} \
             ORDER BY received_at, id LIMIT $4"
        )))
        .bind(kinds)
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
                    id: r.try_get("id")?,
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

/// Replaces the person's name and address in the replies to the submissions `ids` (a contact
/// erasure); returns how many changed.
pub(super) async fn redact_replies(
    tx: &mut sqlx::PgConnection,
    ids: &[Uuid],
    terms: &[String],
) -> Result<u64, sqlx::Error> {
    let replies: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, body FROM replies WHERE submission_id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
    let mut changed = 0;
    for (id, body) in replies {
        if let Some(body) = crate::domain::redact::redact(&body, terms) {
            sqlx::query("UPDATE replies SET body = $1 WHERE id = $2")
                .bind(body)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}
