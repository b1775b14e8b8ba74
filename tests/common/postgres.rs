//! A fresh PostgreSQL schema per test, from `SPLITMARK_TEST_POSTGRES_URL`; a loud skip
//! without it, a failure when `SPLITMARK_REQUIRE_POSTGRES` is set (CI).

/// A `--db` URL whose `search_path` is a new, empty schema; `None` (after a loud notice) when
/// no test PostgreSQL is configured.
pub async fn schema_url(what: &str) -> Option<String> {
    let Ok(base) = std::env::var("SPLITMARK_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("SPLITMARK_REQUIRE_POSTGRES").is_err(),
            "SPLITMARK_REQUIRE_POSTGRES is set but SPLITMARK_TEST_POSTGRES_URL is not"
        );
        eprintln!("\n*** SKIPPED: {what} on PostgreSQL needs SPLITMARK_TEST_POSTGRES_URL (see scripts/ci-postgres.sh) ***\n");
        return None;
    };
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(conn);
    let schema = format!("sm_test_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// A client on the test database with `url`'s search path, for direct SQL.
pub async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(conn);
    client
}
