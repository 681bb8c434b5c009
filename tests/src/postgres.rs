//! A real PostgreSQL for the tests: Debian's server (package `postgresql`,
//! installed when missing), a cluster made by `initdb` in a temp dir as the
//! unprivileged `postgres` user (initdb refuses root), listening on loopback
//! only, with a database per test. `shared()` is one cluster per test process,
//! stopped by a watchdog when the process ends; `start()` is a cluster of the
//! test's own, which it may stop and start again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

/// Which backend `Server::start` and `TestAuthority` use: `postgres` when
/// `TOKENSCOPE_TEST_STORE=postgres`, else SQLite.
pub fn backend_is_postgres() -> bool {
    std::env::var("TOKENSCOPE_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// The `[store]` line the tests' PostgreSQL stores are opened with: a
/// generous bound for one operation. A machine busy with other work has held
/// a test cluster silent for over four seconds (past the 5 s default, a
/// change is refused with 503, as it should be); what the tests check is what
/// the hosts do, not how fast the machine is. The slow-store tests keep the
/// default and hold the database themselves.
pub const STORE_TIMEOUT: &str = "timeout = \"20s\"";

/// A real PostgreSQL server in a temp dir, listening on loopback; stopped on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

static SHARED: OnceLock<Postgres> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

/// A directory for a new cluster: in memory (`/dev/shm`) where there is one.
/// On a disk, a machine busy writing (a build beside the tests) can hold every
/// write of the cluster's for seconds while the kernel flushes dirty pages, and
/// the hosts rightly answer 503 `store-unavailable` past their 5 s bound: the
/// tests are about the hosts, not about the disk.
fn cluster_dir() -> Result<tempfile::TempDir> {
    let builder = tempfile::Builder::new().prefix("tokenscope-pg").clone();
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return Ok(dir);
    }
    Ok(builder.tempdir()?)
}

pub(crate) fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    /// A new cluster of the caller's own, running.
    pub fn start() -> Result<Postgres> {
        crate::apt::ensure("postgresql", || bin_dir().is_some())?;
        let bin = bin_dir().context("no PostgreSQL server binaries under /usr/lib/postgresql")?;
        let dir = cluster_dir()?;
        if is_root() {
            let chown = Command::new("chown").arg("postgres:postgres").arg(dir.path()).status()?;
            if !chown.success() {
                bail!("cannot give the cluster's directory to the postgres user");
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let pg = Postgres { dir, bin, port };
        let data = pg.data();
        pg.run(pg.bin.join("initdb"), &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])?;
        pg.up()?;
        Ok(pg)
    }

    /// The cluster every test of this process shares.
    pub fn shared() -> Result<&'static Postgres> {
        if let Some(pg) = SHARED.get() {
            return Ok(pg);
        }
        let pg = Postgres::start()?;
        pg.watch(std::process::id())?;
        // Another thread may have started one meanwhile: that one is dropped (stopped).
        Ok(SHARED.get_or_init(|| pg))
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, program: PathBuf, args: &[&str]) -> Result<()> {
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command.args(args).current_dir(self.dir.path()).stdin(Stdio::null()).output()?;
        if !out.status.success() {
            bail!(
                "{} failed: {}{}",
                program.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn up(&self) -> Result<()> {
        let options = format!(
            "-p {} -h 127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c max_connections=400",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").display().to_string();
        self.run(self.bin.join("pg_ctl"), &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "-t", "30", "start"])
    }

    /// Stops the server at once (`immediate`: like a crash, no clean shutdown).
    pub fn kill(&self) -> Result<()> {
        self.run(self.bin.join("pg_ctl"), &["-D", &self.data(), "-m", "immediate", "-w", "stop"])
    }

    /// Stops the cluster when process `pid` ends (for the shared cluster, never dropped).
    fn watch(&self, pid: u32) -> Result<()> {
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {} {}/pg_ctl -D {} -m immediate stop; rm -rf {}",
            if is_root() { "runuser -u postgres --" } else { "" },
            self.bin.display(),
            self.data(),
            self.dir.path().display()
        );
        Command::new("sh")
            .args(["-c", &stop])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the cluster's watchdog")?;
        Ok(())
    }

    /// The URL of database `db`.
    /// The port the cluster listens on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` on it.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> Result<String> {
        let name = format!("t{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::Relaxed));
        self.sql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url(&name))
    }

    /// Runs `sql` in database `db` with psql; its output.
    pub fn sql(&self, db: &str, sql: &str) -> Result<String> {
        self.sql_at(self.port, db, sql)
    }

    /// `sql`, with this cluster's psql, against whatever listens on loopback `port` (a pooler).
    pub fn sql_at(&self, port: u16, db: &str, sql: &str) -> Result<String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-d", db, "-At", "-c", sql])
            .output()?;
        if !out.status.success() {
            bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// The cluster's directory (its log is `postgres.log` there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
