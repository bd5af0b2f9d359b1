//! Server functions of the signed-in user: who they are (for the header) and their API tokens.
//! Signing in and out are plain form posts to the server (`/auth/login`, `/auth/logout`), so
//! they work before the page is interactive.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{NewToken, SessionView, TokenRow};

/// Who is looking: the user name, whether access control is on, what they may do.
#[server]
pub async fn who_am_i() -> Result<SessionView, AppError> {
    use crate::shim::*;
    Ok(service()?.session_view(&principal(), csrf_token()))
}

/// The signed-in user's API tokens.
#[server]
pub async fn list_tokens() -> Result<Vec<TokenRow>, AppError> {
    use crate::shim::*;
    service()?.list_tokens(&principal()).await
}

/// Makes an API token; the answer holds its secret, which is never shown again.
#[server]
pub async fn create_token(name: String) -> Result<NewToken, AppError> {
    use crate::shim::*;
    service()?.create_token(&principal(), name, via_api_token()).await
}

/// Revokes one of the signed-in user's tokens.
#[server]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    use crate::shim::*;
    service()?.revoke_token(&principal(), id).await
}
