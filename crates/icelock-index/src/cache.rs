//! The persistent cache: index pages (revalidated with the validators the server sent) and
//! proven facts about wheels, keyed by the wheel's sha256.
//!
//! A page entry is the part of a page a run needed (the installed version's files, written back
//! as PEP 691 JSON: kilobytes where the page may be megabytes) plus the page's `ETag` /
//! `Last-Modified`; a fact entry says "the wheel
//! whose sha256 is X has a METADATA whose sha256 is Y", which stays true forever because it is
//! keyed by content. With both, a warm run costs one conditional request per project and
//! `--offline` runs from the cache alone. A proof made against a wheel's RECORD is kept keyed by
//! the wheel's sha256 and the installed RECORD's, so its range read happens once per artifact. Entries are written atomically (temporary file, then
//! rename), so concurrent runs and crashes leave either the old entry or the new one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use serde::{Deserialize, Serialize};
use sha2::Digest;
use url::Url;

use crate::config::redact;

/// Bumped when an entry's format or the layout changes; old entries are then ignored, not
/// misread. v2: one folder per kind of entry, no two-character shards (a cold run made a few
/// hundred shard folders for a few hundred entries, and a folder costs more to create than a
/// file).
const VERSION: &str = "v2";

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// Entries are written by one background thread: creating files (and, in a new cache,
    /// folders) costs the file system more than the network costs a request, and written from
    /// the async tasks it would stall them.
    writer: Arc<Writer>,
}

/// A file to write: where, and what.
type Job = (PathBuf, Vec<u8>);

#[derive(Debug, Default)]
struct Writer {
    state: Mutex<WriterState>,
}

#[derive(Debug, Default)]
struct WriterState {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// After a flush, entries are written by the caller.
    flushed: bool,
}

impl Writer {
    fn write(&self, path: PathBuf, bytes: Vec<u8>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // The thread starts with the first entry: a run that stores nothing starts none.
        if state.queue.is_none() && !state.flushed {
            let (send, receive) = mpsc::channel::<Job>();
            let thread = std::thread::Builder::new()
                .name("icelock-cache".into())
                .spawn(move || {
                    // Each folder is made once per run, not asked for again with every entry.
                    let mut made = std::collections::HashSet::new();
                    for (path, bytes) in receive {
                        let _ = write_atomically(&path, &bytes, &mut made);
                    }
                });
            if let Ok(thread) = thread {
                state.queue = Some(send);
                state.thread = Some(thread);
            }
        }
        let (path, bytes) = match &state.queue {
            Some(send) => match send.send((path, bytes)) {
                Ok(()) => return,
                Err(mpsc::SendError(job)) => job,
            },
            None => (path, bytes),
        };
        drop(state);
        let _ = write_atomically(&path, &bytes, &mut std::collections::HashSet::new());
    }

    fn flush(&self) {
        let thread = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.flushed = true;
            state.queue = None;
            state.thread.take()
        };
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A cached page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEntry {
    /// The final URL (after redirects), credentials removed.
    pub url: String,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Until when (seconds since the Unix epoch) the server said the page may be used without
    /// asking again.
    #[serde(default)]
    pub fresh_until: Option<u64>,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// What is known, for good, about a wheel with a given sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WheelFacts {
    pub metadata_sha256: String,
    /// How it was established (the attribution's proof name), reported again on reuse.
    pub proof: String,
    /// The wheel's size, when a request confirmed it.
    #[serde(default)]
    pub size: Option<u64>,
}

/// A proof made, for good: the wheel whose sha256 is X holds a RECORD that an installed RECORD
/// whose sha256 is Y equals, under the installers' rules. Keyed by both contents, it stays true
/// for as long as those two files are those bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundFacts {
    /// The proof's name (`wheel-record`, `wheel-hash`), reported again on reuse.
    pub proof: String,
    /// The wheel's size, as a request confirmed it.
    pub size: Option<u64>,
    /// What the proof found worth telling (a wheel whose own RECORD is wrong about a file).
    #[serde(default)]
    pub notes: Vec<String>,
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit())
}

