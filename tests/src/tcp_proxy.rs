//! A TCP proxy on loopback between tokenscope and its database, which the test
//! controls: it passes bytes, holds them (read from either side, kept until
//! released: a database that does not answer), or cuts every connection and
//! refuses new ones (a database that is gone).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use anyhow::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Pass,
    Hold,
    Cut,
}

struct Shared {
    mode: Mutex<Mode>,
    changed: Condvar,
    /// Both ends of every open connection, to cut them.
    open: Mutex<Vec<TcpStream>>,
    /// Chunks read and waiting to be passed on now.
    held: AtomicUsize,
    /// Those chunks, so a test can tell which request is held.
    held_bytes: Mutex<Vec<Vec<u8>>>,
}

impl Shared {
    fn mode(&self) -> std::sync::MutexGuard<'_, Mode> {
        self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A TCP proxy to an upstream whose connections a test can cut or stall.
pub struct TcpProxy {
    /// The port to connect to instead of the upstream's.
    pub port: u16,
    shared: Arc<Shared>,
}

impl TcpProxy {
    /// Starts passing connections to `upstream`.
    pub fn start(upstream: SocketAddr) -> Result<TcpProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            mode: Mutex::new(Mode::Pass),
            changed: Condvar::new(),
            open: Mutex::new(Vec::new()),
            held: AtomicUsize::new(0),
            held_bytes: Mutex::new(Vec::new()),
        });
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if *accepting.mode() == Mode::Cut {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                let ends = [client.try_clone(), server.try_clone(), client.try_clone(), server.try_clone()];
                let [Ok(c1), Ok(s1), Ok(c2), Ok(s2)] = ends else { continue };
                if let Ok(mut open) = accepting.open.lock() {
                    open.push(c1);
                    open.push(s1);
                }
                for (from, to) in [(client, s2), (server, c2)] {
                    let shared = Arc::clone(&accepting);
                    std::thread::spawn(move || pump(from, to, &shared));
                }
            }
        });
        Ok(TcpProxy { port, shared })
    }

    /// Holds every byte from now on, either way, until `release`.
    pub fn hold(&self) {
        *self.shared.mode() = Mode::Hold;
    }

    /// Passes bytes again, the held ones first.
    pub fn release(&self) {
        *self.shared.mode() = Mode::Pass;
        self.shared.changed.notify_all();
    }

    /// Closes every connection and refuses new ones until `release`.
    pub fn cut(&self) {
        *self.shared.mode() = Mode::Cut;
        self.shared.changed.notify_all();
        if let Ok(mut open) = self.shared.open.lock() {
            for stream in open.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// How many chunks are waiting to be passed on now.
    pub fn held(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// Whether a chunk waiting now contains `needle` (a query's parameter: a
    /// secret's hash, say).
    pub fn holds(&self, needle: &[u8]) -> bool {
        let held = self.shared.held_bytes.lock().unwrap_or_else(PoisonError::into_inner);
        held.iter().any(|chunk| chunk.windows(needle.len().max(1)).any(|w| w == needle))
    }
}

/// Copies `from` to `to`, waiting while held, stopping when cut or closed.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut mode = shared.mode();
        if *mode == Mode::Hold {
            let chunk = buffer.get(..n).unwrap_or_default().to_vec();
            shared.held_bytes.lock().unwrap_or_else(PoisonError::into_inner).push(chunk.clone());
            shared.held.fetch_add(1, Ordering::SeqCst);
            while *mode == Mode::Hold {
                mode = shared.changed.wait(mode).unwrap_or_else(PoisonError::into_inner);
            }
            shared.held.fetch_sub(1, Ordering::SeqCst);
            let mut held = shared.held_bytes.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(at) = held.iter().position(|c| *c == chunk) {
                held.swap_remove(at);
            }
        }
        if *mode == Mode::Cut {
            break;
        }
        drop(mode);
        if to.write_all(buffer.get(..n).unwrap_or_default()).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
