//! Time inside the host: `UnixTime`, a point in whole seconds since the Unix
//! epoch (a bare `u64` only at the WIT and SQL edges), read from RFC 3339, dates
//! and `@UNIX`; the clock it comes from (the system's, or one tests move); and
//! `Moment`, the monotonic milliseconds the caches measure their age in.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A point in time: whole seconds since 1970-01-01T00:00:00Z. Serialized as
/// that number, as the API and the store have always shown times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(u64);

/// The system clock's time now in unix milliseconds (for lags between processes).
pub fn unix_ms() -> u64 {
    u64::try_from(Timestamp::now().as_millisecond()).unwrap_or(0)
}

impl UnixTime {
    /// The time `seconds` after the epoch (the WIT and SQL form).
    pub const fn from_secs(seconds: u64) -> UnixTime {
        UnixTime(seconds)
    }

    /// Seconds since the epoch (the WIT and SQL form).
    pub const fn secs(self) -> u64 {
        self.0
    }

    /// The system clock's time now (the epoch if the clock is before it). On
    /// Linux it is read from the kernel's coarse clock, which costs a few
    /// nanoseconds (no timer access, where the precise one costs tens on every
    /// check) and runs at most one tick (1-10 ms) behind: whole seconds, expiry
    /// included, turn that much later.
    pub fn now() -> UnixTime {
        #[cfg(target_os = "linux")]
        let seconds = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec;
        #[cfg(not(target_os = "linux"))]
        let seconds = Timestamp::now().as_second();
        UnixTime(u64::try_from(seconds).unwrap_or(0))
    }

    /// `self + duration`, in whole seconds, saturating at the end of time.
    pub fn saturating_add(self, duration: Duration) -> UnixTime {
        UnixTime(self.0.saturating_add(duration.as_secs()))
    }

    /// How long after `earlier` this is; `None` when it is not after it.
    pub fn since(self, earlier: UnixTime) -> Option<Duration> {
        self.0.checked_sub(earlier.0).map(Duration::from_secs)
    }

    /// Parses `2027-01-01T00:00:00Z`, `2027-01-01` (midnight UTC) or `@1798761600`.
    pub fn parse(text: &str) -> Result<UnixTime> {
        let seconds = if let Some(unix) = text.strip_prefix('@') {
            unix.parse::<i64>().with_context(|| format!("`{text}` is not `@` followed by unix seconds"))?
        } else if let Ok(ts) = text.parse::<Timestamp>() {
            ts.as_second()
        } else if let Ok(date) = text.parse::<Date>() {
            date.to_zoned(TimeZone::UTC).with_context(|| format!("`{text}` is out of range"))?.timestamp().as_second()
        } else {
            bail!(
                "`{text}` is not a time: use RFC 3339 (`2027-01-01T00:00:00Z`), a date (`2027-01-01`) or \
                 `@UNIX_SECONDS`"
            );
        };
        u64::try_from(seconds).map(UnixTime).with_context(|| format!("`{text}` is before 1970"))
    }
}

impl UnixTime {
    /// `parse`, except that a well-formed date (or a time on one) outside what
    /// a timestamp holds reads as the epoch (before 1970) or the end of time
    /// (past 9999): for filters, where "since 0001-01-01" means "all".
    pub fn parse_clamped(text: &str) -> Result<UnixTime> {
        let parsed = UnixTime::parse(text);
        if parsed.is_ok() {
            return parsed;
        }
        let date = text.get(..10).filter(|_| matches!(text.as_bytes().get(10), None | Some(b'T' | b't' | b' ')));
        match date.and_then(|d| d.parse::<Date>().ok()) {
            Some(date) if date.year() < 1970 => Ok(UnixTime(0)),
            Some(_) => Ok(UnixTime(u64::try_from(i64::MAX).unwrap_or(u64::MAX))),
            None => parsed,
        }
    }
}

