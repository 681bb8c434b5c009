//! Walking the chain: each event must hold its own place, follow the one
//! before it, hash to what it says, and agree with its columns; the last must
//! be the head the store keeps. The first failure names the event.

use std::fmt;

use serde::Serialize;

use super::chain::{ChainHash, GENESIS, canonical, link};
use super::event::{AuditEvent, AuditRow, PRUNE_ACTION};

/// The first thing found wrong with the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Broken {
    /// Event `seq` hashes to something else than its row says: it was edited.
    Edited {
        /// The event.
        seq: u64,
    },
    /// A column of event `seq` says something its JSON does not: edited alone.
    ColumnEdited {
        /// The event.
        seq: u64,
        /// The column.
        column: &'static str,
    },
    /// Event `seq` is missing: removed.
    Removed {
        /// The first missing event.
        seq: u64,
    },
    /// The row at `seq` holds event `holds`: rows were swapped.
    Reordered {
        /// The row.
        seq: u64,
        /// The event it holds.
        holds: u64,
    },
    /// Event `seq` does not follow the event before it: that one was replaced
    /// or the chain was rebuilt from here.
    Unlinked {
        /// The event.
        seq: u64,
    },
    /// Event `seq` cannot be read as an event in canonical form.
    Unreadable {
        /// The event.
        seq: u64,
    },
    /// The events before `first` are gone with no prune event recording where they ended.
    PrefixRemoved {
        /// The first event left.
        first: u64,
    },
    /// The store's head says the chain reaches `head`; its last event is `last`:
    /// events at the end were removed.
    TailRemoved {
        /// Where the head says the chain ends.
        head: u64,
        /// The last event found.
        last: u64,
    },
    /// The anchor's event no longer has the anchor's hash (or is gone).
    AnchorMismatch {
        /// The anchor's event.
        seq: u64,
    },
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Edited { seq } => write!(f, "event {seq} was edited: its hash does not match its content"),
            Broken::ColumnEdited { seq, column } => {
                write!(f, "event {seq} was edited: its `{column}` column differs from the event it holds")
            }
            Broken::Removed { seq } => write!(f, "event {seq} was removed"),
            Broken::Reordered { seq, holds } => write!(f, "event {seq} was reordered: its row holds event {holds}"),
            Broken::Unlinked { seq } => {
                write!(f, "event {seq} does not follow the event before it: the chain was replaced from there")
            }
            Broken::Unreadable { seq } => write!(f, "event {seq} was edited: it is not an event in canonical form"),
            Broken::PrefixRemoved { first } => {
                write!(f, "events before {first} were removed: no prune event records where the retained chain begins")
            }
            Broken::TailRemoved { head, last } if *head == last + 1 => {
                write!(f, "event {head} was removed: the chain ends at {last}, its head says {head}")
            }
            Broken::TailRemoved { head, last } => {
                write!(f, "events {} to {head} were removed: the chain ends at {last}, its head says {head}", last + 1)
            }
            Broken::AnchorMismatch { seq } => {
                write!(f, "event {seq} is not the anchored event: it was edited, removed or pruned")
            }
        }
    }
}

/// What a walk that found nothing wrong covered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The first event checked.
    pub first: Option<u64>,
    /// The last event checked (the head).
    pub last: Option<u64>,
    /// How many events were checked.
    pub events: u64,
    /// The head's hash (hex).
    pub head: String,
}

/// A walk along the chain, fed its rows oldest first (in pages).
pub struct Walk {
    from: Option<u64>,
    anchor: Option<(u64, ChainHash)>,
    anchor_seen: bool,
    last: Option<(u64, ChainHash)>,
    first: Option<(u64, ChainHash)>,
    /// The newest prune event's record: (through, hash).
    pruned: Option<(u64, ChainHash)>,
    events: u64,
}

impl Walk {
    /// A walk of the whole chain, or of the part from event `from` on (taking
    /// the link into `from` as the store says), or from `anchor` (SEQ, HASH):
    /// that event must still have that hash, and everything after it follow.
    pub fn new(from: Option<u64>, anchor: Option<(u64, ChainHash)>) -> Walk {
        let from = match (from, anchor) {
            (Some(from), Some((seq, _))) => Some(from.min(seq)),
            (from, anchor) => from.or(anchor.map(|(seq, _)| seq)),
        };
        Walk { from, anchor, anchor_seen: false, last: None, first: None, pruned: None, events: 0 }
    }

