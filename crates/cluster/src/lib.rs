//! Several replicas, one database (issue 22's foundation): which replica leads — a lease row
//! with a heartbeat and a fencing epoch ([`Leases`]) —, the catalog's change log that only the
//! epoch holding the lease can append to ([`ChangeLog`]), and which replicas are alive and how
//! far each has applied that log ([`Replicas`]). Both are plain rows in the SQL
//! database ocicat already keeps (`ocicat-sql`), with one set of statements for SQLite and
//! PostgreSQL, and every time is the database's clock, never a replica's (replicas on machines
//! whose clocks disagree still agree on who leads).
//!
//! [`LogSink`] and [`Tailer`] put a catalog on them: the leader's `CatalogWriter` goes through
//! the log, every replica applies it to its own index. Changes made on any replica (deletes,
//! copies, attaches) are posted to the [`Inbox`], which the leader moves into the log; crawl
//! requests any replica receives wait in [`CrawlRequests`] for the leader. The server
//! (`ocicat::cluster`) runs the crawl and scheduled retention only while [`Leadership`] says
//! this replica leads.

mod announce;
mod current;
mod error;
mod inbox;
mod leadership;
mod lease;
mod log;
mod log_sink;
mod now;
mod replicas;
mod replicate;
mod requests;
mod shared;

pub use error::ClusterError;
pub use inbox::{Inbox, InboxSink, Landed};
pub use leadership::Leadership;
pub use lease::{Lease, Leases};
pub use log::{Change, ChangeLog, Doc, DocEdit};
pub use log_sink::LogSink;
pub use replicas::{Replica, Replicas};
pub use replicate::Tailer;
pub use requests::{CrawlRequest, CrawlRequests, CrawlStatus};
pub use shared::SharedDocuments;
