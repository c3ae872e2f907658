//! `pyvenv.cfg`, as written by `venv`, virtualenv, uv and `pyodide venv`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::EnvError;

/// The keys of `pyvenv.cfg` that locating an environment needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PyvenvCfg {
    /// The folder of the base interpreter (for Pyodide: the runtime's folder).
    pub home: Option<PathBuf>,
    pub include_system_site_packages: bool,
    /// `3.11.7`, from `version` (venv, uv) or `version_info` (virtualenv: `3.14.2.final.0`).
    pub python_version: Option<String>,
    /// `CPython`, `PyPy`… (virtualenv writes it; venv does not).
    pub implementation: Option<String>,
    /// Every key as written, for the JSON report.
    pub raw: BTreeMap<String, String>,
}

impl PyvenvCfg {
    pub fn read(path: &Path) -> Result<Self, EnvError> {
        let text = std::fs::read_to_string(path).map_err(|source| EnvError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse(&text))
    }

    /// Parses `key = value` lines; the format has no sections, quoting or escapes, and a line
    /// without `=` is ignored as CPython's own `site.py` ignores it.
    pub fn parse(text: &str) -> Self {
        let mut raw = BTreeMap::new();
        for line in text.lines() {
            if let Some((key, value)) = line.split_once('=') {
                raw.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let python_version = raw
            .get("version_info")
            .and_then(|v| version_from_info(v))
            .or_else(|| raw.get("version").cloned())
            .filter(|v| !v.is_empty());
        Self {
            home: raw.get("home").map(PathBuf::from),
            include_system_site_packages: raw
                .get("include-system-site-packages")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            python_version,
            implementation: raw.get("implementation").cloned(),
            raw,
        }
    }
}

/// Turns `sys.version_info` as virtualenv prints it (`3.14.2.final.0`, `3.13.0.candidate.1`)
/// into the PEP 440 form that `python_full_version` takes.
fn version_from_info(info: &str) -> Option<String> {
    let parts: Vec<&str> = info.split('.').collect();
    match parts.as_slice() {
        [major, minor, micro, level, serial] => {
            let base = format!("{major}.{minor}.{micro}");
            let suffix = match *level {
                "final" => return Some(base),
                "alpha" => "a",
                "beta" => "b",
                "candidate" => "rc",
                _ => return Some(base),
            };
            Some(format!("{base}{suffix}{serial}"))
        }
        [major, minor, micro] => Some(format!("{major}.{minor}.{micro}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_venv_and_virtualenv_styles() {
        let venv = PyvenvCfg::parse(
            "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
        );
        assert_eq!(venv.home, Some(PathBuf::from("/usr/bin")));
        assert!(!venv.include_system_site_packages);
        assert_eq!(venv.python_version.as_deref(), Some("3.11.7"));

        let virtualenv = PyvenvCfg::parse(
            "home = /opt/pyodide\nimplementation = CPython\nversion_info = 3.14.2.final.0\ninclude-system-site-packages = True\n",
        );
        assert_eq!(virtualenv.python_version.as_deref(), Some("3.14.2"));
        assert!(virtualenv.include_system_site_packages);
        assert_eq!(virtualenv.implementation.as_deref(), Some("CPython"));
    }

    #[test]
    fn prerelease_version_info_becomes_pep440() {
        assert_eq!(
            version_from_info("3.13.0.candidate.1").as_deref(),
            Some("3.13.0rc1")
        );
        assert_eq!(
            version_from_info("3.14.0.alpha.7").as_deref(),
            Some("3.14.0a7")
        );
    }
}
