//! One module per page family.

pub mod account;
pub mod annotations;
pub mod artifact;
pub mod attach;
pub mod audit;
pub mod bulk_attach;
pub mod content;
pub mod copy;
pub mod delete;
pub mod diff;
pub mod execution;
pub mod home;
pub mod impact;
pub mod import;
pub mod kinds;
pub mod referrers;
pub mod registry;
pub mod repository;
pub mod retention;
pub mod scan;
pub mod search;
pub mod signatures;
pub mod status;
pub mod viewer;
