//! Server functions of the signed-in user: who they are (for the header) and their API tokens.
//! Signing in and out are plain form posts to the server (`/auth/login`, `/auth/logout`), so
//! they work before the page is interactive.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{NewToken, SessionView, TokenRow};

/// Who is looking: the user name, whether access control is on, whether they administer.
#[server]
pub async fn who_am_i() -> Result<SessionView, AppError> {
    Ok(crate::ssr::session_view(&crate::ssr::state()?, &crate::ssr::principal()))
}

/// The signed-in user's API tokens.
#[server]
pub async fn list_tokens() -> Result<Vec<TokenRow>, AppError> {
    crate::ssr::find_tokens(&crate::ssr::state()?, &crate::ssr::principal()).await
}

/// Makes an API token; the answer holds its secret, which is never shown again.
#[server]
pub async fn create_token(name: String) -> Result<NewToken, AppError> {
    crate::ssr::make_token(&crate::ssr::state()?, &crate::ssr::principal(), name).await
}

/// Revokes one of the signed-in user's tokens.
#[server]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    crate::ssr::drop_token(&crate::ssr::state()?, &crate::ssr::principal(), id).await
}
