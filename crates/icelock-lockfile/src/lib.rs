//! What a lock file says should be installed, whoever wrote it.
//!
//! A lock is read into one list of [`LockedPackage`]s: a name, a version, the artifacts any of
//! which may be installed for it, and whether this environment must have it. That last part is
//! decided here, under the environment's markers, because each format says it differently:
//!
//! - PEP 751 `pylock.toml` (icelock, `pip lock`, `uv pip compile`, `uv export`): a package is
//!   expected where its `marker` is true, with the lock's `default-groups` and no extras.
//! - `requirements.txt` with `--hash`: a requirement is expected where its marker is true.
//! - `pyodide-lock.json`: a repository of what may be loaded, so nothing in it is required;
//!   what is installed must be the file it names.
//! - `uv.lock`: a universal lock, so what is expected is what its root packages reach through
//!   dependencies (and the `dev` group, which `uv sync` installs) whose markers are true here;
//!   the rest is allowed.
//! - `poetry.lock` and `pdm.lock`: each package's own markers (and, for poetry, the groups);
//!   their files carry names and hashes, no URLs.
//!
//! Nothing here looks at an environment or the network: the verdicts are the caller's.

mod pdm;
mod poetry;
mod pylock;
mod pyodide;
mod requirements;
mod sources;
mod uv_lock;

pub use sources::Sources;

use std::path::{Path, PathBuf};

use uv_normalize::PackageName;
use uv_pep440::Version;
use uv_pep508::MarkerEnvironment;

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    Pylock,
    Requirements,
    PyodideLock,
    UvLock,
    PoetryLock,
    PdmLock,
}

impl LockKind {
    /// The format a file's name says.
    pub fn from_name(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        Some(match name {
            "uv.lock" => Self::UvLock,
            "poetry.lock" => Self::PoetryLock,
            "pdm.lock" => Self::PdmLock,
            "pyodide-lock.json" => Self::PyodideLock,
            _ if name == "pylock.toml"
                || (name.starts_with("pylock.") && name.ends_with(".toml")) =>
            {
                Self::Pylock
            }
            _ if name.ends_with(".txt") || name.ends_with(".in") => Self::Requirements,
            _ if name.ends_with(".json") => Self::PyodideLock,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Pylock => "pylock.toml",
            Self::Requirements => "requirements.txt",
            Self::PyodideLock => "pyodide-lock.json",
            Self::UvLock => "uv.lock",
            Self::PoetryLock => "poetry.lock",
            Self::PdmLock => "pdm.lock",
        }
    }
}

/// A lock, read.
#[derive(Debug, Clone)]
pub struct LockFile {
    pub kind: LockKind,
    pub path: PathBuf,
    pub packages: Vec<LockedPackage>,
    /// Where files named without a URL are to be looked for, as far as the lock (or, for
    /// pdm, its project) says.
    pub sources: Sources,
}

/// Whether the environment must have a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Its markers are true here: not installed is drift.
    Required,
    /// It may be installed (a universal lock's package for another platform or an extra, a
    /// repository's package): not installed is fine, installed must be what is locked.
    Allowed,
}

/// One package of a lock.
#[derive(Debug, Clone)]
pub struct LockedPackage {
    pub name: PackageName,
    /// `None` where the lock names no version (a source tree in `pylock.toml`).
    pub version: Option<Version>,
    pub expected: Expected,
    /// Any one of them may be what is installed.
    pub artifacts: Vec<LockedArtifact>,
    /// Where the entry starts in the file (1-based), for messages.
    pub line: Option<usize>,
}

/// One artifact a lock allows for a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedArtifact {
    pub kind: ArtifactKind,
    /// The file's name, where the lock gives it or its URL ends in it.
    pub filename: Option<String>,
    /// Absolute, or as written where it is relative to the lock's folder (see `path`).
    pub url: Option<String>,
    /// A local file or folder, resolved against the lock's folder.
    pub path: Option<PathBuf>,
    /// Lower-case hex, where the lock gives one.
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactKind {
    Wheel,
    Sdist,
    /// Another archive (`pylock.toml`'s `archive`), a wheel or an sdist by its name.
    Archive,
    Vcs {
        commit: Option<String>,
    },
    Directory {
        editable: bool,
    },
}

