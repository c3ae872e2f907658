//! PEP 691 JSON project pages, as a hostile or broken index may send them.
#![no_main]

use icelock_index::simple;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://index.example/simple/demo/").unwrap();
    let all = simple::parse_json(data, &base);
    // The filtered parse (what lookups use) keeps a subset, in order, and fails alike.
    let some = simple::parse_json_filtered(data, &base, &|name| name.len() % 2 == 0);
    match (&all, &some) {
        (Ok(all), Ok(some)) => {
            let kept: Vec<_> = all
                .files
                .iter()
                .filter(|f| f.filename.len() % 2 == 0)
                .map(|f| (&f.filename, &f.url))
                .collect();
            let got: Vec<_> = some.files.iter().map(|f| (&f.filename, &f.url)).collect();
            assert_eq!(kept, got);
        }
        (Err(_), _) | (_, Err(_)) => {}
    }
    if let Ok(page) = all {
        for file in &page.files {
            assert!(file.url.fragment().is_none());
            if let Some(sha256) = file.sha256() {
                assert_eq!(sha256, sha256.to_ascii_lowercase());
            }
        }
    }
});
