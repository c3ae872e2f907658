//! Wheel file names from index pages: name, version, build tag and the expanded tag set.
#![no_main]

use icelock_index::WheelName;
use icelock_index::wheel_name::MAX_TAGS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(wheel) = WheelName::parse(text) {
        assert!(text.ends_with(".whl"));
        assert!(!wheel.tags.is_empty() && wheel.tags.len() <= MAX_TAGS);
        for tag in &wheel.tags {
            assert_eq!(tag.split('-').count(), 3, "{tag:?}");
            assert_eq!(tag, &tag.to_ascii_lowercase());
        }
    }
});
