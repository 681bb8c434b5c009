//! The quick reading of a well-formed resource path, eight bytes at a time: one
//! pass checks every byte (a name byte or `/`) and finds the `/`s with word
//! arithmetic, so the loop (and, inside wasm, its epoch check) runs an eighth as
//! often as a byte loop. It only ever accepts; anything else is left to
//! `NodeRef::parse_exact`, which gives the same node or the error.

use super::{KINDS, Kind, MAX_DEPTH, MAX_NAME_LEN, MAX_PATH_LEN, NodeRef};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;
const LOW7: u64 = ONES * 0x7f;
/// What fills the bytes of the last word past the path's end: a name byte.
const PAD: u64 = ONES * b'a' as u64;
/// The most `/` a path of `MAX_DEPTH` kind/name pairs holds.
const MAX_CUTS: usize = 2 * MAX_DEPTH - 1;

/// The node `path` names when it is well formed and at least eight bytes long
/// (after an optional leading `/`); `None` for everything else, right or wrong.
pub(super) fn parse(path: &str) -> Option<NodeRef<'_>> {
    if path.len() > MAX_PATH_LEN {
        return None;
    }
    let body = path.strip_prefix('/').unwrap_or(path);
    let bytes = body.as_bytes();
    let len = bytes.len();
    let mut cuts = [0usize; MAX_CUTS];
    let mut count = 0;
    let mut at = 0;
    while at < len {
        let (word, base) = match load(bytes, at) {
            Some(word) => (word, at),
            // The last few bytes: the word that ends the path, its bytes
            // already read shifted out and the space filled with name bytes.
            None => {
                let left = len - at;
                let word = load(bytes, len.checked_sub(8)?)?;
                ((word >> (8 * (8 - left))) | (PAD << (8 * left)), at)
            }
        };
        if word & HIGH != 0 || !name_or_slash(word) {
            return None;
        }
        let mut slashes = equal(word, b'/');
        while slashes != 0 {
            let cut = cuts.get_mut(count)?;
            *cut = base + (slashes.trailing_zeros() / 8) as usize;
            count += 1;
            slashes &= slashes - 1;
        }
        at += 8;
    }
    // kind/name pairs: an odd number of `/`.
    if count % 2 == 0 {
        return None;
    }
    let mut node = NodeRef { segments: [(Kind::Root, ""); MAX_DEPTH], depth: 0 };
    let mut parent = Kind::Root;
    let mut start = 0;
    for pair in 0..=count / 2 {
        let kind_end = *cuts.get(2 * pair)?;
        let name_end = if 2 * pair + 1 < count { *cuts.get(2 * pair + 1)? } else { len };
        let kind = kind_at(bytes, start, kind_end.checked_sub(start)?)?;
        let name = body.get(kind_end + 1..name_end)?;
        if name.is_empty() || name.len() > MAX_NAME_LEN || name == "." || name == ".." {
            return None;
        }
        if !kind.def().parents.contains(&parent) {
            return None;
        }
        *node.segments.get_mut(pair)? = (kind, name);
        node.depth = pair + 1;
        parent = kind;
        start = name_end + 1;
    }
    Some(node)
}

