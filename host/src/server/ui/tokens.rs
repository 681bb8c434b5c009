//! The token page's token views: the list, generate (psm's resources or scopes
//! forms), the secret shown once, edit (with reissue), and revoke and delete
//! behind a confirmation. Every change is the API's: the same authority calls,
//! decided for the session's token on `user.token:*` over `user/<owner>`, and
//! the same issuance check by the policy. GET never changes anything.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::activity;
use super::guard::see_other;
use super::pages;
use super::signed_in::{Form, Page, PageRefusal, SignedIn, Visitor, Whose, field, to_sign_in};
use super::token_pages::{self, FieldError, GenerateForm};
use crate::audit::AuditFilter;
use crate::authority::{Expiry, IssueRequest, LifecycleError, RefusalCode, TokenChange};
use crate::grant_text::grants_from_texts;
use crate::server::AppState;
use crate::server::api::own_token;
use crate::server::blocking::blocking;
use crate::store::{TokenId, TokenRecord};
use crate::time::UnixTime;

use crate::authority::actions::{TOKEN_EDIT as EDIT, TOKEN_VIEW as VIEW};

/// `?sort=` of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    sort: Option<String>,
}

/// How many of the newest events the list shows under "Activity".
const RECENT: usize = 10;

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, pages::refusal(None, "Unavailable", "The request could not be completed."))
        .into_response()
}

fn failed(signed: &SignedIn, err: &LifecycleError) -> Response {
    let status = match err {
        LifecycleError::NotFound(_) => StatusCode::NOT_FOUND,
        LifecycleError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        LifecycleError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let viewer = signed.viewer();
    (status, pages::refusal(Some(&viewer), "Not done", &err.to_string())).into_response()
}

fn date_of(t: UnixTime) -> String {
    t.to_string().get(..10).unwrap_or_default().to_owned()
}

/// `GET /ui/tokens` and `/ui/principals/{name}/tokens`
pub async fn list(state: &Arc<AppState>, visitor: Visitor, query: &ListQuery, whose: Whose) -> Page {
    let signed = visitor.may_for(state, VIEW, &whose).await?;
    let owner = signed.target.clone();
    let listed = blocking(state, move |a| a.principal(&owner).and_then(|p| Ok((a.tokens(Some(&p))?, p.id)))).await;
    let (mut tokens, principal) = match listed {
        Ok(Ok(listed)) => listed,
        // The person is gone (removed by another process a moment ago, which
        // the caches may not have seen yet): their session is over.
        Ok(Err(LifecycleError::NotFound(_))) if matches!(whose, Whose::Own) => {
            state.ui.sessions.end(&signed.cookie);
            return Ok(to_sign_in(state));
        }
        Ok(Err(err)) => return Ok(failed(&signed, &err)),
        Err(_) => return Ok(unavailable()),
    };
    match query.sort.as_deref() {
        Some("expires") => tokens.sort_by_key(|t| (t.expires_at.is_none(), t.expires_at)),
        Some("last_used") => tokens.sort_by_key(|t| std::cmp::Reverse(t.last_used_at)),
        _ => {}
    }
    let window = state.authority.config().expiry_notifier.window;
    let warn_days = i64::try_from(window.as_secs() / 86_400).unwrap_or(i64::MAX);
    let recent = AuditFilter { limit: Some(RECENT), ..AuditFilter::default() };
    // The list works without its activity: a trail that cannot be read says so there.
    let activity = activity::events(state, &recent, Some(principal)).await;
    let viewer = signed.viewer();
    Ok(token_pages::tokens(&viewer, &tokens, UnixTime::now(), warn_days, None, &activity).into_response())
}

/// The form's choices: the catalog, the nodes the person may bind, the latest date.
async fn generate_page(
    state: &Arc<AppState>,
    signed: &SignedIn,
    form: &GenerateForm,
    error: Option<&FieldError>,
) -> Response {
    let owner = signed.target.clone();
    let rights = blocking(state, move |a| a.principal(&owner).and_then(|p| a.owner_rights(&p))).await;
    let nodes: Vec<String> = match rights {
        Ok(Ok(rights)) => {
            rights.into_iter().map(|g| if g.resource.is_empty() { "/".into() } else { g.resource }).collect()
        }
        Ok(Err(err)) => return failed(signed, &err),
        Err(_) => return unavailable(),
    };
    let module = state.authority.module();
    let max_date = date_of(UnixTime::now().saturating_add(state.authority.config().tokens.max_ttl));
    let page = token_pages::generate(&signed.viewer(), form, module.catalog(), &nodes, &max_date, error);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, page).into_response()
}

/// `GET .../tokens/new`
pub async fn new(state: &Arc<AppState>, visitor: Visitor, whose: Whose) -> Page {
    let signed = visitor.may_for(state, EDIT, &whose).await?;
    let default = UnixTime::now().saturating_add(state.authority.config().tokens.default_ttl);
    let form = GenerateForm { expires: date_of(default), kind: "resources".into(), ..GenerateForm::default() };
    Ok(generate_page(state, &signed, &form, None).await)
}

