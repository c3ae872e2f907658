//! The zip reader behind range requests: a wheel's METADATA and RECORD read through the same
//! plan the HTTP lookup follows, each fetch answered from the input bytes.
#![no_main]

use std::io::Cursor;

use icelock_index::sparse_zip::{MAX_ROUNDS, MemberRead, Step, read_member};
use libfuzzer_sys::fuzz_target;

const CAP: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let names = [
        "demo-1.0.dist-info/METADATA".to_string(),
        "demo-1.0.dist-info/RECORD".to_string(),
    ];
    let mut read = MemberRead::new(data.len() as u64, &names, CAP);
    let mut fetches = 0u32;
    let sparse = loop {
        match read.next_step() {
            Step::Fetch(range) => {
                fetches += 1;
                // The tail, the directory, then one request per attempt at most.
                assert!(fetches <= MAX_ROUNDS + 3, "the plan does not end");
                assert!(range.start < range.end && range.end <= data.len() as u64);
                let bytes = data[range.start as usize..range.end as usize].to_vec();
                read.insert(range.start, bytes);
            }
            Step::Done(found) => break Some(found),
            Step::Failed(_) => break None,
        }
    };
    // Differential: what the sparse read found is what the zip crate reads from the whole file.
    if let Some(found) = sparse {
        let mut archive = zip::ZipArchive::new(Cursor::new(data))
            .expect("the sparse read parsed this zip, so must a whole read");
        for name in &names {
            let whole = read_member(&mut archive, name, CAP).expect("whole read of a member");
            assert_eq!(found.get(name), whole.as_ref(), "{name}");
        }
    }
});
