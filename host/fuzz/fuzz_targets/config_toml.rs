//! The config file: any text is read (building the check settings and the
//! route map once) or refused with an error, never a panic, and a config that
//! reads validates without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope::config::Config;

fuzz_target!(|text: &str| {
    let Ok(mut config) = toml::from_str::<Config>(text) else { return };
    if config.validate().is_ok() {
        let limits = config.policy.limits();
        assert_eq!(Some(limits.memory_bytes), config.policy.memory_mib.checked_mul(1 << 20), "memory limit wrapped");
        assert!(config.policy.evaluators() > 0);
        let _ = tokenscope::gate::GateOptions::of(&config.policy, tokenscope::time::UnixTime::default());
        let written = config.check.written();
        let again = tokenscope_request::Settings::new(
            written.convention,
            &written.prefix,
            &written.public_prefixes,
            &written.routes,
        );
        assert!(again.is_ok(), "the check settings of a read config do not build again");
    }
    let _ = config.apply_env(|key| key.ends_with("INTERVAL").then(|| text.chars().take(16).collect()));
});
