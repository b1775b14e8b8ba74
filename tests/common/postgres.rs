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
    let client = client(&base).await;
    drop_stale_schemas(&client).await;
    let schema = format!("sm_test_{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
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

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Drops the schemas of earlier test runs. A test cannot drop its own when it ends (its
/// store may still hold connections, and a failed test should leave its data to look at),
/// so each new one clears those older than an hour: without it, every local `cargo test`
/// against one cluster leaves a few dozen schemas behind for good.
async fn drop_stale_schemas(client: &tokio_postgres::Client) {
    let names = client
        .query(
            r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sm\_test\_%'",
            &[],
        )
        .await
        .expect("list the test schemas");
    let cutoff = unix_now().saturating_sub(3600);
    for row in names {
        let name: String = row.get(0);
        // `sm_test_<unix seconds>_<uuid>`; an older name without the time is stale too.
        let created = name
            .split('_')
            .nth(2)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
        if created < cutoff {
            // Another test may be dropping the same schema at this moment: not an error.
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    }
}
