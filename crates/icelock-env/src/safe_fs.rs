//! Reading a file of the environment without ever leaving it or blocking.
//!
//! Environments are written by many tools and may be hostile: a metadata file can be a named
//! pipe (a plain open would block for ever), a device, or a symlink to anywhere on the machine.
//! Every file icelock reads from an environment goes through [`read_inside`]: the path is
//! resolved, must stay under the given prefix, and only a regular file is opened (without
//! blocking, without following a final symlink) and read up to a cap.

use std::io::Read;
use std::path::Path;

/// Why a file was not read. `NotFound` is kept distinct: a missing optional file is normal.
#[derive(Debug, thiserror::Error)]
pub enum SafeReadError {
    #[error("does not exist")]
    NotFound,
    #[error("resolves outside the environment ({0}); not read")]
    Outside(std::path::PathBuf),
    #[error("is {0}, not a regular file; not read")]
    NotAFile(&'static str),
    #[error("is larger than {0} bytes")]
    TooLarge(u64),
    #[error("{0}")]
    Io(std::io::Error),
}

/// Whether `real` (a resolved path) may be read for an environment under `prefix`: inside it,
/// or a file an installer extracted into its own cache, which its symlink link modes link
/// installed files to (see [`crate::caches`]). Such a file is a wheel's, never a secret of the
/// machine's, and it is hashed like any other.
pub fn within(real: &Path, prefix: &Path) -> bool {
    within_caches(real, prefix, crate::caches::linked_caches())
}

/// [`within`], with the caches given.
pub fn within_caches(real: &Path, prefix: &Path, caches: &[crate::caches::LinkedCache]) -> bool {
    real.starts_with(prefix) || caches.iter().any(|cache| real.starts_with(&cache.folder))
}

/// Opens `path` for reading without following a final symlink (an error instead) and without
/// blocking on a named pipe; the caller still checks the handle is a regular file.
pub fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }
    #[cfg(not(unix))]
    {
        if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
            return Err(std::io::Error::other("a symlink"));
        }
        std::fs::File::open(path)
    }
}

/// Reads `path`, which must resolve (symlinks included) under `prefix`, be a regular file, and
/// hold at most `cap` bytes. `prefix` should itself be canonical.
pub fn read_inside(path: &Path, prefix: &Path, cap: u64) -> Result<Vec<u8>, SafeReadError> {
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink is as good as absent, but never followed.
            return Err(SafeReadError::NotFound);
        }
        Err(err) => return Err(SafeReadError::Io(err)),
    };
    if !within(&real, prefix) {
        return Err(SafeReadError::Outside(real));
    }
    let file = open_no_follow(&real).map_err(SafeReadError::Io)?;
    read_open(file, cap)
}

/// As [`read_inside`], but hands back the open regular file, for a caller that streams it.
pub fn open_inside(path: &Path, prefix: &Path) -> Result<std::fs::File, SafeReadError> {
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(SafeReadError::NotFound);
        }
        Err(err) => return Err(SafeReadError::Io(err)),
    };
    if !within(&real, prefix) {
        return Err(SafeReadError::Outside(real));
    }
    let file = open_no_follow(&real).map_err(SafeReadError::Io)?;
    let meta = file.metadata().map_err(SafeReadError::Io)?;
    if !meta.is_file() {
        return Err(SafeReadError::NotAFile("not a regular file"));
    }
    Ok(file)
}

/// As [`read_inside`], for the file `name` directly in `real_dir`, a folder already resolved
/// (canonical) and under `prefix`: only the last component is left to check, so a folder's
/// files cost one open each instead of a full resolution each (a `readlink` per component).
pub fn read_in_folder(
    real_dir: &Path,
    name: &str,
    prefix: &Path,
    cap: u64,
) -> Result<Vec<u8>, SafeReadError> {
    debug_assert!(
        !name.contains('/') && name != "..",
        "a name, not a path: {name}"
    );
    let path = real_dir.join(name);
    match open_no_follow(&path) {
        Ok(file) => read_open(file, cap),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(SafeReadError::NotFound),
        // A final symlink (refused by O_NOFOLLOW) or anything else odd: resolved in full.
        Err(_) => read_inside(&path, prefix, cap),
    }
}

