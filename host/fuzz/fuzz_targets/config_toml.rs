//! The config file: any text is read or refused with an error, never a panic,
//! and a config that reads validates (building the check settings and the route
//! map) without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope::config::Config;

fuzz_target!(|text: &str| {
    let Ok(mut config) = toml::from_str::<Config>(text) else { return };
    if config.validate().is_ok() {
        let limits = config.policy.limits();
        assert_eq!(Some(limits.memory_bytes), config.policy.memory_mib.checked_mul(1 << 20), "memory limit wrapped");
        assert!(config.policy.evaluators() > 0);
        let _ = config.policy.gate_options(0);
        let settings = config.check.settings();
        assert!(settings.is_ok(), "a valid config has unusable check settings");
    }
    let _ = config.apply_env(|key| key.ends_with("INTERVAL").then(|| text.chars().take(16).collect()));
});