/// Eight bytes from `at`, little-endian, if they are all there.
fn load(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// The high bit of each byte of `word` that is zero.
fn zero(word: u64) -> u64 {
    !(((word & LOW7).wrapping_add(LOW7)) | word) & HIGH
}

/// The high bit of each byte of `word` that is `byte`.
fn equal(word: u64, byte: u8) -> u64 {
    zero(word ^ (ONES * u64::from(byte)))
}

/// The high bit of each byte of `word` in `lo..=hi`; every byte must be ASCII,
/// so that no sum carries into the next byte.
fn within(word: u64, lo: u8, hi: u8) -> u64 {
    let at_least = word.wrapping_add(ONES * u64::from(0x80 - lo));
    let above = word.wrapping_add(ONES * u64::from(0x7f - hi));
    at_least & !above & HIGH
}

/// Whether every byte of the ASCII `word` is a name byte (`[A-Za-z0-9._+-]`) or `/`.
fn name_or_slash(word: u64) -> bool {
    let letter = within(word | (ONES * 0x20), b'a', b'z');
    let digit = within(word, b'0', b'9');
    let dash_dot_slash = within(word, b'-', b'/');
    let ok = letter | digit | dash_dot_slash | equal(word, b'+') | equal(word, b'_');
    ok == HIGH
}

/// The kind named by the `len` bytes at `start`, which a `/` follows.
fn kind_at(bytes: &[u8], start: usize, len: usize) -> Option<Kind> {
    let kind = match (len, bytes.get(start)) {
        (4, _) => Kind::User,
        (5, _) => Kind::Vault,
        (7, Some(b'p')) => Kind::Project,
        (7, Some(b'c')) => Kind::Channel,
        (8, _) => Kind::Artifact,
        (9, _) => Kind::Component,
        (10, _) => Kind::Subchannel,
        _ => return None,
    };
    let [head, tail] = *PACKED.get(kind as usize)?;
    let first = load(bytes, start)?;
    let first = if len >= 8 { first } else { first & ((1 << (8 * len)) - 1) };
    let rest = match len {
        9 => u64::from(*bytes.get(start + 8)?),
        10 => u64::from(*bytes.get(start + 8)?) | u64::from(*bytes.get(start + 9)?) << 8,
        _ => 0,
    };
    (first == head && rest == tail).then_some(kind)
}

/// Each kind's name as two little-endian words, zero past its end, in `Kind` order.
static PACKED: [[u64; 2]; KINDS.len()] = pack_names();

// Evaluated at compile time: an index out of range fails the build, not a decision.
#[allow(clippy::indexing_slicing)]
const fn pack_names() -> [[u64; 2]; KINDS.len()] {
    let mut packed = [[0; 2]; KINDS.len()];
    let mut k = 0;
    while k < KINDS.len() {
        let name = KINDS[k].name.as_bytes();
        assert!(name.len() <= 16, "a kind's name fits two words");
        let mut i = 0;
        while i < name.len() {
            packed[k][i / 8] |= (name[i] as u64) << (8 * (i % 8));
            i += 1;
        }
        k += 1;
    }
    packed
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn exact(path: &str) -> Result<NodeRef<'_>, super::super::PathError> {
        NodeRef::parse_exact(path)
    }

    #[test]
    fn the_word_tests_agree_with_the_byte_tests_for_every_byte() {
        for b in 0..=0x7fu8 {
            let word = u64::from_le_bytes([b, b'a', b'a', b'a', b'a', b'a', b'a', b'a']);
            let name = super::super::name_byte(b) || b == b'/';
            assert_eq!(name_or_slash(word), name, "{b:#x}");
            assert_eq!(equal(word, b'/') != 0, b == b'/', "{b:#x}");
            assert_eq!(zero(word) != 0, b == 0, "{b:#x}");
        }
    }

    #[test]
    fn well_formed_paths_are_read_quickly_and_as_the_exact_parser_reads_them() {
        for path in [
            "channel/main/artifact/numpy-1.26.4-py312.conda",
            "/channel/main/subchannel/nightly/artifact/a",
            "vault/acme/project/web/component/api",
            "vault/acme/project/web",
            "user/alice.b",
            "subchannel/x",
            "channel/Main_+-.x",
        ] {
            let quick = parse(path);
            assert!(quick.is_some() || path == "subchannel/x", "{path}");
            if let Some(node) = quick {
                assert_eq!(Ok(node), exact(path), "{path}");
            }
        }
    }

    #[test]
    fn anything_unusual_is_left_to_the_exact_parser() {
        for path in [
            "",
            "/",
            "user/ab",
            "channel",
            "channel/",
            "channel/main/",
            "channel//main",
            "//channel/main",
            "channel/..",
            "channel/.",
            "channel/ma in",
            "channel/mäin",
            "galaxy/xxxxx",
            "chamnel/main",
            "project/web/x",
            "channel/a/channel/b",
            "vault/a/project/b/component/c/component/d",
            "channel/a/artifact/b/artifact/c/artifact/d",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
        let long = format!("channel/{}", "a".repeat(MAX_NAME_LEN + 1));
        assert_eq!(parse(&long), None);
        let too_long = format!("channel/{}", "a".repeat(MAX_PATH_LEN));
        assert_eq!(parse(&too_long), None);
    }

    /// Well-formed paths down one of the tree's chains, then (half the time)
    /// one byte changed, dropped or added, or a piece repeated.
    fn chain_path() -> impl Strategy<Value = String> {
        let chains = prop::sample::select(vec![
            &["vault", "project", "component"][..],
            &["channel", "subchannel", "artifact"][..],
            &["channel", "artifact"][..],
            &["user"][..],
        ]);
        let name = prop_oneof![8 => "[A-Za-z0-9._+-]{1,24}", 1 => "[a-z]{120,136}", 1 => "\\.{1,3}"];
        (
            chains,
            1..=MAX_DEPTH,
            prop::collection::vec(name, MAX_DEPTH),
            any::<bool>(),
            any::<u16>(),
            any::<u8>(),
            0..5u8,
        )
            .prop_map(|(chain, depth, names, lead, at, byte, edit)| {
                let pieces: Vec<String> =
                    chain.iter().zip(&names).take(depth).map(|(k, n)| format!("{k}/{n}")).collect();
                let mut path = format!("{}{}", if lead { "/" } else { "" }, pieces.join("/"));
                let at = usize::from(at) % (path.len() + 1);
                let at = (0..=at).rev().find(|i| path.is_char_boundary(*i)).unwrap_or(0);
                match edit {
                    0 => path.insert(at, char::from(byte % 128)),
                    1 if at < path.len() => {
                        path.remove(at);
                    }
                    2 => path = format!("{path}/{path}"),
                    _ => {}
                }
                path
            })
    }

    /// Paths near the grammar: kind names (some misspelt), names, `/`s, dots
    /// and stray bytes, so that both well-formed and nearly-well-formed paths come up.
    fn near_path() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => prop::sample::select(vec![
                "vault", "project", "component", "channel", "subchannel", "artifact", "user",
                "root", "chanel", "Channel", "vaults", "projecT", "componenT", "subchanneL",
            ])
            .prop_map(str::to_owned),
            4 => "[A-Za-z0-9._+-]{1,12}",
            1 => prop::sample::select(vec![".", "..", "", " ", "%2F", "é", "\u{0}", "/"]).prop_map(str::to_owned),
            1 => "[a-z]{120,140}",
        ];
        (any::<bool>(), prop::collection::vec(piece, 0..9), any::<bool>()).prop_map(|(lead, pieces, trail)| {
            let mut path = if lead { "/".to_owned() } else { String::new() };
            path.push_str(&pieces.join("/"));
            if trail {
                path.push('/');
            }
            path
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn the_quick_reading_never_differs_from_the_exact_one(path in prop_oneof![chain_path(), near_path()]) {
            if let Some(node) = parse(&path) {
                prop_assert_eq!(Ok(node), exact(&path));
            }
            prop_assert_eq!(NodeRef::parse(&path), exact(&path));
        }

        #[test]
        fn any_text_parses_as_the_exact_parser_says(path in any::<String>()) {
            prop_assert_eq!(NodeRef::parse(&path), exact(&path));
        }
    }
}
