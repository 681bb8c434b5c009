//! A real Caddy 2 (Debian's `caddy`) with `forward_auth` in front of an upstream,
//! asking a tokenscope server, on loopback ports chosen at runtime: the
//! forward-auth convention (`X-Forwarded-Method`/`X-Forwarded-Uri`, the client's
//! own headers passed on), which Traefik's `forwardAuth` shares. The upstream is
//! a second Caddy site that echoes the request and the identity headers. When
//! Caddy is missing it is installed with apt-get, as nginx is.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::nginx::free_port;

/// A real Caddy with `forward_auth` to a tokenscope server, on a loopback port; stopped on drop.
pub struct Caddy {
    child: Child,
    dir: tempfile::TempDir,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
}

/// The caddy binary, installed with apt-get when missing (the package's service
/// is not started: machines of this kind have no init system, and the test's own
/// Caddy uses its own ports and directories).
pub fn caddy_binary() -> Result<PathBuf> {
    let path = PathBuf::from("/usr/bin/caddy");
    crate::apt::ensure("caddy", || path.is_file())?;
    Ok(path)
}

impl Caddy {
    /// Starts Caddy with `forward_auth` to the tokenscope server at `check_base`.
    pub fn start(check_base: &str) -> Result<Caddy> {
        let binary = caddy_binary()?;
        let dir = tempfile::tempdir()?;
        let (front, upstream) = (free_port()?, free_port()?);
        let check = check_base.trim_start_matches("http://");
        let conf = format!(
            r#"{{
	admin off
	auto_https off
}}
http://127.0.0.1:{front} {{
	forward_auth {check} {{
		uri /v1/check
		copy_headers X-Tokenscope-Token-Id X-Tokenscope-Owner
	}}
	reverse_proxy 127.0.0.1:{upstream}
}}
http://127.0.0.1:{upstream} {{
	respond "upstream {{http.request.method}} {{http.request.orig_uri.path}} token={{http.request.header.X-Tokenscope-Token-Id}} owner={{http.request.header.X-Tokenscope-Owner}}" 200
}}
"#
        );
        let conf_path = dir.path().join("Caddyfile");
        std::fs::write(&conf_path, conf)?;
        let log = std::fs::File::create(dir.path().join("caddy.log"))?;
        let child = Command::new(&binary)
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&conf_path)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("failed to start `{}`", binary.display()))?;
        let caddy = Caddy { child, dir, base: format!("http://127.0.0.1:{front}") };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", front)).is_err() || TcpStream::connect(("127.0.0.1", upstream)).is_err()
        {
            if started.elapsed() > Duration::from_secs(15) {
                bail!("caddy did not start listening:\n{}", caddy.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(caddy)
    }

    /// What Caddy logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("caddy.log")).unwrap_or_default()
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
