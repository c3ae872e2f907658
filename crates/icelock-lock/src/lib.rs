//! The lock model of a proven environment, and one writer per lock format.
//!
//! The model holds only facts already established (which file, which hash, which dependencies);
//! the writers turn it into text and never look anything up or re-derive a fact. Every writer is
//! a pure function from the model to a string, so a lock is either produced whole or not at all.

pub mod pylock;
pub mod pyodide;
pub mod requirements;

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A proven file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub filename: String,
    /// An absolute URL (`https://…`, `file://…`), or a path relative to the lock (after
    /// `--download`).
    pub url: String,
    pub sha256: String,
    pub size: Option<u64>,
    /// RFC 3339.
    pub upload_time: Option<String>,
}

impl Artifact {
    /// The local path of a `file://` URL.
    pub fn local_path(&self) -> Option<PathBuf> {
        url::Url::parse(&self.url)
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
    }
}

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// A wheel, from an index or find-links location (`index`), a URL, micropip or a runtime.
    Wheel {
        artifact: Artifact,
        index: Option<String>,
    },
    /// A source archive by URL (a `pip install https://…/x.tar.gz`).
    Archive { artifact: Artifact },
    /// The index's sdist of a dist built from it locally (`--allow-sdist`).
    Sdist {
        artifact: Artifact,
        index: Option<String>,
    },
    Vcs {
        vcs: String,
        url: String,
        commit_id: String,
        requested_revision: Option<String>,
        subdirectory: Option<String>,
    },
    Directory {
        path: PathBuf,
        editable: bool,
        subdirectory: Option<String>,
    },
    /// A package of the Pyodide runtime's own lock, kept as the runtime has it.
    PyodideRuntime,
}

/// One locked distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// PEP 503-normalised.
    pub name: String,
    /// `Name:` as written.
    pub display_name: String,
    pub version: String,
    pub source: PackageSource,
    /// Normalised names of the locked packages this one requires here.
    pub dependencies: Vec<String>,
    pub imports: Vec<String>,
    pub requires_python: Option<String>,
    /// The proof's name (`core-metadata-hash`, …).
    pub proof: String,
}

/// The Pyodide runtime a pyodide-lock.json is written for.
#[derive(Debug, Clone, PartialEq)]
pub struct PyodideTarget {
    /// The runtime lock's `info`, kept as it is.
    pub info: serde_json::Value,
    /// The runtime lock's packages by canonical name, kept as they are but for `file_name`.
    pub runtime_packages: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// What a relative `file_name` of a runtime package is resolved against, so that it still
    /// resolves wherever the new lock is served (an URL ending in `/`, or an absolute path).
    pub runtime_base: String,
}

/// The environment a lock describes.
#[derive(Debug, Clone, PartialEq)]
pub struct LockEnvironment {
    pub python_full_version: String,
    /// A PEP 508 marker true exactly where this lock applies.
    pub marker: String,
    pub pyodide: Option<PyodideTarget>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockModel {
    pub created_by: String,
    /// Where the environment was read (for the header of text formats).
    pub source_description: String,
    pub environment: LockEnvironment,
    /// The indexes that proven wheels came from, primary first (credentials removed).
    pub indexes: Vec<String>,
    /// Sorted by name.
    pub packages: Vec<Package>,
    /// Distributions left out on purpose (`--exclude`), said in the lock so nobody is surprised.
    pub excluded: Vec<String>,
}

/// Why a model cannot be written in some format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error(
        "{name} {version} is {what}, and pyodide-lock.json can only load wheels; rebuild it as a wheel (icelock's --wheelhouse, or `pip wheel`) or leave it out"
    )]
    NotAWheel {
        name: String,
        version: String,
        what: &'static str,
    },
    #[error(
        "this environment is not a Pyodide environment: pyodide-lock.json needs the runtime's own lock (pass --base-lock)"
    )]
    NoPyodideRuntime,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small model: an index wheel and an editable source tree.
    pub fn model() -> LockModel {
        LockModel {
            created_by: "icelock".into(),
            source_description: "a test venv".into(),
            environment: LockEnvironment {
                python_full_version: "3.11.7".into(),
                marker: "sys_platform == 'linux' and python_full_version == '3.11.7'".into(),
                pyodide: None,
            },
            indexes: vec!["https://index.test/simple/".into()],
            packages: vec![
                Package {
                    name: "idna".into(),
                    display_name: "idna".into(),
                    version: "3.10".into(),
                    source: PackageSource::Wheel {
                        artifact: Artifact {
                            filename: "idna-3.10-py3-none-any.whl".into(),
                            url: "https://files.test/idna-3.10-py3-none-any.whl".into(),
                            sha256: "a".repeat(64),
                            size: Some(70000),
                            upload_time: Some("2024-09-15T18:07:37.123456Z".into()),
                        },
                        index: Some("https://index.test/simple/".into()),
                    },
                    dependencies: vec![],
                    imports: vec!["idna".into()],
                    requires_python: Some(">=3.6".into()),
                    proof: "core-metadata-hash".into(),
                },
                Package {
                    name: "proj".into(),
                    display_name: "proj".into(),
                    version: "0.1".into(),
                    source: PackageSource::Directory {
                        path: PathBuf::from("/src/proj"),
                        editable: true,
                        subdirectory: None,
                    },
                    dependencies: vec!["idna".into()],
                    imports: vec!["proj".into()],
                    requires_python: None,
                    proof: "direct-url".into(),
                },
            ],
            excluded: vec![],
        }
    }
}
