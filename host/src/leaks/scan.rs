//! `tokenscope leaks scan`: well-formed secrets in files, in folders (everything
//! under them but `.git`, on every core) and in a git repository's history (each
//! line a commit added, read from one `git log -p`). A finding keeps the
//! secret's hint and hash, never the secret; binary files are skipped.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

use super::finder::{OVERLAP, spot};
use crate::secret::{SecretHash, hint_of};

/// One secret found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file it is in (as the scan named it; in history, the path in the commit).
    pub path: String,
    /// Its line, from 1.
    pub line: u64,
    /// The commit that added it (history scans only).
    pub commit: Option<String>,
    /// `tks_AbC1…`: which token it is, without being it.
    pub hint: String,
    /// The secret's SHA-256: what the store and introspection know it by.
    pub hash: SecretHash,
}

/// What a scan found, and what it passed over.
#[derive(Debug, Default)]
pub struct Scanned {
    /// The findings, by path, then line (history: in `git log` order).
    pub findings: Vec<Finding>,
    /// Files read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Files skipped as binary (a NUL byte in their first 8 KiB, as git and rg decide).
    pub binary: u64,
    /// Files that could not be read, with why.
    pub unreadable: Vec<String>,
}

/// How much of a file is read at once.
const CHUNK: usize = 1 << 20;
/// How much of a file's start decides whether it is binary.
const BINARY_PROBE: usize = 8 << 10;

fn finding(path: &str, line: u64, commit: Option<&str>, secret: &str) -> Finding {
    Finding {
        path: path.to_owned(),
        line,
        commit: commit.map(str::to_owned),
        hint: hint_of(secret),
        hash: SecretHash::of(secret),
    }
}

/// Counts the lines of `bytes` (its newlines).
fn newlines(bytes: &[u8]) -> u64 {
    u64::try_from(memchr::memchr_iter(b'\n', bytes).count()).unwrap_or(u64::MAX)
}

/// The secrets in one file, read a chunk at a time (so a file of any size
/// takes a bounded buffer); `None` when it is binary and `binary` (scan those
/// too) is off. Returns the bytes read.
pub fn scan_file(path: &Path, shown: &str, binary: bool, findings: &mut Vec<Finding>) -> Result<Option<u64>> {
    let mut file = File::open(path).with_context(|| format!("cannot open {shown}"))?;
    let mut buffer = vec![0u8; CHUNK + OVERLAP + 1];
    // `kept` bytes at the buffer's start are the previous chunk's tail; spots
    // before `done` in it were taken with that chunk (the one byte before the
    // tail is kept only so that a secret's left boundary can be seen).
    let mut kept = 0usize;
    let mut done = 0usize;
    // The line of the buffer's first byte.
    let mut line = 1u64;
    let mut total = 0u64;
    let mut first = true;
    loop {
        let space = buffer.get_mut(kept..).context("scan buffer")?;
        let room = space.len();
        let read = read_full(&mut file, space).with_context(|| format!("cannot read {shown}"))?;
        total = total.saturating_add(u64::try_from(read).unwrap_or(u64::MAX));
        let filled = kept + read;
        let window = buffer.get(..filled).context("scan buffer")?;
        if first {
            first = false;
            if !binary && memchr::memchr(0, window.get(..filled.min(BINARY_PROBE)).unwrap_or_default()).is_some() {
                return Ok(None);
            }
        }
        let at_end = read < room;
        // Secrets that start before the tail carried over are taken now; one
        // starting in the tail is taken with the next chunk.
        let settled = if at_end { filled } else { filled.saturating_sub(OVERLAP) };
        let mut counted_to = 0usize;
        let mut line_at = line;
        for spotted in spot(window).filter(|s| s.offset >= done && s.offset < settled) {
            line_at += newlines(window.get(counted_to..spotted.offset).unwrap_or_default());
            counted_to = spotted.offset;
            findings.push(finding(shown, line_at, None, spotted.secret));
        }
        if at_end {
            return Ok(Some(total));
        }
        let carry = settled.saturating_sub(1);
        line = line_at + newlines(window.get(counted_to..carry).unwrap_or_default());
        buffer.copy_within(carry..filled, 0);
        kept = filled - carry;
        done = settled - carry;
    }
}

