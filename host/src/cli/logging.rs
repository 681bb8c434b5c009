//! Where log lines go: stderr, `TOKENSCOPE_LOG` for the level. One-shot commands
//! write directly; `serve` writes through a non-blocking writer on its own
//! thread (a full buffer drops lines rather than holding up a request; a burst of
//! lines is one write, and the thread is woken at most once per `PACE`), as text
//! or as one JSON object per line (`log.format`).

use crate::config::LogFormat;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};

/// Lines the non-blocking writer holds before it drops new ones.
const BUFFERED_LINES: usize = 65_536;

/// Bytes the writer thread gathers before a write: it writes whatever it has
/// whenever it runs out of lines.
const WRITE_BUFFER: usize = 64 << 10;

/// How long the writer thread rests after a write. Waking it for every line
/// cost about 9% of a busy server's CPU (a context switch per decision); resting
/// lets lines gather in the queue meanwhile, so a line waits at most this long.
const PACE: std::time::Duration = std::time::Duration::from_millis(5);

/// A writer whose `flush` (called by the writer thread whenever its queue runs
/// dry) writes out and then rests for `PACE`.
struct Paced<W: std::io::Write>(W);

impl<W: std::io::Write> std::io::Write for Paced<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let flushed = self.0.flush();
        std::thread::sleep(PACE);
        flushed
    }
}

fn level(default: tracing::Level) -> tracing::Level {
    std::env::var("TOKENSCOPE_LOG").ok().and_then(|l| l.parse::<tracing::Level>().ok()).unwrap_or(default)
}

/// Logs of a one-shot command: written to stderr as they happen.
pub(crate) fn init(default: tracing::Level) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(level(default))
        .with_target(false)
        .try_init();
}

/// Logs of a server: off the request path, in `format`. Keep the guard until
/// exit: dropping it flushes what is buffered.
pub(crate) fn init_server(format: LogFormat) -> WorkerGuard {
    let stderr = Paced(std::io::BufWriter::with_capacity(WRITE_BUFFER, std::io::stderr()));
    let (writer, guard) = NonBlockingBuilder::default().lossy(true).buffered_lines_limit(BUFFERED_LINES).finish(stderr);
    // Decision lines skip `tracing`'s formatting but share its writer and stream.
    crate::observe::decision_log::install(writer.clone(), format);
    let level = level(tracing::Level::INFO);
    let _ = match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_max_level(level)
            .with_target(false)
            .try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(writer)
            .with_max_level(level)
            .with_target(false)
            .try_init(),
    };
    guard
}
