//! Installed files already hashed and found to match RECORD, remembered by their stat so that
//! `lock` need not hash them again (as git's index spares `git status` from re-reading files).
//!
//! This module owns that record and its file. A file is taken as unchanged, and not read, only
//! when its device, inode, size, mtime and ctime (both to the nanosecond) all equal what they
//! were when it was hashed, and the RECORD digest (algorithm and bytes) it is now checked against
//! is the one it matched then. That is safe because any write to a file, and any change to its
//! times, sets its ctime to the current clock, and no user tool can set a ctime: `touch` and
//! `utime` can put the mtime back, not the ctime (short of turning the system clock back).
//! Replacing the file changes its inode or, when an inode is reused, its ctime.
//!
//! The one gap is a file changed so soon after it was hashed that the file system gives the
//! change the same timestamps (coarse clocks tick in milliseconds, FAT's in two seconds). As git
//! does with "racily clean" entries, a verification is therefore remembered only when the file's
//! mtime and ctime are at least two seconds older than the moment verification started: any later
//! change then carries a later time.
//!
//! The record is a cache: a missing, unreadable or corrupt file reads as empty and one that cannot
//! be written is skipped, which costs only speed. It is trusted as far as the place it is stored
//! in: whoever can write it can make a modified file pass, so it belongs where only the owner of
//! the environment can write.

use std::collections::HashMap;
use std::fs::Metadata;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::record::RecordHash;

/// The first line of the file; any other first line means the file is ignored.
const HEADER: &str = "icelock-known-files 1";

/// How much older than the start of verification a file's times must be to be remembered.
const RACY_MARGIN: Duration = Duration::from_secs(2);

/// Files whose content was found to match RECORD.
//
// Loading is mostly building this map, so it is built lean: looked up by device and inode (two
// integers hash in a fraction of the time a path does), each entry then checked against its path;
// digests and paths stay text, back to back in one buffer (on load, the file's own bytes), rather
// than being decoded and allocated one by one.
#[derive(Clone, Default)]
pub struct KnownFiles {
    entries: HashMap<(u64, u64), Entry, BuildHasherDefault<InodeHasher>>,
    text: Vec<u8>,
}

/// Mixes a device and inode number with one folded multiplication each (as foldhash does), which
/// spreads every input bit over the whole hash even for inode numbers that share their low bits.
/// SipHash, the default, resists keys chosen to collide; no one but the file system chooses inode
/// numbers, and SipHash was a third of the loading time.
#[derive(Default)]
struct InodeHasher(u64);

impl Hasher for InodeHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    stat: Stat,
    algorithm: Algorithm,
    /// Where `hexdigest<TAB>path` is in `KnownFiles::text`.
    text_start: u32,
    text_end: u32,
}

/// The stat fields that change whenever a file's content can have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

/// The hash algorithms files are verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha256,
    Sha384,
    Sha512,
}

/// A file that has just matched its RECORD digest, for [`KnownFiles::insert`].
#[derive(Debug)]
pub(crate) struct Match {
    path: PathBuf,
    stat: Stat,
    algorithm: Algorithm,
    digest: crate::record::Digest,
}

impl Stat {
    /// `None` where there is no ctime and inode to trust (anything but unix): nothing is then
    /// ever remembered or reused.
    pub(crate) fn of(meta: &Metadata) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ns = |secs: i64, nsecs: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsecs);
            Some(Self {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
                ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }
}

#[cfg(target_os = "linux")]
impl Stat {
    /// The same fields from a raw `fstatat`, as [`Stat::of`] reads them from `Metadata`.
    pub(crate) fn of_raw(st: &libc::stat) -> Self {
        let ns = |secs: i64, nsecs: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsecs);
        #[allow(clippy::unnecessary_cast)] // the field types differ between targets
        Self {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            size: st.st_size as u64,
            mtime_ns: ns(st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime_ns: ns(st.st_ctime as i64, st.st_ctime_nsec as i64),
        }
    }
}