    /// Where the walk starts reading: events after this sequence number.
    pub fn start_after(&self) -> u64 {
        self.from.map_or(0, |from| from.saturating_sub(1))
    }

    /// Checks the next row.
    pub fn step(&mut self, row: &AuditRow) -> Result<(), Broken> {
        let seq = row.seq;
        match self.last {
            Some((last, _)) if seq > last + 1 => return Err(Broken::Removed { seq: last + 1 }),
            Some(_) => {}
            None => {
                if let Some(from) = self.from.filter(|from| seq > *from) {
                    return Err(Broken::Removed { seq: from });
                }
                self.first = Some((seq, row.prev));
            }
        }
        let event = read(row)?;
        if let Some((_, prev)) = self.last
            && row.prev != prev
        {
            return Err(Broken::Unlinked { seq });
        }
        if link(&row.prev, &row.body) != row.hash {
            return Err(Broken::Edited { seq });
        }
        check_columns(row, &event)?;
        if event.action == PRUNE_ACTION {
            self.pruned = prune_record(&event).or(self.pruned);
        }
        if let Some((anchored, hash)) = self.anchor
            && anchored == seq
        {
            if hash != row.hash {
                return Err(Broken::AnchorMismatch { seq });
            }
            self.anchor_seen = true;
        }
        self.last = Some((seq, row.hash));
        self.events += 1;
        Ok(())
    }

    /// Ends the walk at the store's head (SEQ, HASH).
    pub fn finish(self, head: (u64, ChainHash)) -> Result<Verified, Broken> {
        if let Some((anchored, _)) = self.anchor
            && !self.anchor_seen
        {
            return Err(Broken::AnchorMismatch { seq: anchored });
        }
        match self.last {
            None if head.0 == 0 => {}
            None => {
                return Err(Broken::TailRemoved { head: head.0, last: self.from.map_or(0, |f| f.saturating_sub(1)) });
            }
            Some((last, hash)) => {
                if last < head.0 {
                    return Err(Broken::TailRemoved { head: head.0, last });
                }
                if last > head.0 || hash != head.1 {
                    return Err(Broken::Unlinked { seq: last });
                }
            }
        }
        // Where the whole chain was walked, its beginning must be the first
        // event, or where the newest prune says the pruned prefix ended.
        if self.from.is_none()
            && let Some((first, prev)) = self.first
        {
            let begins = if first == 1 { prev == GENESIS } else { self.pruned == Some((first - 1, prev)) };
            if !begins {
                return Err(if first == 1 { Broken::Unlinked { seq: 1 } } else { Broken::PrefixRemoved { first } });
            }
        }
        Ok(Verified {
            first: self.first.map(|(seq, _)| seq),
            last: self.last.map(|(seq, _)| seq),
            events: self.events,
            head: hex::encode(head.1),
        })
    }
}

/// The event a row holds, which must be in canonical form at its own place.
fn read(row: &AuditRow) -> Result<AuditEvent, Broken> {
    let seq = row.seq;
    let value: serde_json::Value = serde_json::from_str(&row.body).map_err(|_| Broken::Unreadable { seq })?;
    let holds = value.get("seq").and_then(serde_json::Value::as_u64).ok_or(Broken::Unreadable { seq })?;
    let event: AuditEvent = serde_json::from_value(value).map_err(|_| Broken::Unreadable { seq })?;
    if holds != seq {
        return Err(Broken::Reordered { seq, holds });
    }
    if canonical(seq, &event).ok().as_deref() != Some(row.body.as_str()) {
        return Err(Broken::Unreadable { seq });
    }
    Ok(event)
}

fn check_columns(row: &AuditRow, event: &AuditEvent) -> Result<(), Broken> {
    let column = if row.at != event.at {
        "at"
    } else if row.actor != event.actor.label() {
        "actor"
    } else if row.actor_name.as_deref() != event.actor.principal_name() {
        "actor_name"
    } else if row.action != event.action {
        "action"
    } else if row.target != event.target {
        "target"
    } else if row.owner != event.owner {
        "owner_id"
    } else {
        return Ok(());
    };
    Err(Broken::ColumnEdited { seq: row.seq, column })
}

