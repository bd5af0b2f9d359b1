//! The database's clock in milliseconds since the epoch: leases expire by one clock, the
//! database's, whatever the replicas' clocks say.

use ocicat_sql::{Column, Database};

/// The expression that reads the clock in each dialect (`clock_timestamp`, not the transaction's
/// start, on PostgreSQL).
fn expression(database: &Database) -> &'static str {
    match database {
        Database::Postgres(_) => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        Database::Sqlite(_) => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    }
}

/// The database's time now, in milliseconds since 1970.
pub(crate) async fn now_ms(database: &Database) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT {} AS now", expression(database));
    let rows = database.fetch(&sql, &[], &[Column::Int("now")]).await?;
    Ok(rows.first().and_then(|row| row.int("now")).unwrap_or_default())
}
