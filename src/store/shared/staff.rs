//! Staff accounts, sessions and API tokens: one implementation for both backends. The SQL is
//! the same but for its placeholders (`?` on SQLite, `$1`… on PostgreSQL), so it is written
//! once here, with the placeholders as the macro's arguments (joined by `concat!`, so each
//! statement is still one `&'static str`), and each backend's `staff.rs` instantiates it. What
//! truly differs stays with the backend: how a write transaction begins (`write_tx`: SQLite
//! takes the write lock up front) and the row types, which the compiler checks per backend.

/// `impl StaffStore for $store`, with `$p1`… the backend's placeholders in order of use.
macro_rules! staff_store {
    ($store:ty, [$p1:literal, $p2:literal, $p3:literal, $p4:literal, $p5:literal]) => {
        #[async_trait::async_trait]
        impl $crate::store::StaffStore for $store {
            async fn count_staff(&self) -> Result<i64, $crate::store::StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM staff_users")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn insert_staff(
                &self,
                name: &str,
                role: $crate::domain::Role,
                password_hash: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO staff_users (name, role, password_hash, created_at) VALUES (",
                    $p1,
                    ", ",
                    $p2,
                    ", ",
                    $p3,
                    ", ",
                    $p4,
                    ")"
                ))
                .bind(name)
                .bind(role)
                .bind(password_hash)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await
                .map_err($crate::store::conflict_as("a staff user with that name"))?;
                Ok(())
            }

            async fn staff(
                &self,
                name: &str,
            ) -> Result<Option<$crate::store::StaffRecord>, $crate::store::StoreError> {
                use sqlx::Row as _;
                let row = sqlx::query(concat!(
                    "SELECT name, role, password_hash FROM staff_users WHERE name = ",
                    $p1
                ))
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row
                    .map(|r| {
                        Ok::<_, sqlx::Error>($crate::store::StaffRecord {
                            name: r.try_get("name")?,
                            role: r.try_get("role")?,
                            password_hash: r.try_get("password_hash")?,
                        })
                    })
                    .transpose()?)
            }

            async fn set_password(
                &self,
                name: &str,
                password_hash: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.write_tx().await?;
                let updated = sqlx::query(concat!(
                    "UPDATE staff_users SET password_hash = ",
                    $p1,
                    " WHERE name = ",
                    $p2
                ))
                .bind(password_hash)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query(concat!(
                    "DELETE FROM staff_sessions WHERE user_name = ",
                    $p1
                ))
                .bind(name)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(updated > 0)
            }

            async fn insert_session(
                &self,
                token_hash: &str,
                user_name: &str,
                csrf_token: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO staff_sessions \
                     (token_hash, user_name, csrf_token, created_at, expires_at) VALUES (",
                    $p1,
                    ", ",
                    $p2,
                    ", ",
                    $p3,
                    ", ",
                    $p4,
                    ", ",
                    $p5,
                    ")"
                ))
                .bind(token_hash)
                .bind(user_name)
                .bind(csrf_token)
                .bind(chrono::Utc::now())
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::store::SessionRecord>, $crate::store::StoreError> {
                use sqlx::Row as _;
                let row = sqlx::query(concat!(
                    "SELECT s.user_name, u.role, s.csrf_token FROM staff_sessions s \
                     JOIN staff_users u ON u.name = s.user_name WHERE s.token_hash = ",
                    $p1,
                    " AND s.expires_at > ",
                    $p2
                ))
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row
                    .map(|r| {
                        Ok::<_, sqlx::Error>($crate::store::SessionRecord {
                            user_name: r.try_get("user_name")?,
                            role: r.try_get("role")?,
                            csrf_token: r.try_get("csrf_token")?,
                        })
                    })
                    .transpose()?)
            }

            async fn delete_session(
                &self,
                token_hash: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(concat!(
                    "DELETE FROM staff_sessions WHERE token_hash = ",
                    $p1
                ))
                .bind(token_hash)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn insert_token(
                &self,
                name: &str,
                role: $crate::domain::Role,
                token_hash: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (",
                    $p1,
                    ", ",
                    $p2,
                    ", ",
                    $p3,
                    ", ",
                    $p4,
                    ")"
                ))
                .bind(name)
                .bind(role)
                .bind(token_hash)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await
                .map_err($crate::store::conflict_as("a token with that name"))?;
                Ok(())
            }

            async fn token(
                &self,
                token_hash: &str,
            ) -> Result<Option<(String, $crate::domain::Role)>, $crate::store::StoreError> {
                use sqlx::Row as _;
                let row = sqlx::query(concat!(
                    "SELECT name, role FROM api_tokens WHERE token_hash = ",
                    $p1,
                    " AND revoked_at IS NULL"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row
                    .map(|r| Ok::<_, sqlx::Error>((r.try_get("name")?, r.try_get("role")?)))
                    .transpose()?)
            }

            async fn revoke_token(&self, name: &str) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query(concat!(
                    "UPDATE api_tokens SET revoked_at = ",
                    $p1,
                    " WHERE name = ",
                    $p2,
                    " AND revoked_at IS NULL"
                ))
                .bind(chrono::Utc::now())
                .bind(name)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn tokens(
                &self,
            ) -> Result<Vec<$crate::store::TokenRecord>, $crate::store::StoreError> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT name, role, created_at, revoked_at FROM api_tokens ORDER BY created_at",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let revoked: Option<chrono::DateTime<chrono::Utc>> =
                            r.try_get("revoked_at")?;
                        Ok($crate::store::TokenRecord {
                            name: r.try_get("name")?,
                            role: r.try_get("role")?,
                            created_at: r.try_get("created_at")?,
                            revoked: revoked.is_some(),
                        })
                    })
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err($crate::store::StoreError::from)
            }
        }
    };
}

pub(in crate::store) use staff_store;
