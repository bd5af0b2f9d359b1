//! One module per page family.

pub mod account;
pub mod artifact;
pub mod home;
pub mod referrers;
pub mod registry;
pub mod repository;
pub mod search;
pub mod status;
