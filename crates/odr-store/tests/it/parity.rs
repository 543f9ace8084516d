//! The two migration folders must build the same schema: same tables,
//! columns (type class, nullability, default), keys, foreign keys and index
//! names. Each database is asked what it actually built, so a column added
//! to one folder only fails here instead of in production on the other.

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use odr_store::testing::TestDatabase;
use odr_store::{Backend, DbConnection, Store};

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
}

#[derive(QueryableByName)]
struct IndexColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    /// `pk`, `u` (unique constraint) or `c` (CREATE INDEX), as SQLite says.
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = BigInt)]
    is_unique: i64,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

/// (table, index name, origin, is_unique)
type IndexKey = (String, String, String, i64);

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_column: String,
}

const SQLITE_COLUMNS: &str = r#"
    SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type,
           CASE WHEN p."notnull" = 1 THEN 'NO' ELSE 'YES' END AS is_nullable,
           p.dflt_value AS default_value
    FROM sqlite_master m JOIN pragma_table_info(m.name) p
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
      AND m.name <> '__diesel_schema_migrations'"#;

const SQLITE_INDEXES: &str = r#"
    SELECT m.name AS table_name, il.name AS index_name, il.origin AS origin,
           il."unique" AS is_unique, COALESCE(ii.name, '(expression)') AS column_name,
           ii.seqno AS position
    FROM sqlite_master m
    JOIN pragma_index_list(m.name) il
    JOIN pragma_index_info(il.name) ii
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
      AND m.name <> '__diesel_schema_migrations'"#;

const SQLITE_FOREIGN_KEYS: &str = r#"
    SELECT m.name AS table_name, fk."from" AS column_name,
           fk."table" AS ref_table, fk."to" AS ref_column
    FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) fk
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"#;

const POSTGRES_COLUMNS: &str = r#"
    SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
           c.data_type::text AS data_type, c.is_nullable::text AS is_nullable,
           c.column_default::text AS default_value
    FROM information_schema.columns c
    JOIN information_schema.tables t USING (table_schema, table_name)
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      AND c.table_name <> '__diesel_schema_migrations'"#;

const POSTGRES_INDEXES: &str = r#"
    SELECT t.relname::text AS table_name, i.relname::text AS index_name,
           CASE WHEN x.indisprimary THEN 'pk'
                WHEN EXISTS (SELECT 1 FROM pg_constraint c
                             WHERE c.conindid = x.indexrelid AND c.contype = 'u') THEN 'u'
                ELSE 'c' END AS origin,
           CASE WHEN x.indisunique THEN 1 ELSE 0 END::bigint AS is_unique,
           COALESCE(a.attname::text, '(expression)') AS column_name, k.ord - 1 AS position
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE n.nspname = current_schema() AND t.relname <> '__diesel_schema_migrations'"#;

const POSTGRES_FOREIGN_KEYS: &str = r#"
    SELECT t.relname::text AS table_name, a.attname::text AS column_name,
           rt.relname::text AS ref_table, ra.attname::text AS ref_column
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_class rt ON rt.oid = c.confrelid
    CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, refnum)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refnum
    WHERE c.contype = 'f' AND n.nspname = current_schema()"#;

/// Portable type classes; anything else is a schema bug on its own.
fn type_class(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "text" => "text".into(),
        "bigint" => "bigint".into(),
        "timestamp" | "timestamp without time zone" => "timestamp".into(),
        "boolean" => "bool".into(),
        other => format!("UNPORTABLE({other})"),
    }
}

/// PostgreSQL shows `'en'::text`, SQLite `'en'`.
fn normalize_default(default: &str) -> String {
    let value = default.split("::").next().unwrap_or(default).trim();
    value.to_ascii_lowercase()
}

/// The schema as a set of comparable sentences.
fn describe(store: &Store) -> BTreeSet<String> {
    let mut conn = store.get().expect("a connection for schema introspection");
    let conn: &mut DbConnection = &mut conn;
    let (columns, indexes, foreign_keys) = match store.backend() {
        Backend::Sqlite => (SQLITE_COLUMNS, SQLITE_INDEXES, SQLITE_FOREIGN_KEYS),
        Backend::Postgres => (POSTGRES_COLUMNS, POSTGRES_INDEXES, POSTGRES_FOREIGN_KEYS),
    };
    let mut schema = BTreeSet::new();

    let columns: Vec<ColumnRow> = diesel::sql_query(columns).load(conn).expect("columns");
    for c in columns {
        schema.insert(format!("table {}", c.table_name));
        let null = if c.is_nullable == "YES" {
            "NULL"
        } else {
            "NOT NULL"
        };
        let default = c
            .default_value
            .map(|d| format!(" DEFAULT {}", normalize_default(&d)))
            .unwrap_or_default();
        let class = type_class(&c.data_type);
        let (table, column) = (&c.table_name, &c.column_name);
        schema.insert(format!("column {table}.{column} {class} {null}{default}"));
    }

    let index_columns: Vec<IndexColumnRow> =
        diesel::sql_query(indexes).load(conn).expect("indexes");
    let mut index_list: BTreeMap<IndexKey, Vec<(i64, String)>> = BTreeMap::new();
    for row in index_columns {
        let key = (row.table_name, row.index_name, row.origin, row.is_unique);
        index_list
            .entry(key)
            .or_default()
            .push((row.position, row.column_name));
    }
    for ((table, name, origin, unique), mut columns) in index_list {
        columns.sort();
        let columns: Vec<_> = columns.into_iter().map(|(_, column)| column).collect();
        let columns = columns.join(", ");
        // Key constraints get backend-chosen index names; only ours must match.
        schema.insert(match origin.as_str() {
            "pk" => format!("primary key {table}({columns})"),
            "u" => format!("unique {table}({columns})"),
            _ if unique == 1 => format!("unique index {name} on {table}({columns})"),
            _ => format!("index {name} on {table}({columns})"),
        });
    }

    let keys: Vec<ForeignKeyRow> = diesel::sql_query(foreign_keys)
        .load(conn)
        .expect("foreign keys");
    for fk in keys {
        schema.insert(format!(
            "foreign key {}.{} -> {}.{}",
            fk.table_name, fk.column_name, fk.ref_table, fk.ref_column
        ));
    }
    schema
}

#[test]
fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let (sqlite_db, postgres_db) = (TestDatabase::sqlite(), TestDatabase::postgres());
    let sqlite = describe(&sqlite_db.migrated_store());
    let postgres = describe(&postgres_db.migrated_store());

    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "migrations/sqlite and migrations/postgres have drifted apart;\n\
         only in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_postgres:#?}"
    );

    let unportable: Vec<_> = sqlite.iter().filter(|s| s.contains("UNPORTABLE")).collect();
    assert!(
        unportable.is_empty(),
        "columns with unportable types: {unportable:#?}"
    );
    // The introspection itself must have seen the schema.
    for expected in [
        "table outbox",
        "column complaint_events.type text NOT NULL",
        "column retailers.business_days bool NOT NULL DEFAULT false",
        "column users.disabled_at timestamp NULL",
        "column users.session_epoch bigint NOT NULL DEFAULT 0",
        "primary key complaint_events(complaint_id, seq)",
        "unique users(email)",
        "index complaints_state_next_deadline_at_idx on complaints(state, next_deadline_at)",
        "foreign key complaints.mediator_id -> users.id",
    ] {
        assert!(
            sqlite.contains(expected),
            "missing `{expected}` in {sqlite:#?}"
        );
    }
}
