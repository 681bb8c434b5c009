//! Reading a filter of the trail from text, as the API's query string, the
//! token page's filter form and the command line give it: one parser, so all
//! three refuse the same bad input the same way.

use super::event::AuditQuery;
use crate::time::UnixTime;

/// The most events one read returns.
pub const MAX_LIMIT: usize = 1000;
/// How many events one read returns unless asked.
pub const DEFAULT_LIMIT: usize = 100;
const MAX_FILTER: usize = 256;

/// A filter as text: `since` is a sequence number (events after it) or a time
/// (RFC 3339, a date, `@UNIX`; events at or after it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// From where.
    pub since: Option<String>,
    /// Whose acts: an actor label (`token:17`) or a principal's name.
    pub actor: Option<String>,
    /// On what: `token/42`, `principal/alice`, `policy`.
    pub target: Option<String>,
    /// Which action (`token.create`) or family (`token`).
    pub action: Option<String>,
    /// How many (1 to 1000; 100 unless given).
    pub limit: Option<usize>,
}

impl AuditFilter {
    /// A filter from a URL's query string (the API's and the activity page's):
    /// each known parameter at most once, nothing else.
    pub fn from_query(query: &str) -> Result<AuditFilter, String> {
        let mut filter = AuditFilter::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
                "since" => &mut filter.since,
                "actor" => &mut filter.actor,
                "target" => &mut filter.target,
                "action" => &mut filter.action,
                "limit" => {
                    if filter.limit.is_some() {
                        return Err("`limit` is given twice".into());
                    }
                    let limit = value.trim().parse().map_err(|_| "`limit` is a number".to_owned())?;
                    filter.limit = Some(limit);
                    continue;
                }
                other => {
                    let shown: String = other.chars().filter(|c| !c.is_control()).take(32).collect();
                    return Err(format!("`{shown}` is not a filter (since, actor, target, action, limit)"));
                }
            };
            if slot.is_some() {
                return Err(format!("`{key}` is given twice"));
            }
            *slot = Some(value.into_owned());
        }
        Ok(filter)
    }

    /// The query, or why the filter is not one.
    pub fn query(&self) -> Result<AuditQuery, String> {
        let text = |name: &str, value: &Option<String>| -> Result<Option<String>, String> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) if v.chars().count() > MAX_FILTER || v.chars().any(char::is_control) => {
                    Err(format!("`{name}` is at most {MAX_FILTER} characters, none of them control characters"))
                }
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
        let action = text("action", &self.action)?;
        if let Some(action) = &action
            && !action.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '-')
        {
            return Err("`action` is an action such as `token.create`, or a family such as `token`".into());
        }
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(format!("`limit` is 1 to {MAX_LIMIT}"));
        }
        let mut query = AuditQuery {
            actor: text("actor", &self.actor)?,
            target: text("target", &self.target)?,
            action,
            limit,
            ..AuditQuery::default()
        };
        // `since` is taken exactly as given (no trimming): a number or a time, or empty for none.
        match self.since.as_deref().filter(|s| !s.is_empty()).map(str::to_owned) {
            None => {}
            Some(since) if since.bytes().all(|b| b.is_ascii_digit()) => {
                // Past the largest sequence a store keeps: nothing comes after it.
                let seq = since.parse::<u64>().unwrap_or(u64::MAX).min(i64::MAX.unsigned_abs());
                query.after_seq = Some(seq);
            }
            Some(since) => {
                let at = UnixTime::parse_clamped(&since)
                    .map_err(|_| "`since` is a sequence number or a time (RFC 3339, YYYY-MM-DD or @UNIX)".to_owned())?;
                query.since = Some(at);
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(since: &str) -> AuditFilter {
        AuditFilter { since: Some(since.into()), ..AuditFilter::default() }
    }

    #[test]
    fn since_is_a_sequence_number_or_a_time() {
        assert_eq!(filter("12").query().unwrap().after_seq, Some(12));
        assert_eq!(filter("2026-12-07T00:00:00Z").query().unwrap().since, Some(UnixTime::from_secs(1_796_601_600)));
        assert!(filter("yesterday-ish").query().is_err());
        assert!(filter(" 12").query().is_err() && filter("").query().unwrap().after_seq.is_none());
        assert_eq!(filter("0001-01-01").query().unwrap().since, Some(UnixTime::from_secs(0)));
        assert!(filter("9999-12-31T23:59:59Z").query().unwrap().since > Some(UnixTime::from_secs(1 << 40)));
        assert!(filter("2026-13-01").query().is_err());
        assert_eq!(filter("99999999999999999999").query().unwrap().after_seq, Some(i64::MAX.unsigned_abs()));
        assert_eq!(AuditFilter::default().query().unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn query_strings_name_each_filter_once() {
        let filter = AuditFilter::from_query("actor=alice&action=token&limit=5&since=2026-12-01").unwrap();
        assert_eq!((filter.actor.as_deref(), filter.limit), (Some("alice"), Some(5)));
        assert_eq!(filter.query().unwrap().action.as_deref(), Some("token"));
        for bad in ["limit=1&limit=2", "actor=a&actor=b", "nope=1", "limit=x", "limit=-1"] {
            assert!(AuditFilter::from_query(bad).is_err(), "{bad}");
        }
        assert_eq!(AuditFilter::from_query("").unwrap(), AuditFilter::default());
    }

    #[test]
    fn bad_filters_are_refused() {
        for bad in [
            AuditFilter { limit: Some(0), ..AuditFilter::default() },
            AuditFilter { limit: Some(MAX_LIMIT + 1), ..AuditFilter::default() },
            AuditFilter { action: Some("token%".into()), ..AuditFilter::default() },
            AuditFilter { target: Some("a\nb".into()), ..AuditFilter::default() },
            AuditFilter { actor: Some("x".repeat(MAX_FILTER + 1)), ..AuditFilter::default() },
        ] {
            assert!(bad.query().is_err(), "{bad:?}");
        }
    }
}
