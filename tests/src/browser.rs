//! A real headless Chromium driven over WebDriver: Debian's `chromium` and
//! `chromium-driver` (installed with apt-get when missing, as nginx is),
//! ChromeDriver on a loopback port chosen at start, and a `fantoccini` client
//! over plain HTTP. Dropping it ends the browser and the driver.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::apt;
use crate::nginx::free_port;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A browser session and what runs it.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// Runs the client's futures (tests are synchronous).
    pub runtime: tokio::runtime::Runtime,
    driver: Child,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium at `width` x `height`.
    pub fn start(width: u32, height: u32) -> Result<Browser> {
        apt::ensure("chromium", || Path::new(CHROMIUM).is_file())?;
        apt::ensure("chromium-driver", || Path::new(CHROMEDRIVER).is_file())?;
        let port = free_port()?;
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start chromedriver")?;
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = driver.kill();
                bail!("chromedriver did not start listening");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--window-size={width},{height}")],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = runtime
            .block_on(
                ClientBuilder::new(connector).capabilities(capabilities).connect(&format!("http://127.0.0.1:{port}")),
            )
            .context("failed to open a Chromium session")?;
        Ok(Browser { client, runtime, driver })
    }

    /// Runs a client future to its end.
    pub fn run<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    /// Writes a PNG screenshot of the window to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self.run(self.client.screenshot())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png).with_context(|| format!("failed to write {}", path.display()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let client = self.client.clone();
        let _ = self.runtime.block_on(client.close());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
