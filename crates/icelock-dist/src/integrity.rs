//! Integrity: do the installed files still match RECORD, and is nothing beside them?
//!
//! Every hashed RECORD row is resolved inside the distribution's prefix (a row that points out of
//! it, directly, absolutely or through a symlink, is reported and never opened), then streamed
//! through its hash; all files of all distributions are hashed in parallel. `lock` may skip the
//! hashing of files [`KnownFiles`] shows unchanged since they last matched; `check` never does.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use rayon::prelude::*;
use sha2::Digest;

use crate::InstalledDist;
use crate::known::{Cutoff, KnownFiles, Match, Stat};
use crate::record::RecordEntry;
use icelock_env::safe_fs::open_no_follow;

/// What is wrong with one RECORD row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    #[error("{path}: content differs from RECORD ({algorithm} {actual}, RECORD has {expected})")]
    Modified {
        path: String,
        algorithm: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: size {actual} bytes, RECORD has {expected}")]
    SizeMismatch {
        path: String,
        expected: u64,
        actual: u64,
    },
    #[error("{path}: listed in RECORD but missing")]
    Missing { path: String },
    #[error("{path}: resolves outside the environment ({resolved}); not read")]
    OutsideEnvironment { path: String, resolved: PathBuf },
    #[error("{path}: is {found}, not a regular file; not read")]
    NotAFile { path: String, found: &'static str },
    #[error("{path}: cannot be read: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: hash algorithm {algorithm:?} is not supported (sha256, sha384, sha512 are)")]
    UnsupportedHash { path: String, algorithm: String },
    /// In the distribution's folders (a trailing `/` for a folder) but in no RECORD of its site
    /// folder; `shadows` is the listed module a top-level entry is imported in place of.
    #[error("{path}: {}", unlisted_why(.shadows))]
    Unlisted {
        path: String,
        shadows: Option<String>,
    },
    /// Bytecode Python would run in place of a listed source, holding `detail`.
    #[error("{path}: Python runs it in place of {of}, and it holds {detail}")]
    Bytecode {
        path: String,
        /// The source's RECORD path.
        of: String,
        detail: String,
    },
}

fn unlisted_why(shadows: &Option<String>) -> String {
    match shadows {
        Some(module) => format!(
            "in no RECORD, and imported as `{module}` in place of the distribution's own (a rebuild from a lock would not have it)"
        ),
        None => "in the distribution's folders but in no RECORD (a rebuild from a lock would not have it)".into(),
    }
}

impl FileProblem {
    pub fn path(&self) -> &str {
        match self {
            Self::Modified { path, .. }
            | Self::SizeMismatch { path, .. }
            | Self::Missing { path }
            | Self::OutsideEnvironment { path, .. }
            | Self::Unreadable { path, .. }
            | Self::NotAFile { path, .. }
            | Self::UnsupportedHash { path, .. }
            | Self::Unlisted { path, .. }
            | Self::Bytecode { path, .. } => path,
        }
    }
}

/// The outcome for one distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Integrity {
    /// Hashed rows whose file matched: read now, or known unchanged since it last did.
    pub files_ok: usize,
    /// Bytes actually read: a file `KnownFiles` showed unchanged counts in `files_ok` only.
    pub bytes_hashed: u64,
    pub problems: Vec<FileProblem>,
}

/// Verifies every distribution's RECORD, hashing every file; the result is in the order of
/// `dists`.
pub fn check_all(dists: &[InstalledDist]) -> Vec<Integrity> {
    run(dists, None, &AtomicU64::new(0)).0
}

/// Verifies every distribution's RECORD as [`check_all`] does, except that a file `known` shows
/// unchanged since it matched the same RECORD digest is taken as matching without being read.
///
/// Also returns what to remember for the next run, `None` when that is `known` unchanged: every
/// file that matched, except those changed too recently to be trusted later. Files no longer
/// listed, or no longer matching, drop out.
pub fn check_all_with(
    dists: &[InstalledDist],
    known: &KnownFiles,
) -> (Vec<Integrity>, Option<KnownFiles>) {
    check_all_with_progress(dists, known, &AtomicU64::new(0))
}

/// [`check_all_with`], counting in `done` each hashed RECORD row as it is settled (for a
/// progress bar; the total is the number of rows with a hash).
pub fn check_all_with_progress(
    dists: &[InstalledDist],
    known: &KnownFiles,
    done: &AtomicU64,
) -> (Vec<Integrity>, Option<KnownFiles>) {
    run(
        dists,
        Some((known, Cutoff::for_run_started(SystemTime::now()))),
        done,
    )
}

/// [`check_all_with`] with the moment verification started given, so that tests can have files
/// written just now count as old; what to remember is always returned in full.
#[cfg(test)]
fn check_all_started(
    dists: &[InstalledDist],
    known: &KnownFiles,
    started: SystemTime,
) -> (Vec<Integrity>, KnownFiles) {
    let (integrity, remembered) = run(
        dists,
        Some((known, Cutoff::for_run_started(started))),
        &AtomicU64::new(0),
    );
    (integrity, remembered.unwrap_or_else(|| known.clone()))
}

/// Files verified between two merges of their outcomes: large enough that the threads rarely
/// wait for each other at a slice's end, small enough to bound what is held.
const OUTCOMES_AT_ONCE: usize = 16 * 1024;

/// What a verified file leaves to remember.
enum Remember {
    Nothing,
    /// Unchanged since the run that remembered it: its entry is carried over.
    Reused((u64, u64)),
    Fresh(Match),
}

/// A file that matched RECORD.
struct Verified {
    bytes_hashed: u64,
    known: Remember,
}

