//! Do the installed files still match RECORD?
//!
//! Every hashed RECORD row is resolved inside the distribution's prefix (a row that points out of
//! it, directly, absolutely or through a symlink, is reported and never opened), then streamed
//! through its hash; all files of all distributions are hashed in parallel.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use sha2::Digest;

use crate::InstalledDist;
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
            | Self::UnsupportedHash { path, .. } => path,
        }
    }
}

/// The outcome for one distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Integrity {
    /// Hashed rows whose file was read and matched.
    pub files_ok: usize,
    pub bytes_hashed: u64,
    pub problems: Vec<FileProblem>,
}

/// Verifies every distribution's RECORD; the result is in the order of `dists`.
pub fn verify_all(dists: &[InstalledDist]) -> Vec<Integrity> {
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
    // Symlinks are resolved once per folder, not once per file: thousands of files share a few
    // hundred folders, and resolving each path in full costs more than hashing it.
    let mut folders: Vec<PathBuf> = jobs
        .iter()
        .filter_map(|(_, d, e)| resolve_inside(&d.site_dir, &d.prefix, &e.path).ok())
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    let real_folders: HashMap<PathBuf, Option<PathBuf>> = folders
        .into_par_iter()
        .map(|f| {
            let real = std::fs::canonicalize(&f).ok();
            (f, real)
        })
        .collect();
    let outcomes: Vec<(usize, Result<u64, FileProblem>)> = jobs
        .par_iter()
        .map(|(i, dist, entry)| {
            (
                *i,
                verify_entry(&dist.site_dir, &dist.prefix, entry, &real_folders),
            )
        })
        .collect();
    let mut results = vec![Integrity::default(); dists.len()];
    for (i, outcome) in outcomes {
        match outcome {
            Ok(bytes) => {
                results[i].files_ok += 1;
                results[i].bytes_hashed += bytes;
            }
            Err(problem) => results[i].problems.push(problem),
        }
    }
    for r in &mut results {
        r.problems.sort_by(|a, b| a.path().cmp(b.path()));
    }
    results
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
    site: &Path,
    prefix: &Path,
    entry: &RecordEntry,
    real_folders: &HashMap<PathBuf, Option<PathBuf>>,
) -> Result<u64, FileProblem> {
    let path = entry.path.clone();
    let resolved = resolve_inside(site, prefix, &entry.path).map_err(|resolved| {
        FileProblem::OutsideEnvironment {
            path: path.clone(),
            resolved,
        }
    })?;
    let folder = resolved.parent().unwrap_or(prefix);
    let Some(Some(real_folder)) = real_folders.get(folder) else {
        return Err(FileProblem::Missing { path });
    };
    if !real_folder.starts_with(prefix) {
        return Err(FileProblem::OutsideEnvironment {
            path,
            resolved: real_folder.join(resolved.file_name().unwrap_or_default()),
        });
    }
    let mut real = real_folder.join(resolved.file_name().unwrap_or_default());
    // One path walk per file: open without following a final symlink (it may point out of the
    // prefix) and without blocking (a named pipe would hang a plain open), then fstat the handle,
    // so only regular files are ever read.
    let mut file = match open_no_follow(&real) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(FileProblem::Missing { path });
        }
        Err(err) if is_symlink_error(&err, &real) => {
            real = match std::fs::canonicalize(&real) {
                Ok(target) => target,
                Err(_) => return Err(FileProblem::Missing { path }),
            };
            if !real.starts_with(prefix) {
                return Err(FileProblem::OutsideEnvironment {
                    path,
                    resolved: real,
                });
            }
            open_no_follow(&real).map_err(|err| FileProblem::Unreadable {
                path: path.clone(),
                message: err.to_string(),
            })?
        }
        Err(err) => {
            return Err(FileProblem::Unreadable {
                path,
                message: err.to_string(),
            });
        }
    };
    let meta = file.metadata().map_err(|err| FileProblem::Unreadable {
        path: path.clone(),
        message: err.to_string(),
    })?;
    if !meta.is_file() {
        return Err(FileProblem::NotAFile {
            path,
            found: if meta.is_dir() {
                "a folder"
            } else {
                "a pipe, socket or device"
            },
        });
    }
    let Some(expected) = &entry.hash else {
        return Ok(0);
    };
    // A different size settles it without reading a byte.
    if let Some(expected_size) = entry.size
        && expected_size != meta.len()
    {
        return Err(FileProblem::SizeMismatch {
            path,
            expected: expected_size,
            actual: meta.len(),
        });
    }
    let (actual, size) = match expected.algorithm.as_str() {
        "sha256" => stream_hash::<sha2::Sha256>(&mut file, meta.len()),
        "sha384" => stream_hash::<sha2::Sha384>(&mut file, meta.len()),
        "sha512" => stream_hash::<sha2::Sha512>(&mut file, meta.len()),
        other => {
            return Err(FileProblem::UnsupportedHash {
                path,
                algorithm: other.to_string(),
            });
        }
    }
    .map_err(|err| FileProblem::Unreadable {
        path: path.clone(),
        message: err.to_string(),
    })?;
    if actual != expected.digest {
        return Err(FileProblem::Modified {
            path,
            algorithm: expected.algorithm.clone(),
            expected: hex::encode(&expected.digest),
            actual: hex::encode(actual),
        });
    }
    if let Some(expected_size) = entry.size
        && expected_size != size
    {
        return Err(FileProblem::SizeMismatch {
            path,
            expected: expected_size,
            actual: size,
        });
    }
    Ok(size)
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

/// Hashes a file in fixed-size chunks through one buffer per thread: memory stays flat whatever
/// the file's size, and no buffer is allocated (and zeroed) per file.
fn stream_hash<D: Digest>(file: &mut std::fs::File, len: u64) -> std::io::Result<(Vec<u8>, u64)> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 256 * 1024]);
    }
    let mut hasher = D::new();
    let mut total = 0u64;
    // Large files are mapped rather than copied through a buffer: most of an environment's
    // bytes are in a few big extension modules, and the copy costs a fifth of the hashing.
    if len >= MMAP_THRESHOLD {
        // SAFETY: the map is read-only and dropped before returning; a file truncated under
        // us by another process would fault, which is the risk every mmap-based hasher takes
        // (ripgrep and b3sum too) and is confined to a concurrently modified environment.
        let map = unsafe { memmap2::Mmap::map(&*file)? };
        hasher.update(&map[..]);
        return Ok((hasher.finalize().to_vec(), map.len() as u64));
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
}
