//! A fleet under test: a PostgreSQL cluster of its own (so a test may kill
//! it), one database, and `tokenscope serve` hosts sharing it, each with its
//! own directory and log; the store is initialised once. The hosts' pools
//! reach the database directly or through a real pgbouncer (`Via`).

use anyhow::Result;
use serde_json::{Value, json};

use crate::http::{Reply, agent, send_with};
use crate::pgbouncer::PgBouncer;
use crate::postgres::Postgres;
use crate::server::{Server, init};

/// Routes for the check endpoint: downloads from a channel.
pub const ROUTES: &str = "[[check.routes]]\nmethod = \"GET\"\npath = \"/api/repo/{channel}/{file}\"\n\
                          action = \"artifact:download\"\nresource = \"channel/{channel}/artifact/{file}\"\n";

/// How the hosts' pools reach the database.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    /// Straight to PostgreSQL.
    Direct,
    /// Through pgbouncer 1.18 in transaction mode (`store.url`, with
    /// `store.prepared_statements = false`: it cannot keep them), the
    /// listening connection straight to PostgreSQL (`store.listen_url`).
    PgBouncer,
}

/// Hosts sharing one PostgreSQL store, each a real `tokenscope serve`.
pub struct Fleet {
    /// The hosts, in start order.
    pub hosts: Vec<Server>,
    /// The administrator's secret (valid on every host).
    pub admin: String,
    /// The database itself (not the pooler).
    pub url: String,
    /// The config every host was started with.
    pub config: String,
    /// The pooler between the hosts and the database, when the fleet has one.
    pub bouncer: Option<PgBouncer>,
    // Last: dropped after the hosts, so they never outlive their database by much.
    /// The database server.
    pub pg: Postgres,
}

impl Fleet {
    /// `n` hosts on a new database, with `extra` config beside the store and routes.
    pub fn start(via: Via, n: usize, extra: &str) -> Result<Fleet> {
        Self::start_each(via, &vec![extra; n])
    }

    /// A host per entry of `extras`, each with that config beside the store and routes.
    pub fn start_each(via: Via, extras: &[&str]) -> Result<Fleet> {
        Self::start_bounded(via, crate::postgres::STORE_TIMEOUT, extras)
    }

    /// `n` hosts whose store operations end after the default 5 s: for a test
    /// that needs a dead database's answer (503) before a pooler gives up on it.
    pub fn start_with_default_timeout(via: Via, n: usize) -> Result<Fleet> {
        Self::start_bounded(via, "", &vec![""; n])
    }

    /// A host per entry of `extras`, with `bound` (a `timeout = ...` line, or
    /// nothing for the default) in `[store]`.
    fn start_bounded(via: Via, bound: &str, extras: &[&str]) -> Result<Fleet> {
        let pg = Postgres::start()?;
        let url = pg.database()?;
        let (bouncer, store) = match via {
            Via::Direct => (None, format!("url = \"{url}\"\n")),
            Via::PgBouncer => {
                let bouncer = PgBouncer::start(&pg)?;
                let db = url.rsplit('/').next().unwrap_or_default();
                let store =
                    format!("url = \"{}\"\nlisten_url = \"{url}\"\nprepared_statements = false\n", bouncer.url(db));
                (Some(bouncer), store)
            }
        };
        let config = format!("[store]\n{store}{bound}\n{ROUTES}");
        let mut hosts = Vec::new();
        let mut admin = String::new();
        for (i, extra) in extras.iter().enumerate() {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("tokenscope.toml");
            std::fs::write(&path, format!("{config}{extra}"))?;
            if i == 0 {
                admin = init(&path)?;
            }
            hosts.push(Server::spawn(dir, admin.clone())?);
        }
        if let Some(bouncer) = &bouncer {
            // The pools really go through it (the listening connections do not).
            let db = url.rsplit('/').next().unwrap_or_default();
            crate::wait::until("pgbouncer holds a client of every host", std::time::Duration::from_millis(100), || {
                bouncer.clients(&pg, db).is_ok_and(|clients| clients >= hosts.len())
            });
        }
        Ok(Fleet { hosts, admin, url, config, bouncer, pg })
    }

