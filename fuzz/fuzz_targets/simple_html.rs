//! PEP 503 HTML project pages and find-links pages.
#![no_main]

use icelock_index::simple;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let base = url::Url::parse("https://index.example/simple/demo/").unwrap();
    let all = simple::parse_html(&text, &base);
    let some = simple::parse_html_filtered(&text, &base, &|name| name.len() % 2 == 0);
    if let (Ok(all), Ok(some)) = (&all, &some) {
        let kept: Vec<_> = all
            .files
            .iter()
            .filter(|f| f.filename.len() % 2 == 0)
            .map(|f| (&f.filename, &f.url))
            .collect();
        let got: Vec<_> = some.files.iter().map(|f| (&f.filename, &f.url)).collect();
        assert_eq!(kept, got);
    }
    if let Ok(page) = all {
        for file in &page.files {
            assert!(file.url.fragment().is_none());
        }
    }
});
