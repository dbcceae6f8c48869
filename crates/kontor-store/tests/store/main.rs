//! The storage story, run on every backend: SQLite always, PostgreSQL when
//! `KONTOR_TEST_DATABASE_URL` names a server (each test gets its own fresh database there).
//! With `KONTOR_REQUIRE_POSTGRES=1` (CI) a missing server fails the run instead of being left out.

mod booking;
mod deliveries;
mod story;
mod subscribers;

use kontor_store::Store;

/// One fresh, migrated store per backend.
pub async fn stores() -> Vec<Store> {
    let mut out = vec![];
    let sqlite = Store::connect("sqlite::memory:").await.expect("sqlite");
    sqlite.migrate().await.expect("sqlite migrations");
    out.push(sqlite);
    match std::env::var("KONTOR_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => out.push(fresh_postgres(&url).await),
        _ => assert!(
            std::env::var("KONTOR_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "KONTOR_REQUIRE_POSTGRES=1 but KONTOR_TEST_DATABASE_URL is not set"
        ),
    }
    out
}

/// Creates a database with a unique name on the server of `url` and returns a migrated store on it.
pub async fn fresh_postgres(url: &str) -> Store {
    use sqlx::Executor;
    let admin = sqlx::PgPool::connect(url)
        .await
        .expect("postgres reachable");
    let name = format!("kontor_test_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    admin.close().await;
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    let store = Store::connect(&format!("{base}/{name}"))
        .await
        .expect("connect to the fresh database");
    store.migrate().await.expect("postgres migrations");
    store
}