impl Algorithm {
    fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"sha256" => Some(Self::Sha256),
            b"sha384" => Some(Self::Sha384),
            b"sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

impl Stat {
    /// The key a file is remembered under.
    pub(crate) fn key(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

impl Match {
    /// `None` for a digest no file is ever verified with.
    pub(crate) fn new(path: PathBuf, stat: Stat, expected: &RecordHash) -> Option<Self> {
        let algorithm = Algorithm::from_name(expected.algorithm.as_bytes())?;
        (expected.digest.len() * 2 == algorithm.hex_len()).then(|| Self {
            path,
            stat,
            algorithm,
            digest: expected.digest.clone(),
        })
    }
}

/// The time a file's mtime and ctime must both precede for its verification to be remembered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cutoff {
    ns: i128,
}

impl Cutoff {
    /// `started` is when verification started, read before any file is.
    pub(crate) fn for_run_started(started: SystemTime) -> Self {
        let ns = match started.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        };
        Self {
            ns: ns - RACY_MARGIN.as_nanos() as i128,
        }
    }

    pub(crate) fn admits(self, stat: &Stat) -> bool {
        stat.mtime_ns < self.ns && stat.ctime_ns < self.ns
    }
}

impl KnownFiles {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with_capacity(entries: usize) -> Self {
        Self {
            entries: HashMap::with_capacity_and_hasher(entries, Default::default()),
            text: Vec::with_capacity(entries * 160),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the file at `path` is still exactly as it was when it matched `expected`.
    pub(crate) fn unchanged(&self, path: &Path, stat: &Stat, expected: &RecordHash) -> bool {
        self.unchanged_as(stat, expected, |known| {
            known == path.as_os_str().as_encoded_bytes()
        })
    }

    /// [`KnownFiles::unchanged`] for the file `name` in `folder`, without joining the two.
    pub(crate) fn unchanged_in(
        &self,
        folder: &Path,
        name: &std::ffi::OsStr,
        stat: &Stat,
        expected: &RecordHash,
    ) -> bool {
        self.unchanged_as(stat, expected, |known| is_joined(known, folder, name))
    }

    fn unchanged_as(
        &self,
        stat: &Stat,
        expected: &RecordHash,
        is_path: impl FnOnce(&[u8]) -> bool,
    ) -> bool {
        let Some(entry) = self.entries.get(&(stat.dev, stat.ino)) else {
            return false;
        };
        if entry.stat != *stat || entry.algorithm.name() != expected.algorithm {
            return false;
        }
        let (hex_digest, known_path) = self.digest_and_path(entry);
        let mut buffer = [0u8; 128];
        let Some(expected_hex) = buffer.get_mut(..expected.digest.len() * 2) else {
            return false;
        };
        hex::encode_to_slice(&expected.digest, expected_hex).is_ok()
            && hex_digest == expected_hex
            && is_path(known_path)
    }

    /// Remembers a match; one for the same device and inode (a hard link listed twice) is
    /// replaced. A path with a newline cannot be saved, so it is not remembered.
    pub(crate) fn insert(&mut self, found: Match) {
        let path = found.path.as_os_str().as_encoded_bytes();
        if path.is_empty() || path.contains(&b'\n') {
            return;
        }
        let start = self.text.len();
        let end = start + found.algorithm.hex_len() + 1 + path.len();
        let (Ok(text_start), Ok(text_end)) = (u32::try_from(start), u32::try_from(end)) else {
            return;
        };
        self.text.resize(start + found.algorithm.hex_len(), 0);
        if hex::encode_to_slice(&found.digest, &mut self.text[start..]).is_err() {
            self.text.truncate(start);
            return;
        }
        self.text.push(b'\t');
        self.text.extend_from_slice(path);
        let entry = Entry {
            stat: found.stat,
            algorithm: found.algorithm,
            text_start,
            text_end,
        };
        self.entries.insert((entry.stat.dev, entry.stat.ino), entry);
    }

    /// `fresh` (the files just hashed) with the entries of `old` under `reused` added, where
    /// `fresh` has nothing for the same device and inode. `None` when that is `old` itself
    /// (every entry reused, nothing new), so a warm run neither copies nor saves it. The fresh
    /// set is built as outcomes arrive, so no list of them is held beside it.
    pub(crate) fn rebuilt(
        old: &KnownFiles,
        reused: &[(u64, u64)],
        mut fresh: KnownFiles,
    ) -> Option<KnownFiles> {
        if fresh.is_empty() && reused.len() == old.len() {
            let mut keys = reused.to_vec();
            keys.sort_unstable();
            keys.dedup();
            if keys.len() == old.len() {
                return None;
            }
        }
        fresh.entries.reserve(reused.len());
        for key in reused {
            if fresh.entries.contains_key(key) {
                continue;
            }
            if let Some(entry) = old.entries.get(key) {
                let text = &old.text[entry.text_start as usize..entry.text_end as usize];
                let start = fresh.text.len();
                fresh.text.extend_from_slice(text);
                let (Ok(text_start), Ok(text_end)) =
                    (u32::try_from(start), u32::try_from(fresh.text.len()))
                else {
                    fresh.text.truncate(start);
                    continue;
                };
                fresh.entries.insert(
                    *key,
                    Entry {
                        text_start,
                        text_end,
                        ..*entry
                    },
                );
            }
        }
        Some(fresh)
    }

    fn digest_and_path(&self, entry: &Entry) -> (&[u8], &[u8]) {
        let text = &self.text[entry.text_start as usize..entry.text_end as usize];
        let hex_len = entry.algorithm.hex_len();
        (&text[..hex_len], &text[hex_len + 1..])
    }

    /// Reads a file written by [`KnownFiles::save`]; anything else, or nothing, reads as empty.
    pub fn load(path: &Path) -> Self {
        std::fs::read(path).ok().and_then(parse).unwrap_or_default()
    }

    /// Replaces the file at `path` at once (a reader sees the old file or the new one, never
    /// part of one). Failure is silent: the next run only hashes more.
    pub fn save(&self, path: &Path) {
        let _ = self.try_save(path);
    }

    fn try_save(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(folder)?;
        // In the same folder, so the rename cannot cross file systems; a name no other saver
        // (another process, or this one on another thread) is using, and `create_new` in case.
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let temporary = folder.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temporary).and_then(|file| {
            // Streamed: the whole text of a large environment's files is tens of MB, which
            // would be the run's peak memory if it were built first.
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
            self.write_to(&mut out)?;
            out.flush()?;
            // No fsync: after a crash the file may be empty or torn, which reads as empty, or be
            // an older version, whose entries are as true as they were.
            drop(out);
            std::fs::rename(&temporary, path)
        });
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }

    // One line per file, fields separated by tabs, the path last so that a tab in it needs no
    // escaping: `dev ino size mtime_ns ctime_ns algorithm hexdigest path`.
    fn write_to(&self, sink: &mut impl std::io::Write) -> std::io::Result<()> {
        sink.write_all(HEADER.as_bytes())?;
        sink.write_all(b"\n")?;
        let mut out = Vec::with_capacity(512);
        for entry in self.entries.values() {
            out.clear();
            let Stat {
                dev,
                ino,
                size,
                mtime_ns,
                ctime_ns,
            } = entry.stat;
            for n in [dev.into(), ino.into(), size.into(), mtime_ns, ctime_ns] {
                push_field(&mut out, n);
            }
            out.extend_from_slice(entry.algorithm.name().as_bytes());
            out.push(b'\t');
            out.extend_from_slice(&self.text[entry.text_start as usize..entry.text_end as usize]);
            out.push(b'\n');
            sink.write_all(&out)?;
        }
        Ok(())
    }
}

impl PartialEq for KnownFiles {
    fn eq(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().all(|(key, entry)| {
                other.entries.get(key).is_some_and(|theirs| {
                    entry.stat == theirs.stat
                        && entry.algorithm == theirs.algorithm
                        && self.digest_and_path(entry) == other.digest_and_path(theirs)
                })
            })
    }
}

impl Eq for KnownFiles {}

impl std::fmt::Debug for KnownFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownFiles")
            .field("len", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// `None` for anything but a whole file as [`KnownFiles::format`] writes it: one bad line and
/// none of the file is trusted.
///
/// One pass with a cursor, each field read where it starts: splitting lines and fields first
/// cost as much again as the parsing.
fn parse(bytes: Vec<u8>) -> Option<KnownFiles> {
    // Offsets into the file become offsets into `text`.
    u32::try_from(bytes.len()).ok()?;
    let mut entries = HashMap::with_capacity_and_hasher(bytes.len() / 200, Default::default());
    let mut rest = bytes.strip_prefix(HEADER.as_bytes())?.strip_prefix(b"\n")?;
    while !rest.is_empty() {
        let (dev, after) = unsigned_field(rest)?;
        let (ino, after) = unsigned_field(after)?;
        let (size, after) = unsigned_field(after)?;
        let (mtime_ns, after) = signed_field(after)?;
        let (ctime_ns, after) = signed_field(after)?;
        let tab = after.iter().position(|&b| b == b'\t')?;
        let algorithm = Algorithm::from_name(&after[..tab])?;
        let text = &after[tab + 1..];
        let hex_len = algorithm.hex_len();
        // Validated, not decoded: lookups compare it as text. No early exit, so it vectorises.
        let hex_digest = text.get(..hex_len)?;
        let is_hex = hex_digest.iter().fold(true, |ok, &b| {
            ok & ((b.wrapping_sub(b'0') < 10) | (b.wrapping_sub(b'a') < 6))
        });
        if !is_hex {
            return None;
        }
        let path = text[hex_len..].strip_prefix(b"\t")?;
        // A file cut short loses its final newline, so a last line without one is refused.
        let path_len = find_newline(path)?;
        if path_len == 0 {
            return None;
        }
        let text_start = bytes.len() - text.len();
        let text_end = bytes.len() - path.len() + path_len;
        rest = &path[path_len + 1..];
        let entry = Entry {
            stat: Stat {
                dev,
                ino,
                size,
                mtime_ns,
                ctime_ns,
            },
            algorithm,
            text_start: text_start as u32,
            text_end: text_end as u32,
        };
        entries.insert((dev, ino), entry);
    }
    Some(KnownFiles {
        entries,
        text: bytes,
    })
}

/// Appends `n` in decimal and a tab. By hand: `write!` spent most of the saving time on
/// 128-bit times that fit in 64 bits.
fn push_field(out: &mut Vec<u8>, n: i128) {
    if n < 0 {
        out.push(b'-');
    }
    let mut magnitude = n.unsigned_abs();
    let mut digits = [0u8; 39];
    let mut at = digits.len();
    loop {
        at -= 1;
        let (rest, digit) = match u64::try_from(magnitude) {
            Ok(small) => (u128::from(small / 10), (small % 10) as u8),
            Err(_) => (magnitude / 10, (magnitude % 10) as u8),
        };
        digits[at] = b'0' + digit;
        magnitude = rest;
        if magnitude == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    out.push(b'\t');
}

/// The first newline, looked for eight bytes at a time: a byte at a time, the search through
/// each path was a fifth of the loading time.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().ok()?) ^ (ONES * u64::from(b'\n'));
        // The lowest byte that is zero sets its high bit here; bytes above it may too.
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(offset + zeros.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let tail = chunks.remainder();
    tail.iter().position(|&b| b == b'\n').map(|i| offset + i)
}

/// Reads a number and the tab after it.
fn unsigned_field(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (n, rest) = magnitude_field(bytes)?;
    Some((u64::try_from(n).ok()?, rest))
}

/// Any mtime or ctime a file system can report, however far from now, round-trips: a time that
/// did not would make the whole file unreadable.
fn signed_field(bytes: &[u8]) -> Option<(i128, &[u8])> {
    match bytes.strip_prefix(b"-") {
        Some(digits) => {
            let (n, rest) = magnitude_field(digits)?;
            Some((0i128.checked_sub_unsigned(n)?, rest))
        }
        None => {
            let (n, rest) = magnitude_field(bytes)?;
            Some((i128::try_from(n).ok()?, rest))
        }
    }
}

/// Parsed by hand, straight from the bytes: with `str::parse` numbers were a third of the
/// loading time. Up to 19 digits, which cannot overflow, are read in 64 bits, any more (a time
/// centuries away) in 128.
fn magnitude_field(bytes: &[u8]) -> Option<(u128, &[u8])> {
    let mut small = 0u64;
    for (i, &b) in bytes.iter().take(19).enumerate() {
        if b == b'\t' {
            return (i > 0).then(|| (u128::from(small), &bytes[i + 1..]));
        }
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        small = small * 10 + u64::from(digit);
    }
    let mut n = u128::from(small);
    for (i, &b) in bytes.iter().enumerate().skip(19) {
        if b == b'\t' {
            return Some((n, &bytes[i + 1..]));
        }
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u128::from(digit))?;
    }
    None
}

/// Whether `path` is `folder.join(name)`, `name` being one component.
fn is_joined(path: &[u8], folder: &Path, name: &std::ffi::OsStr) -> bool {
    #[cfg(unix)]
    {
        let (folder, name) = (
            folder.as_os_str().as_encoded_bytes(),
            name.as_encoded_bytes(),
        );
        // As `Path::join`: a separator unless the folder is empty or already ends with one.
        let separator = usize::from(!folder.is_empty() && !folder.ends_with(b"/"));
        path.len() == folder.len() + separator + name.len()
            && path.starts_with(folder)
            && path.ends_with(name)
            && (separator == 0 || path[folder.len()] == b'/')
    }
    #[cfg(not(unix))]
    {
        path == folder.join(name).as_os_str().as_encoded_bytes()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sample(i: u64) -> Match {
        Match {
            path: format!("/venv/lib/python3.12/site-packages/pkg/m{i}.py").into(),
            stat: Stat {
                dev: 2049,
                ino: 1_000_000 + i,
                size: 4096 + i,
                mtime_ns: 1_700_000_000_123_456_789,
                ctime_ns: -5,
            },
            algorithm: Algorithm::Sha256,
            digest: [i as u8; 32].as_slice().into(),
        }
    }

    #[test]
    fn save_then_load_gives_the_same_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("known");
        let mut known = KnownFiles::new();
        for i in 0..100 {
            known.insert(sample(i));
        }
        // The path is the last field, so a tab in it survives.
        known.insert(Match {
            path: "/venv/odd\tname.py".into(),
            ..sample(100)
        });
        // Paths are bytes on unix, not necessarily UTF-8.
        known.insert(Match {
            path: <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(
                b"/venv/not-utf8-\xff.py",
            )
            .into(),
            ..sample(101)
        });
        known.insert(Match {
            algorithm: Algorithm::Sha512,
            digest: [0xab; 64].as_slice().into(),
            ..sample(102)
        });
        known.save(&file);
        let loaded = KnownFiles::load(&file);
        assert_eq!(loaded.len(), known.len());
        assert_eq!(loaded, known);
        // Saving again replaces the file.
        let mut fewer = KnownFiles::new();
        fewer.insert(sample(7));
        fewer.save(&file);
        assert_eq!(KnownFiles::load(&file), fewer);
        assert_ne!(fewer, known);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn lookups_check_every_field() {
        let mut known = KnownFiles::new();
        known.insert(sample(1));
        let Match {
            path, stat, digest, ..
        } = sample(1);
        let expected = RecordHash {
            algorithm: "sha256".into(),
            digest,
        };
        assert!(known.unchanged(&path, &stat, &expected));
        assert!(!known.unchanged(Path::new("/elsewhere"), &stat, &expected));
        let (folder, name) = (path.parent().unwrap(), path.file_name().unwrap());
        assert!(known.unchanged_in(folder, name, &stat, &expected));
        let mut with_slash = folder.as_os_str().to_owned();
        with_slash.push("/");
        assert!(known.unchanged_in(Path::new(&with_slash), name, &stat, &expected));
        assert!(!known.unchanged_in(folder, "other".as_ref(), &stat, &expected));
        // The same bytes with another byte where the separator goes.
        let parts = (
            Path::new("/venv/lib/python3.12/site-packages/p"),
            "kg/m1.py",
        );
        assert!(!is_joined(
            path.as_os_str().as_encoded_bytes(),
            parts.0,
            parts.1.as_ref()
        ));
        assert!(!known.unchanged_in(Path::new("/elsewhere"), name, &stat, &expected));
        let mut other = expected.clone();
        other.digest[0] ^= 1;
        assert!(!known.unchanged(&path, &stat, &other));
        other = expected.clone();
        other.algorithm = "sha512".into();
        assert!(!known.unchanged(&path, &stat, &other));
        for changed in [
            Stat { dev: 1, ..stat },
            Stat { ino: 1, ..stat },
            Stat { size: 1, ..stat },
            Stat {
                mtime_ns: stat.mtime_ns + 1,
                ..stat
            },
            Stat {
                ctime_ns: stat.ctime_ns + 1,
                ..stat
            },
        ] {
            assert!(!known.unchanged(&path, &changed, &expected), "{changed:?}");
        }
    }

    #[test]
    fn newlines_are_found_wherever_they_are() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'x'; len];
                bytes[at] = b'\n';
                // Bytes that differ from a newline by one bit, and 0x80, around it.
                if at + 1 < len {
                    bytes[at + 1] = b'\n' ^ 1;
                }
                if at > 0 {
                    bytes[at - 1] = 0x8a;
                }
                assert_eq!(find_newline(&bytes), Some(at), "{len} {at}");
                bytes[at] = b'\n' ^ 0x80;
                assert_eq!(find_newline(&bytes), None, "{len} {at}");
            }
        }
        assert_eq!(find_newline(b"ab\n\ncd"), Some(2));
    }