fn run(
    dists: &[InstalledDist],
    cache: Option<(&KnownFiles, Cutoff)>,
    done: &AtomicU64,
) -> (Vec<Integrity>, Option<KnownFiles>) {
    let jobs: Vec<(usize, &InstalledDist, &RecordEntry)> = dists
        .iter()
        .enumerate()
        .flat_map(|(i, d)| {
            d.record
                .iter()
                .flatten()
                .filter(|e| e.hash.is_some())
                .map(move |e| (i, d, e))
        })
        .collect();
    let folders = Folders::of(dists, &jobs);
    let mut results = vec![Integrity::default(); dists.len()];
    let mut reused: Vec<(u64, u64)> = Vec::new();
    // On a first run every file will be remembered: sized once rather than grown by doubling.
    let mut fresh = match cache {
        Some((known, _)) if known.is_empty() => KnownFiles::with_capacity(jobs.len()),
        _ => KnownFiles::new(),
    };
    // In slices, so that only one slice's outcomes (each with the path and digest to remember)
    // are held at a time, not a large environment's sixty thousand.
    let mut slice_start = 0;
    for slice in jobs.chunks(OUTCOMES_AT_ONCE) {
        let outcomes: Vec<(usize, Result<Verified, FileProblem>)> = slice
            .par_iter()
            .enumerate()
            .map(|(at, (i, dist, entry))| {
                let folder = folders.of_job(slice_start + at);
                let outcome = verify_entry(dist, entry, folder, cache);
                done.fetch_add(1, Ordering::Relaxed);
                (*i, outcome)
            })
            .collect();
        slice_start += slice.len();
        for (i, outcome) in outcomes {
            match outcome {
                Ok(verified) => {
                    results[i].files_ok += 1;
                    results[i].bytes_hashed += verified.bytes_hashed;
                    match verified.known {
                        Remember::Nothing => {}
                        Remember::Reused(key) => reused.push(key),
                        Remember::Fresh(found) => fresh.insert(found),
                    }
                }
                Err(problem) => results[i].problems.push(problem),
            }
        }
    }
    // A folder kept open past this run could be replaced on disk before the next one.
    rayon::broadcast(|_| at_folder::forget());
    let (unlisted, clean) = crate::unlisted::find(dists, cache);
    for (r, unlisted) in results.iter_mut().zip(unlisted) {
        r.problems.extend(unlisted);
        r.problems.sort_by(|a, b| a.path().cmp(b.path()));
    }
    reused.extend(clean.reused);
    for found in clean.fresh {
        fresh.insert(found);
    }
    let remembered = cache.and_then(|(known, _)| KnownFiles::rebuilt(known, &reused, fresh));
    (results, remembered)
}

/// Where a folder of RECORD's files really is.
enum Folder {
    /// Its real path (symlinks resolved), inside the prefix.
    Real(PathBuf),
    /// It does not exist.
    Missing,
    /// Its real path leaves the prefix (a symlinked folder pointing out).
    Outside(PathBuf),
}

impl Folder {
    /// `folder` resolved component by component below `from`, judged against `prefix` (the
    /// dist's own, which `from` may lie inside).
    fn of(
        folder: &Path,
        from: &Path,
        prefix: &Path,
        memo: &mut HashMap<PathBuf, Option<PathBuf>>,
    ) -> Self {
        match real_folder(folder, Some(from), memo) {
            None => Self::Missing,
            Some(real) if real.starts_with(prefix) => Self::Real(real),
            Some(real) => Self::Outside(real),
        }
    }
}

/// The folder of every job's file, resolved once per folder before any file is read: thousands
/// of files share a tenth as many folders, and resolving each path in full costs more than
/// hashing the file. RECORD lists a package folder by folder, so a run of rows with the same
/// folder text costs one comparison each.
struct Folders {
    /// Per job, its index in `folders`; `None` when the file's path is resolved on its own (it
    /// leaves the prefix, or its last component is `..`).
    of_job: Vec<Option<u32>>,
    folders: Vec<Folder>,
}

