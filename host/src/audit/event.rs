//! What one audit event says: when, on which host, who (an actor that is
//! never a secret), which action on which target, refused or done, what
//! changed (before and after, never a secret or its hash) and from where.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{PrincipalId, TokenId};
use crate::time::UnixTime;

/// A link of the chain: an event's SHA-256.
pub type ChainHash = [u8; 32];

/// The action of the event a prune leaves: it records where the pruned prefix ended.
pub const PRUNE_ACTION: &str = "audit.prune";

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AuditActor {
    /// The operator at the command line, who holds the store itself.
    Operator {
        /// The OS user (`USER`/`LOGNAME`; the uid when neither is set).
        os_user: String,
        /// The OS user id, which the environment cannot change.
        uid: u32,
    },
    /// A person signed in to the token page with a one-time link.
    Person {
        /// The principal's id.
        principal: PrincipalId,
        /// Its name.
        name: String,
    },
    /// A token presented to the API or that opened a page session.
    Token {
        /// The token's id.
        token: TokenId,
        /// Its owner's id.
        principal: PrincipalId,
        /// Its owner's name.
        name: String,
    },
    /// An OIDC identity token exchanged under a rule.
    Oidc {
        /// The identity token's issuer.
        issuer: String,
        /// Its subject.
        subject: String,
        /// The rule that matched.
        rule: String,
    },
    /// A leak report signed by a configured key.
    Signer {
        /// The key's id in `[[leaks.signers]]`.
        key_id: String,
    },
    /// The host itself: the expiry notifier, the policy file watch, retention, a fleet sync.
    System {
        /// Which part of it.
        part: String,
    },
}

impl AuditActor {
    /// The actor's label, the `actor` filter's exact form: `operator:root`,
    /// `principal:alice`, `token:17`, `oidc:ISSUER#SUBJECT`, `signer:KEY`, `system:PART`.
    pub fn label(&self) -> String {
        match self {
            AuditActor::Operator { os_user, .. } => format!("operator:{os_user}"),
            AuditActor::Person { name, .. } => format!("principal:{name}"),
            AuditActor::Token { token, .. } => format!("token:{token}"),
            AuditActor::Oidc { issuer, subject, .. } => format!("oidc:{issuer}#{subject}"),
            AuditActor::Signer { key_id } => format!("signer:{key_id}"),
            AuditActor::System { part } => format!("system:{part}"),
        }
    }

    /// The principal who acted, by name, where one did (a person, a token's owner).
    pub fn principal_name(&self) -> Option<&str> {
        match self {
            AuditActor::Person { name, .. } | AuditActor::Token { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The operator running this process: its OS user and uid.
    pub fn operator() -> AuditActor {
        let uid = rustix::process::getuid().as_raw();
        let os_user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| format!("uid {uid}"));
        AuditActor::Operator { os_user, uid }
    }

    /// A part of the host acting by itself.
    pub fn system(part: &str) -> AuditActor {
        AuditActor::System { part: part.to_owned() }
    }
}

/// Where an HTTP request came from, as the server saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The peer's address (the proxy's, behind one).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub addr: Option<String>,
    /// The `User-Agent` header, at most 256 characters.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub agent: Option<String>,
}

/// One event, before the store gives it its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When (by the acting host's clock).
    pub at: UnixTime,
    /// Which host wrote it (its fleet id).
    pub host: String,
    /// Who acted.
    pub actor: AuditActor,
    /// What was done: `token.create`, `principal.bind`, `policy.load`, ...
    pub action: String,
    /// What it was done to: `token/42`, `principal/alice`, `policy`, `store`, `audit`.
    pub target: String,
    /// Whose the target is (a token's owner, the principal itself), for owners' reads.
    pub owner: Option<PrincipalId>,
    /// The refusal's code, when the attempt was refused and nothing changed.
    pub refused: Option<String>,
    /// What changed, as it was (never a secret or a secret's hash).
    pub before: Option<Value>,
    /// What changed, as it is now.
    pub after: Option<Value>,
    /// Where the request came from, when one did.
    pub client: Option<Client>,
}

