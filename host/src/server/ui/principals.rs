//! The administration pages: principals (list, add, bind, unbind, remove) for
//! those holding `system.principals:view` / `system.principals:edit` on the
//! root, through the same authority calls as the API. Another principal's
//! tokens are the token views under `/ui/principals/{name}/tokens`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::guard::see_other;
use super::pages;
use super::principal_pages;
use super::signed_in::{Form, Page, SignedIn, Visitor};
use crate::authority::{LifecycleError, bindings_from_texts};
use crate::server::AppState;
use crate::server::blocking::blocking;
use crate::store::Binding;

use crate::authority::actions::{PRINCIPALS_EDIT as EDIT, PRINCIPALS_VIEW as VIEW};

fn root() -> Option<String> {
    Some(String::new())
}

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, pages::refusal(None, "Unavailable", "The request could not be completed."))
        .into_response()
}

/// The bindings in a form's `grants` and `roles` fields (one per line).
fn bindings(state: &AppState, form: &[(String, String)]) -> Result<Vec<Binding>, String> {
    let lines = |name: &str| -> Vec<String> {
        form.iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned))
            .collect()
    };
    bindings_from_texts(&lines("grants"), &lines("roles"), &state.authority.config().roles).map_err(|e| e.to_string())
}

async fn list_page(state: &Arc<AppState>, signed: &SignedIn, error: Option<&str>) -> Response {
    match blocking(state, |a| a.principals()).await {
        Ok(Ok(list)) => {
            let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            (status, principal_pages::principals(&signed.viewer(), &list, error)).into_response()
        }
        Ok(Err(err)) => {
            (StatusCode::SERVICE_UNAVAILABLE, pages::refusal(Some(&signed.viewer()), "Not done", &err.to_string()))
                .into_response()
        }
        Err(_) => unavailable(),
    }
}

async fn one_page(state: &Arc<AppState>, signed: &SignedIn, name: String, error: Option<&str>) -> Response {
    match blocking(state, move |a| a.principal(&name)).await {
        Ok(Ok(principal)) => {
            let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            (status, principal_pages::principal(&signed.viewer(), &principal, error)).into_response()
        }
        Ok(Err(LifecycleError::NotFound(_))) => {
            (StatusCode::NOT_FOUND, pages::refusal(Some(&signed.viewer()), "Not found", "No such principal."))
                .into_response()
        }
        Ok(Err(err)) => {
            (StatusCode::SERVICE_UNAVAILABLE, pages::refusal(Some(&signed.viewer()), "Not done", &err.to_string()))
                .into_response()
        }
        Err(_) => unavailable(),
    }
}

/// `GET /ui/principals`
pub async fn list(State(state): State<Arc<AppState>>, visitor: Visitor) -> Page {
    let signed = visitor.may(&state, VIEW, root()).await?;
    Ok(list_page(&state, &signed, None).await)
}

/// `POST /ui/principals`
pub async fn add(State(state): State<Arc<AppState>>, visitor: Visitor, form: Form) -> Page {
    let signed = visitor.may(&state, EDIT, root()).await?;
    form.check_csrf(&signed)?;
    let name = form.field("name").to_owned();
    let bindings = match bindings(&state, form.fields()) {
        Ok(bindings) => bindings,
        Err(message) => return Ok(list_page(&state, &signed, Some(&message)).await),
    };
    let (added_name, actor) = (name.clone(), signed.actor.clone());
    Ok(match blocking(&state, move |a| a.add_principal(actor, &name, &bindings)).await {
        Ok(Ok(_)) => see_other(&format!("/ui/principals/{added_name}")),
        Ok(Err(err)) => list_page(&state, &signed, Some(&err.to_string())).await,
        Err(_) => unavailable(),
    })
}

/// `GET /ui/principals/{name}`
pub async fn show(State(state): State<Arc<AppState>>, Path(name): Path<String>, visitor: Visitor) -> Page {
    let signed = visitor.may(&state, VIEW, root()).await?;
    Ok(one_page(&state, &signed, name, None).await)
}

/// `GET /ui/principals/{name}/remove`: the confirmation.
pub async fn confirm_remove(State(state): State<Arc<AppState>>, Path(name): Path<String>, visitor: Visitor) -> Page {
    let signed = visitor.may(&state, EDIT, root()).await?;
    Ok(principal_pages::confirm_remove(&signed.viewer(), &name).into_response())
}

/// `POST /ui/principals/{name}/remove`
pub async fn remove(state: State<Arc<AppState>>, Path(name): Path<String>, visitor: Visitor, form: Form) -> Page {
    change(state, Path((name, "remove".to_owned())), visitor, form).await
}

/// `POST /ui/principals/{name}/{bind|unbind}` (and `remove`)
pub async fn change(
    State(state): State<Arc<AppState>>,
    Path((name, action)): Path<(String, String)>,
    visitor: Visitor,
    form: Form,
) -> Page {
    let signed = visitor.may(&state, EDIT, root()).await?;
    form.check_csrf(&signed)?;
    Ok(change_as(&state, &signed, name, &action, &form).await)
}

/// A checked change by `signed`: remove, bind or unbind.
async fn change_as(state: &Arc<AppState>, signed: &SignedIn, name: String, action: &str, form: &Form) -> Response {
    if action == "remove" {
        let (target, actor) = (name.clone(), signed.actor.clone());
        return match blocking(state, move |a| a.remove_principal(actor, &target)).await {
            Ok(Ok(removed)) => {
                state.ui.sessions.end_principal(removed.id);
                see_other("/ui/principals")
            }
            Ok(Err(err)) => one_page(state, signed, name, Some(&err.to_string())).await,
            Err(_) => unavailable(),
        };
    }
    let bind = match action {
        "bind" => true,
        "unbind" => false,
        _ => {
            return (StatusCode::NOT_FOUND, pages::refusal(Some(&signed.viewer()), "Not found", "No such page."))
                .into_response();
        }
    };
    let bindings = match bindings(state, form.fields()) {
        Ok(bindings) if !bindings.is_empty() => bindings,
        Ok(_) => return one_page(state, signed, name, Some("Name at least one right or role.")).await,
        Err(message) => return one_page(state, signed, name, Some(&message)).await,
    };
    let (target, actor) = (name.clone(), signed.actor.clone());
    let done =
        blocking(
            state,
            move |a| {
                if bind { a.bind(actor, &target, &bindings) } else { a.unbind(actor, &target, &bindings) }
            },
        );
    match done.await {
        Ok(Ok(_)) => see_other(&format!("/ui/principals/{name}")),
        Ok(Err(err)) => one_page(state, signed, name, Some(&err.to_string())).await,
        Err(_) => unavailable(),
    }
}
