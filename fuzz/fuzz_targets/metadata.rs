//! `METADATA` (and `PKG-INFO`, and PEP 658 `.metadata` files): RFC 822 headers, encoded words,
//! folded lines, any bytes.
#![no_main]

use icelock_dist::CoreMetadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let first = CoreMetadata::parse(data);
    // A pure function of the bytes: a second run must agree.
    let second = CoreMetadata::parse(data);
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
    if let Ok((metadata, _)) = first {
        assert!(!metadata.name.is_empty());
        assert_eq!(metadata.name.trim(), metadata.name);
        assert!(!metadata.normalized_name.as_ref().is_empty());
    }
});