    /// A JSON API call to host `i` with the admin's token. A 503
    /// `store-unavailable` or a 408 (the database did not answer within the
    /// host's bound: on a machine busy with other work it may not) is asked
    /// again until `wait::DEADLINE`, and said on stderr with the host's log.
    pub fn call(&self, i: usize, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_again(i, method, path, body).0
    }

    /// `call`, and whether it was asked again after a 503: a write asked again
    /// may find its own first attempt done (409 for an add, 404 for an unbind).
    pub fn call_again(&self, i: usize, method: &str, path: &str, body: Option<Value>) -> (Reply, bool) {
        let started = std::time::Instant::now();
        let mut again = false;
        loop {
            let reply = self.call_once(i, method, path, body.clone());
            // 408: the server's own request bound ran out while it waited for the store.
            let unavailable = (reply.status == 503 && reply.body.contains("\"store-unavailable\""))
                || (reply.status == 408 && reply.body.contains("\"timeout\""));
            if !unavailable || started.elapsed() > crate::wait::DEADLINE {
                return (reply, again);
            }
            eprintln!("{method} {path} on host {i}: {}, asked again\n{}", reply.status, reply.body);
            again = true;
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    fn call_once(&self, i: usize, method: &str, path: &str, body: Option<Value>) -> Reply {
        let bearer = format!("Bearer {}", self.admin);
        let mut headers = vec![("authorization", bearer.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let unanswered = |why: String| Reply { status: 0, headers: ureq::http::HeaderMap::new(), body: why };
        let Some(host) = self.hosts.get(i) else { return unanswered(format!("no host {i}")) };
        let mut reply =
            send_with(&agent(), method, &host.url(path), &headers, body).unwrap_or_else(|e| unanswered(e.to_string()));
        if reply.status >= 500 {
            // The host's reason is in its log, not its answer: show it with the failure.
            let log = host.log();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            reply.body.push_str(&format!("\n--- the last lines of host {i}'s log ---\n"));
            for line in tail.iter().rev() {
                reply.body.push_str(line);
                reply.body.push('\n');
            }
        }
        reply
    }

    /// Adds principal `name` with read on `channel/main` (through host 0).
    pub fn principal(&self, name: &str) -> Result<()> {
        let (reply, again) =
            self.call_again(0, "POST", "/api/principals", Some(json!({"name": name, "grants": ["channel/main=read"]})));
        let done = reply.status == 201 || reply.status == 200 || (again && reply.status == 409);
        anyhow::ensure!(done, "add principal: {} {}", reply.status, reply.body);
        Ok(())
    }

    /// A download token of `owner` made through host `i`: its id and secret.
    pub fn token(&self, i: usize, owner: &str) -> Result<(i64, String)> {
        let body = json!({"name": "ci", "scopes": ["artifact:download"], "ttl": "1h"});
        let reply = self.call(i, "POST", &format!("/api/principals/{owner}/tokens"), Some(body));
        anyhow::ensure!(reply.status == 201 || reply.status == 200, "create token: {} {}", reply.status, reply.body);
        let v = reply.json();
        let id = v.get("id").and_then(Value::as_i64).ok_or_else(|| anyhow::anyhow!("no id: {}", reply.body))?;
        let secret = v.get("secret").and_then(Value::as_str).ok_or_else(|| anyhow::anyhow!("no secret"))?.to_owned();
        Ok((id, secret))
    }
}

/// What host `server` decides for a download with `secret`: `allow`, or the deny code (`status:0` when unreachable).
pub fn decide(agent: &ureq::Agent, server: &Server, secret: &str) -> (u16, String) {
    let headers =
        [("x-original-uri", "/api/repo/main/pkg-1.0.conda"), ("x-original-method", "GET"), ("x-access-token", secret)];
    match send_with(agent, "GET", &server.url("/v1/check"), &headers, Vec::new()) {
        Ok(reply) => {
            let code = reply.header("x-tokenscope-deny-code").unwrap_or("allow").to_owned();
            (reply.status, code)
        }
        Err(e) => (0, e.to_string()),
    }
}