fn generate_form(fields: &[(String, String)]) -> GenerateForm {
    let values = |name: &'static str| -> Vec<String> {
        fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).collect()
    };
    let resources = values("node").into_iter().zip(values("level")).filter(|(node, _)| !node.is_empty()).collect();
    GenerateForm {
        name: field(fields, "name").to_owned(),
        expires: field(fields, "expires").to_owned(),
        description: field(fields, "description").to_owned(),
        kind: if field(fields, "kind") == "scopes" { "scopes".into() } else { "resources".into() },
        resources,
        scopes: values("scope"),
    }
}

/// An expiry date from a form: midnight UTC of that day; empty is `empty`.
fn expiry_of(text: &str, empty: Option<Expiry>) -> Result<Option<Expiry>, String> {
    if text.is_empty() {
        return Ok(empty);
    }
    UnixTime::parse(text).map(|t| Some(Expiry::At(t))).map_err(|e| format!("Expiration date: {e:#}"))
}

/// Where a refusal belongs: the policy's and the grant text's on the grants,
/// the rest (expiry, name) on the details.
fn field_error(err: &LifecycleError) -> FieldError {
    match err {
        LifecycleError::Refused { code: RefusalCode::Policy(_), message } => FieldError::Grants(message.clone()),
        other => FieldError::Details(other.to_string()),
    }
}

/// `POST .../tokens`: a token for the target; made for someone else, it also
/// stays within the creator's own current rights.
pub async fn create(state: &Arc<AppState>, visitor: Visitor, fields: &Form, whose: Whose) -> Page {
    let signed = visitor.may_post(state, EDIT, &whose, fields).await?;
    let form = generate_form(fields.fields());
    let grants = if form.kind == "scopes" {
        grants_from_texts(&form.scopes, &[])
    } else {
        let texts: Vec<String> = form.resources.iter().map(|(node, level)| format!("{node}={level}")).collect();
        grants_from_texts(&[], &texts)
    };
    let grants = match grants {
        Ok(grants) => grants,
        Err(err) => {
            return Ok(generate_page(state, &signed, &form, Some(&FieldError::Grants(format!("{err:#}")))).await);
        }
    };
    let expiry = match expiry_of(&form.expires, Some(Expiry::Default)) {
        Ok(expiry) => expiry.unwrap_or(Expiry::Default),
        Err(message) => return Ok(generate_page(state, &signed, &form, Some(&FieldError::Details(message))).await),
    };
    let request = IssueRequest {
        owner: signed.target.clone(),
        name: form.name.clone(),
        description: form.description.clone(),
        expiry,
        grants,
        exchange: None,
    };
    let actor = signed.actor.clone();
    let made = blocking(state, move |a| a.create_token(actor, &request));
    Ok(match made.await {
        Ok(Ok(issued)) => {
            let id = issued.record.id.get();
            state.ui.sessions.keep_once(&signed.cookie, id, issued.secret.expose());
            see_other(&format!("{}/{id}/secret", signed.base))
        }
        Ok(Err(err)) => generate_page(state, &signed, &form, Some(&field_error(&err))).await,
        Err(_) => unavailable(),
    })
}

fn token_id(text: &str) -> Option<TokenId> {
    text.parse::<TokenId>().ok()
}

/// The target's token `id`.
async fn own(state: &Arc<AppState>, signed: &SignedIn, id: &str) -> Result<TokenRecord, PageRefusal> {
    let not_found = || {
        let viewer = signed.viewer();
        (StatusCode::NOT_FOUND, pages::refusal(Some(&viewer), "Not found", "There is no such token.")).into_response()
    };
    let Some(id) = token_id(id) else { return Err(not_found().into()) };
    let owner = signed.target.clone();
    match blocking(state, move |a| own_token(a, &owner, id).and_then(|()| a.token(id))).await {
        Ok(Ok(token)) => Ok(token),
        Ok(Err(LifecycleError::NotFound(_))) => Err(not_found().into()),
        Ok(Err(err)) => Err(failed(signed, &err).into()),
        Err(_) => Err(unavailable().into()),
    }
}

/// The signed-in person allowed `action` on `whose` tokens, and the token `id` among them.
async fn signed_token(
    state: &Arc<AppState>,
    visitor: Visitor,
    action: &'static str,
    whose: &Whose,
    id: &str,
) -> Result<(SignedIn, TokenRecord), PageRefusal> {
    let signed = visitor.may_for(state, action, whose).await?;
    let token = own(state, &signed, id).await?;
    Ok((signed, token))
}

/// Like `signed_token` (to edit), for a form that carries the session's CSRF token.
async fn signed_token_form(
    state: &Arc<AppState>,
    visitor: Visitor,
    whose: &Whose,
    id: &str,
    form: &Form,
) -> Result<(SignedIn, TokenRecord), PageRefusal> {
    let signed = visitor.may_post(state, EDIT, whose, form).await?;
    let token = own(state, &signed, id).await?;
    Ok((signed, token))
}