impl fmt::Display for UnixTime {
    /// RFC 3339 (`2027-01-01T00:00:00Z`), or `@SECONDS` past what a timestamp can show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match i64::try_from(self.0).ok().and_then(|s| Timestamp::from_second(s).ok()) {
            Some(ts) => write!(f, "{ts}"),
            None => write!(f, "@{}", self.0),
        }
    }
}

/// A reading of the monotonic clock in whole milliseconds since some fixed
/// point, for measuring ages within this process. On Linux it is the kernel's
/// coarse clock: a few nanoseconds to read, at most [`Moment::tick_ms`] behind
/// the precise one, and never going back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(u64);

impl Moment {
    /// The clock now.
    pub fn now() -> Moment {
        #[cfg(target_os = "linux")]
        let ms = timespec_ms(rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse));
        #[cfg(not(target_os = "linux"))]
        let ms = {
            static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
            u64::try_from(START.get_or_init(std::time::Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
        };
        Moment(ms)
    }

    /// The milliseconds since the clock's fixed point.
    pub const fn ms(self) -> u64 {
        self.0
    }

    /// How far behind the precise clock a reading may be, in milliseconds
    /// (rounded up; at least 1): an age measured between two readings is at
    /// most this much short of the true one.
    pub fn tick_ms() -> u64 {
        #[cfg(target_os = "linux")]
        let ms = {
            let res = rustix::time::clock_getres(rustix::time::ClockId::MonotonicCoarse);
            timespec_ms(res).saturating_add(u64::from(res.tv_nsec % 1_000_000 != 0))
        };
        #[cfg(not(target_os = "linux"))]
        let ms = 1;
        ms.max(1)
    }
}

#[cfg(target_os = "linux")]
fn timespec_ms(t: rustix::time::Timespec) -> u64 {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let ms = u64::try_from(t.tv_nsec).unwrap_or(0) / 1_000_000;
    secs.saturating_mul(1000).saturating_add(ms)
}

/// Where the host reads the time from.
pub trait Clock: Send + Sync {
    /// The time now.
    fn now(&self) -> UnixTime;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::now()
    }
}

/// A clock that only moves when told to (tests).
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: UnixTime) -> ManualClock {
        ManualClock(AtomicU64::new(start.secs()))
    }

    /// Moves the clock `seconds` forward.
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock to `time`.
    pub fn set(&self, time: UnixTime) {
        self.0.store(time.secs(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_agree() {
        let t = UnixTime::from_secs(1_798_761_600);
        assert_eq!(UnixTime::parse("2027-01-01T00:00:00Z").unwrap(), t);
        assert_eq!(UnixTime::parse("2027-01-01").unwrap(), t);
        assert_eq!(UnixTime::parse("@1798761600").unwrap(), t);
        assert_eq!(t.to_string(), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn the_coarse_clocks_keep_up_with_the_precise_ones() {
        let tick = Moment::tick_ms();
        assert!((1..=100).contains(&tick), "{tick} ms");
        let before = Moment::now();
        let precise = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(50));
        let after = Moment::now();
        let elapsed = u64::try_from(precise.elapsed().as_millis()).unwrap();
        // An age between two readings is short of the true one by at most a tick.
        assert!(after.ms() - before.ms() + tick >= 50, "{before:?} {after:?} {tick}");
        assert!(after.ms() - before.ms() <= elapsed + tick, "{before:?} {after:?} {elapsed}");
        let coarse = UnixTime::now().secs();
        let precise = u64::try_from(Timestamp::now().as_second()).unwrap();
        assert!(precise - coarse <= 1, "{coarse} {precise}");
    }

    #[test]
    fn garbage_and_negative_times_are_errors() {
        assert!(UnixTime::parse("tomorrow").is_err());
        assert!(UnixTime::parse("@-5").is_err());
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(UnixTime::from_secs(10));
        clock.advance(5);
        assert_eq!(clock.now(), UnixTime::from_secs(15));
        clock.set(UnixTime::from_secs(3));
        assert_eq!(clock.now().since(UnixTime::from_secs(1)), Some(Duration::from_secs(2)));
    }
}
