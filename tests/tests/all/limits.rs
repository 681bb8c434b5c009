//! Resource limits of a real `tokenscope serve` under hostile clients (issue 8):
//! module uploads are authorised before their body is read, slow or idle
//! connections are closed after the header-read timeout, a module upload gets
//! `request_timeout` to arrive (then its gate runs to the end), and connections beyond
//! `server.max_connections` wait instead of starving the process.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tokenscope_tests::http::{agent, send, send_with};
use tokenscope_tests::modules::{VARIANT, bytes};
use tokenscope_tests::server::Server;
use tokenscope_tests::wait;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn connect(base: &str) -> TcpStream {
    let stream = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
}

/// Reads until the server closes the connection; returns what came.
fn until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn unauthenticated_module_uploads_are_refused_before_their_body_is_read() {
    let server = Server::start("").unwrap();
    let pid = server.child.id();
    let before = rss_kib(pid);
    let chunk = vec![0u8; 1 << 20];
    let uploads: Vec<_> = (0..20)
        .map(|_| {
            let (base, chunk) = (server.base.clone(), chunk.clone());
            std::thread::spawn(move || {
                let mut stream = connect(&base);
                let head = "POST /api/system/policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/wasm\r\n\
                            Content-Length: 15000000\r\n\r\n";
                stream.write_all(head.as_bytes()).unwrap();
                // Part of the body; the answer comes without the rest.
                let _ = stream.write_all(&chunk);
                let mut answer = vec![0u8; 4096];
                let n = stream.read(&mut answer).unwrap_or(0);
                String::from_utf8_lossy(answer.get(..n).unwrap_or(&[])).into_owned()
            })
        })
        .collect();
    for upload in uploads {
        let answer = upload.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert!(answer.contains("missing-token"), "{answer}");
    }
    let after = rss_kib(pid);
    eprintln!("server RSS before 20 unauthenticated 15 MB uploads: {before} KiB, after: {after} KiB");
    assert!(after < before + 48 * 1024, "RSS grew from {before} KiB to {after} KiB");
}

#[test]
fn a_stalled_module_upload_gets_408_but_a_received_one_is_answered_with_what_became_of_it() {
    // One second to arrive: the gate (compiling, vectors, safety) may take longer,
    // yet its answer is the outcome, never a 408 for a module that went live.
    let server = Server::start("[server]\nrequest_timeout = \"1s\"\n[policy]\ncache = false\n").unwrap();
    let auth = format!("Bearer {}", server.admin_secret);
    let active = || {
        let reply = send("GET", &server.url("/api/system/policy"), &[("authorization", auth.as_str())]);
        reply.json()["active"]["sha256"].as_str().unwrap().to_owned()
    };
    let before = active();

    // Authorised, then half the body and nothing more.
    let module = bytes(VARIANT);
    let mut stream = connect(&server.base);
    let head = format!(
        "POST /api/system/policy HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
         Content-Type: application/wasm\r\nContent-Length: {}\r\n\r\n",
        module.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&module[..module.len() / 2]).unwrap();
    let answer = until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    assert_eq!(active(), before, "a module that did not arrive is not loaded");

    let headers = [("authorization", auth.as_str()), ("content-type", "application/wasm")];
    let reply = send_with(&agent(), "POST", &server.url("/api/system/policy"), &headers, module).unwrap();
    assert_eq!((reply.status, reply.json()["outcome"].as_str()), (200, Some("swapped")), "{}", reply.body);
    assert_ne!(active(), before);
}

#[test]
fn slow_and_idle_connections_are_closed_and_health_stays_reachable() {
    let server = Server::start("[server]\nheader_read_timeout = \"1s\"\nmax_connections = 8\n").unwrap();
    // A slow client: half a request line, then nothing.
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = connect(&server.base);
            s.write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    // An idle keep-alive connection after one answered request.
    let mut idle = connect(&server.base);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // Health answers while slow clients hold (and then lose) every slot.
    let health = send("GET", &server.url("/healthz"), &[]);
    assert_eq!(health.status, 200);
    for stream in &mut slow {
        let got = until_closed(stream);
        assert!(!got.contains("200 OK"), "a slow request was answered: {got}");
    }
    wait::report_lag("limits.forty-slow-clients-over-eight-slots", started.elapsed());
    let mut answer = vec![0u8; 4096];
    let n = idle.read(&mut answer).unwrap();
    assert!(String::from_utf8_lossy(answer.get(..n).unwrap()).starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    let rest = until_closed(&mut idle);
    assert!(rest.is_empty(), "{rest}");
    wait::report_lag("limits.idle-connection-closed", idle_from.elapsed());
    assert_eq!(send("GET", &server.url("/healthz"), &[]).status, 200);
}
