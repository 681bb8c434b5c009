//! A real `tokenscope serve` process on a loopback port chosen at start, over a
//! store in a temp dir, with a config the test writes; its log goes to
//! `serve.log` there; stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::binary::tokenscope;

/// A running `tokenscope serve`; stopped with SIGTERM on drop.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
    /// The temp dir holding its store, config and log.
    pub dir: tempfile::TempDir,
    /// The bootstrap admin's secret (manage on the root).
    pub admin_secret: String,
}

impl Server {
    /// Initialises a store, writes `config` (TOML) and starts `serve` on port 0.
    /// The store is a SQLite file in the server's dir, or a new database on the
    /// tests' PostgreSQL when `TOKENSCOPE_TEST_STORE=postgres`.
    pub fn start(config: &str) -> Result<Server> {
        let dir = tempfile::tempdir()?;
        let store = if crate::postgres::backend_is_postgres() {
            format!(
                "url = \"{}\"\n{}",
                crate::postgres::Postgres::shared()?.database()?,
                crate::postgres::STORE_TIMEOUT
            )
        } else {
            format!("path = \"{}\"", dir.path().join("t.db").display())
        };
        let config_path = dir.path().join("tokenscope.toml");
        std::fs::write(&config_path, format!("[store]\n{store}\n{config}"))?;
        let admin_secret = init(&config_path)?;
        Self::spawn(dir, admin_secret)
    }

    /// Starts `serve` on port 0 with the config already in `dir`
    /// (`tokenscope.toml`), logging to `serve.log` there.
    pub fn spawn(dir: tempfile::TempDir, admin_secret: String) -> Result<Server> {
        let config_path = dir.path().join("tokenscope.toml");
        let mut child = cli(&config_path)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("serve.log"))?)
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(base) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
            bail!("`serve` did not start (no `listening on` line); its log:\n{log}");
        };
        Ok(Server { child, base, dir, admin_secret })
    }

    /// The config file it was started with.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("tokenscope.toml")
    }

    /// A `tokenscope` command against this server's store and config.
    pub fn cli(&self) -> Command {
        cli(&self.config_path())
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    /// The log once `done` holds for it (log lines are written by a thread of
    /// their own, so a line may land a moment after the answer it describes);
    /// panics with the log after 20 s.
    pub fn log_once(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let started = std::time::Instant::now();
        loop {
            let log = self.log();
            if done(&log) {
                return log;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "never logged: {what}\n{log}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Adds principal `name` holding `owner_rights` and issues it a token with
    /// the `token create` arguments `args`; returns the secret.
    pub fn issue(&self, name: &str, owner_rights: &str, args: &[&str]) -> Result<String> {
        let out = self.cli().args(["principal", "add", name, "--grant", owner_rights]).output()?;
        if !out.status.success() {
            bail!("principal add failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut create = vec!["token", "create", "--owner", name, "--name", "t", "--json"];
        create.extend_from_slice(args);
        let out = self.cli().args(&create).output()?;
        if !out.status.success() {
            bail!("token create failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let v: Value = serde_json::from_slice(&out.stdout)?;
        Ok(v.get("secret").and_then(Value::as_str).context("no secret")?.to_owned())
    }

    /// `METHOD path` on the server as the holder of `secret`, with a JSON body
    /// when given. Panics (the test fails) when no answer comes at all.
    #[allow(clippy::panic)]
    pub fn api(&self, method: &str, path: &str, secret: &str, body: Option<Value>) -> crate::http::Reply {
        let mut headers = vec![("authorization".to_owned(), format!("Bearer {secret}"))];
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        crate::http::send_with(&crate::http::agent(), method, &self.url(path), &headers, body)
            .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        Ok(self.child.wait()?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tokenscope init` for the config at `config_path`: the admin's secret.
pub fn init(config_path: &Path) -> Result<String> {
    let out = cli(config_path).args(["init", "--json"]).output()?;
    if !out.status.success() {
        bail!("init failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let init: Value = serde_json::from_slice(&out.stdout)?;
    Ok(init.get("secret").and_then(Value::as_str).context("no secret from init")?.to_owned())
}

fn cli(config: &Path) -> Command {
    let mut cmd = tokenscope().unwrap_or_else(|_| Command::new("tokenscope"));
    cmd.arg("--config").arg(config).env_remove("TOKENSCOPE_STORE").env_remove("TOKENSCOPE_TOKEN");
    cmd
}
