//! The caller as the header shows them, and their API tokens (the tokens page and
//! `/api/v1/tokens`): listed, made and revoked only by their owner; each change is an audit
//! event without the secret.

use ocicat_access::{Principal, StoreError, TokenInfo};

use crate::authz;
use crate::error::AppError;
use crate::model::{NewToken, SessionView, TokenRow};
use crate::state::Service;

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

impl Service {
    /// Who `who` is, for the header: the name, whether access control is on, whether they see
    /// crawl internals somewhere and may delete somewhere. `csrf` is the session's anti-CSRF
    /// token (empty without a session), which deletes sent with the session cookie carry.
    pub fn session_view(&self, who: &Principal, csrf: String) -> SessionView {
        let registries = self.registries();
        SessionView {
            user: who.user.clone(),
            access: self.access_control(),
            admin: registries.names().iter().any(|name| authz::see_crawl_internals(who, name)),
            can_delete: self.lifecycle.is_some() && authz::offer_deleting(who),
            can_copy: self.lifecycle.is_some() && authz::offer_copying(who),
            csrf,
        }
    }

    fn token_owner<'a>(&'a self, who: &'a Principal) -> Result<(&'a ocicat_access::Tokens, &'a str), AppError> {
        let user = authz::manage_tokens(who, self.access_control())?;
        let tokens = self.tokens.as_ref().ok_or(AppError::Internal)?;
        Ok((tokens, user))
    }

    /// The caller's tokens, newest first.
    pub async fn list_tokens(&self, who: &Principal) -> Result<Vec<TokenRow>, AppError> {
        let (database, user) = self.token_owner(who)?;
        Ok(database.tokens_of(user).await.map_err(store_error)?.into_iter().map(row).collect())
    }

    /// Makes a token named `name` for the caller (signed in, not acting with an API token); its
    /// secret is in the answer only.
    pub async fn create_token(&self, who: &Principal, name: String, via_api_token: bool) -> Result<NewToken, AppError> {
        authz::create_token(who, self.access_control(), via_api_token)?;
        let (database, user) = self.token_owner(who)?;
        let (info, secret) = database.create_token(user, &name).await.map_err(store_error)?;
        tracing::info!(target: "audit", event = "token-created", user, token.id = %info.id, token.name = %info.name, "api token created");
        Ok(NewToken { token: row(info), secret })
    }

    /// Revokes the caller's token `id` (anyone else's is not found).
    pub async fn revoke_token(&self, who: &Principal, id: String) -> Result<(), AppError> {
        let (database, user) = self.token_owner(who)?;
        if id.len() > 64 || !database.revoke_token(user, &id).await.map_err(store_error)? {
            return Err(AppError::NotFound(format!("token {:?}", id.chars().take(64).collect::<String>())));
        }
        tracing::info!(target: "audit", event = "token-revoked", user, token.id = %id, "api token revoked");
        Ok(())
    }
}
