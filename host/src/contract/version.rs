//! Which version of the `tokenscope:policy` contract a module speaks, and whether
//! this host can run it: the same major version (for 0.x, the same minor), as
//! semver and wasmtime's export lookup define compatibility.

use anyhow::{Result, bail};
use semver::Version;

use super::bindings::EVALUATOR;

/// `tokenscope:policy/evaluator`, without a version.
fn interface_name() -> &'static str {
    EVALUATOR.split_once('@').map_or(EVALUATOR, |(name, _)| name)
}

/// The contract version this host was built against.
pub fn host_version() -> Version {
    let text = EVALUATOR.split_once('@').map_or("0.0.0", |(_, v)| v);
    Version::parse(text).unwrap_or_else(|_| Version::new(0, 0, 0))
}

/// Whether a module speaking `module` can be run by a host speaking `host`.
pub fn compatible(host: &Version, module: &Version) -> bool {
    if !host.pre.is_empty() || !module.pre.is_empty() {
        return host == module;
    }
    match (host.major, module.major) {
        (0, 0) => host.minor == module.minor && (host.minor != 0 || host.patch == module.patch),
        (h, m) => h == m,
    }
}

/// Finds the evaluator among a module's export names and checks its version.
pub fn check_exports<'a>(exports: impl IntoIterator<Item = &'a str>) -> Result<Version> {
    let name = interface_name();
    let mut found = Vec::new();
    for export in exports {
        if let Some(version) = export.strip_prefix(name).and_then(|rest| rest.strip_prefix('@')) {
            found.push(version.to_owned());
        }
    }
    let host = host_version();
    let Some(text) = found.first() else {
        bail!("it does not export `{name}` (world `tokenscope:policy/policy`)");
    };
    let Ok(version) = Version::parse(text) else {
        bail!("it exports `{name}` at version `{text}`, which is not a semantic version");
    };
    if !compatible(&host, &version) {
        bail!(
            "it speaks contract version {version}, but this host speaks {host} (incompatible): rebuild the \
             policy against this host's `wit/policy.wit` (`tokenscope policy new` copies it; `tokenscope policy \
             build` builds){}",
            if version < host { upgrade_note(&version) } else { String::new() }
        );
    }
    Ok(version)
}

/// What changed since an older contract, for the refusal message.
fn upgrade_note(from: &Version) -> String {
    let mut notes = Vec::new();
    if from.major == 0 && from.minor < 2 {
        notes.push("0.2.0 added the calling token's grants to `check-grants`");
    }
    if from.major == 0 && from.minor < 3 {
        notes.push(
            "0.3.0 keeps compiled grant sets in the instance under numbers (`compile`, `release`) and splits the hot \
             path into `decide-compiled` (a code) and `explain` (its reason)",
        );
    }
    notes.iter().map(|note| format!("; {note}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn semver_compatibility() {
        assert!(compatible(&v("0.1.0"), &v("0.1.7")));
        assert!(!compatible(&v("0.1.0"), &v("0.2.0")));
        assert!(!compatible(&v("0.1.0"), &v("1.1.0")));
        assert!(compatible(&v("1.0.0"), &v("1.4.2")));
        assert!(!compatible(&v("1.0.0"), &v("2.0.0")));
        assert!(!compatible(&v("0.0.1"), &v("0.0.2")));
        assert!(!compatible(&v("0.1.0"), &v("0.1.0-rc.1")));
    }

    #[test]
    fn the_evaluator_export_is_found_and_checked() {
        assert_eq!(check_exports(["tokenscope:policy/evaluator@0.3.3"]).unwrap(), v("0.3.3"));
        let err = check_exports(["tokenscope:policy/evaluator@2.0.0"]).unwrap_err().to_string();
        assert!(err.contains("contract version 2.0.0"), "{err}");
        let err = check_exports(["fixture:wrong/thing@0.1.0"]).unwrap_err().to_string();
        assert!(err.contains("does not export `tokenscope:policy/evaluator`"), "{err}");
        assert!(check_exports(["tokenscope:policy/evaluator@latest"]).is_err());
        let err = check_exports(["tokenscope:policy/evaluator@0.1.0"]).unwrap_err().to_string();
        assert!(err.contains("rebuild the policy") && err.contains("0.2.0 added the calling token"), "{err}");
        let err = check_exports(["tokenscope:policy/evaluator@0.2.0"]).unwrap_err().to_string();
        assert!(err.contains("0.3.0 keeps compiled grant sets") && !err.contains("0.2.0 added"), "{err}");
    }
}
