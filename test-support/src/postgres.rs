//! A fresh PostgreSQL database per test, dropped with its guard (also after a failed assertion).

use sqlx::Connection;

use crate::{on_own_runtime, unique_name};

/// The server's maintenance database; `TEST_DATABASE_URL` overrides it.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `admin` with its database name replaced by `db`, keeping any query string.
pub fn with_database(admin: &str, db: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// A database created for one test and dropped (`WITH (FORCE)`) when this guard is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    admin: String,
    name: String,
    url: String,
    keep: bool,
}

impl PgDatabase {
    /// A new database named `{prefix}_{random}` on the server at [`admin_url`]; fails the test
    /// if PostgreSQL is not there.
    pub async fn create(prefix: &str) -> PgDatabase {
        let admin = admin_url();
        PgDatabase::create_on(&admin, &unique_name(prefix))
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required: {e}"))
    }

    /// A new database `name` on the server at `admin`.
    pub async fn create_on(admin: &str, name: &str) -> Result<PgDatabase, sqlx::Error> {
        let mut c = sqlx::PgConnection::connect(admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await?;
        Ok(PgDatabase {
            admin: admin.to_owned(),
            name: name.to_owned(),
            url: with_database(admin, name),
            keep: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's own URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Leaves the database in place (to inspect it afterwards); returns its name.
    pub fn keep(mut self) -> String {
        self.keep = true;
        std::mem::take(&mut self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let (admin, db) = (self.admin.clone(), self.name.clone());
        on_own_runtime(move || async move {
            if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
            }
        });
    }
}