impl AuditEvent {
    /// An event of `actor` doing `action` to `target` at `at` on `host`; the
    /// rest is filled by the `with_` calls.
    pub fn new(at: UnixTime, host: &str, actor: AuditActor, action: &str, target: impl Into<String>) -> AuditEvent {
        AuditEvent {
            at,
            host: host.to_owned(),
            actor,
            action: action.to_owned(),
            target: target.into(),
            owner: None,
            refused: None,
            before: None,
            after: None,
            client: None,
        }
    }

    /// An event of the operator at the command line on this machine, now.
    pub fn by_operator(action: &str, target: impl Into<String>) -> AuditEvent {
        let host = rustix::system::uname().nodename().to_string_lossy().into_owned();
        AuditEvent::new(UnixTime::now(), &host, AuditActor::operator(), action, target)
    }

    /// The same event on `target`.
    pub fn with_target(mut self, target: impl Into<String>) -> AuditEvent {
        self.target = target.into();
        self
    }

    /// The same event, whose target `owner` owns.
    pub fn with_owner(mut self, owner: PrincipalId) -> AuditEvent {
        self.owner = Some(owner);
        self
    }

    /// The same event with what changed.
    pub fn with_change(mut self, before: Option<Value>, after: Option<Value>) -> AuditEvent {
        self.before = before;
        self.after = after;
        self
    }

    /// The same event, from `client`.
    pub fn with_client(mut self, client: Option<Client>) -> AuditEvent {
        self.client = client;
        self
    }

    /// The same event, refused with `code` (nothing changed).
    pub fn refused(mut self, code: &str) -> AuditEvent {
        self.refused = Some(code.to_owned());
        self
    }
}

/// An event in its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Its place: 1, 2, 3... in the database's order, with no gaps until a prune.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// The hash of the event before it (hex; zeros for the first).
    pub prev: String,
    /// SHA-256 of the previous hash and this event's canonical JSON (hex).
    pub hash: String,
}

/// An event as the store keeps it: the columns the filters read, the canonical
/// JSON the hash covers, and the chain's two hashes. `verify` checks each
/// column against the JSON, so no column can be edited alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// Its place in the chain.
    pub seq: u64,
    /// `at`, for time filters and retention.
    pub at: UnixTime,
    /// The actor's label.
    pub actor: String,
    /// The acting principal's name, when one acted.
    pub actor_name: Option<String>,
    /// The action.
    pub action: String,
    /// The target.
    pub target: String,
    /// Whose the target is.
    pub owner: Option<PrincipalId>,
    /// The canonical JSON of the event, its `seq` included.
    pub body: String,
    /// The previous event's hash.
    pub prev: ChainHash,
    /// This event's hash.
    pub hash: ChainHash,
}

impl AuditRecord {
    /// The record as `viewer` (an owner reading the events on what they own)
    /// may see it: where someone else's request came from is theirs, not shown.
    pub fn seen_by(mut self, viewer: PrincipalId) -> AuditRecord {
        let own = match &self.event.actor {
            AuditActor::Person { principal, .. } | AuditActor::Token { principal, .. } => *principal == viewer,
            _ => false,
        };
        if !own {
            self.event.client = None;
        }
        self
    }
}

impl AuditRow {
    /// The event the row holds, read from its canonical JSON.
    pub fn record(&self) -> Result<AuditRecord, serde_json::Error> {
        let event: AuditEvent = serde_json::from_str(&self.body)?;
        Ok(AuditRecord { seq: self.seq, event, prev: hex::encode(self.prev), hash: hex::encode(self.hash) })
    }
}

/// Which events to read: from a point on (a sequence number or a time), the
/// oldest `limit` of them; without one, the newest `limit`. Oldest first either way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events after this sequence number.
    pub after_seq: Option<u64>,
    /// Only events at or after this time.
    pub since: Option<UnixTime>,
    /// Only this actor: its label (`token:17`) or the acting principal's name.
    pub actor: Option<String>,
    /// Only this target (`token/42`).
    pub target: Option<String>,
    /// Only this action (`token.create`), or a family of them (`token`).
    pub action: Option<String>,
    /// Only events on what this principal owns.
    pub owner: Option<PrincipalId>,
    /// At most this many.
    pub limit: usize,
}

impl AuditQuery {
    /// Whether the query reads from a point on (else it reads the newest events).
    pub fn oldest_first(&self) -> bool {
        self.after_seq.is_some() || self.since.is_some()
    }
}