impl Folders {
    fn of<'a>(
        dists: &'a [InstalledDist],
        jobs: &[(usize, &'a InstalledDist, &RecordEntry)],
    ) -> Self {
        let prefixes: std::collections::BTreeSet<&'a Path> =
            dists.iter().map(|d| d.prefix.as_path()).collect();
        // Resolved from the innermost prefix holding it, the others' folders being below it.
        let from = |folder: &Path, dist: &'a InstalledDist| -> &'a Path {
            prefixes
                .iter()
                .filter(|p| folder.starts_with(p))
                .max_by_key(|p| p.as_os_str().len())
                .copied()
                .unwrap_or(&dist.prefix)
        };
        // The site folders and their ancestors, which every dist shares, resolved once; each
        // dist then resolves its own folders on its own thread, from a copy of these: a large
        // environment has thousands of folders, and one `lstat` each in a row was a serial
        // stretch before any file could be hashed.
        let mut shared = HashMap::new();
        for dist in dists {
            real_folder(
                &dist.site_dir,
                Some(from(&dist.site_dir, dist)),
                &mut shared,
            );
        }
        // The jobs of one dist are contiguous (they are built dist by dist).
        let runs: Vec<&[(usize, &InstalledDist, &RecordEntry)]> =
            jobs.chunk_by(|a, b| a.0 == b.0).collect();
        let per_dist: Vec<(Vec<Option<u32>>, Vec<Folder>)> = runs
            .par_iter()
            .map(|run| {
                let mut memo = shared.clone();
                let mut ids: HashMap<PathBuf, u32> = HashMap::new();
                let mut folders = Vec::new();
                let mut last: Option<(&Path, Option<u32>)> = None;
                let of_job = run
                    .iter()
                    .map(|(_, dist, entry)| {
                        let path = Path::new(&entry.path);
                        let text = path.file_name().and(path.parent());
                        if let (Some(text), Some((last_text, id))) = (text, last)
                            && last_text == text
                        {
                            return id;
                        }
                        let id = locate(dist, &entry.path).ok().and_then(|resolved| {
                            let folder = resolved.parent()?.to_path_buf();
                            if let Some(&id) = ids.get(&folder) {
                                return Some(id);
                            }
                            let from = from(&folder, dist);
                            let found = Folder::of(&folder, from, &dist.prefix, &mut memo);
                            let id = u32::try_from(folders.len()).ok()?;
                            folders.push(found);
                            ids.insert(folder, id);
                            Some(id)
                        });
                        if let Some(text) = text {
                            last = Some((text, id));
                        }
                        id
                    })
                    .collect();
                (of_job, folders)
            })
            .collect();
        // One table: each dist's ids moved past the folders of the dists before it.
        let mut of_job = Vec::with_capacity(jobs.len());
        let mut folders = Vec::new();
        for (ids, found) in per_dist {
            let Ok(base) = u32::try_from(folders.len()) else {
                of_job.extend(ids.iter().map(|_| None));
                continue;
            };
            of_job.extend(
                ids.into_iter()
                    .map(|id| id.and_then(|id| id.checked_add(base))),
            );
            folders.extend(found);
        }
        Self { of_job, folders }
    }

    fn of_job(&self, job: usize) -> Option<&Folder> {
        self.of_job[job].map(|id| &self.folders[id as usize])
    }
}

/// The real path of `folder` (symlinks resolved), or `None` when it does not exist, memoised in
/// `memo` with every ancestor up to `prefix`: each folder then costs one `lstat` of its last
/// component, where `canonicalize` reads every component of every folder again.
fn real_folder(
    folder: &Path,
    prefix: Option<&Path>,
    memo: &mut HashMap<PathBuf, Option<PathBuf>>,
) -> Option<PathBuf> {
    if let Some(known) = memo.get(folder) {
        return known.clone();
    }
    let real = match (prefix, folder.parent(), folder.file_name()) {
        (Some(prefix), Some(parent), Some(name)) if folder != prefix => {
            real_folder(parent, Some(prefix), memo).and_then(|parent| {
                let child = parent.join(name);
                match std::fs::symlink_metadata(&child) {
                    Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(&child).ok(),
                    Ok(meta) if meta.is_dir() => Some(child),
                    _ => None,
                }
            })
        }
        _ => std::fs::canonicalize(folder).ok(),
    };
    memo.insert(folder.to_path_buf(), real.clone());
    real
}

/// Where a RECORD row of `dist` puts its file: resolved against its site folder without
/// touching the file system, refused (`Err`, with where it leads) outside its prefix.
pub fn locate(dist: &InstalledDist, record_path: &str) -> Result<PathBuf, PathBuf> {
    if is_target_row(dist, record_path) {
        let rest = &record_path["../../".len()..];
        return resolve_inside(&dist.site_dir, &dist.prefix, rest);
    }
    resolve_inside(&dist.site_dir, &dist.prefix, record_path)
}

/// `pip install --target DIR` installs into a temporary home scheme (purelib at HOME/lib/python,
/// scripts at HOME/bin, data at HOME) and then moves all of it into DIR, so the `../../bin/x`
/// its RECORD says is DIR/bin/x. Read that way in a bare folder (its own prefix), and in a
/// POSIX `lib/pythonX.Y/site-packages` (a venv's filled with `--target`, as Pyodide venvs
/// often are), where no install scheme ever writes two levels up: its scripts and data are
/// three levels up (Windows' `Lib/site-packages` puts `Scripts` two levels up, so not there).
pub fn is_target_row(dist: &InstalledDist, record_path: &str) -> bool {
    let Some(rest) = record_path.strip_prefix("../../") else {
        return false;
    };
    if rest.starts_with("../") {
        return false;
    }
    dist.site_dir == dist.prefix || is_posix_site(&dist.site_dir)
}

fn is_posix_site(site: &Path) -> bool {
    let name = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .map(str::to_string)
    };
    let version = site.parent();
    let lib = version.and_then(Path::parent);
    matches!(
        name(Some(site)).as_deref(),
        Some("site-packages" | "dist-packages")
    ) && name(version).is_some_and(|n| n.starts_with("python") || n.starts_with("pypy"))
        && matches!(name(lib).as_deref(), Some("lib" | "lib64"))
}

/// Resolves a RECORD path against `site` without touching the file system, refusing any result
/// outside `prefix`.
pub fn resolve_inside(site: &Path, prefix: &Path, record_path: &str) -> Result<PathBuf, PathBuf> {
    let relative = Path::new(record_path);
    let joined = if relative.is_absolute() {
        relative.to_path_buf()
    } else {
        site.join(relative)
    };
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                if !normal.pop() {
                    return Err(joined);
                }
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    if normal.starts_with(prefix) {
        Ok(normal)
    } else {
        Err(normal)
    }
}

