//! Who may see and do what. Users and their grants come from the configuration (passwords as
//! argon2id PHC strings, or an htpasswd-style file of `name:hash` lines); a grant gives a
//! [`Role`] on a registry (or every registry) and a repository pattern (`prod/*` one segment,
//! `team-a/**` any depth). A [`Principal`] answers "may I do this here?" for pages and the API,
//! and turns its grants into the catalog's [`ocicat_catalog::Scope`] so searches, counts and
//! facets only ever see what the user may see. API tokens are random, shown once and kept only
//! as SHA-256 hashes; [`LoginLimiter`] slows and then locks out repeated failed sign-ins.
//!
//! Tokens live in [`Tokens`], in the server's SQL database (`ocicat-sql`: SQLite or PostgreSQL),
//! next to the sessions the server keeps.
//! Knows nothing of HTTP or sessions: the server wires these into its routes.

mod csrf;
mod grant;
mod limiter;
mod password;
mod store;
mod token;
mod users;

pub use csrf::{BearerAuthenticated, CsrfToken};
pub use grant::{ANY_REGISTRY, Grant, Principal, Right, Role};
pub use limiter::{LoginLimiter, Throttle};
pub use password::{PasswordError, check_hash, hash_password, verify_password};
pub use store::{MAX_TOKEN_NAME, MAX_TOKENS_PER_USER, StoreError, TokenInfo, Tokens};
pub use token::{ApiToken, TokenError, TokenHash};
pub use users::{UserEntry, UsersError, parse_users_file, render_users_file, valid_name};
