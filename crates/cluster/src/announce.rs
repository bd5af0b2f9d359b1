//! Announcements on PostgreSQL: a trigger that `NOTIFY`s a channel with each new row's key, and
//! a listener for the channel, so replicas wake at once instead of polling (SQLite has neither:
//! there they poll).

use ocicat_sql::Database;

use crate::ClusterError;

/// The function and trigger `name` announcing on `channel` the `column` of every row inserted
/// into `table`.
pub(crate) fn trigger(name: &str, table: &str, channel: &str, column: &str) -> [String; 2] {
    [
        format!(
            "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{channel}', NEW.{column}::text);
    RETURN NEW;
END
$$ LANGUAGE plpgsql"
        ),
        format!("CREATE OR REPLACE TRIGGER {name} AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"),
    ]
}

/// A listener woken by every announcement on `channel`, on PostgreSQL (`None` on SQLite).
pub(crate) async fn listener(
    database: &Database,
    channel: &str,
) -> Result<Option<sqlx::postgres::PgListener>, ClusterError> {
    let Database::Postgres(pool) = database else { return Ok(None) };
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(Some(listener))
}
