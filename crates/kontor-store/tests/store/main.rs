//! The storage story, run on every backend: SQLite always, PostgreSQL when
//! `KONTOR_TEST_DATABASE_URL` names a server (each test gets its own fresh database there).
//! With `KONTOR_REQUIRE_POSTGRES=1` (CI) a missing server fails the run instead of being left out.

mod booking;
mod deliveries;
mod partnerships;
mod story;
mod subscribers;

use kontor_store::Store;

/// One fresh, migrated store per backend.
pub async fn stores() -> Vec<Store> {
    let sqlite = Store::connect("sqlite::memory:").await.expect("sqlite");
    sqlite.migrate().await.expect("sqlite migrations");
    let mut out = vec![sqlite];
    if let Some(server) = kontor_store::testing::postgres_server() {
        out.push(fresh_postgres(&server).await);
    }
    out
}

/// A migrated store on a fresh database of the PostgreSQL server of `url`.
pub async fn fresh_postgres(url: &str) -> Store {
    let store = Store::connect(&kontor_store::testing::fresh_postgres_url(url).await)
        .await
        .expect("connect to the fresh database");
    store.migrate().await.expect("postgres migrations");
    store
}
