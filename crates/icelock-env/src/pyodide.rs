//! The Pyodide runtime a Pyodide virtual environment targets.
//!
//! `pyodide venv` writes a `pyvenv.cfg` whose `home` is the runtime's folder; that folder holds
//! the runtime's own `pyodide-lock.json`, whose `info` says which Python, Emscripten and ABI the
//! environment's wheels must be built for.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EnvError;

/// A Pyodide runtime: where it is and what its lock says about the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PyodideRuntime {
    /// The runtime folder (`home` in `pyvenv.cfg`).
    pub home: PathBuf,
    /// The runtime's own `pyodide-lock.json`.
    pub lock: PathBuf,
    pub arch: String,
    /// `emscripten_5_0_3`.
    pub platform: String,
    /// The runtime's Python version (`3.14.2`).
    pub python: String,
    /// `2026_0`; absent from locks written before pyodide-lock 0.1.
    pub abi_version: Option<String>,
}

/// One package of the runtime's own lock.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RuntimePackage {
    pub name: String,
    pub version: String,
    /// Relative to the lock's folder unless it holds `://` or starts with `/`.
    pub file_name: String,
    #[serde(default)]
    pub sha256: String,
    #[serde(default)]
    pub install_dir: Option<String>,
    #[serde(default)]
    pub package_type: Option<String>,
    #[serde(default)]
    pub imports: Vec<String>,
    #[serde(default)]
    pub depends: Vec<String>,
    #[serde(default)]
    pub unvendored_tests: Option<bool>,
}

#[derive(Deserialize)]
struct LockPackages {
    #[serde(default)]
    packages: std::collections::BTreeMap<String, RuntimePackage>,
}

#[derive(Deserialize)]
struct LockHead {
    info: LockInfo,
}

#[derive(Deserialize)]
struct LockInfo {
    arch: String,
    platform: String,
    python: String,
    #[serde(default)]
    abi_version: Option<String>,
}

impl PyodideRuntime {
    /// Finds the runtime's lock in `home` or its parent (the runtime folder itself, or an
    /// xbuildenv's `dist` beside it); `None` when `home` is an ordinary interpreter folder.
    pub fn detect(home: &Path) -> Result<Option<Self>, EnvError> {
        let Some(lock) = [
            home.join("pyodide-lock.json"),
            home.join("../pyodide-lock.json"),
        ]
        .into_iter()
        .find(|p| p.is_file()) else {
            return Ok(None);
        };
        let bytes = std::fs::read(&lock).map_err(|source| EnvError::Io {
            path: lock.clone(),
            source,
        })?;
        let head: LockHead = serde_json::from_slice(&bytes).map_err(|err| EnvError::Pyodide {
            path: lock.clone(),
            message: format!("pyodide-lock.json has no usable `info`: {err}"),
        })?;
        Ok(Some(Self {
            home: home.to_path_buf(),
            lock,
            arch: head.info.arch,
            platform: head.info.platform,
            python: head.info.python,
            abi_version: head.info.abi_version,
        }))
    }

    /// The packages of the runtime's own lock, by canonical name.
    pub fn packages(&self) -> Result<std::collections::BTreeMap<String, RuntimePackage>, EnvError> {
        let bytes = std::fs::read(&self.lock).map_err(|source| EnvError::Io {
            path: self.lock.clone(),
            source,
        })?;
        let lock: LockPackages =
            serde_json::from_slice(&bytes).map_err(|err| EnvError::Pyodide {
                path: self.lock.clone(),
                message: format!("pyodide-lock.json `packages` cannot be read: {err}"),
            })?;
        Ok(lock.packages)
    }

    /// The Emscripten version in dotted form (`5.0.3` from `emscripten_5_0_3`).
    pub fn emscripten_version(&self) -> String {
        self.platform
            .strip_prefix("emscripten_")
            .unwrap_or(&self.platform)
            .replace('_', ".")
    }
}
