//! A real `tokenscope serve` process on a loopback port chosen at start, over a
//! store in a temp dir, with a config the test writes; stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::binary::tokenscope;

pub struct Server {
    pub child: Child,
    pub base: String,
    pub dir: tempfile::TempDir,
    /// The bootstrap admin's secret (manage on the root).
    pub admin_secret: String,
}

impl Server {
    /// Initialises a store, writes `config` (TOML) and starts `serve` on port 0.
    pub fn start(config: &str) -> Result<Server> {
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("tokenscope.toml");
        std::fs::write(&config_path, format!("[store]\npath = \"{}\"\n{config}", dir.path().join("t.db").display()))?;
        let out = cli(&config_path).args(["init", "--json"]).output()?;
        if !out.status.success() {
            bail!("init failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let init: Value = serde_json::from_slice(&out.stdout)?;
        let admin_secret = init.get("secret").and_then(Value::as_str).context("no secret from init")?.to_owned();
        let mut child = cli(&config_path)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let base = line.trim().strip_prefix("listening on ").context("no `listening on` line")?.to_owned();
        Ok(Server { child, base, dir, admin_secret })
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("tokenscope.toml")
    }

    /// A `tokenscope` command against this server's store and config.
    pub fn cli(&self) -> Command {
        cli(&self.config_path())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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

fn cli(config: &Path) -> Command {
    let mut cmd = tokenscope().unwrap_or_else(|_| Command::new("tokenscope"));
    cmd.arg("--config").arg(config).env_remove("TOKENSCOPE_STORE").env_remove("TOKENSCOPE_TOKEN");
    cmd
}
