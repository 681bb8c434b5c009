//! `jco serve`, jco's `wasi:http` host in Node: a second runtime for the
//! composed gateway beside `wasmtime serve`, on a loopback port picked for it,
//! answering once it accepts connections; killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::jco::jco;

/// A running `jco serve`.
pub struct JcoServe {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl JcoServe {
    /// Serves `component`, transpiled into `work`. With `isolate`, every request
    /// gets a new component instance (`--isolate-requests instance`, as
    /// `wasmtime serve` does by default); without, one instance answers all.
    pub fn start(component: &Path, work: &Path, isolate: bool) -> Result<JcoServe> {
        // A port another process takes between this probe and jco's bind makes
        // jco exit; pick again.
        let mut last = None;
        for _ in 0..3 {
            match JcoServe::start_once(component, work, isolate) {
                Ok(served) => return Ok(served),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("jco serve did not start")))
    }

    fn start_once(component: &Path, work: &Path, isolate: bool) -> Result<JcoServe> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(jco()?);
        command
            .arg("serve")
            .arg(component)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--jco-dir"])
            .arg(work.join(format!("jco-serve-{port}")));
        if isolate {
            command.args(["--isolate-requests", "instance"]);
        }
        let mut child =
            command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().context("failed to start jco serve")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut said = Vec::new();
        loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                bail!("jco serve exited before serving: {}", said.join("\n"));
            };
            let line = line?;
            if line.contains("Server listening @") {
                break;
            }
            said.push(line);
        }
        // Keep draining stderr so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let served = JcoServe { child, base: format!("http://127.0.0.1:{port}") };
        // The line may come before the socket accepts (the shim binds asynchronously).
        crate::wait::until("jco serve accepting connections", Duration::from_millis(20), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Ok(served)
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for JcoServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
