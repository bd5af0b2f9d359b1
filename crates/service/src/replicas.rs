//! Several replicas as the front doors show them: the server hands the service a view of the
//! cluster ([`Replication`]); who may see it is decided in [`authz`], like `/metrics`.

use std::fmt::Write as _;

use ocicat_access::Principal;

use crate::model::{ReplicaRow, ReplicasView};
use crate::{AppError, Service, authz};

/// A future a [`Replication`] answers with.
pub type ReplicationFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<ReplicasView, String>> + Send + 'a>>;

/// Where the replicas sharing a database are read from (the server's cluster membership).
pub trait Replication: std::fmt::Debug + Send + Sync {
    /// The replicas as the database has them now.
    fn view(&self) -> ReplicationFuture<'_>;
}

impl Service {
    /// The replicas, for those who administer a whole registry; not found when this server is
    /// no replica of several, or for anyone else.
    pub async fn replicas(&self, who: &Principal) -> Result<ReplicasView, AppError> {
        authz::see_replicas(who, &self.registries())?;
        let replication = self.replication.as_ref().ok_or_else(|| AppError::NotFound("replicas".into()))?;
        replication.view().await.map_err(|error| {
            tracing::warn!(%error, "cannot read the replicas");
            AppError::Busy("the cluster database does not answer".into())
        })
    }

    /// The replicas as Prometheus lines (nothing when this server is no replica of several).
    pub(crate) async fn replica_metrics(&self) -> String {
        let Some(replication) = &self.replication else { return String::new() };
        let view = match replication.view().await {
            Ok(view) => view,
            Err(error) => {
                tracing::warn!(%error, "cannot read the replicas for metrics");
                return String::new();
            }
        };
        let mut text = format!(
            "# HELP ocicat_replication_head The newest change in the catalog's change log\n\
             # TYPE ocicat_replication_head gauge\nocicat_replication_head {}\n",
            view.head
        );
        let families: [(&str, &str, fn(&ReplicaRow) -> i64); 3] = [
            ("ocicat_replica_lag", "Changes a replica has yet to apply to its index", |replica| replica.lag),
            ("ocicat_replica_leading", "1 for the replica that leads", |replica| i64::from(replica.leading)),
            ("ocicat_replica_live", "1 for a replica heard from lately", |replica| i64::from(replica.live)),
        ];
        for (name, help, value) in families {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge");
            for replica in &view.replicas {
                let _ = writeln!(text, "{name}{{replica=\"{}\"}} {}", escape(&replica.name), value(replica));
            }
        }
        text
    }
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
