//! Each staff member's own queue (saved views, queue visits): one implementation for both
//! backends, with their placeholders as the macro's arguments, as in `shared::staff`. The
//! upserts are the same on both (`ON CONFLICT … DO UPDATE … excluded`).

/// `impl PersonalQueueStore for $store`, with `$p1`… the backend's placeholders in order.
macro_rules! personal_queue_store {
    ($store:ty, [$p1:literal, $p2:literal, $p3:literal, $p4:literal]) => {
        #[async_trait::async_trait]
        impl $crate::store::PersonalQueueStore for $store {
            async fn saved_views(&self, user: &str) -> Result<Vec<(String, String)>, $crate::store::StoreError> {
                use sqlx::Row as _;
                let rows =
                    sqlx::query(concat!("SELECT name, query FROM saved_views WHERE user_name = ", $p1, " ORDER BY name"))
                        .bind(user)
                        .fetch_all(&self.pool)
                        .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err($crate::store::StoreError::from)
            }

            async fn save_view(&self, user: &str, name: &str, query: &str) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    concat!(
                        "INSERT INTO saved_views (user_name, name, query, created_at) VALUES (",
                        $p1, ", ", $p2, ", ", $p3, ", ", $p4,
                        ") ON CONFLICT (user_name, name) DO UPDATE SET query = excluded.query"
                    ),
                )
                .bind(user)
                .bind(name)
                .bind(query)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_view(&self, user: &str, name: &str) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query(concat!("DELETE FROM saved_views WHERE user_name = ", $p1, " AND name = ", $p2))
                    .bind(user)
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn record_queue_visit(
                &self,
                user: &str,
                now: chrono::DateTime<chrono::Utc>,
                gap: chrono::Duration,
            ) -> Result<Option<chrono::DateTime<chrono::Utc>>, $crate::store::StoreError> {
                use sqlx::Row as _;
                let kept = sqlx::query(
                    concat!("SELECT previous_at, current_at FROM staff_queue_visits WHERE user_name = ", $p1),
                )
                .bind(user)
                .fetch_optional(&self.pool)
                .await?
                .map(|row| -> Result<_, sqlx::Error> {
                    Ok((row.try_get("previous_at")?, row.try_get("current_at")?))
                })
                .transpose()?;
                let (write, previous) = $crate::store::next_visit(kept, now, gap);
                if let Some((previous_at, current_at)) = write {
                    sqlx::query(
                        concat!(
                            "INSERT INTO staff_queue_visits (user_name, previous_at, current_at) VALUES (",
                            $p1, ", ", $p2, ", ", $p3,
                            ") ON CONFLICT (user_name) DO UPDATE SET previous_at = excluded.previous_at, \
                             current_at = excluded.current_at"
                        ),
                    )
                    .bind(user)
                    .bind(previous_at)
                    .bind(current_at)
                    .execute(&self.pool)
                    .await?;
                }
                Ok(previous)
            }
        }
    };
}

pub(in crate::store) use personal_queue_store;
