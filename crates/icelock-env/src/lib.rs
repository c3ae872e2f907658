//! Finding a Python environment and describing it, without touching any distribution in it.
//!
//! This crate owns the answer to "which environment, and what is it?": the folders whose
//! `.dist-info` directories make up the installed set (in `sys.path` order), the Python version
//! and PEP 508 marker environment that requirements are evaluated against, and, for a Pyodide
//! virtual environment, the runtime it targets.
//!
//! A virtual environment or a site-packages folder is read from disk alone (`pyvenv.cfg` and the
//! folder layout); a Python interpreter is run exactly once, to ask for its `sys.path` and its
//! marker environment, because an interpreter's paths cannot be known any other way.

pub mod caches;
mod locate;
mod markers;
mod probe;
pub mod pth;
mod pyodide;
mod pyvenv;
pub mod safe_fs;

use std::path::{Path, PathBuf};

use serde::Serialize;
use uv_pep508::MarkerEnvironment;

pub use locate::{EnvRequest, locate};
pub use pyodide::{PyodideRuntime, RuntimePackage};
pub use pyvenv::PyvenvCfg;

/// How the environment was named, which decides how it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    /// A folder with `pyvenv.cfg` (venv, virtualenv, uv, `pyodide venv`).
    Venv,
    /// A Python interpreter, asked for its `sys.path`.
    Interpreter,
    /// A bare folder of installed distributions (site-packages, a `--target` folder).
    SitePackages,
}

/// Why a folder is searched for distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteRole {
    /// The environment's own site-packages (or the folder named on the command line).
    Site,
    /// The base interpreter's site-packages, visible through `include-system-site-packages`.
    System,
    /// Added to `sys.path` by a `.pth` file or by the interpreter (editable source trees land here).
    Path,
}

/// One folder searched for `.dist-info` and `.egg-info` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteDir {
    pub path: PathBuf,
    pub role: SiteRole,
}

/// A located Python environment.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub kind: EnvKind,
    /// The prefix every installed file must stay inside: the venv root, or the interpreter's prefix.
    pub root: PathBuf,
    /// The full Python version (`3.11.7`), when known.
    pub python_version: Option<String>,
    /// The marker environment that `Requires-Dist` markers are evaluated against.
    pub markers: MarkerEnvironment,
    /// Where the markers came from: `interpreter` (asked), `pyvenv.cfg` + host, or Pyodide runtime.
    pub markers_source: MarkersSource,
    /// Folders searched for distributions, in `sys.path` order: an earlier one shadows a later one.
    pub site_packages: Vec<SiteDir>,
    pub interpreter: Option<PathBuf>,
    pub pyodide: Option<PyodideRuntime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkersSource {
    Interpreter,
    /// Python version from `pyvenv.cfg` (or the site-packages path), platform from this machine.
    PyvenvAndHost,
    Pyodide,
}

impl Environment {
    /// The prefixes that files of a distribution in `site` may legitimately live under.
    ///
    /// A distribution from the base interpreter (through `include-system-site-packages`) has its
    /// files under the base prefix, not the venv's; one in a user site under the user base; one
    /// in another prefix's site-packages added by a `.pth` file under that prefix; anything else
    /// must stay under `root`.
    pub fn prefix_for(&self, site: &Path) -> PathBuf {
        match self.site_packages.iter().find(|s| s.path == site) {
            // A `.pth` line naming another prefix's site-packages (pipx links its shared venv,
            // pip included, into every app's venv so) has that prefix's scripts in its `bin`;
            // any other added folder (an editable source tree) is its own prefix.
            Some(SiteDir {
                role: SiteRole::System | SiteRole::Path,
                path,
            }) => layout_prefix(path).unwrap_or_else(|| path.clone()),
            // An interpreter's site folder outside its prefix (the user site of `pip install
            // --user`) has its files under its own prefix (the user base).
            Some(SiteDir {
                role: SiteRole::Site,
                path,
            }) if !path.starts_with(&self.root) => {
                layout_prefix(path).unwrap_or_else(|| path.clone())
            }
            _ => self.root.clone(),
        }
    }
}

/// Everything that can stop an environment from being located.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{path} does not exist")]
    NotFound { path: PathBuf },
    #[error(
        "{path} is neither a virtual environment (no pyvenv.cfg), a site-packages folder nor a Python interpreter"
    )]
    NotAnEnvironment { path: PathBuf },
    #[error(
        "{path} holds installed distributions (a `--target` folder?), but neither its path (lib/pythonX.Y/site-packages) nor its byte-compiled files say which Python it is for, which the dependency markers need; byte-compile it once (python3 -m compileall -q {path}: the new files are not in any RECORD, so nothing it proves changes) and lock again"
    )]
    UnknownPython { path: PathBuf },
    #[error("no environment given, no $VIRTUAL_ENV, no ./.venv, and no python3 on PATH")]
    NothingToLock,
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    PyvenvCfg { path: PathBuf, message: String },
    #[error("running {interpreter} to ask for its paths failed: {message}")]
    Probe {
        interpreter: PathBuf,
        message: String,
    },
    #[error("cannot build a marker environment: {0}")]
    Markers(String),
    #[error("{path}: no site-packages folder found under this virtual environment")]
    NoSitePackages { path: PathBuf },
    #[error("Pyodide runtime at {path}: {message}")]
    Pyodide { path: PathBuf, message: String },
}

/// The prefix of a standard `lib/pythonX.Y/site-packages` or `Lib/site-packages` layout.
pub fn layout_prefix(site: &Path) -> Option<PathBuf> {
    let name = site.file_name()?.to_str()?;
    if name != "site-packages" && name != "dist-packages" {
        return None;
    }
    let parent = site.parent()?;
    let parent_name = parent.file_name()?.to_str()?;
    if parent_name.eq_ignore_ascii_case("lib") {
        return parent.parent().map(Path::to_path_buf);
    }
    if parent_name.starts_with("python") || parent_name.starts_with("pypy") {
        let lib = parent.parent()?;
        let lib_name = lib.file_name()?.to_str()?;
        if lib_name == "lib" || lib_name == "lib64" {
            return lib.parent().map(Path::to_path_buf);
        }
    }
    None
}

/// A Python interpreter's executable name: `python`, `python3`, `python3.11`, `python3.13t`,
/// `pythonw`, `pypy3.10` (with `.exe` on Windows).
pub fn is_interpreter_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))
    else {
        return false;
    };
    let rest = rest.strip_suffix(".exe").unwrap_or(rest);
    let rest = rest.trim_end_matches(['t', 'w']);
    rest.is_empty()
        || rest
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_prefix_knows_posix_and_windows_layouts() {
        assert_eq!(
            layout_prefix(Path::new("/v/lib/python3.11/site-packages")),
            Some(PathBuf::from("/v"))
        );
        assert_eq!(
            layout_prefix(Path::new("/v/lib64/python3.13t/site-packages")),
            Some(PathBuf::from("/v"))
        );
        assert_eq!(
            layout_prefix(Path::new("C:/v/Lib/site-packages")),
            Some(PathBuf::from("C:/v"))
        );
        assert_eq!(layout_prefix(Path::new("/srv/target")), None);
    }
}
