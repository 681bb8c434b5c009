//! The token views' routes: the signed-in person's own tokens under
//! `/ui/tokens`, and another principal's under `/ui/principals/{name}/tokens`
//! (for those holding `user.token:*` on `user/<name>`), both served by the
//! same handlers in `tokens`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;

use super::signed_in::{Form, Page, Visitor, Whose};
use super::tokens::{self, ListQuery};
use crate::server::AppState;

type S = State<Arc<AppState>>;

async fn own_list(State(s): S, v: Visitor, q: Query<ListQuery>) -> Page {
    tokens::list(&s, v, &q, Whose::Own).await
}
async fn own_create(State(s): S, v: Visitor, f: Form) -> Page {
    tokens::create(&s, v, &f, Whose::Own).await
}
async fn own_new(State(s): S, v: Visitor) -> Page {
    tokens::new(&s, v, Whose::Own).await
}
async fn own_show(State(s): S, Path(id): Path<String>, v: Visitor) -> Page {
    tokens::show(&s, v, &id, Whose::Own).await
}
async fn own_update(State(s): S, Path(id): Path<String>, v: Visitor, f: Form) -> Page {
    tokens::update(&s, v, &id, &f, Whose::Own).await
}
async fn own_secret(State(s): S, Path(id): Path<String>, v: Visitor) -> Page {
    tokens::secret(&s, v, &id, Whose::Own).await
}
async fn own_edit(State(s): S, Path(id): Path<String>, v: Visitor) -> Page {
    tokens::edit_form(&s, v, &id, Whose::Own).await
}
async fn own_confirm(State(s): S, Path((id, action)): Path<(String, String)>, v: Visitor) -> Page {
    tokens::confirm(&s, v, &id, &action, Whose::Own).await
}
async fn own_act(State(s): S, Path((id, action)): Path<(String, String)>, v: Visitor, f: Form) -> Page {
    tokens::act(&s, v, &id, &action, &f, Whose::Own).await
}

async fn of_list(State(s): S, Path(name): Path<String>, v: Visitor, q: Query<ListQuery>) -> Page {
    tokens::list(&s, v, &q, Whose::Of(name)).await
}
async fn of_create(State(s): S, Path(name): Path<String>, v: Visitor, f: Form) -> Page {
    tokens::create(&s, v, &f, Whose::Of(name)).await
}
async fn of_new(State(s): S, Path(name): Path<String>, v: Visitor) -> Page {
    tokens::new(&s, v, Whose::Of(name)).await
}
async fn of_show(State(s): S, Path((name, id)): Path<(String, String)>, v: Visitor) -> Page {
    tokens::show(&s, v, &id, Whose::Of(name)).await
}
async fn of_update(State(s): S, Path((name, id)): Path<(String, String)>, v: Visitor, f: Form) -> Page {
    tokens::update(&s, v, &id, &f, Whose::Of(name)).await
}
async fn of_secret(State(s): S, Path((name, id)): Path<(String, String)>, v: Visitor) -> Page {
    tokens::secret(&s, v, &id, Whose::Of(name)).await
}
async fn of_edit(State(s): S, Path((name, id)): Path<(String, String)>, v: Visitor) -> Page {
    tokens::edit_form(&s, v, &id, Whose::Of(name)).await
}
async fn of_confirm(State(s): S, Path((name, id, action)): Path<(String, String, String)>, v: Visitor) -> Page {
    tokens::confirm(&s, v, &id, &action, Whose::Of(name)).await
}
async fn of_act(State(s): S, Path((name, id, action)): Path<(String, String, String)>, v: Visitor, f: Form) -> Page {
    tokens::act(&s, v, &id, &action, &f, Whose::Of(name)).await
}

/// Both sets of routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/ui/tokens", get(own_list).post(own_create))
        .route("/ui/tokens/new", get(own_new))
        .route("/ui/tokens/{id}", get(own_show).post(own_update))
        .route("/ui/tokens/{id}/secret", get(own_secret))
        .route("/ui/tokens/{id}/edit", get(own_edit))
        .route("/ui/tokens/{id}/{action}", get(own_confirm).post(own_act))
        .route("/ui/principals/{name}/tokens", get(of_list).post(of_create))
        .route("/ui/principals/{name}/tokens/new", get(of_new))
        .route("/ui/principals/{name}/tokens/{id}", get(of_show).post(of_update))
        .route("/ui/principals/{name}/tokens/{id}/secret", get(of_secret))
        .route("/ui/principals/{name}/tokens/{id}/edit", get(of_edit))
        .route("/ui/principals/{name}/tokens/{id}/{action}", get(of_confirm).post(of_act))
}
