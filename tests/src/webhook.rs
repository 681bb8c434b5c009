//! A webhook receiver on loopback: keeps each request's body and answers 500 to
//! the first `failures` requests (to see a sender retry), then 200.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use anyhow::Result;

/// A receiver that keeps what it is sent.
pub struct Webhook {
    /// Its URL.
    pub url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    tries: Arc<Mutex<u32>>,
}

impl Webhook {
    /// Starts it on a free loopback port; the first `failures` deliveries get 500.
    pub fn start(failures: u32) -> Result<Webhook> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let tries = Arc::new(Mutex::new(0u32));
        let (kept, counted) = (Arc::clone(&bodies), Arc::clone(&tries));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Ok(clone) = stream.try_clone() else { continue };
                let mut reader = BufReader::new(clone);
                let mut length = 0usize;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let attempt = {
                    let mut tries = counted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    *tries += 1;
                    *tries
                };
                let status = if attempt <= failures { "500 Internal Server Error" } else { "200 OK" };
                if attempt > failures {
                    kept.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(String::from_utf8_lossy(&body).into());
                }
                let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Ok(Webhook { url, bodies, tries })
    }

    /// The bodies delivered (answered 200) so far.
    pub fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Every delivery attempt so far, failed ones included.
    pub fn tries(&self) -> u32 {
        *self.tries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
