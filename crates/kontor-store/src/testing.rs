//! Support for the tests of every crate: which PostgreSQL server to use, and a fresh database
//! on it for each test. Not used by the application.

use sqlx::Executor;

/// The PostgreSQL server named by `KONTOR_TEST_DATABASE_URL`, or `None`; with
/// `KONTOR_REQUIRE_POSTGRES=1` (CI) a missing server is a failure, not a skip.
pub fn postgres_server() -> Option<String> {
    match std::env::var("KONTOR_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("KONTOR_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "KONTOR_REQUIRE_POSTGRES=1 but KONTOR_TEST_DATABASE_URL is not set"
            );
            None
        }
    }
}

/// Creates an empty database with a unique name on the server of `server` (a PostgreSQL URL)
/// and returns its URL. Panics when the server cannot be reached: this is for tests.
pub async fn fresh_postgres_url(server: &str) -> String {
    let admin = sqlx::PgPool::connect(server)
        .await
        .expect("postgres reachable");
    let name = format!("kontor_test_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    admin.close().await;
    let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
    format!("{base}/{name}")
}

/// `n` confirmed subscribers `reader{i:06}@example.org` (German, English, Chinese in turn), in
/// one transaction: the readers of the newsletter benchmarks.
pub async fn confirmed_readers(store: &crate::Store, n: usize) -> crate::Result<Vec<crate::Uuid>> {
    use kontor_domain::{Email, Locale, SubscriberStatus};
    let emails: Vec<Email> = (0..n)
        .map(|i| Email::parse(&format!("reader{i:06}@example.org")).expect("a valid address"))
        .collect();
    let tokens: Vec<String> = (0..n)
        .map(|i| format!("token-{i:06}-abcdefghijklmnopqrstuvwxyz"))
        .collect();
    let new: Vec<crate::subscribers::NewSubscriber> = emails
        .iter()
        .zip(&tokens)
        .enumerate()
        .map(|(i, (email, token))| crate::subscribers::NewSubscriber {
            email,
            locale: [Locale::De, Locale::En, Locale::Zh][i % 3],
            topics: &[],
            status: SubscriberStatus::Confirmed,
            unsubscribe_token: token,
        })
        .collect();
    let mut tx = store.begin().await?;
    let ids = tx.create_subscribers(&new, 0).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Runs one statement past the store's rules, as someone with access to the database could:
/// for tests of what the application does with rows it did not write.
pub async fn execute(tx: &mut crate::Tx, sql: &str) -> crate::Result<u64> {
    Ok(crate::exec!(tx, |x| sqlx::query(sqlx::AssertSqlSafe(sql)).execute(x))?)
}