fn verify_entry(
    dist: &InstalledDist,
    entry: &RecordEntry,
    folder: Option<&Folder>,
    cache: Option<(&KnownFiles, Cutoff)>,
) -> Result<Verified, FileProblem> {
    let prefix = dist.prefix.as_path();
    let path = || entry.path.clone();
    // A path the folders could not be worked out for ahead is resolved here, by itself: it
    // leaves the prefix (which this reports), or it ends in `..`.
    let alone;
    let (folder, name) = match (folder, Path::new(&entry.path).file_name()) {
        (Some(folder), Some(name)) => (folder, name),
        _ => {
            let resolved =
                locate(dist, &entry.path).map_err(|resolved| FileProblem::OutsideEnvironment {
                    path: path(),
                    resolved,
                })?;
            let parent = resolved.parent().unwrap_or(prefix);
            alone = (
                Folder::of(parent, prefix, prefix, &mut HashMap::new()),
                resolved.file_name().unwrap_or_default().to_owned(),
            );
            (&alone.0, alone.1.as_os_str())
        }
    };
    let real_folder = match folder {
        Folder::Real(real) => real.as_path(),
        Folder::Missing => return Err(FileProblem::Missing { path: path() }),
        Folder::Outside(real) => {
            return Err(FileProblem::OutsideEnvironment {
                path: path(),
                resolved: real.join(name),
            });
        }
    };
    // A file remembered as verified needs one `lstat` (which never follows a final symlink, as
    // the open below never does) to be known unchanged: no open, no read. With nothing
    // remembered (a first run) there is nothing to look up, so no `lstat` either.
    if let (Some((known, _)), Some(expected)) = (cache, &entry.hash)
        && !known.is_empty()
        && let Some(stat) = at_folder::lstat_file(real_folder, name)
        && entry.size.is_none_or(|size| size == stat.size())
        && known.unchanged_in(real_folder, name, &stat, expected)
    {
        return Ok(Verified {
            bytes_hashed: 0,
            known: Remember::Reused(stat.key()),
        });
    }
    // Open without following a final symlink (it may point out of the prefix) and without
    // blocking (a named pipe would hang a plain open), then fstat the handle, so only regular
    // files are ever read.
    let mut real = real_folder.join(name);
    let mut file = match at_folder::open_no_follow(real_folder, name) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(FileProblem::Missing { path: path() });
        }
        Err(err) if is_symlink_error(&err, &real) => {
            real = match std::fs::canonicalize(&real) {
                Ok(target) => target,
                Err(_) => return Err(FileProblem::Missing { path: path() }),
            };
            if !icelock_env::safe_fs::within(&real, prefix) {
                return Err(FileProblem::OutsideEnvironment {
                    path: path(),
                    resolved: real,
                });
            }
            open_no_follow(&real).map_err(|err| FileProblem::Unreadable {
                path: path(),
                message: err.to_string(),
            })?
        }
        Err(err) => {
            return Err(FileProblem::Unreadable {
                path: path(),
                message: err.to_string(),
            });
        }
    };
    let meta = file.metadata().map_err(|err| FileProblem::Unreadable {
        path: path(),
        message: err.to_string(),
    })?;
    if !meta.is_file() {
        return Err(FileProblem::NotAFile {
            path: path(),
            found: if meta.is_dir() {
                "a folder"
            } else {
                "a pipe, socket or device"
            },
        });
    }
    let Some(expected) = &entry.hash else {
        return Ok(Verified {
            bytes_hashed: 0,
            known: Remember::Nothing,
        });
    };
    // pipx's mark on its apps' scripts: the size RECORD gives, three bytes more.
    if entry
        .size
        .is_some_and(|size| size + PIPX_MARK.len() as u64 == meta.len())
        && pipx_marked(&real, expected)
    {
        return Ok(Verified {
            bytes_hashed: meta.len(),
            known: Remember::Nothing,
        });
    }
    // A different size settles it without reading a byte.
    if let Some(expected_size) = entry.size
        && expected_size != meta.len()
    {
        return Err(FileProblem::SizeMismatch {
            path: path(),
            expected: expected_size,
            actual: meta.len(),
        });
    }
    // The stat from the handle about to be read: a change made while it is read gives the file a
    // later ctime than the one remembered, so the next run reads it again.
    let cache = cache.and_then(|(known, cutoff)| Some((known, cutoff, Stat::of(&meta)?)));
    if let Some((known, _, stat)) = cache
        && known.unchanged(&real, &stat, expected)
    {
        return Ok(Verified {
            bytes_hashed: 0,
            known: Remember::Reused(stat.key()),
        });
    }
    let (actual, size) = match expected.algorithm.as_ref() {
        "sha256" => stream_hash::<sha2::Sha256>(&mut file, meta.len()),
        "sha384" => stream_hash::<sha2::Sha384>(&mut file, meta.len()),
        "sha512" => stream_hash::<sha2::Sha512>(&mut file, meta.len()),
        other => {
            return Err(FileProblem::UnsupportedHash {
                path: path(),
                algorithm: other.to_string(),
            });
        }
    }
    .map_err(|err| FileProblem::Unreadable {
        path: path(),
        message: err.to_string(),
    })?;
    if actual[..] != expected.digest[..] && !(entry.size.is_none() && pipx_marked(&real, expected))
    {
        return Err(FileProblem::Modified {
            path: path(),
            algorithm: expected.algorithm.to_string(),
            expected: hex::encode(&expected.digest),
            actual: hex::encode(actual),
        });
    }
    if let Some(expected_size) = entry.size
        && expected_size != size
    {
        return Err(FileProblem::SizeMismatch {
            path: path(),
            expected: expected_size,
            actual: size,
        });
    }
    Ok(Verified {
        bytes_hashed: size,
        known: cache
            .filter(|(_, cutoff, stat)| cutoff.admits(stat))
            .and_then(|(_, _, stat)| Match::new(real, stat, expected))
            .map_or(Remember::Nothing, Remember::Fresh),
    })
}

