//! `wasmtime serve`, the wasmtime CLI's `wasi:http/proxy` host, running a
//! composed gateway on a loopback port it picks (read from its
//! `Serving HTTP on ...` line); killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::wasmtime_cli::wasmtime;

/// A running `wasmtime serve`.
pub struct WasmtimeServe {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl WasmtimeServe {
    /// Serves `component`; `reuse` sends up to that many requests to one instance
    /// (`--max-instance-reuse-count`; 1 is a new instance per request, the default).
    pub fn start(component: &Path, reuse: u32) -> Result<WasmtimeServe> {
        WasmtimeServe::start_with(component, &["--max-instance-reuse-count", &reuse.to_string()])
    }

    /// Serves `component` with further `wasmtime serve` options (`-W timeout=1s`, ...).
    pub fn start_with(component: &Path, options: &[&str]) -> Result<WasmtimeServe> {
        let mut child = Command::new(wasmtime()?)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(options)
            .arg(component)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("failed to start wasmtime serve")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                bail!("wasmtime serve exited before serving");
            };
            let line = line?;
            if let Some(url) = line.trim().strip_prefix("Serving HTTP on ") {
                break url.trim_end_matches('/').to_owned();
            }
        };
        // Keep draining stderr so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(WasmtimeServe { child, base })
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for WasmtimeServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
