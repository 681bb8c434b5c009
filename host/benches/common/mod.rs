//! What the store-backed benchmarks share: a store of many tokens of one owner
//! (`alice`, holding `/=write`), every token granted `artifact` and `channel:view`.

use tokenscope::secret::Secret;
use tokenscope::store::{Binding, NewToken, SqliteStore, Store, StoredGrants};
use tokenscope::time::UnixTime;

/// Tokens stored per transaction.
const BATCH: usize = 50_000;

/// Creates the store at `path` with `count` tokens; returns the secrets of every
/// `count / keep`-th token (`keep` of them).
#[allow(dead_code)] // The store benchmark fills stores of either backend with `fill`.
pub fn store_with_tokens(path: &std::path::Path, count: usize, keep: usize) -> (SqliteStore, Vec<String>) {
    let store = SqliteStore::open(path).unwrap();
    let kept = fill(&store, count, keep);
    (store, kept)
}

/// Fills `store` (empty) as `store_with_tokens` does; the kept secrets.
#[allow(dead_code)] // The verify and memory benchmarks use `store_with_tokens`.
pub fn fill(store: &dyn Store, count: usize, keep: usize) -> Vec<String> {
    let owner = store.add_principal("alice", UnixTime::from_secs(1), &[], &audit()).unwrap();
    store.bind(owner.id, std::slice::from_ref(&Binding::Grant("/=write".into())), &audit()).unwrap();
    let every = (count / keep.max(1)).max(1);
    let mut kept = Vec::with_capacity(keep);
    let mut made = 0;
    while made < count {
        let batch: Vec<NewToken> = (made..count.min(made + BATCH))
            .map(|i| {
                let secret = Secret::generate().unwrap();
                if i % every == 0 && kept.len() < keep {
                    kept.push(secret.expose().to_owned());
                }
                NewToken {
                    owner: owner.id,
                    name: format!("t{i}"),
                    description: String::new(),
                    hash: secret.hash(),
                    hint: secret.hint(),
                    grants: StoredGrants::Scopes(vec!["artifact".into(), "channel:view".into()]),
                    created_at: UnixTime::from_secs(1),
                    expires_at: Some(UnixTime::from_secs(4_000_000_000)),
                    origin: None,
                }
            })
            .collect();
        made += batch.len();
        store.insert_tokens(&batch, &audit()).unwrap();
    }
    kept
}

/// The event these tests' writes record.
fn audit() -> tokenscope::audit::AuditEvent {
    tokenscope::audit::AuditEvent::by_operator("test", "")
}
