//! Kontor's storage. One concrete [`Store`] over SQLite (default, one file in the data folder) or
//! PostgreSQL (several instances of Kontor sharing one database).
//!
//! Invariants:
//! - SQL is written once with `$1` placeholders and runs on both backends through the
//!   [`read!`] and [`write!`] macros; only job claiming differs per dialect.
//! - Every write goes through a [`Tx`]; a change and the mail it causes commit together.
//! - On SQLite all writes share one connection (one writer), reads use a pool; WAL mode.
//! - Instants are `i64` microseconds since the epoch; ids are UUIDv7.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub mod accounts;
pub mod cvs;
pub mod events;
pub mod magazine;
pub mod matchmaking;
pub mod newsletter;
pub mod organisations;
pub mod outbox;
pub mod partnerships;
pub mod rooms;
pub mod subscribers;
pub mod testing;

pub use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the string names the constraint or column.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_string())
            }
            other => StoreError::Database(other),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// The database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

/// `$from, $from+1, …` for `n` values: the list of an `IN (…)`.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `needle` literally: `%` and `_`
/// typed by a user are characters to find, not wildcards.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
///
/// After any statement fails, drop it: on PostgreSQL the transaction is aborted and a later
/// commit silently rolls back. Retry in a new transaction if needed.
pub struct Tx {
    inner: TxInner,
}
enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same query on the read pool of either backend: `read!(self, |p| query.fetch_all(p))`.
macro_rules! read {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite { reader: $p, .. } => $body.await,
            $crate::Pool::Postgres($p) => $body.await,
        }
    };
}
/// Runs the same statement on its own (autocommit) on the write pool of either backend: for a
/// single statement that needs no transaction around it, two round trips fewer on SQLite.
macro_rules! autocommit {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite { writer: $p, .. } => $body.await.map(|r| r.rows_affected()),
            $crate::Pool::Postgres($p) => $body.await.map(|r| r.rows_affected()),
        }
    };
}
/// Runs the same statement inside a transaction of either backend.
macro_rules! write {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::TxInner::Sqlite(t) => {
                let $c = &mut **t;
                $body.await
            }
            $crate::TxInner::Postgres(t) => {
                let $c = &mut **t;
                $body.await
            }
        }
    };
}
/// Runs the same statement inside a transaction and returns the number of rows it changed.
macro_rules! exec {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::TxInner::Sqlite(t) => {
                let $c = &mut **t;
                $body.await.map(|r| r.rows_affected())
            }
            $crate::TxInner::Postgres(t) => {
                let $c = &mut **t;
                $body.await.map(|r| r.rows_affected())
            }
        }
    };
}
pub(crate) use {autocommit, exec, read, write};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects by URL: `postgres://…` or `postgresql://…` for PostgreSQL, otherwise SQLite
    /// (`sqlite://path/kontor.db`, `sqlite::memory:`). Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Store {
                pool: Pool::Postgres(pool),
            });
        }
        let memory = url.contains(":memory:");
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // An in-memory database lives as long as its connection.
            .idle_timeout(None)
            .max_lifetime(None)
            // Every write goes through this one connection: 32 MiB of pages (default 2 MiB)
            // keep a newsletter's queue and subscribers in memory while it is sent.
            .connect_with(options.clone().pragma("cache_size", "-32768"))
            .await?;
        // An in-memory database is private to its connection: readers must share the writer.
        let reader = if memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Store {
            pool: Pool::Sqlite { reader, writer },
        })
    }

    /// Brings the schema up to date. Safe to run from several instances at once on PostgreSQL
    /// (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        self.refold_organisation_names().await
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin().await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> Result<()> {
        let _: i32 = read!(self, |p| sqlx::query_scalar("SELECT 1").fetch_one(p))?;
        Ok(())
    }

    /// Every column of every table as `table.column nullable`, sorted: the schema-parity test
    /// compares the two dialects with this.
    pub async fn schema_columns(&self) -> Result<Vec<String>> {
        let rows: Vec<(String, String, bool)> =
            match &self.pool {
                Pool::Sqlite { reader, .. } => sqlx::query_as(
                    "SELECT m.name, p.name, p.\"notnull\" = 0 AND p.pk = 0 FROM sqlite_master m \
                     JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
                     AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
                )
                .fetch_all(reader)
                .await?,
                Pool::Postgres(p) => {
                    sqlx::query_as(
                        "SELECT table_name::text, column_name::text, is_nullable = 'YES' \
                     FROM information_schema.columns WHERE table_schema = current_schema() \
                     AND table_name NOT LIKE '_sqlx%'",
                    )
                    .fetch_all(p)
                    .await?
                }
            };
        let mut cols: Vec<String> = rows
            .into_iter()
            .map(|(t, c, n)| format!("{t}.{c}{}", if n { " null" } else { "" }))
            .collect();
        cols.sort();
        Ok(cols)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Decodes a JSON column written by this crate.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(column: &str, raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}
/// Decodes a keyed enum column.
pub(crate) fn from_key<T: kontor_domain::Keyed>(column: &str, raw: &str) -> Result<T> {
    T::from_key(raw).ok_or_else(|| StoreError::Corrupt(format!("{column}: unknown key {raw}")))
}
pub(crate) fn new_id() -> Uuid {
    Uuid::now_v7()
}
