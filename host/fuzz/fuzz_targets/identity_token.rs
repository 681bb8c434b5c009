//! Identity tokens for the OIDC exchange: any text is refused with an error,
//! never a panic, and nothing is ever accepted: the issuer's key here is a
//! public key whose private half was thrown away, so an accepted token would be
//! a forgery the validation let through (`alg: none`, HMAC with the public key,
//! a signature over other bytes...).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokenscope::config::OidcConfig;
use tokenscope::oidc::Exchanger;
use tokenscope::time::UnixTime;

/// An EC P-256 public key (the private key was discarded when it was made).
const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"MIOG3TjZF-E2UIvdbYCzwSbx7Dd2BG9yT1J1KD8C8j4","y":"QXdv8PrloNMR02dXCaj59Gffy8nEJBIQUxI9zZdTq7o","kid":"fuzz-ec","alg":"ES256"}]}"#;

fn exchanger() -> &'static Exchanger {
    static EXCHANGER: OnceLock<Exchanger> = OnceLock::new();
    EXCHANGER.get_or_init(|| {
        let file = std::env::temp_dir().join(format!("tokenscope-fuzz-jwks-{}.json", std::process::id()));
        if std::fs::write(&file, JWKS).is_err() {
            panic!("cannot write the fuzz key set");
        }
        let text = format!(
            "[[issuers]]\nissuer = \"https://ci.example\"\naudience = \"tokenscope\"\njwks_file = \"{}\"\n\
             [[rules]]\nissuer = \"https://ci.example\"\nprincipal = \"ci\"\nscopes = [\"artifact:view\"]\n\
             claims = {{ repository = \"acme/*\" }}\n",
            file.display()
        );
        let Ok(config) = toml::from_str::<OidcConfig>(&text) else { panic!("the fuzz config does not read") };
        Exchanger::new(&config)
    })
}

fuzz_target!(|text: &str| {
    let result = exchanger().matching(text, UnixTime::from_secs(1_800_000_000));
    assert!(result.is_err(), "an identity token without the issuer's signature was accepted");
});