/// Reads until `buffer` is full or the file ends.
fn read_full(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buffer.get_mut(filled..).filter(|r| !r.is_empty()) {
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Every file under `roots` (a root may be a file), `.git` folders left out,
/// read on every core; binary files only when `binary`.
pub fn scan_paths(roots: &[PathBuf], binary: bool) -> Result<Scanned> {
    let Some((first, rest)) = roots.split_first() else { bail!("nothing to scan: name a file or a folder") };
    for root in roots {
        std::fs::symlink_metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
    }
    let mut walk = ignore::WalkBuilder::new(first);
    for root in rest {
        walk.add(root);
    }
    walk.standard_filters(false).follow_links(false).filter_entry(|entry| entry.file_name() != ".git");
    let total = Mutex::new(Scanned::default());
    walk.build_parallel().run(|| {
        let total = &total;
        Box::new(move |entry| {
            let mut found = Vec::new();
            let mut scanned = Scanned::default();
            match entry {
                Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                    let shown = entry.path().display().to_string();
                    match scan_file(entry.path(), &shown, binary, &mut found) {
                        Ok(Some(bytes)) => {
                            scanned.files = 1;
                            scanned.bytes = bytes;
                        }
                        Ok(None) => scanned.binary = 1,
                        Err(err) => scanned.unreadable.push(format!("{err:#}")),
                    }
                }
                Ok(_) => return ignore::WalkState::Continue,
                Err(err) => scanned.unreadable.push(err.to_string()),
            }
            // A poisoned lock still holds every finding taken in: none is dropped.
            let mut total = total.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            total.findings.append(&mut found);
            total.files += scanned.files;
            total.bytes += scanned.bytes;
            total.binary += scanned.binary;
            total.unreadable.append(&mut scanned.unreadable);
            ignore::WalkState::Continue
        })
    });
    let mut total = total.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    total.findings.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    total.unreadable.sort();
    Ok(total)
}

/// Every line any commit of `repo` added (all refs), through `git log -p`.
pub fn scan_history(repo: &Path) -> Result<Scanned> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "core.quotePath=false",
            "log",
            "--all",
            "-p",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--unified=0",
            "--no-renames",
            "--format=%x00%H",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run git (is it installed?)")?;
    let stdout = child.stdout.take().context("git's output")?;
    let mut scanned = Scanned::default();
    let mut reader = BufReader::with_capacity(CHUNK, stdout);
    let mut line = Vec::new();
    let mut commit = String::new();
    let mut path = String::new();
    let mut next = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).context("reading git log")? == 0 {
            break;
        }
        scanned.bytes += u64::try_from(line.len()).unwrap_or(0);
        if let Some(hash) = line.strip_prefix(b"\0") {
            commit = String::from_utf8_lossy(hash).trim().to_owned();
        } else if let Some(new) = line.strip_prefix(b"+++ ") {
            let new = String::from_utf8_lossy(new);
            let new = new.trim_end_matches(['\n', '\r']);
            path = new.strip_prefix("b/").unwrap_or(new).to_owned();
            scanned.files += 1;
        } else if line.starts_with(b"@@ ") {
            next = hunk_start(&line).unwrap_or(0);
        } else if let Some(added) = line.strip_prefix(b"+") {
            for spotted in spot(added) {
                scanned.findings.push(finding(&path, next, Some(&commit), spotted.secret));
            }
            next += 1;
        } else if line.starts_with(b"Binary files ") {
            scanned.binary += 1;
        }
    }
    let output = child.wait_with_output().context("waiting for git")?;
    if !output.status.success() {
        bail!("git log failed in {}: {}", repo.display(), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(scanned)
}

/// The new file's first line in a hunk header `@@ -a[,b] +c[,d] @@`.
fn hunk_start(header: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(header).ok()?;
    let new = text.split(' ').find_map(|part| part.strip_prefix('+'))?;
    new.split(',').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn hunk_headers_give_the_new_line() {
        assert_eq!(hunk_start(b"@@ -0,0 +1,3 @@\n"), Some(1));
        assert_eq!(hunk_start(b"@@ -5 +7 @@ fn main() {\n"), Some(7));
        assert_eq!(hunk_start(b"@@ garbage\n"), None);
    }

    #[test]
    fn a_secret_split_across_chunks_is_found_once_on_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let secret = Secret::generate().unwrap();
        for cut in [CHUNK - 10, CHUNK - OVERLAP, CHUNK - 1, CHUNK, CHUNK + 3] {
            let mut text = "x\n".repeat(cut / 2).into_bytes();
            text.truncate(cut);
            let lines_before = newlines(&text) + 1;
            text.push(b' ');
            text.extend_from_slice(secret.expose().as_bytes());
            text.extend_from_slice(b"\nmore\n");
            text.extend_from_slice(&b"y".repeat(CHUNK));
            text.extend_from_slice(format!("\n{}\n", secret.expose()).as_bytes());
            let path = dir.path().join("big.txt");
            std::fs::write(&path, &text).unwrap();
            let mut found = Vec::new();
            scan_file(&path, "big.txt", false, &mut found).unwrap();
            let lines: Vec<_> = found.iter().map(|f| f.line).collect();
            assert_eq!(lines, [lines_before, lines_before + 3], "cut at {cut}");
            assert!(found.iter().all(|f| f.hash == secret.hash() && f.hint == secret.hint()));
        }
    }

    #[test]
    fn binary_files_are_skipped_and_folders_walked() {
        let dir = tempfile::tempdir().unwrap();
        let secret = Secret::generate().unwrap();
        std::fs::create_dir_all(dir.path().join("a/.git")).unwrap();
        std::fs::write(dir.path().join("a/one.env"), format!("TOKEN={}\n", secret.expose())).unwrap();
        std::fs::write(dir.path().join("a/.git/config"), secret.expose()).unwrap();
        std::fs::write(dir.path().join("blob.bin"), [b"\0\0".as_slice(), secret.expose().as_bytes()].concat()).unwrap();
        let scanned = scan_paths(&[dir.path().to_path_buf()], false).unwrap();
        assert_eq!(scanned.findings.len(), 1, "{scanned:?}");
        assert_eq!((scanned.files, scanned.binary), (1, 1));
        assert!(scanned.findings.first().unwrap().path.ends_with("one.env"));
        let with_binary = scan_paths(&[dir.path().to_path_buf()], true).unwrap();
        assert_eq!((with_binary.findings.len(), with_binary.files, with_binary.binary), (2, 2, 0));
        assert!(scan_paths(&[dir.path().join("missing")], false).is_err());
    }
}