impl LockedArtifact {
    /// A file named by its URL or path, its kind taken from its name.
    fn file(url: Option<String>, path: Option<PathBuf>, sha256: Option<String>) -> Self {
        let filename = url
            .as_deref()
            .map(last_segment)
            .or_else(|| {
                path.as_ref()
                    .and_then(|p| Some(p.file_name()?.to_str()?.to_string()))
            })
            .filter(|n| !n.is_empty());
        let kind = match &filename {
            Some(name) if name.ends_with(".whl") => ArtifactKind::Wheel,
            Some(_) => ArtifactKind::Sdist,
            None => ArtifactKind::Archive,
        };
        Self {
            kind,
            filename,
            url,
            path,
            sha256,
            size: None,
        }
    }
}

/// The lock could not be read: the file, the line where known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ReadError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

/// Reads the lock at `path` (its format from `kind`, else from its name, else from its first
/// bytes) and decides, under `markers`, which of its packages this environment must have.
pub fn read(
    path: &Path,
    kind: Option<LockKind>,
    markers: &MarkerEnvironment,
) -> Result<LockFile, ReadError> {
    let error = |line: Option<usize>, message: String| ReadError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| error(None, format!("cannot be read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = line_of(
            &String::from_utf8_lossy(e.as_bytes()),
            e.utf8_error().valid_up_to(),
        );
        error(Some(line), "is not UTF-8".into())
    })?;
    parse(&text, path, kind, markers)
}

/// As [`read`], over `text` said to be the file at `path` (whose folder relative paths are
/// relative to): a lock not yet written can be read too.
pub fn parse(
    text: &str,
    path: &Path,
    kind: Option<LockKind>,
    markers: &MarkerEnvironment,
) -> Result<LockFile, ReadError> {
    let error = |line: Option<usize>, message: String| ReadError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let kind = kind
        .or_else(|| LockKind::from_name(path))
        .or_else(|| sniff(text))
        .ok_or_else(|| {
            error(
                None,
                "not a lock format icelock reads (pylock.toml, requirements.txt, pyodide-lock.json, uv.lock, poetry.lock, pdm.lock); name it with --lock-format".into(),
            )
        })?;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let context = Context { folder, markers };
    let packages = match kind {
        LockKind::Pylock => pylock::read(text, &context),
        LockKind::Requirements => requirements::read(text, path, &context),
        LockKind::PyodideLock => pyodide::read(text, &context),
        LockKind::UvLock => uv_lock::read(text, &context),
        LockKind::PoetryLock => poetry::read(text, &context),
        LockKind::PdmLock => pdm::read(text, &context),
    }
    .map_err(|e| ReadError {
        path: e.path.unwrap_or_else(|| path.to_path_buf()),
        line: e.line,
        message: e.message,
    })?;
    Ok(LockFile {
        kind,
        path: path.to_path_buf(),
        packages,
        sources: sources::of(kind, text, path),
    })
}

/// What every format's reader is given.
struct Context<'a> {
    /// The lock's folder: relative paths and URLs are relative to it.
    folder: &'a Path,
    markers: &'a MarkerEnvironment,
}

/// A format reader's error; the file is the lock's unless it names another (an included
/// requirements file).
#[derive(Debug)]
struct FormatError {
    path: Option<PathBuf>,
    line: Option<usize>,
    message: String,
}

impl FormatError {
    fn at(line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            path: None,
            line,
            message: message.into(),
        }
    }

    /// A TOML document that does not parse, or does not have the shape its format says.
    fn toml(text: &str, err: &toml::de::Error) -> Self {
        let line = err.span().map(|span| line_of(text, span.start));
        Self::at(line, err.message().to_string())
    }
}

/// The 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The format of an unnamed lock, from what it starts with.
fn sniff(text: &str) -> Option<LockKind> {
    let head = text.trim_start();
    if head.starts_with('{') {
        return Some(LockKind::PyodideLock);
    }
    for line in text.lines().take(50) {
        let line = line.trim();
        if line.starts_with("lock-version") {
            return Some(LockKind::Pylock);
        }
        if line.starts_with("requires-python") || line.starts_with("revision") {
            return Some(LockKind::UvLock);
        }
        if line.starts_with("[metadata]") {
            return None;
        }
    }
    Some(LockKind::Requirements)
}

