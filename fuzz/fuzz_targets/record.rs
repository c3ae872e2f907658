//! `RECORD`: CSV rows of path, hash and size, and the import names derived from its paths.
#![no_main]

use icelock_dist::{imports, record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (entries, errors) = record::parse(data);
    for error in &errors {
        assert!(error.line >= 1);
    }
    for entry in &entries {
        if let Some(hash) = &entry.hash {
            assert_eq!(hash.hex().len(), hash.digest.len() * 2);
            assert_eq!(hash.algorithm, hash.algorithm.to_ascii_lowercase());
        }
    }
    // Names come from relative paths only and are dotted identifiers.
    let names = imports::from_record(
        entries.iter().map(|e| e.path.as_str()),
        &["ns".to_string()],
        &|path| path.len() % 2 == 0,
    );
    for name in &names {
        assert!(!name.is_empty());
        assert!(name.split('.').all(|part| !part.is_empty()), "{name:?}");
    }
});
