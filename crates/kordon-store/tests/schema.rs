//! The SQLite and PostgreSQL migrations give the same schema: the same tables with the
//! same columns, and the same indexes over the same columns — apart from what only one
//! engine needs, listed here with the reason.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row as _;

/// Tables only PostgreSQL has: `links` is partitioned by month there, and a partitioned
/// table cannot hold the uniqueness of (device, seq) and of the hash, so `link_keys` does.
fn postgres_only_table(name: &str) -> bool {
    name == "link_keys" || name.starts_with("links_p") || name == "links_default"
}

/// Indexes only one engine has: primary-key and unique-constraint indexes are named by
/// the engine (`sqlite_autoindex_*`, `*_pkey`, `*_key`), and `link_keys`' own.
fn engine_named_index(name: &str) -> bool {
    name.starts_with("sqlite_autoindex_")
        || name.ends_with("_pkey")
        || name.ends_with("_key")
        || name.starts_with("link_keys")
        || name.starts_with("links_p")
        || name.starts_with("links_default")
}

type Schema = (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, (String, Vec<String>)>,
);

async fn sqlite_schema(path: &std::path::Path) -> Schema {
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::AnyPool::connect(&url).await.expect("sqlite");
    let mut tables = BTreeMap::new();
    for r in sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
    )
    .fetch_all(&pool)
    .await
    .expect("tables")
    {
        let t: String = r.try_get("name").expect("name");
        let cols: BTreeSet<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{t}')"
        )))
        .fetch_all(&pool)
        .await
        .expect("columns")
        .iter()
        .map(|r| r.try_get("name").expect("name"))
        .collect();
        tables.insert(t, cols);
    }
    let mut indexes = BTreeMap::new();
    for r in sqlx::query("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")
        .fetch_all(&pool)
        .await
        .expect("indexes")
    {
        let name: String = r.try_get("name").expect("name");
        let table: String = r.try_get("tbl_name").expect("table");
        let cols: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"
        )))
        .fetch_all(&pool)
        .await
        .expect("index columns")
        .iter()
        .map(|r| {
            r.try_get::<Option<String>, _>("name")
                .ok()
                .flatten()
                .unwrap_or_else(|| "<expr>".into())
        })
        .collect();
        indexes.insert(name, (table, cols));
    }
    (tables, indexes)
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::AnyPool::connect(url).await.expect("postgres");
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT c.table_name::text AS t, c.column_name::text AS c FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
          WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .expect("columns")
    {
        tables
            .entry(r.try_get("t").expect("t"))
            .or_default()
            .insert(r.try_get("c").expect("c"));
    }
    let mut indexes = BTreeMap::new();
    for r in sqlx::query(
        "SELECT i.relname::text AS name, t.relname::text AS tbl,
                array_to_string(ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), ',') AS cols
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace s ON s.oid = t.relnamespace
          WHERE s.nspname = 'public' AND t.relname NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .expect("indexes")
    {
        let cols: String = r.try_get("cols").expect("cols");
        indexes.insert(
            r.try_get("name").expect("name"),
            (
                r.try_get("tbl").expect("tbl"),
                cols.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            ),
        );
    }
    (tables, indexes)
}

#[tokio::test]
async fn both_engines_migrate_to_the_same_tables_columns_and_indexes() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("kordon.db");
    drop(
        kordon_store::meta::Meta::open_sqlite(&db)
            .await
            .expect("sqlite"),
    );
    let url = kordon_store::meta::testing::fresh_database().await;
    drop(
        kordon_store::meta::Meta::open_postgres(&url)
            .await
            .expect("postgres"),
    );

    let (lt, li) = sqlite_schema(&db).await;
    let (mut pt, pi) = postgres_schema(&url).await;
    pt.retain(|t, _| !postgres_only_table(t));
    assert!(lt.len() > 15, "{} tables read", lt.len());
    assert!(lt.contains_key("crossing_points") && !lt.contains_key("checkpoints"));
    assert_eq!(
        lt.keys().collect::<Vec<_>>(),
        pt.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (t, cols) in &lt {
        assert_eq!(cols, &pt[t], "columns of {t}");
    }
    // On SQLite the UNIQUE constraints of `links` (hash, log index) carry their own
    // indexes; PostgreSQL's partitioned `links` cannot hold them (`link_keys` does the
    // uniqueness) and has plain indexes for the same look-ups.
    for cols in [vec!["hash".to_owned()], vec!["log_index".to_owned()]] {
        assert!(
            li.values().any(|(t, c)| t == "links" && *c == cols),
            "SQLite indexes links {cols:?}"
        );
    }
    let li: BTreeMap<_, _> = li
        .into_iter()
        .filter(|(n, _)| !engine_named_index(n))
        .collect();
    let pi: BTreeMap<_, _> = pi
        .into_iter()
        .filter(|(n, _)| !engine_named_index(n) && n != "links_hash" && n != "links_log_index")
        .collect();
    assert!(li.len() > 10, "{} indexes read", li.len());
    assert_eq!(li, pi, "the same indexes over the same columns");
}