/// What a prune event says: the last event it removed and that event's hash.
fn prune_record(event: &AuditEvent) -> Option<(u64, ChainHash)> {
    let after = event.after.as_ref()?;
    let through = after.get("through")?.as_u64()?;
    let mut hash = [0; 32];
    hex::decode_to_slice(after.get("hash")?.as_str()?, &mut hash).ok()?;
    Some((through, hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditActor, seal};
    use crate::time::UnixTime;

    fn chain(n: u64) -> Vec<AuditRow> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let event = AuditEvent::new(
                    UnixTime::from_secs(seq),
                    "h",
                    AuditActor::system("t"),
                    "token.create",
                    format!("token/{seq}"),
                );
                let row = seal(prev, seq, &event).unwrap();
                prev = row.hash;
                row
            })
            .collect()
    }

    fn walk(rows: &[AuditRow], from: Option<u64>, anchor: Option<(u64, ChainHash)>) -> Result<Verified, Broken> {
        let head = rows.last().map_or((0, GENESIS), |r| (r.seq, r.hash));
        let mut walk = Walk::new(from, anchor);
        let start = walk.start_after();
        for row in rows.iter().filter(|r| r.seq > start) {
            walk.step(row)?;
        }
        walk.finish(head)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let rows = chain(5);
        assert_eq!(walk(&rows, None, None).unwrap().events, 5);
        assert_eq!(walk(&rows, Some(3), None).unwrap().events, 3);
        assert_eq!(walk(&rows, None, Some((2, rows[1].hash))).unwrap().first, Some(2));
        assert_eq!(walk(&[], None, None).unwrap().events, 0);
    }

    #[test]
    fn an_edit_a_removal_and_a_swap_are_each_named() {
        let rows = chain(5);
        let mut edited = rows.clone();
        edited[2].body = edited[2].body.replace("token/3", "token/9");
        assert!(matches!(
            walk(&edited, None, None),
            Err(Broken::Unreadable { seq: 3 }) | Err(Broken::Edited { seq: 3 })
        ));
        let mut column = rows.clone();
        column[1].target = "token/8".into();
        assert_eq!(walk(&column, None, None), Err(Broken::ColumnEdited { seq: 2, column: "target" }));
        let mut removed = rows.clone();
        removed.remove(3);
        assert_eq!(walk(&removed, None, None), Err(Broken::Removed { seq: 4 }));
        let mut swapped = rows.clone();
        swapped.swap(1, 2);
        (swapped[1].seq, swapped[2].seq) = (2, 3);
        assert_eq!(walk(&swapped, None, None), Err(Broken::Reordered { seq: 2, holds: 3 }));
        let mut tail = rows.clone();
        tail.pop();
        let head = (rows[4].seq, rows[4].hash);
        let mut w = Walk::new(None, None);
        tail.iter().for_each(|r| w.step(r).unwrap());
        assert_eq!(w.finish(head), Err(Broken::TailRemoved { head: 5, last: 4 }));
        let mut prefix = rows.clone();
        prefix.remove(0);
        assert_eq!(walk(&prefix, None, None), Err(Broken::PrefixRemoved { first: 2 }));
    }

    #[test]
    fn a_rebuilt_chain_fails_at_its_anchor() {
        let rows = chain(5);
        let mut rebuilt = rows.clone();
        rebuilt[1].body = rebuilt[1].body.replace("token/2", "token/7");
        // The attacker rehashes everything from event 2 on: the chain is whole again...
        let mut prev = rebuilt[0].hash;
        for row in &mut rebuilt[1..] {
            row.prev = prev;
            row.target = serde_json::from_str::<AuditEvent>(&row.body).unwrap().target;
            row.hash = link(&prev, &row.body);
            prev = row.hash;
        }
        assert!(walk(&rebuilt, None, None).is_ok());
        // ...but not what the operator kept.
        assert_eq!(walk(&rebuilt, None, Some((3, rows[2].hash))), Err(Broken::AnchorMismatch { seq: 3 }));
    }
}