/// `GET .../tokens/{id}/secret`: the new secret, once; afterwards back to the list.
pub async fn secret(state: &Arc<AppState>, visitor: Visitor, id: &str, whose: Whose) -> Page {
    let (signed, token) = signed_token(state, visitor, VIEW, &whose, id).await?;
    Ok(match state.ui.sessions.take_once(&signed.cookie, token.id.get()) {
        Some(secret) => token_pages::secret(&signed.viewer(), &token.name, secret.expose()).into_response(),
        None => see_other(&signed.base),
    })
}

/// `GET .../tokens/{id}`: the token and its effective permissions.
pub async fn show(state: &Arc<AppState>, visitor: Visitor, id: &str, whose: Whose) -> Page {
    let (signed, token) = signed_token(state, visitor, VIEW, &whose, id).await?;
    let id = token.id;
    Ok(match blocking(state, move |a| a.effective_permissions(id)).await {
        Ok(Ok(permissions)) => {
            token_pages::token(&signed.viewer(), &token, UnixTime::now(), &permissions).into_response()
        }
        Ok(Err(err)) => failed(&signed, &err),
        Err(_) => unavailable(),
    })
}

/// `GET .../tokens/{id}/edit`
pub async fn edit_form(state: &Arc<AppState>, visitor: Visitor, id: &str, whose: Whose) -> Page {
    let (signed, token) = signed_token(state, visitor, EDIT, &whose, id).await?;
    let max_date = date_of(UnixTime::now().saturating_add(state.authority.config().tokens.max_ttl));
    Ok(token_pages::edit(&signed.viewer(), &token, &max_date, None).into_response())
}

/// `POST .../tokens/{id}`: rename, describe, change expiry, reissue.
pub async fn update(state: &Arc<AppState>, visitor: Visitor, id: &str, form: &Form, whose: Whose) -> Page {
    let (signed, token) = signed_token_form(state, visitor, &whose, id, form).await?;
    let max_date = date_of(UnixTime::now().saturating_add(state.authority.config().tokens.max_ttl));
    let (name, description, expires) = (form.field("name"), form.field("description"), form.field("expires"));
    let unchanged = token.expires_at.map(date_of).unwrap_or_default();
    let expiry = if expires == unchanged { Ok(None) } else { expiry_of(expires, None) };
    let expiry = match expiry {
        Ok(expiry) => expiry,
        Err(message) => {
            let page = token_pages::edit(&signed.viewer(), &token, &max_date, Some(&message));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let change = TokenChange {
        name: (name != token.name).then(|| name.to_owned()),
        description: (description != token.description).then(|| description.to_owned()),
        expiry,
        reissue: form.field("reissue") == "yes",
    };
    let (id, actor, owner) = (token.id, signed.actor.clone(), signed.target.clone());
    Ok(match blocking(state, move |a| a.change_token(actor, id, Some(&owner), change)).await {
        Ok(Ok((record, Some(secret)))) => {
            state.ui.sessions.keep_once(&signed.cookie, record.id.get(), secret.expose());
            see_other(&format!("{}/{}/secret", signed.base, record.id))
        }
        Ok(Ok((_, None))) => see_other(&signed.base),
        Ok(Err(err)) => {
            let page = token_pages::edit(&signed.viewer(), &token, &max_date, Some(&err.to_string()));
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(_) => unavailable(),
    })
}

/// The 404 page for an action other than revoke and delete.
fn no_such_action(signed: &SignedIn) -> Response {
    let viewer = signed.viewer();
    (StatusCode::NOT_FOUND, pages::refusal(Some(&viewer), "Not found", "No such page.")).into_response()
}

/// `GET .../tokens/{id}/revoke` and `/delete`: the confirmation.
pub async fn confirm(state: &Arc<AppState>, visitor: Visitor, id: &str, action: &str, whose: Whose) -> Page {
    let signed = visitor.may_for(state, EDIT, &whose).await?;
    if action != "revoke" && action != "delete" {
        return Err(no_such_action(&signed).into());
    }
    let token = own(state, &signed, id).await?;
    Ok(token_pages::confirm(&signed.viewer(), &token, action).into_response())
}

/// `POST .../tokens/{id}/revoke` and `/delete`
pub async fn act(state: &Arc<AppState>, visitor: Visitor, id: &str, action: &str, form: &Form, whose: Whose) -> Page {
    let (signed, token) = signed_token_form(state, visitor, &whose, id, form).await?;
    let (id, actor, owner) = (token.id, signed.actor.clone(), signed.target.clone());
    let done = match action {
        "revoke" => blocking(state, move |a| a.revoke_token(actor, id, Some(&owner)).map(|_| ())).await,
        "delete" => blocking(state, move |a| a.delete_token(actor, id, Some(&owner))).await,
        _ => return Err(no_such_action(&signed).into()),
    };
    Ok(match done {
        Ok(Ok(())) => see_other(&signed.base),
        Ok(Err(err)) => failed(&signed, &err),
        Err(_) => unavailable(),
    })
}
