//! A real pgbouncer (Debian's package, installed when missing) in transaction
//! pooling mode in front of a test cluster, as operators put it between many
//! hosts' pools and one PostgreSQL. It multiplexes every client onto a few
//! server connections, so anything a statement leaves on a connection breaks.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::postgres::{Postgres, is_root};

const BIN: &str = "/usr/sbin/pgbouncer";
/// Server connections per database: fewer than the hosts' pools hold together.
pub const SERVER_CONNECTIONS: usize = 3;

/// A real PgBouncer in transaction mode in front of the tests' PostgreSQL; stopped on drop.
pub struct PgBouncer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl PgBouncer {
    /// pgbouncer on a loopback port of its own, in front of `pg`.
    pub fn start(pg: &Postgres) -> Result<PgBouncer> {
        crate::apt::ensure("pgbouncer", || Path::new(BIN).is_file())?;
        let dir = tempfile::Builder::new().prefix("tokenscope-pgbouncer").tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let at = dir.path().display();
        let ini = format!(
            "[databases]\n* = host=127.0.0.1 port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
             unix_socket_dir =\nauth_type = trust\nauth_file = {at}/users.txt\npool_mode = transaction\n\
             default_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 1000\nlogfile = {at}/pgbouncer.log\n\
             pidfile = {at}/pgbouncer.pid\nadmin_users = postgres\n",
            pg.port()
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), ini)?;
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n")?;
        // pgbouncer refuses to run as root.
        let mut command = if is_root() {
            let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status()?;
            anyhow::ensure!(chown.success(), "cannot give pgbouncer's directory to the postgres user");
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", BIN]);
            c
        } else {
            Command::new(BIN)
        };
        let child = command
            .arg(dir.path().join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start pgbouncer")?;
        let mut bouncer = PgBouncer { child, port, dir };
        let deadline = Instant::now() + crate::wait::DEADLINE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = bouncer.child.try_wait()? {
                bail!("pgbouncer ended ({status}): {}", bouncer.log());
            }
            if Instant::now() > deadline {
                bail!("pgbouncer does not accept connections: {}", bouncer.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(bouncer)
    }

    /// The URL of database `db` through pgbouncer.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// How many clients pgbouncer holds for database `db` (its `SHOW CLIENTS`).
    pub fn clients(&self, pg: &Postgres, db: &str) -> Result<usize> {
        let shown = pg.sql_at(self.port, "pgbouncer", "SHOW CLIENTS")?;
        Ok(shown.lines().filter(|line| line.split('|').nth(2) == Some(db)).count())
    }

    /// What pgbouncer logged (its refusals name the statement that broke).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // The pid file names pgbouncer itself (under runuser, the child is runuser).
        let pid = std::fs::read_to_string(self.dir.path().join("pgbouncer.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<u32>() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
