//! An upstream on loopback that keeps every request head it receives, header
//! names as they arrived on the wire, and answers 200: for seeing exactly
//! what a proxy (the gateway in filter mode) passed on.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use anyhow::Result;

/// One request as it arrived: its request line and header lines.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The request line, e.g. `GET /x HTTP/1.1`.
    pub line: String,
    /// The header lines, as sent.
    pub headers: Vec<(String, String)>,
}

/// An HTTP upstream on loopback that answers 200 and keeps what it was sent.
pub struct RecordingUpstream {
    /// Its base URL.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl RecordingUpstream {
    /// Starts it on a free loopback port.
    pub fn start() -> Result<RecordingUpstream> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Ok(clone) = stream.try_clone() else { continue };
                let mut reader = BufReader::new(clone);
                let mut request = Seen::default();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    let text = line.trim_end().to_owned();
                    if request.line.is_empty() {
                        request.line = text;
                    } else if let Some((name, value)) = text.split_once(':') {
                        request.headers.push((name.to_owned(), value.trim().to_owned()));
                    }
                    line.clear();
                }
                if let Ok(mut all) = kept.lock() {
                    all.push(request);
                }
                let _ = write!(stream, "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n");
            }
        });
        Ok(RecordingUpstream { url, seen })
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