/// What pipx appends to the first line of the scripts of the apps it installs, after install
/// and without a word to RECORD (the interpreter then ignores `PYTHON*` variables).
const PIPX_MARK: &[u8] = b" -E";

/// `real`, in a scripts folder (`bin`, `Scripts`), is the file RECORD hashes with pipx's ` -E`
/// appended to its shebang line, and nothing else changed.
fn pipx_marked(real: &Path, expected: &crate::record::RecordHash) -> bool {
    const MAX_SCRIPT: u64 = 1024 * 1024;
    let in_scripts = real
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "bin" || n == "Scripts");
    if !in_scripts || std::fs::metadata(real).map_or(true, |m| m.len() > MAX_SCRIPT) {
        return false;
    }
    let Ok(bytes) = std::fs::read(real) else {
        return false;
    };
    let Some(line_end) = bytes.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let line = bytes[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&bytes[..line_end]);
    if !bytes.starts_with(b"#!") || !line.ends_with(PIPX_MARK) {
        return false;
    }
    let cut = line.len() - PIPX_MARK.len();
    let mut original = Vec::with_capacity(bytes.len() - PIPX_MARK.len());
    original.extend_from_slice(&bytes[..cut]);
    original.extend_from_slice(&bytes[line.len()..]);
    let digest: Vec<u8> = match expected.algorithm.as_ref() {
        "sha256" => sha2::Sha256::digest(&original).to_vec(),
        "sha384" => sha2::Sha384::digest(&original).to_vec(),
        "sha512" => sha2::Sha512::digest(&original).to_vec(),
        _ => return false,
    };
    digest[..] == expected.digest[..]
}

/// Files opened and stat'ed relative to their folder, which each thread keeps open while it
/// works through it: RECORD lists a package's files folder by folder, so a file then costs a
/// one-component lookup, where its full path costs one per component (a dozen below a venv's
/// site-packages). `real_folder` is already resolved and inside the prefix; `full` is the
/// same file by path, used where no folder handle could be had.
pub(crate) mod at_folder {
    use std::path::Path;

    use crate::known::Stat;

    #[cfg(target_os = "linux")]
    mod imp {
        use std::cell::RefCell;
        use std::ffi::{CString, OsStr};
        use std::fs::File;
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        use std::os::unix::ffi::OsStrExt;
        use std::path::{Path, PathBuf};

        thread_local! {
            static FOLDER: RefCell<Option<(PathBuf, OwnedFd)>> = const { RefCell::new(None) };
        }

        /// Runs `f` with a handle on `folder` (`None` if it cannot be opened).
        pub(super) fn with_folder<R>(folder: &Path, f: impl FnOnce(Option<i32>) -> R) -> R {
            FOLDER.with(|slot| {
                let mut slot = slot.borrow_mut();
                if slot.as_ref().is_none_or(|(open, _)| open != folder) {
                    *slot = open_folder(folder).map(|fd| (folder.to_path_buf(), fd));
                }
                f(slot.as_ref().map(|(_, fd)| fd.as_raw_fd()))
            })
        }

        fn open_folder(folder: &Path) -> Option<OwnedFd> {
            let path = CString::new(folder.as_os_str().as_bytes()).ok()?;
            // SAFETY: a valid C string; the descriptor returned is owned by the OwnedFd.
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                )
            };
            // SAFETY: a fresh descriptor that nothing else owns.
            (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
        }

        pub(super) fn forget() {
            FOLDER.with(|slot| slot.borrow_mut().take());
        }

        /// A file name as C wants it, on the stack: one is made for every file verified.
        pub(super) struct CName([u8; 256]);

        impl CName {
            fn as_ptr(&self) -> *const libc::c_char {
                self.0.as_ptr().cast()
            }
        }

        /// `None` for a name no folder can hold (longer than `NAME_MAX`, or with a NUL).
        pub(super) fn c_name(name: &OsStr) -> Option<CName> {
            let bytes = name.as_bytes();
            let mut buf = [0u8; 256];
            (bytes.len() < buf.len() && !bytes.contains(&0)).then(|| {
                buf[..bytes.len()].copy_from_slice(bytes);
                CName(buf)
            })
        }

