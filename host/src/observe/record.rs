//! Records a sample of live decisions to a JSON-lines file (`record.file`,
//! every `record.every`-th decision) for `tokenscope policy diff`: each line is a
//! test-vector case (token grants and state, owner rights, request) with the
//! decision observed and the module that made it. The secret is never among it.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

use super::{Observed, Queue, Tapped};
use crate::case::{RequestSpec, TokenSpec};
use crate::vectors::Vector;

/// How many sampled decisions may wait for the writer thread.
const QUEUE: usize = 4096;

/// Appends a sample of live decisions to a JSON-lines file, on its own thread.
pub struct Recorder {
    every: u64,
    seen: AtomicU64,
    queue: Queue,
}

impl Recorder {
    /// Appends to `path` (created mode 0600), one line per `every` decisions.
    pub fn open(path: &Path, every: u64) -> Result<Recorder> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("failed to open the request recording `{}`", path.display()))?;
        let mut out = BufWriter::new(file);
        let queue = Queue::spawn("tokenscope-record", QUEUE, move |observed| write(&mut out, &observed))?;
        tracing::info!(file = %path.display(), every, "recording a sample of decisions");
        Ok(Recorder { every: every.max(1), seen: AtomicU64::new(0), queue })
    }

    /// Queues `tapped` if it is the sample's turn (every `every`-th decision).
    pub fn offer(&self, tapped: &Tapped<'_>) {
        if self.seen.fetch_add(1, Ordering::Relaxed).is_multiple_of(self.every) {
            self.queue.offer(tapped.to_owned());
        }
    }

    /// Sampled decisions not written because the writer was behind.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }
}

/// The case a decision is recorded as.
pub fn vector_of(o: &Observed) -> Vector {
    Vector {
        name: Some(format!("token {} at @{}", o.token, o.now.secs())),
        seed: None,
        token: TokenSpec::of(&o.grants, &o.owner_rights, o.status.expires_at, o.status.revoked),
        request: RequestSpec {
            action: o.action.clone(),
            resource: o.resource.clone(),
            now: Some(format!("@{}", o.now.secs())),
        },
        expect: o.verdict.code_str().to_owned(),
        grant: None,
        policy: Some(o.policy.clone()),
    }
}

fn write(out: &mut BufWriter<File>, observed: &Observed) {
    let written = serde_json::to_writer(&mut *out, &vector_of(observed))
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(err) = written {
        tracing::error!("failed to record a decision: {err}");
    }
}
