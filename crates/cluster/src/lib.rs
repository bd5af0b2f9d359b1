//! Several replicas, one database (issue 22's foundation): which replica leads — a lease row
//! with a heartbeat and a fencing epoch ([`Leases`]) —, the catalog's change log that only the
//! epoch holding the lease can append to ([`ChangeLog`]), and which replicas are alive and how
//! far each has applied that log ([`Replicas`]). Both are plain rows in the SQL
//! database ocicat already keeps (`ocicat-sql`), with one set of statements for SQLite and
//! PostgreSQL, and every time is the database's clock, never a replica's (replicas on machines
//! whose clocks disagree still agree on who leads).
//!
//! [`LogSink`] and [`Tailer`] put a catalog on them: the leader's `CatalogWriter` goes through
//! the log, every replica applies it to its own index. Not wired into the server yet: the crawl,
//! the refresh queue and scheduled retention will run only while [`Leases::acquire`] says this
//! replica holds `leader`, writing through a sink of that epoch.

mod error;
mod leadership;
mod lease;
mod log;
mod now;
mod replicas;
mod replicate;

pub use error::ClusterError;
pub use leadership::Leadership;
pub use lease::{Lease, Leases};
pub use log::{Change, ChangeLog, Doc, DocEdit};
pub use replicas::{Replica, Replicas};
pub use replicate::{LogSink, Tailer};
