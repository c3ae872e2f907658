//! PEP 610 `direct_url.json` and PEP 710 `provenance_url.json`: JSON from any installer, whose
//! URLs may carry credentials that must never come out.
#![no_main]

use icelock_dist::{Provenance, Source};
use libfuzzer_sys::fuzz_target;

fn url_of(source: &Source) -> Option<&str> {
    match source {
        Source::Url { url, .. }
        | Source::Vcs { url, .. }
        | Source::Directory { url, .. }
        | Source::Editable { url, .. }
        | Source::Micropip { url, .. } => Some(url),
        _ => None,
    }
}

/// No URL icelock passes on carries a password, or a user other than `git` (PEP 610's
/// `git@host`), whether or not the URL parser accepts it.
fn assert_no_credentials(url: &str) {
    match url::Url::parse(url) {
        Ok(parsed) => {
            assert!(parsed.password().is_none(), "password kept in {url:?}");
            assert!(
                parsed.username().is_empty() || parsed.username() == "git",
                "user kept in {url:?}"
            );
        }
        Err(_) => {
            if let Some((_, rest)) = url.split_once("://") {
                let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
                assert!(!authority.contains('@'), "login kept in {url:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = Source::from_direct_url(data)
        && let Some(url) = url_of(&source)
    {
        assert_no_credentials(url);
    }
    if let Ok(provenance) = Provenance::parse(data) {
        assert_no_credentials(&provenance.url);
    }
});
