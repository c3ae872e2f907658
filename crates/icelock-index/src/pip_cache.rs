//! pip's HTTP cache, read (never written) so that a wheel pip already downloaded is hashed from
//! disk instead of fetched again.
//!
//! pip stores responses with cachecontrol's file cache: the key is the URL without its fragment,
//! hashed with sha224, laid out as `http-v2/a/b/c/d/e/<hash>`, the body beside it in
//! `<hash>.body`. A body is only ever used after hashing it to the sha256 the index lists, so a
//! stale or foreign file can cost a download, never a wrong answer. (uv keeps wheels unpacked,
//! so its cache holds no archive to hash.)

use std::path::PathBuf;

use sha2::Digest;
use url::Url;

/// pip's cache folder, as pip picks it.
pub fn dir(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if var("PIP_NO_CACHE_DIR").is_some_and(|v| !v.is_empty() && v != "0" && v != "false") {
        return None;
    }
    if let Some(dir) = var("PIP_CACHE_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let home = var("HOME").map(PathBuf::from);
    if cfg!(target_os = "macos") {
        return home.map(|h| h.join("Library/Caches/pip"));
    }
    if cfg!(windows) {
        return var("LOCALAPPDATA").map(|d| PathBuf::from(d).join("pip").join("Cache"));
    }
    var("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".cache")))
        .map(|d| d.join("pip"))
}

/// Where pip would keep the body of `url`, if it kept it.
pub fn body_path(cache_dir: &std::path::Path, url: &Url) -> PathBuf {
    let mut key = url.clone();
    key.set_fragment(None);
    let hashed = hex::encode(sha2::Sha224::digest(key.as_str().as_bytes()));
    let mut path = cache_dir.join("http-v2");
    for c in hashed.chars().take(5) {
        path.push(c.to_string());
    }
    path.push(format!("{hashed}.body"));
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_cachecontrols() {
        let url = Url::parse("https://files.test/packages/x/idna-3.10-py3-none-any.whl#sha256=ab")
            .unwrap();
        let path = body_path(std::path::Path::new("/c"), &url);
        let hashed = hex::encode(sha2::Sha224::digest(
            b"https://files.test/packages/x/idna-3.10-py3-none-any.whl",
        ));
        let expected = format!(
            "/c/http-v2/{}/{}/{}/{}/{}/{hashed}.body",
            &hashed[0..1],
            &hashed[1..2],
            &hashed[2..3],
            &hashed[3..4],
            &hashed[4..5]
        );
        assert_eq!(path, PathBuf::from(expected));
    }
}