fn last_segment(url: &str) -> String {
    url.split(['#', '?'])
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `sha256:<hex>` / `sha256=<hex>` → lower-case hex; other algorithms → `None`.
fn sha256_of(hash: &str) -> Option<String> {
    let (algorithm, hex) = hash.split_once([':', '='])?;
    (algorithm.eq_ignore_ascii_case("sha256")
        && hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    .then(|| hex.to_ascii_lowercase())
}

fn parse_name(name: &str, line: Option<usize>) -> Result<PackageName, FormatError> {
    name.parse::<PackageName>()
        .map_err(|e| FormatError::at(line, format!("package name {name:?}: {e}")))
}

fn parse_version(version: &str, line: Option<usize>) -> Result<Version, FormatError> {
    version
        .parse::<Version>()
        .map_err(|e| FormatError::at(line, format!("version {version:?}: {e}")))
}

fn parse_marker(marker: &str, line: Option<usize>) -> Result<uv_pep508::MarkerTree, FormatError> {
    marker
        .parse::<uv_pep508::MarkerTree>()
        .map_err(|e| FormatError::at(line, format!("marker {marker:?}: {e}")))
}

/// A URL as a lock writes it: absolute, or a path relative to the lock's folder.
fn resolve(context: &Context<'_>, url_or_path: &str) -> (Option<String>, Option<PathBuf>) {
    match url::Url::parse(url_or_path) {
        Ok(url) if url.scheme() == "file" => (Some(url.to_string()), url.to_file_path().ok()),
        Ok(url) if url.scheme().len() > 1 => (Some(url.to_string()), None),
        // A relative path, or a Windows drive letter.
        _ => (None, Some(context.folder.join(url_or_path))),
    }
}

/// A file as poetry and pdm lock it: a name (or a URL) and a hash.
#[derive(Debug, serde::Deserialize)]
struct NamedFile {
    file: Option<String>,
    url: Option<String>,
    hash: Option<String>,
}

fn named_files(context: &Context<'_>, files: &[NamedFile]) -> Vec<LockedArtifact> {
    files
        .iter()
        .map(|f| {
            let (url, path) = f
                .url
                .as_deref()
                .map(|u| resolve(context, u))
                .unwrap_or((None, None));
            let mut artifact =
                LockedArtifact::file(url, path, f.hash.as_deref().and_then(sha256_of));
            if let Some(name) = &f.file {
                artifact.kind = if name.ends_with(".whl") {
                    ArtifactKind::Wheel
                } else {
                    ArtifactKind::Sdist
                };
                artifact.filename = Some(name.clone());
            }
            artifact
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_the_format() {
        for (name, kind) in [
            ("uv.lock", LockKind::UvLock),
            ("pylock.toml", LockKind::Pylock),
            ("pylock.dev.toml", LockKind::Pylock),
            ("requirements-dev.txt", LockKind::Requirements),
            ("pyodide-lock.json", LockKind::PyodideLock),
            ("poetry.lock", LockKind::PoetryLock),
            ("pdm.lock", LockKind::PdmLock),
        ] {
            assert_eq!(LockKind::from_name(Path::new(name)), Some(kind), "{name}");
        }
        assert_eq!(LockKind::from_name(Path::new("Cargo.lock")), None);
    }

    #[test]
    fn hashes_and_lines() {
        let hex = "A".repeat(64);
        assert_eq!(sha256_of(&format!("sha256:{hex}")), Some("a".repeat(64)));
        assert_eq!(sha256_of(&format!("sha256={hex}")), Some("a".repeat(64)));
        assert_eq!(sha256_of(&format!("md5:{hex}")), None);
        assert_eq!(sha256_of("sha256:abc"), None);
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use uv_pep508::MarkerEnvironmentBuilder;

    fn linux_311() -> MarkerEnvironment {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.11.7",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "6.1",
            platform_system: "Linux",
            platform_version: "#1",
            python_full_version: "3.11.7",
            python_version: "3.11",
            sys_platform: "linux",
        })
        .unwrap()
    }

    fn expected(kind: LockKind, text: &str) -> BTreeMap<String, (Option<String>, Expected)> {
        let lock = parse(text, Path::new("/project/lock"), Some(kind), &linux_311()).unwrap();
        lock.packages
            .iter()
            .map(|p| {
                (
                    p.name.to_string(),
                    (p.version.as_ref().map(ToString::to_string), p.expected),
                )
            })
            .collect()
    }

    use Expected::{Allowed, Required};
    use std::collections::BTreeMap;

    fn v(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn pylock_markers_and_groups() {
        let text = r#"
lock-version = "1.0"
default-groups = ["dev"]

[[packages]]
name = "a"
version = "1"
wheels = [{ url = "https://h/a-1-py3-none-any.whl", hashes = { sha256 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" } }]

[[packages]]
name = "win"
version = "1"
marker = "sys_platform == 'win32'"
wheels = [{ url = "https://h/win-1-py3-none-any.whl" }]

[[packages]]
name = "devtool"
version = "2"
marker = "'dev' in dependency_groups"
wheels = [{ url = "https://h/devtool-2-py3-none-any.whl" }]

[[packages]]
name = "docs"
version = "2"
marker = "'docs' in dependency_groups"
wheels = [{ url = "https://h/docs-2-py3-none-any.whl" }]

[[packages]]
name = "local"
directory = { path = "src/local", editable = true }
"#;
        let got = expected(LockKind::Pylock, text);
        assert_eq!(
            got,
            BTreeMap::from([
                ("a".into(), (v("1"), Required)),
                ("devtool".into(), (v("2"), Required)),
                ("local".into(), (None, Required)),
            ])
        );
        let lock = parse(text, Path::new("/project/pylock.toml"), None, &linux_311()).unwrap();
        let a = &lock.packages[0].artifacts[0];
        assert_eq!(a.kind, ArtifactKind::Wheel);
        assert_eq!(a.filename.as_deref(), Some("a-1-py3-none-any.whl"));
        assert_eq!(a.sha256.as_deref(), Some(&"a".repeat(64)[..]));
        let local = &lock.packages[2].artifacts[0];
        assert_eq!(local.kind, ArtifactKind::Directory { editable: true });
        assert_eq!(local.path.as_deref(), Some(Path::new("/project/src/local")));
    }

    #[test]
    fn requirements_markers_hashes_and_includes() {
        let dir = std::env::temp_dir().join(format!("icelock-req-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hash = "b".repeat(64);
        std::fs::write(
            dir.join("base.txt"),
            format!("idna==3.7 --hash=sha256:{hash}\n"),
        )
        .unwrap();
        let text = format!(
            "--index-url https://example/simple\n-r base.txt\n\
             six==1.16 ; python_version < '3' \\\n    --hash=sha256:{hash}\n\
             attrs==24.1 ; python_version >= '3.8' \\\n    --hash=sha256:{hash} \\\n    --hash=sha256:{}\n",
            "c".repeat(64)
        );
        let path = dir.join("requirements.txt");
        std::fs::write(&path, &text).unwrap();
        let lock = read(&path, None, &linux_311()).unwrap();
        let names: Vec<(String, Option<String>, usize, Option<usize>)> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.to_string(),
                    p.version.as_ref().map(ToString::to_string),
                    p.artifacts.len(),
                    p.line,
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("idna".into(), v("3.7"), 1, Some(1)),
                ("attrs".into(), v("24.1"), 2, Some(5)),
            ]
        );
        // A broken included file is named, with its own line.
        std::fs::write(
            dir.join("base.txt"),
            "ok==1 --hash=sha256:".to_string() + &hash + "\nbad>=\n",
        )
        .unwrap();
        let err = read(&path, None, &linux_311()).unwrap_err();
        assert_eq!(err.path, dir.join("base.txt"));
        assert_eq!(err.line, Some(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn uv_lock_expects_what_the_roots_reach_here() {
        let text = r#"
version = 1
revision = 3
requires-python = ">=3.11"
resolution-markers = ["sys_platform == 'linux'", "sys_platform != 'linux'"]

[[package]]
name = "proj"
version = "0.1"
source = { editable = "." }
dependencies = [
    { name = "a" },
    { name = "winonly", marker = "sys_platform == 'win32'" },
    { name = "b", extra = ["fast"] },
    { name = "forked", version = "2.0", marker = "sys_platform == 'linux'" },
    { name = "forked", version = "1.0", marker = "sys_platform != 'linux'" },
]

[package.optional-dependencies]
docs = [{ name = "sphinxish" }]

[package.dev-dependencies]
dev = [{ name = "pytestish" }]
lint = [{ name = "linter" }]

[[package]]
name = "a"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/a-1-py3-none-any.whl", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", size = 10 }]

[[package]]
name = "b"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/b-1-py3-none-any.whl" }]

[package.optional-dependencies]
fast = [{ name = "speedup" }]
slow = [{ name = "slowdown" }]

[[package]]
name = "speedup"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/speedup-1-py3-none-any.whl" }]

[[package]]
name = "slowdown"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/slowdown-1-py3-none-any.whl" }]

[[package]]
name = "winonly"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/winonly-1-py3-none-any.whl" }]

[[package]]
name = "forked"
version = "1.0"
source = { registry = "https://h/simple" }
resolution-markers = ["sys_platform != 'linux'"]
wheels = [{ url = "https://h/forked-1.0-py3-none-any.whl" }]

[[package]]
name = "forked"
version = "2.0"
source = { registry = "https://h/simple" }
resolution-markers = ["sys_platform == 'linux'"]
wheels = [{ url = "https://h/forked-2.0-py3-none-any.whl" }]

[[package]]
name = "sphinxish"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/sphinxish-1-py3-none-any.whl" }]

[[package]]
name = "pytestish"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/pytestish-1-py3-none-any.whl" }]

[[package]]
name = "linter"
version = "1"
source = { registry = "https://h/simple" }
wheels = [{ url = "https://h/linter-1-py3-none-any.whl" }]
"#;
        let lock = parse(text, Path::new("/p/uv.lock"), None, &linux_311()).unwrap();
        let got: BTreeMap<(String, Option<String>), Expected> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    (
                        p.name.to_string(),
                        p.version.as_ref().map(ToString::to_string),
                    ),
                    p.expected,
                )
            })
            .collect();
        let want = |name: &str, version: &str, e| ((name.to_string(), v(version)), e);
        assert_eq!(
            got,
            BTreeMap::from([
                want("proj", "0.1", Required),
                want("a", "1", Required),
                want("b", "1", Required),
                want("speedup", "1", Required),
                want("slowdown", "1", Allowed),
                want("winonly", "1", Allowed),
                want("forked", "2.0", Required),
                want("forked", "1.0", Allowed),
                want("sphinxish", "1", Allowed),
                want("pytestish", "1", Required),
                want("linter", "1", Allowed),
            ])
        );
        let a = lock
            .packages
            .iter()
            .find(|p| p.name.as_ref() == "a")
            .unwrap();
        assert_eq!(a.artifacts[0].size, Some(10));
        assert_eq!(a.artifacts[0].sha256.as_deref(), Some(&"a".repeat(64)[..]));
    }

    #[test]
    fn poetry_and_pdm_markers() {
        let poetry = r#"
[[package]]
name = "a"
version = "1"
optional = false
groups = ["main"]
files = [{file = "a-1-py3-none-any.whl", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]

[[package]]
name = "win"
version = "1"
optional = false
markers = "sys_platform == \"win32\""
files = []

[[package]]
name = "extra-only"
version = "1"
optional = true
markers = {main = "python_version >= \"3.8\""}
files = []

[metadata]
lock-version = "2.1"
"#;
        assert_eq!(
            expected(LockKind::PoetryLock, poetry),
            BTreeMap::from([
                ("a".into(), (v("1"), Required)),
                ("extra-only".into(), (v("1"), Allowed)),
            ])
        );
        let pdm = r#"
[metadata]
groups = ["default"]
lock_version = "4.5.0"

[[package]]
name = "a"
version = "1"
groups = ["default"]
files = [{file = "a-1-py3-none-any.whl", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]

[[package]]
name = "old"
version = "1"
marker = "python_version < \"3.8\""
files = []
"#;
        assert_eq!(
            expected(LockKind::PdmLock, pdm),
            BTreeMap::from([("a".into(), (v("1"), Required))])
        );
    }
}
