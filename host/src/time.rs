//! Time inside the host: `UnixTime`, a point in whole seconds since the Unix
//! epoch (a bare `u64` only at the WIT and SQL edges), read from RFC 3339, dates
//! and `@UNIX`; and the clock it comes from (the system's, or one tests move).

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

    /// The system clock's time now (the epoch if the clock is before it).
    pub fn now() -> UnixTime {
        UnixTime(u64::try_from(Timestamp::now().as_second()).unwrap_or(0))
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

impl fmt::Display for UnixTime {
    /// RFC 3339 (`2027-01-01T00:00:00Z`), or `@SECONDS` past what a timestamp can show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match i64::try_from(self.0).ok().and_then(|s| Timestamp::from_second(s).ok()) {
            Some(ts) => write!(f, "{ts}"),
            None => write!(f, "@{}", self.0),
        }
    }
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
