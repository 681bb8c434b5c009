//! Reading points in time from the command line and files: RFC 3339 timestamps,
//! plain dates (midnight UTC) and `@UNIX` seconds. The policy sees unix seconds.

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Parses `2027-01-01T00:00:00Z`, `2027-01-01` or `@1798761600` into unix seconds.
pub fn parse_time(text: &str) -> Result<u64> {
    let seconds = if let Some(unix) = text.strip_prefix('@') {
        unix.parse::<i64>().with_context(|| format!("`{text}` is not `@` followed by unix seconds"))?
    } else if let Ok(ts) = text.parse::<Timestamp>() {
        ts.as_second()
    } else if let Ok(date) = text.parse::<Date>() {
        date.to_zoned(TimeZone::UTC).with_context(|| format!("`{text}` is out of range"))?.timestamp().as_second()
    } else {
        bail!(
            "`{text}` is not a time: use RFC 3339 (`2027-01-01T00:00:00Z`), a date (`2027-01-01`) or `@UNIX_SECONDS`"
        );
    };
    u64::try_from(seconds).with_context(|| format!("`{text}` is before 1970"))
}

/// The current time in unix seconds.
pub fn now() -> u64 {
    u64::try_from(Timestamp::now().as_second()).unwrap_or(0)
}

/// Unix seconds as RFC 3339, for output.
pub fn format_time(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .map_or_else(|| format!("@{seconds}"), |ts| ts.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_agree() {
        assert_eq!(parse_time("2027-01-01T00:00:00Z").unwrap(), 1_798_761_600);
        assert_eq!(parse_time("2027-01-01").unwrap(), 1_798_761_600);
        assert_eq!(parse_time("@1798761600").unwrap(), 1_798_761_600);
        assert_eq!(format_time(1_798_761_600), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn garbage_and_negative_times_are_errors() {
        assert!(parse_time("tomorrow").is_err());
        assert!(parse_time("@-5").is_err());
    }
}
