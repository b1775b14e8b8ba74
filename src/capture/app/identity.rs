//! Who a request is: resolved once per request into a [`Principal`], then checked against
//! the one [`Action`] the route is (see `access.rs`).
//!
//! - Admin API: `Authorization: Bearer TOKEN` (the shared admin token, constant-time
//!   compare) or `Bearer NAME:SECRET` (a named user). A user's secret is checked with argon2
//!   once, then remembered as a digest for a few minutes ([`VerifiedCredentials`]); every
//!   request still reads the user's row by primary key, so a removed or replaced user is
//!   refused on the next request, on every instance.
//! - Dashboard: the signed session cookie (see `dashboard::session`); a user's session holds
//!   while the user's row exists with the `created_ms` the session names.
//!
//! Every argon2 check (a sign-in, an API credential not yet remembered) first takes a token
//! of the per-client rate limiter, like any other request of that client, so guessing costs
//! the guesser and cannot tie up the server's CPU. Unknown names cost the same as wrong
//! secrets.

use super::{raw_cookie, App};
use crate::capture::client::Client;
use crate::capture::http::Body;
use crate::dashboard::session;
use crate::store::{StoreError, StoredUser, UserRecord};
use crate::users::credentials::VerifiedCredentials;
use crate::users::keys::SessionKey;
use crate::users::{secret, validate_name, Action, Principal, Role};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use std::time::Instant;
use subtle::ConstantTimeEq;

/// The users side of the app: the session key and the remembered API credentials.
pub(super) struct Identity {
    key: SessionKey,
    verified: VerifiedCredentials,
}

impl Identity {
    pub(super) fn new(key: SessionKey) -> Identity {
        Identity {
            key,
            verified: VerifiedCredentials::default(),
        }
    }

    /// The key that signs users' sessions.
    pub(super) fn session_key(&self) -> &[u8; 32] {
        self.key.bytes()
    }
}

impl App {
    /// The key that signs users' sessions.
    pub(super) fn identity_session_key(&self) -> &[u8; 32] {
        self.identity.session_key()
    }
}

/// The principal a stored user row stands for; `None` for a role this version does not
/// know (refused rather than guessed).
fn principal_of(user: &UserRecord) -> Option<Principal> {
    match Role::parse(&user.role) {
        Ok(role) => Some(Principal::user(&user.name, role, user.created_ms)),
        Err(e) => {
            eprintln!("user {:?} is refused: {e}", user.name);
            None
        }
    }
}

/// Checks `secret` against the stored user (or against nobody, at the same cost) on a
/// blocking thread: argon2 must not stall the server's async workers.
async fn verify_secret(secret: &str, user: Option<&StoredUser>) -> bool {
    let secret = secret.to_owned();
    let hash = user.map(|u| u.secret_hash.clone());
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => secret::verify(&secret, &h),
        None => {
            secret::verify_nobody(&secret);
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl App {
    /// The principal of an admin API request that may do `action`, or the refusal: 401
    /// without valid credentials, 403 when the role may not.
    pub(super) async fn authorize(
        &self,
        req: &Request<Incoming>,
        peer: Client,
        action: Action,
    ) -> Result<Principal, Response<Body>> {
        let who = self.api_principal(req, peer).await?;
        if who.allows(action) {
            Ok(who)
        } else {
            Err(self.reject(
                StatusCode::FORBIDDEN,
                "forbidden",
                &format!(
                    "{} has the {} role, which may not {}; ask an admin",
                    who.name(),
                    who.role().as_str(),
                    action.describe()
                ),
            ))
        }
    }

    async fn api_principal(
        &self,
        req: &Request<Incoming>,
        peer: Client,
    ) -> Result<Principal, Response<Body>> {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if let Some(token) = &self.admin_token {
            if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
                return Ok(Principal::admin_token());
            }
        }
        let user = given
            .split_once(':')
            .filter(|(name, secret)| validate_name(name).is_ok() && !secret.is_empty());
        if let Some((name, secret)) = user {
            if let Some(who) = self.api_user(name, secret, peer).await? {
                return Ok(who);
            }
        } else if self.admin_token.is_none() {
            return Err(self.reject(
                StatusCode::FORBIDDEN,
                "admin_disabled",
                "no admin token is set (SPLITMARK_ADMIN_TOKEN): use a user's credentials, Bearer NAME:SECRET",
            ));
        }
        let mut res = self.reject(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid admin token or user credential (Bearer NAME:SECRET) is required",
        );
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        Err(res)
    }

    /// A user's API credential: remembered, else checked with argon2 (rate-limited).
    async fn api_user(
        &self,
        name: &str,
        secret: &str,
        peer: Client,
    ) -> Result<Option<Principal>, Response<Body>> {
        let stored = self
            .store
            .user(name)
            .await
            .map_err(|e| self.store_error(&e))?;
        let now = Instant::now();
        if let Some(u) = &stored {
            if self
                .identity
                .verified
                .contains(name, u.record.created_ms, secret, now)
            {
                return Ok(principal_of(&u.record));
            }
        }
        if let Some(res) = self.rate_limited(peer) {
            return Err(res);
        }
        if !verify_secret(secret, stored.as_ref()).await {
            return Ok(None);
        }
        let u = stored.expect("only a stored user verifies");
        self.identity
            .verified
            .insert(name, u.record.created_ms, secret, now);
        Ok(principal_of(&u.record))
    }

    /// The stored user `name` if `secret` is its secret (dashboard sign-in; the caller has
    /// rate-limited the attempt).
    pub(super) async fn sign_in_user(
        &self,
        name: &str,
        secret: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        if validate_name(name).is_err() {
            verify_secret(secret, None).await;
            return Ok(None);
        }
        let stored = self.store.user(name).await?;
        Ok(if verify_secret(secret, stored.as_ref()).await {
            stored.map(|u| u.record)
        } else {
            None
        })
    }

    /// The principal of a dashboard request's session cookie; `None` when there is none, it
    /// is forged or expired, or its user was removed or replaced since.
    pub(super) async fn session_principal(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, StoreError> {
        let Some(value) = raw_cookie(headers, session::COOKIE) else {
            return Ok(None);
        };
        let now = now_secs();
        if let Some(token) = &self.admin_token {
            if session::verify(token, &value, now) {
                return Ok(Some(Principal::admin_token()));
            }
        }
        let Some((name, created_ms)) =
            session::verify_user(self.identity.session_key(), &value, now)
        else {
            return Ok(None);
        };
        Ok(match self.store.user(&name).await? {
            Some(u) if u.record.created_ms == created_ms => principal_of(&u.record),
            _ => None,
        })
    }
}
