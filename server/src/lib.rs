//! The server side of ocicat as a library: configuration, state, router, JSON API and telemetry.
//! `main.rs` wires them into the `ocicat` binary; the integration tests build the same router.

pub mod api;
pub mod attach_cli;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod copy_cli;
pub mod error;
pub mod events;
pub mod hosts;
pub mod layout_cli;
pub mod lifecycle;
pub mod lifecycle_cli;
pub mod metrics;
pub mod mode;
pub mod proxy;
pub mod router;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod users_cli;
pub mod verify_cli;