    #[test]
    fn extreme_times_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("known");
        let mut known = KnownFiles::new();
        for (i, (mtime_s, ctime_s)) in [(i64::MIN, i64::MAX), (i64::MAX, -1), (0, i64::MIN)]
            .into_iter()
            .enumerate()
        {
            let mut found = sample(i as u64);
            found.stat.mtime_ns = i128::from(mtime_s) * 1_000_000_000 + 999_999_999;
            found.stat.ctime_ns = i128::from(ctime_s) * 1_000_000_000 - 999_999_999;
            found.stat.dev = u64::MAX;
            known.insert(found);
        }
        let mut zeros = sample(9);
        zeros.stat = Stat {
            dev: 0,
            ino: 0,
            size: 0,
            mtime_ns: 0,
            ctime_ns: i128::MIN + 1,
        };
        known.insert(zeros);
        known.save(&file);
        assert_eq!(KnownFiles::load(&file), known);
    }

    #[test]
    fn a_path_with_a_newline_is_not_remembered() {
        let mut known = KnownFiles::new();
        known.insert(Match {
            path: "/venv/two\nlines.py".into(),
            ..sample(1)
        });
        assert!(known.is_empty());
    }

    #[test]
    fn garbage_reads_as_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("known");
        let load = |bytes: &[u8]| {
            std::fs::write(&file, bytes).unwrap();
            KnownFiles::load(&file)
        };
        let one_line = |line: &str| [HEADER, "\n", line, "\n"].concat().into_bytes();
        let zeros = "00".repeat(32);

        assert!(KnownFiles::load(&tmp.path().join("absent")).is_empty());
        assert!(KnownFiles::load(tmp.path()).is_empty());
        // The line the bad ones below are variations of.
        assert_eq!(
            load(&one_line(&format!("1\t2\t3\t-4\t5\tsha256\t{zeros}\t/p"))).len(),
            1
        );
        let bad_lines = [
            format!("x\t2\t3\t4\t5\tsha256\t{zeros}\t/p"),
            format!("1\t2\t3\t4\t+5\tsha256\t{zeros}\t/p"),
            format!("1\t\t3\t4\t5\tsha256\t{zeros}\t/p"),
            format!("99999999999999999999999\t2\t3\t4\t5\tsha256\t{zeros}\t/p"),
            format!("1\t2\t3\t4\t5\tmd5\t{zeros}\t/p"),
            format!("1\t2\t3\t4\t5\tsha512\t{zeros}\t/p"),
            format!("1\t2\t3\t4\t5\tsha256\tzz{}\t/p", &zeros[2..]),
            format!("1\t2\t3\t4\t5\tsha256\t{zeros}0\t/p"),
            format!("1\t2\t3\t4\t5\tsha256\t{zeros}\t"),
            format!("1\t2\t3\t4\t5\tsha256\t{zeros}"),
            "1\t2\t3".to_string(),
            String::new(),
        ];
        for line in &bad_lines {
            assert!(load(&one_line(line)).is_empty(), "{line:?}");
        }

        let mut known = KnownFiles::new();
        known.insert(sample(1));
        known.insert(sample(2));
        known.save(&file);
        assert_eq!(KnownFiles::load(&file).len(), 2);
        let good = std::fs::read(&file).unwrap();
        let whole_files: [&[u8]; 6] = [
            b"",
            b"\0\0\0\0\0\0\0\0",
            &[0xff; 1000],
            &good[..good.len() - 1],
            &good[..good.len() / 2],
            &[b"icelock-known-files 2", &good[HEADER.len()..]].concat(),
        ];
        for bytes in whole_files {
            assert!(
                load(bytes).is_empty(),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert!(load(&[&good[..], b"\n"].concat()).is_empty());
        // Every byte of a good file changed in turn: none may panic.
        for i in 0..good.len() {
            for flip in [0x01, 0x55, 0xff] {
                let mut changed = good.clone();
                changed[i] ^= flip;
                parse(changed);
            }
        }
    }

    #[test]
    fn saving_where_it_cannot_be_written_is_silent() {
        let tmp = tempfile::tempdir().unwrap();
        KnownFiles::new().save(&tmp.path().join("no/such/folder/known"));
    }

    #[test]
    fn a_run_start_moves_the_cutoff_back_two_seconds() {
        let started = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let cutoff = Cutoff::for_run_started(started);
        let mut found = sample(0);
        found.stat.mtime_ns = 97_999_999_999;
        found.stat.ctime_ns = 97_999_999_999;
        assert!(cutoff.admits(&found.stat));
        found.stat.ctime_ns = 98_000_000_000;
        assert!(!cutoff.admits(&found.stat));
        found.stat.ctime_ns = 0;
        found.stat.mtime_ns = 99_000_000_000;
        assert!(!cutoff.admits(&found.stat));
    }
}