        pub(super) fn lstat_at(dir: i32, name: &CName) -> Option<libc::stat> {
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            // SAFETY: `dir` is an open descriptor, `name` a valid C string, `st` room for a stat.
            let rc = unsafe {
                libc::fstatat(
                    dir,
                    name.as_ptr(),
                    st.as_mut_ptr(),
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            };
            // SAFETY: fstatat filled it in when it returned 0.
            (rc == 0).then(|| unsafe { st.assume_init() })
        }

        pub(super) fn open_at(dir: i32, name: &CName) -> std::io::Result<File> {
            // SAFETY: as above; the descriptor returned is owned by the File.
            let fd = unsafe {
                libc::openat(
                    dir,
                    name.as_ptr(),
                    libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: a fresh descriptor that nothing else owns.
            Ok(unsafe { File::from_raw_fd(fd) })
        }
    }

    /// The file's stat, if it is a regular file (a symlink is not followed).
    pub(crate) fn lstat_file(real_folder: &Path, name: &std::ffi::OsStr) -> Option<Stat> {
        #[cfg(target_os = "linux")]
        if let Some(c) = imp::c_name(name) {
            return imp::with_folder(real_folder, |dir| match dir {
                Some(dir) => imp::lstat_at(dir, &c)
                    .filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
                    .map(|st| Stat::of_raw(&st)),
                None => by_path(&real_folder.join(name)),
            });
        }
        by_path(&real_folder.join(name))
    }

    /// Closes the calling thread's folder handle.
    pub(crate) fn forget() {
        #[cfg(target_os = "linux")]
        imp::forget();
    }

    fn by_path(full: &Path) -> Option<Stat> {
        std::fs::symlink_metadata(full)
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| Stat::of(&m))
    }

    pub(super) fn open_no_follow(
        real_folder: &Path,
        name: &std::ffi::OsStr,
    ) -> std::io::Result<std::fs::File> {
        #[cfg(target_os = "linux")]
        if let Some(c) = imp::c_name(name) {
            return imp::with_folder(real_folder, |dir| match dir {
                Some(dir) => imp::open_at(dir, &c),
                None => icelock_env::safe_fs::open_no_follow(&real_folder.join(name)),
            });
        }
        icelock_env::safe_fs::open_no_follow(&real_folder.join(name))
    }
}

/// Whether opening failed because the final component is a symlink (`ELOOP` with O_NOFOLLOW).
fn is_symlink_error(err: &std::io::Error, path: &Path) -> bool {
    #[cfg(unix)]
    if err.raw_os_error() == Some(libc::ELOOP) {
        return true;
    }
    let _ = err;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Files at least this large are hashed through a memory map.
const MMAP_THRESHOLD: u64 = 1024 * 1024;

/// How much of a file is mapped at once (a multiple of every page size).
const MMAP_WINDOW: u64 = 1024 * 1024;

/// The size of each thread's read buffer for files below `MMAP_THRESHOLD`.
const READ_BUFFER: usize = 256 * 1024;

/// Hashes a file in fixed-size chunks through one buffer per thread: memory stays flat whatever
/// the file's size, and no buffer is allocated (and zeroed) per file.
fn stream_hash<D: Digest>(file: &mut std::fs::File, len: u64) -> std::io::Result<(Vec<u8>, u64)> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_BUFFER]);
    }
    let mut hasher = D::new();
    let mut total = 0u64;
    // Large files are mapped rather than copied through a buffer: most of an environment's
    // bytes are in a few big extension modules, and the copy costs a fifth of the hashing.
    if len >= MMAP_THRESHOLD {
        // SAFETY: the map is read-only and dropped before returning; a file truncated under
        // us by another process would fault, which is the risk every mmap-based hasher takes
        // (ripgrep and b3sum too) and is confined to a concurrently modified environment.
        // Mapped a window at a time: a mapped page counts in the process's resident memory
        // until it is unmapped, and a whole 40 MB extension module per thread would be most
        // of a run's peak.
        let mut offset = 0;
        while offset < len {
            let window = (len - offset).min(MMAP_WINDOW);
            let map = unsafe {
                memmap2::MmapOptions::new()
                    .offset(offset)
                    .len(window as usize)
                    .map(&*file)?
            };
            hasher.update(&map[..]);
            offset += window;
        }
        return Ok((hasher.finalize().to_vec(), len));
    }
    BUFFER.with(|buf| {
        let mut buf = buf.borrow_mut();
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
            // A read of a regular file comes back short only at its end: one that stops where
            // the stat said the file ends is the end, and asking again for the 0 that says so
            // would be a fifth system call per file.
            if n < buf.len() && total == len {
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    })?;
    Ok((hasher.finalize().to_vec(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_stays_inside_the_prefix() {
        let prefix = Path::new("/venv");
        let site = Path::new("/venv/lib/python3.11/site-packages");
        assert_eq!(
            resolve_inside(site, prefix, "../../../bin/tool"),
            Ok(PathBuf::from("/venv/bin/tool"))
        );
        assert!(resolve_inside(site, prefix, "../../../../etc/passwd").is_err());
        assert!(resolve_inside(site, prefix, "/etc/passwd").is_err());
        assert!(resolve_inside(site, prefix, "../../../../../../../../x").is_err());
        assert_eq!(
            resolve_inside(site, prefix, "pkg/./a.py"),
            Ok(PathBuf::from("/venv/lib/python3.11/site-packages/pkg/a.py"))
        );
    }

    /// Verification against known files; only unix has the stat fields they are keyed by.
    #[cfg(unix)]
    mod known_files {
        use super::*;
        use crate::record::RecordHash;
        use std::str::FromStr;
        use std::time::Duration;

        /// An environment in `root` with one distribution that installed `pkg/mod.py`.
        fn one_file_dist(root: &Path, content: &[u8]) -> InstalledDist {
            let prefix = std::fs::canonicalize(root).unwrap();
            let site = prefix.join("site-packages");
            std::fs::create_dir_all(site.join("pkg")).unwrap();
            std::fs::write(site.join("pkg/mod.py"), content).unwrap();
            make_old(&site.join("pkg/mod.py"));
            InstalledDist {
                record: Some(vec![RecordEntry {
                    path: "pkg/mod.py".into(),
                    hash: Some(RecordHash {
                        algorithm: "sha256".into(),
                        digest: sha2::Sha256::digest(content).as_slice().into(),
                    }),
                    size: Some(content.len() as u64),
                }]),
                ..crate::test_dist("pkg", &site, &prefix)
            }
        }

        fn make_old(path: &Path) {
            let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }

        /// A start of verification late enough that a file written now is not racily clean (its
        /// ctime, which a test cannot set, is now).
        fn later() -> SystemTime {
            SystemTime::now() + Duration::from_secs(60)
        }

        /// A folder is judged against its own dist's prefix, whichever prefix it was resolved
        /// from: a base dist's file reached through a folder inside the venv (the inner
        /// prefix) that links elsewhere in the base prefix is inside the environment.
        #[test]
        fn a_folder_is_judged_by_its_own_dists_prefix() {
            let tmp = tempfile::tempdir().unwrap();
            let mut base = one_file_dist(tmp.path(), b"x = 1\n");
            std::fs::create_dir(tmp.path().join("venv")).unwrap();
            let venv = one_file_dist(&tmp.path().join("venv"), b"y = 2\n");
            std::os::unix::fs::symlink(base.site_dir.join("pkg"), venv.prefix.join("link"))
                .unwrap();
            base.record.as_mut().unwrap()[0].path = "../venv/link/mod.py".into();
            let integrity = check_all(&[base, venv]);
            assert!(integrity[0].problems.is_empty(), "{:?}", integrity[0]);
            assert_eq!(integrity[0].files_ok, 1);
            assert_eq!(integrity[1].files_ok, 1);
        }

        /// Each dist's folders are resolved on their own and then put in one table: every file
        /// is still read through its own folder, whatever the folders of the dists before it,
        /// and a symlinked folder that leads out is refused for its dist alone.
        #[test]
        fn every_dist_reads_through_its_own_folders() {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::create_dir(tmp.path().join("env")).unwrap();
            let template = one_file_dist(&tmp.path().join("env"), b"");
            let site = template.site_dir.clone();
            let outside = std::fs::canonicalize(tmp.path()).unwrap().join("outside");
            std::fs::create_dir(&outside).unwrap();
            std::fs::write(outside.join("w.py"), b"w = 0\n").unwrap();
            std::os::unix::fs::symlink(&outside, site.join("escape")).unwrap();
            let entry = |path: &str, content: &[u8]| RecordEntry {
                path: path.into(),
                hash: Some(RecordHash {
                    algorithm: "sha256".into(),
                    digest: sha2::Sha256::digest(content).as_slice().into(),
                }),
                size: Some(content.len() as u64),
            };
            let dist = |name: &str, files: &[(&str, &str)]| {
                let mut record = Vec::new();
                for (path, content) in files {
                    let full = site.join(path);
                    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                    std::fs::write(&full, content).unwrap();
                    record.push(entry(path, content.as_bytes()));
                }
                InstalledDist {
                    name: uv_normalize::PackageName::from_str(name).unwrap(),
                    record: Some(record),
                    ..template.clone()
                }
            };
            // The same file names in different folders: a file read through another dist's
            // folder would be found modified.
            let a = dist(
                "a",
                &[("a/x.py", "a"), ("a/sub/x.py", "a.sub"), ("a/x2.py", "a2")],
            );
            let b = dist("b", &[("b/x.py", "b"), ("b/sub/x.py", "b.sub")]);
            let mut c = dist("c", &[("c/x.py", "c")]);
            c.record
                .as_mut()
                .unwrap()
                .push(entry("escape/w.py", b"w = 0\n"));
            let d = dist("d", &[("d/sub/x.py", "d.sub"), ("d/x.py", "d")]);
            let integrity = check_all(&[a, b, c, d]);
            for (i, files) in [(0, 3), (1, 2), (3, 2)] {
                assert!(integrity[i].problems.is_empty(), "{i}: {:?}", integrity[i]);
                assert_eq!(integrity[i].files_ok, files, "{i}");
            }
            assert_eq!(integrity[2].files_ok, 1);
            assert!(
                matches!(
                    &integrity[2].problems[..],
                    [FileProblem::OutsideEnvironment { path, .. }] if path == "escape/w.py"
                ),
                "{:?}",
                integrity[2]
            );
        }

        #[test]
        fn an_unchanged_file_is_not_hashed_again() {
            let tmp = tempfile::tempdir().unwrap();
            let dists = [one_file_dist(tmp.path(), b"print('hello')\n")];
            let (first, known) = check_all_started(&dists, &KnownFiles::new(), later());
            assert_eq!(first[0].files_ok, 1);
            assert_eq!(first[0].bytes_hashed, 15);
            // The file, and its folder found clean.
            assert_eq!(known.len(), 2);

            // Through the file, as the next `lock` would.
            let file = tmp.path().join("known");
            known.save(&file);
            let loaded = KnownFiles::load(&file);
            let (second, again) = check_all_started(&dists, &loaded, later());
            assert_eq!(second[0].files_ok, 1);
            assert_eq!(second[0].bytes_hashed, 0);
            assert!(second[0].problems.is_empty());
            assert_eq!(again, known);

            // `check` reads every file whatever is known.
            assert_eq!(check_all(&dists)[0].bytes_hashed, 15);
        }

        /// Files from `MMAP_THRESHOLD` up are hashed a mapped window at a time: every window,
        /// the last partial one included, counts, and a change in the last byte is found.
        #[test]
        fn a_large_file_is_hashed_through_every_window() {
            let tmp = tempfile::tempdir().unwrap();
            let len = (2 * MMAP_WINDOW + MMAP_WINDOW / 2 + 3) as usize;
            let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let dists = [one_file_dist(tmp.path(), &content)];
            let outcome = check_all(&dists);
            assert!(outcome[0].problems.is_empty(), "{:?}", outcome[0].problems);
            assert_eq!(outcome[0].files_ok, 1);
            assert_eq!(outcome[0].bytes_hashed, len as u64);

            let mut changed = content;
            *changed.last_mut().unwrap() ^= 1;
            std::fs::write(dists[0].site_dir.join("pkg/mod.py"), &changed).unwrap();
            assert!(matches!(
                check_all(&dists)[0].problems[..],
                [FileProblem::Modified { .. }]
            ));
        }

        /// Below `MMAP_THRESHOLD` a file is read through the thread's buffer and its end is
        /// taken from the stat: at every size around the buffer's, every byte counts, and a
        /// change in the last one is found.
        #[test]
        fn a_buffered_file_is_hashed_to_its_last_byte() {
            const B: usize = READ_BUFFER;
            for len in [0, 1, B - 1, B, B + 1, 3 * B + 7] {
                let tmp = tempfile::tempdir().unwrap();
                let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let dists = [one_file_dist(tmp.path(), &content)];
                let outcome = check_all(&dists);
                assert!(
                    outcome[0].problems.is_empty(),
                    "{len}: {:?}",
                    outcome[0].problems
                );
                assert_eq!(outcome[0].bytes_hashed, len as u64, "{len}");
                if let Some(last) = content.len().checked_sub(1) {
                    let mut changed = content;
                    changed[last] ^= 1;
                    std::fs::write(dists[0].site_dir.join("pkg/mod.py"), &changed).unwrap();
                    assert!(
                        matches!(
                            check_all(&dists)[0].problems[..],
                            [FileProblem::Modified { .. }]
                        ),
                        "{len}"
                    );
                }
            }
        }

        #[test]
        fn a_file_changed_just_before_the_run_is_not_remembered() {
            let tmp = tempfile::tempdir().unwrap();
            let dists = [one_file_dist(tmp.path(), b"x = 1\n")];
            // Its ctime is now, however old its mtime.
            let (outcome, known) = check_all_with(&dists, &KnownFiles::new());
            assert_eq!(outcome[0].files_ok, 1);
            assert!(known.is_none_or(|k| k.is_empty()));
        }

        #[test]
        fn a_same_size_change_is_found() {
            let tmp = tempfile::tempdir().unwrap();
            let dists = [one_file_dist(tmp.path(), b"x = 1\n")];
            let (_, known) = check_all_started(&dists, &KnownFiles::new(), later());
            assert_eq!(known.len(), 2);
            let path = dists[0].site_dir.join("pkg/mod.py");

            std::fs::write(&path, b"x = 2\n").unwrap();
            let (outcome, after) = check_all_started(&dists, &known, later());
            assert!(matches!(
                outcome[0].problems[..],
                [FileProblem::Modified { .. }]
            ));
            assert_eq!(outcome[0].files_ok, 0);
            // Only the folder is still remembered clean: nothing was added to it.
            assert_eq!(after.len(), 1);
        }

        #[test]
        fn a_change_with_the_mtime_put_back_is_found() {
            let tmp = tempfile::tempdir().unwrap();
            let dists = [one_file_dist(tmp.path(), b"x = 1\n")];
            let (_, known) = check_all_started(&dists, &KnownFiles::new(), later());
            let path = dists[0].site_dir.join("pkg/mod.py");

            // Past the file system's clock tick, so the change gets a later ctime, as every change
            // made after a run started does.
            std::thread::sleep(Duration::from_millis(50));
            std::fs::write(&path, b"x = 2\n").unwrap();
            make_old(&path);
            let (outcome, _) = check_all_started(&dists, &known, later());
            assert!(matches!(
                outcome[0].problems[..],
                [FileProblem::Modified { .. }]
            ));
        }

        /// A folder remembered clean is not listed again while its stat is unchanged; a file
        /// added to it changes that, and is found, as is one added to a folder that was never
        /// remembered.
        #[test]
        fn a_folder_remembered_clean_still_shows_what_is_added() {
            let tmp = tempfile::tempdir().unwrap();
            let dists = [one_file_dist(tmp.path(), b"x = 1\n")];
            let (_, known) = check_all_started(&dists, &KnownFiles::new(), later());
            let (outcome, _) = check_all_started(&dists, &known, later());
            assert!(outcome[0].problems.is_empty());
            std::fs::write(dists[0].site_dir.join("pkg/added.py"), b"").unwrap();
            let (outcome, _) = check_all_started(&dists, &known, later());
            assert!(
                matches!(&outcome[0].problems[..], [FileProblem::Unlisted { path, .. }] if path == "pkg/added.py"),
                "{:?}",
                outcome[0].problems
            );
        }

        fn record_hash(dist: &mut InstalledDist) -> &mut RecordHash {
            dist.record.as_mut().unwrap()[0].hash.as_mut().unwrap()
        }

        #[test]
        fn a_new_record_digest_is_checked_by_hashing() {
            let tmp = tempfile::tempdir().unwrap();
            let content = b"x = 1\n";
            let mut dists = [one_file_dist(tmp.path(), content)];
            let (_, known) = check_all_started(&dists, &KnownFiles::new(), later());
            assert_eq!(known.len(), 2);

            record_hash(&mut dists[0]).digest[0] ^= 1;
            let (outcome, after) = check_all_started(&dists, &known, later());
            assert!(matches!(
                outcome[0].problems[..],
                [FileProblem::Modified { .. }]
            ));
            // The folder alone: its names are the same.
            assert_eq!(after.len(), 1);

            *record_hash(&mut dists[0]) = RecordHash {
                algorithm: "sha512".into(),
                digest: sha2::Sha512::digest(content).as_slice().into(),
            };
            let (outcome, after) = check_all_started(&dists, &known, later());
            assert_eq!(outcome[0].files_ok, 1);
            assert_eq!(outcome[0].bytes_hashed, content.len() as u64);
            // The file under its new digest, and the folder.
            assert_eq!(after.len(), 2);
            assert_ne!(after, known);
        }
    }
}