/// As [`read_inside`], for `rel` (a `/`-separated relative path) below `real_base`, a folder
/// already resolved (canonical) and under `prefix`: each folder on the way costs one `lstat`,
/// where a full resolution costs a `readlink` per component from the root. Anything unusual on
/// the way (a symlinked folder, `..`) is resolved in full, as [`read_inside`] does.
pub fn read_below(
    real_base: &Path,
    rel: &str,
    prefix: &Path,
    cap: u64,
) -> Result<Vec<u8>, SafeReadError> {
    let in_full = || read_inside(&real_base.join(rel), prefix, cap);
    let mut parts = rel.split('/').filter(|p| !p.is_empty() && *p != ".");
    let Some(name) = parts.next_back() else {
        return Err(SafeReadError::NotFound);
    };
    if name == ".." || rel.starts_with('/') {
        return in_full();
    }
    let mut folder = real_base.to_path_buf();
    for part in parts {
        if part == ".." {
            return in_full();
        }
        folder.push(part);
        match std::fs::symlink_metadata(&folder) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) if meta.file_type().is_symlink() => return in_full(),
            // A file where a folder should be: the path names nothing.
            Ok(_) => return Err(SafeReadError::NotFound),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(SafeReadError::NotFound);
            }
            Err(err) => return Err(SafeReadError::Io(err)),
        }
    }
    read_in_folder(&folder, name, prefix, cap)
}

fn read_open(file: std::fs::File, cap: u64) -> Result<Vec<u8>, SafeReadError> {
    let meta = file.metadata().map_err(SafeReadError::Io)?;
    if !meta.is_file() {
        return Err(SafeReadError::NotAFile(if meta.is_dir() {
            "a folder"
        } else {
            "a pipe, socket or device"
        }));
    }
    // Sized from the stat (plus the byte that tells EOF): growing by doubling cost more than
    // reading. The stat is only a hint; `take` still bounds the read.
    let mut bytes = Vec::with_capacity(meta.len().min(cap).saturating_add(1) as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(SafeReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(SafeReadError::TooLarge(cap));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// uv's symlink link mode: a link into the cache uv is configured with is read; the same
    /// layout elsewhere (a folder anyone could make look like a cache), or a link elsewhere,
    /// is not.
    #[test]
    fn links_into_an_installers_cache_are_read_and_no_others() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let env = root.join("env");
        std::fs::create_dir_all(&env).unwrap();
        let caches = [crate::caches::LinkedCache {
            tool: "uv",
            folder: root.join("uv-cache/archive-v0"),
        }];
        for (cache, configured) in [("uv-cache", true), ("look-alike", false)] {
            let member = root.join(cache).join("archive-v0/abc/pkg");
            std::fs::create_dir_all(&member).unwrap();
            std::fs::write(member.join("m.py"), "x").unwrap();
            std::fs::write(root.join(cache).join("CACHEDIR.TAG"), "Signature").unwrap();
            let real = member.join("m.py");
            assert_eq!(within_caches(&real, &env, &caches), configured, "{cache}");
        }
        assert!(!within_caches(&root.join("uv-cache/secret"), &env, &caches));
        assert!(within_caches(&env.join("x"), &env, &caches));
    }

    #[test]
    fn pipes_and_escapes_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let inside = root.join("env");
        std::fs::create_dir_all(&inside).unwrap();
        std::fs::write(inside.join("ok"), "x").unwrap();
        std::fs::write(root.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), inside.join("link")).unwrap();
        let fifo = inside.join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());

        assert_eq!(read_inside(&inside.join("ok"), &inside, 10).unwrap(), b"x");
        assert!(matches!(
            read_inside(&inside.join("link"), &inside, 10),
            Err(SafeReadError::Outside(_))
        ));
        assert!(matches!(
            read_inside(&fifo, &inside, 10),
            Err(SafeReadError::NotAFile(_))
        ));
        assert!(matches!(
            read_inside(&inside.join("nope"), &inside, 10),
            Err(SafeReadError::NotFound)
        ));
        assert!(matches!(
            read_inside(&inside.join("ok"), &inside, 0),
            Err(SafeReadError::TooLarge(0))
        ));

        // The same, one folder at a time below a resolved folder.
        std::fs::create_dir_all(inside.join("pkg")).unwrap();
        std::fs::write(inside.join("pkg/ok"), "y").unwrap();
        std::os::unix::fs::symlink(&root, inside.join("up")).unwrap();
        assert_eq!(read_below(&inside, "pkg/ok", &inside, 10).unwrap(), b"y");
        assert_eq!(read_below(&inside, "ok", &inside, 10).unwrap(), b"x");
        assert!(matches!(
            read_below(&inside, "pkg/../link", &inside, 10),
            Err(SafeReadError::Outside(_))
        ));
        assert!(matches!(
            read_below(&inside, "up/secret", &inside, 10),
            Err(SafeReadError::Outside(_))
        ));
        assert!(matches!(
            read_below(&inside, "ok/nope", &inside, 10),
            Err(SafeReadError::NotFound)
        ));
        assert!(matches!(
            read_below(&inside, "fifo", &inside, 10),
            Err(SafeReadError::NotAFile(_))
        ));
    }
}
