//! API tokens of the signed-in user (shared by the tokens page and `/api/v1/tokens`): listed,
//! made and revoked only by their owner; each change is an audit event without the secret.

use ocicat_access::{Principal, StoreError, TokenInfo};

use super::UiState;
use crate::error::AppError;
use crate::model::{NewToken, SessionView, TokenRow};

/// The header's view of `who`.
pub fn session_view(state: &UiState, who: &Principal) -> SessionView {
    SessionView {
        user: who.user.clone(),
        access: state.database.is_some(),
        admin: who.can_anywhere(ocicat_access::Right::Administer),
        can_delete: state.lifecycle.is_some() && who.can_anywhere(ocicat_access::Right::Delete),
        csrf: super::lifecycle::csrf_token(),
    }
}

fn owner<'a>(state: &'a UiState, who: &'a Principal) -> Result<(&'a ocicat_access::Database, &'a str), AppError> {
    let database =
        state.database.as_ref().ok_or_else(|| AppError::NotFound("api tokens (access control is off)".into()))?;
    let user = who.user.as_deref().ok_or(AppError::Unauthorized)?;
    Ok((database, user))
}

fn row(info: TokenInfo) -> TokenRow {
    TokenRow {
        id: info.id,
        name: info.name,
        created: info.created.to_rfc3339(),
        last_used: info.last_used.map(|date| date.to_rfc3339()),
    }
}

fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::Database(error) => {
            tracing::error!(%error, "token database failed");
            AppError::Internal
        }
        other => AppError::BadRequest(other.to_string()),
    }
}

/// The tokens of the signed-in user, newest first.
pub async fn find_tokens(state: &UiState, who: &Principal) -> Result<Vec<TokenRow>, AppError> {
    let (database, user) = owner(state, who)?;
    Ok(database.tokens_of(user).await.map_err(store_error)?.into_iter().map(row).collect())
}

/// Makes a token named `name` for the signed-in user; its secret is in the answer only.
pub async fn make_token(state: &UiState, who: &Principal, name: String) -> Result<NewToken, AppError> {
    let (database, user) = owner(state, who)?;
    let (info, secret) = database.create_token(user, &name).await.map_err(store_error)?;
    tracing::info!(target: "audit", event = "token-created", user, token.id = %info.id, token.name = %info.name, "api token created");
    Ok(NewToken { token: row(info), secret })
}

/// Revokes token `id` of the signed-in user (a 404 for anyone else's).
pub async fn drop_token(state: &UiState, who: &Principal, id: String) -> Result<(), AppError> {
    let (database, user) = owner(state, who)?;
    if id.len() > 64 || !database.revoke_token(user, &id).await.map_err(store_error)? {
        return Err(AppError::NotFound(format!("token {:?}", id.chars().take(64).collect::<String>())));
    }
    tracing::info!(target: "audit", event = "token-revoked", user, token.id = %id, "api token revoked");
    Ok(())
}