impl Cache {
    /// The platform's cache folder: `$XDG_CACHE_HOME/icelock` or `~/.cache/icelock` on Linux,
    /// `~/Library/Caches/icelock` on macOS, `%LOCALAPPDATA%\icelock\cache` on Windows.
    pub fn default_dir(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        if let Some(dir) = var("ICELOCK_CACHE_DIR").filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        if cfg!(windows) {
            return var("LOCALAPPDATA").map(|d| PathBuf::from(d).join("icelock").join("cache"));
        }
        let home = var("HOME").map(PathBuf::from);
        if cfg!(target_os = "macos") {
            return home.map(|h| h.join("Library/Caches/icelock"));
        }
        var("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".cache")))
            .map(|d| d.join("icelock"))
    }

    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            writer: Arc::default(),
        }
    }

    /// Waits until every entry stored so far is written (also done when the last clone is
    /// dropped).
    pub fn flush(&self) {
        self.writer.flush();
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn key(text: &str) -> String {
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    }

    fn page_path(&self, url: &Url, view: &str) -> PathBuf {
        // Keyed by the redacted URL: two credentials for one index share the public pages, and
        // no secret ends up in a file name. `view` names the part of the page kept (one
        // version's files, or all).
        let key = Self::key(&format!("{}\n{view}", redact(url)));
        self.root
            .join(VERSION)
            .join("pages")
            .join(format!("{key}.page"))
    }

    /// The stored `view` of a page: its body is what the caller chose to keep of it.
    pub fn page(&self, url: &Url, view: &str) -> Option<PageEntry> {
        // One file: the entry as one line of JSON, then the body.
        let bytes = std::fs::read(self.page_path(url, view)).ok()?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let mut entry: PageEntry = serde_json::from_slice(&bytes[..newline]).ok()?;
        entry.body = bytes[newline + 1..].to_vec();
        Some(entry)
    }

    /// Stores a page. Failures are ignored: a cache that cannot be written only costs speed.
    pub fn store_page(&self, url: &Url, view: &str, entry: &PageEntry) {
        if let Ok(mut bytes) = serde_json::to_vec(entry) {
            bytes.push(b'\n');
            bytes.extend_from_slice(&entry.body);
            self.writer.write(self.page_path(url, view), bytes);
        }
    }

    /// Where the installed files of the environment at `root` that verified against RECORD are
    /// remembered by their stat (see `icelock_dist::known`): one file per environment.
    pub fn known_files_path(&self, root: &Path) -> PathBuf {
        let key = Self::key(&root.to_string_lossy());
        self.root
            .join(VERSION)
            .join("installed")
            .join(format!("{key}.tsv"))
    }

    fn bound_path(&self, wheel_sha256: &str, record_sha256: &str) -> Option<PathBuf> {
        (is_sha256_hex(wheel_sha256) && is_sha256_hex(record_sha256)).then(|| {
            self.root.join(VERSION).join("bound").join(format!(
                "{}-{}.json",
                wheel_sha256.to_ascii_lowercase(),
                record_sha256.to_ascii_lowercase()
            ))
        })
    }

    /// The proof kept for the wheel `wheel_sha256` against the installed RECORD `record_sha256`.
    pub fn bound(&self, wheel_sha256: &str, record_sha256: &str) -> Option<BoundFacts> {
        let path = self.bound_path(wheel_sha256, record_sha256)?;
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn store_bound(&self, wheel_sha256: &str, record_sha256: &str, facts: &BoundFacts) {
        if let (Some(path), Ok(json)) = (
            self.bound_path(wheel_sha256, record_sha256),
            serde_json::to_vec(facts),
        ) {
            self.writer.write(path, json);
        }
    }

    fn facts_path(&self, wheel_sha256: &str) -> Option<PathBuf> {
        is_sha256_hex(wheel_sha256).then(|| {
            self.root
                .join(VERSION)
                .join("wheels")
                .join(format!("{}.json", wheel_sha256.to_ascii_lowercase()))
        })
    }

    pub fn wheel_facts(&self, wheel_sha256: &str) -> Option<WheelFacts> {
        let path = self.facts_path(wheel_sha256)?;
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn store_wheel_facts(&self, wheel_sha256: &str, facts: &WheelFacts) {
        if let (Some(path), Ok(json)) = (self.facts_path(wheel_sha256), serde_json::to_vec(facts)) {
            self.writer.write(path, json);
        }
    }
}

fn write_atomically(
    path: &Path,
    bytes: &[u8],
    made: &mut std::collections::HashSet<PathBuf>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !made.contains(dir) {
        std::fs::create_dir_all(dir)?;
        made.insert(dir.to_path_buf());
    }
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_facts_round_trip_without_secrets_in_names() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path().to_path_buf());
        let url = Url::parse("https://user:s3cret@index.test/simple/demo/").unwrap();
        assert!(cache.page(&url, "1.0").is_none());
        cache.store_page(
            &url,
            "1.0",
            &PageEntry {
                url: redact(&url),
                content_type: Some("text/html".into()),
                etag: Some("\"abc\"".into()),
                last_modified: None,
                fresh_until: None,
                body: b"<html></html>".to_vec(),
            },
        );
        cache.flush();
        let back = cache.page(&url, "1.0").unwrap();
        assert!(cache.page(&url, "2.0").is_none());
        assert_eq!(back.body, b"<html></html>");
        assert_eq!(back.etag.as_deref(), Some("\"abc\""));
        // The same page without credentials is the same entry.
        assert!(
            cache
                .page(
                    &Url::parse("https://index.test/simple/demo/").unwrap(),
                    "1.0"
                )
                .is_some()
        );

        let sha = "ab".repeat(32);
        cache.store_wheel_facts(
            &sha,
            &WheelFacts {
                metadata_sha256: "cd".repeat(32),
                proof: "metadata-file".into(),
                size: None,
            },
        );
        cache.flush();
        assert_eq!(
            cache.wheel_facts(&sha).unwrap().metadata_sha256,
            "cd".repeat(32)
        );
        assert!(cache.wheel_facts("../../etc/passwd").is_none());
        let bound = BoundFacts {
            proof: "wheel-record".into(),
            size: Some(10),
            notes: vec![],
        };
        cache.store_bound(&sha, &"ef".repeat(32), &bound);
        cache.flush();
        assert_eq!(cache.bound(&sha, &"ef".repeat(32)), Some(bound));
        assert!(cache.bound(&sha, &"ee".repeat(32)).is_none());
        assert!(cache.bound(&sha, "../x").is_none());

        let mut names = Vec::new();
        for entry in walk(tmp.path()) {
            names.push(entry.display().to_string());
        }
        assert!(
            names
                .iter()
                .all(|n| !n.contains("s3cret") && !n.contains("user"))
        );
        for path in walk(tmp.path()) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(!text.contains("s3cret"), "{}", path.display());
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
