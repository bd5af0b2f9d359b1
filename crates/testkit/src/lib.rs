//! Test harness that runs real OCI registries and a token server on loopback ports.
//!
//! Every server started here listens on `127.0.0.1` only and is stopped when its
//! handle is dropped, including when the test that owns it panics:
//!
//! - [`Distribution`]: CNCF distribution 2.8.2 (`/usr/bin/docker-registry`) in
//!   anonymous, htpasswd or token mode, optionally posting webhooks;
//! - [`Ferro`]: `ferro-oci-server`, the registry with the OCI 1.1 referrers API;
//! - [`TokenServer`]: an ES256 token server for distribution's `auth.token`.

mod distribution;
mod faulty;
mod ferro;
mod jwt;
mod ports;
mod postgres;
mod process;
mod sign_in;
mod token_server;

pub use distribution::{AuthMode, Distribution, DistributionOptions, Notifications};
pub use faulty::{FaultyRegistry, FaultyRegistryBuilder, Reply, ReplyBody, Responder, Script, Seen, loopback_aliases};
pub use ferro::Ferro;
pub use jwt::{ResourceAccess, libtrust_key_id, parse_scope};
pub use ports::free_port;
pub use postgres::Postgres;
pub use sign_in::session_cookie;
pub use token_server::{TokenServer, TokenServerOptions};

/// Installs a `tracing` subscriber that writes through the test harness.
///
/// The filter comes from `RUST_LOG` and defaults to `info`. Calling it more than
/// once (one call per test) is fine: later calls leave the first subscriber.
pub fn init_tracing_for_tests() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _already_installed = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}
