//! A real nginx (Debian's `nginx-light`) in front of a small upstream, asking a
//! tokenscope server through `auth_request`, on loopback ports chosen at runtime.
//! The upstream is a second nginx server block that echoes the identity headers
//! it receives (and, for `/api/upload/`, the length of the body it read). When nginx is missing it is installed with apt-get (as `.ci/run`
//! does), so the README's test command works on a fresh machine.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A real nginx with `auth_request` to a tokenscope server and an echoing upstream; stopped on drop.
pub struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
    /// The front, which asks tokenscope through `auth_request`.
    pub base: String,
    /// The echoing upstream itself (`upstream METHOD URI token=ID owner=NAME`).
    pub upstream: String,
}

/// A loopback port free at the time of asking.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The nginx binary, installed with apt-get when missing.
pub fn nginx_binary() -> Result<PathBuf> {
    let found = || ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().map(PathBuf::from).find(|p| p.is_file());
    crate::apt::ensure("nginx-light", || found().is_some())?;
    found().context("nginx is not installed")
}

impl Nginx {
    /// Starts nginx in front of an echoing upstream, checking with tokenscope at `check_base`.
    pub fn start(check_base: &str) -> Result<Nginx> {
        let binary = nginx_binary()?;
        let dir = tempfile::tempdir()?;
        let (front, upstream) = (free_port()?, free_port()?);
        let d = dir.path().display();
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
error_log {d}/error.log info;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{upstream};
        location / {{
            default_type text/plain;
            return 200 "upstream $request_method $uri token=$http_x_tokenscope_token_id owner=$http_x_tokenscope_owner\n";
        }}
        # Uploads are read whole and passed on with their length, which the answer names.
        location /api/upload/ {{
            proxy_pass http://127.0.0.1:{upstream}/received$uri;
        }}
        location /received/ {{
            default_type text/plain;
            return 200 "received $request_method $uri length=$http_content_length token=$http_x_tokenscope_token_id\n";
        }}
    }}
    server {{
        listen 127.0.0.1:{front};
        location = /_tokenscope_check {{
            internal;
            proxy_pass {check_base}/v1/check;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
        }}
        location / {{
            auth_request /_tokenscope_check;
            auth_request_set $ts_token $upstream_http_x_tokenscope_token_id;
            auth_request_set $ts_owner $upstream_http_x_tokenscope_owner;
            proxy_set_header X-Tokenscope-Token-Id $ts_token;
            proxy_set_header X-Tokenscope-Owner $ts_owner;
            proxy_pass http://127.0.0.1:{upstream};
        }}
    }}
}}
"#
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let child = Command::new(&binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("failed to start `{}`", binary.display()))?;
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", front)).is_err() || TcpStream::connect(("127.0.0.1", upstream)).is_err()
        {
            if started.elapsed() > Duration::from_secs(10) {
                let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
                bail!("nginx did not start listening:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Nginx {
            child,
            _dir: dir,
            base: format!("http://127.0.0.1:{front}"),
            upstream: format!("http://127.0.0.1:{upstream}"),
        })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
