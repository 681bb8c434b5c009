//! What a host calls itself in the fleet: `fleet.host_id`, or its host name,
//! process id and start time, which no other live host shares.

use crate::time::UnixTime;

/// This host's fleet id.
pub fn host_id(configured: Option<&str>, started_at: UnixTime) -> String {
    if let Some(id) = configured {
        return id.to_owned();
    }
    let uname = rustix::system::uname();
    let node = uname.nodename().to_string_lossy();
    format!("{node}-{}-{}", std::process::id(), started_at.secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_the_process_unless_configured() {
        let id = host_id(None, UnixTime::from_secs(7));
        assert!(id.ends_with(&format!("-{}-7", std::process::id())), "{id}");
        assert_eq!(host_id(Some("edge-1"), UnixTime::from_secs(7)), "edge-1");
    }
}
