//! `WHEEL`: `Key: value` lines, whose `Tag:` lines are compared as an expanded set.
#![no_main]

use icelock_dist::WheelInfo;
use icelock_index::wheel_name::{MAX_TAGS, tag_set};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let info = WheelInfo::parse(&text);
    for tag in &info.tags {
        assert!(!tag.is_empty());
    }
    // Each line expands to at most MAX_TAGS tags, or stays as written.
    let set = tag_set(&info.tags);
    assert!(set.len() <= info.tags.len() * MAX_TAGS);
});
