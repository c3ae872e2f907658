//! Installed distributions: what each `.dist-info` (or legacy `.egg-info`) says, with no network.
//!
//! This crate owns reading one installed distribution (METADATA, WHEEL, RECORD, INSTALLER,
//! REQUESTED, `direct_url.json`, the `PYODIDE_*` files), deriving its import names, checking its
//! files against RECORD, and taking the inventory of an environment: every distribution on its
//! path, the first one of a name winning as it does at import time.
//!
//! A problem with one distribution is recorded on it (or, when not even its name can be read, in
//! the inventory) and never stops the rest of the environment from being read.

pub mod bytecode;
pub mod entry_points;
pub mod imports;
pub mod integrity;
pub mod known;
pub mod metadata;
pub mod record;
mod scan;
mod source;
mod unlisted;
pub mod wheel;

use std::path::PathBuf;

use uv_normalize::PackageName;
use uv_pep440::Version;

pub use entry_points::{EntryPoints, ScriptEntry};
pub use metadata::{CoreMetadata, Requirement};
pub use record::RecordEntry;
pub use scan::{Inventory, ScanProblem, Shadowed, index_candidates, scan};

/// What a `__pycache__` folder holds that an import could load: Python writes only
/// `NAME.TAG.pyc` and `NAME.TAG.opt-N.pyc` there (which no import finds by name), but the folder
/// is a namespace package like any other, so a module put in it (`evil.py`, a sourceless
/// `evil.pyc`, an extension module, a folder holding any) is imported by
/// `import pkg.__pycache__.evil`. Names, sorted (lossy where not UTF-8); an unreadable folder
/// gives none (its sources' own checks stand).
pub fn strays_in_bytecode_folder(folder: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_folder = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            if is_folder {
                return holds_files(&e.path());
            }
            importable_by_name(&name)
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// A file an import could load by a module name: a source, a sourceless `NAME.pyc`, an
/// extension module (`NAME.*.so`). Python's own `NAME.TAG.pyc` is found by no name (a module
/// cannot be called `NAME.TAG`), nor are the temporary files it writes them through.
fn importable_by_name(name: &str) -> bool {
    let Some((stem, _)) = name.split_once('.') else {
        return false;
    };
    if stem.is_empty() {
        return false;
    }
    name.ends_with(".py")
        || name.ends_with(".pyw")
        || name.ends_with(".so")
        || name.ends_with(".pyd")
        || name.strip_suffix(".pyc").is_some_and(|n| !n.contains('.'))
}

/// Whether `folder` holds a file anywhere below it outside `__pycache__` folders, or anything in
/// one that Python did not write there (or a symlink, an unreadable folder, or more than can be
/// looked at: any of those may be code). A folder with none is what an uninstall leaves behind
/// (empty folders, bytecode Python wrote for sources now gone, which it never loads without
/// them): importing it runs nothing.
pub fn holds_files(folder: &std::path::Path) -> bool {
    const MOST: usize = 10_000;
    let mut pending = vec![folder.to_path_buf()];
    let mut seen = 0;
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return true;
        };
        for entry in entries {
            seen += 1;
            let Ok(entry) = entry else {
                return true;
            };
            if seen > MOST {
                return true;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() => {
                    if entry.file_name() != "__pycache__" {
                        pending.push(entry.path());
                    } else if !strays_in_bytecode_folder(&entry.path()).is_empty() {
                        return true;
                    }
                }
                _ => return true,
            }
        }
    }
    false
}
pub use source::{Provenance, PyodideFiles, Source};
pub use wheel::WheelInfo;

/// The on-disk form of an installed distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistFormat {
    DistInfo,
    /// Legacy setuptools installs: no RECORD, so nothing about their files can be verified.
    EggInfo,
}

/// One installed distribution, as its metadata folder describes it.
#[derive(Debug, Clone)]
pub struct InstalledDist {
    /// PEP 503-normalised `Name:`.
    pub name: PackageName,
    /// `Name:` as written.
    pub display_name: String,
    pub version: Version,
    pub format: DistFormat,
    /// The `.dist-info` / `.egg-info` folder (or file).
    pub location: PathBuf,
    /// The folder holding `location`: RECORD paths are relative to it.
    pub site_dir: PathBuf,
    /// Every file this distribution installed must lie under this prefix.
    pub prefix: PathBuf,
    pub metadata: Option<CoreMetadata>,
    /// sha256 of the METADATA bytes, the key to proving where the dist came from.
    pub metadata_sha256: Option<[u8; 32]>,
    pub wheel: Option<WheelInfo>,
    /// `None` when there is no RECORD (egg-info, or a broken install).
    pub record: Option<Vec<RecordEntry>>,
    /// sha256 of the RECORD bytes: a proof made against them holds while they are unchanged.
    pub record_sha256: Option<[u8; 32]>,
    /// `entry_points.txt`, where there is one: which launchers an installer generated.
    pub entry_points: Option<EntryPoints>,
    pub installer: Option<String>,
    /// `REQUESTED` exists. pip writes it only for what was named; uv writes it on every dist.
    pub requested: bool,
    pub source: Source,
    pub pyodide_files: PyodideFiles,
    /// uv leaves `uv_build.json` on every dist it built from source.
    pub built_by_uv: bool,
    /// PEP 710 `provenance_url.json`, where an installer wrote one.
    pub provenance: Option<Provenance>,
    /// Sorted import names.
    pub imports: Vec<String>,
    /// Problems with this distribution's metadata files, for people.
    pub problems: Vec<DistProblem>,
}

/// A problem with one of a distribution's metadata files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistProblem {
    /// The file (relative to the metadata folder: `METADATA`, `RECORD`, …).
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for DistProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.file, self.message)
    }
}

impl InstalledDist {
    pub fn requirements(&self) -> &[Requirement] {
        self.metadata
            .as_ref()
            .map(|m| m.requires_dist.as_slice())
            .unwrap_or_default()
    }
}

/// A distribution for unit tests: `name` 1.0 in `site`, under `prefix`, with nothing read
/// (no METADATA, no RECORD): a test sets the fields it is about.
#[cfg(test)]
pub(crate) fn test_dist(
    name: &str,
    site: &std::path::Path,
    prefix: &std::path::Path,
) -> InstalledDist {
    use std::str::FromStr;
    InstalledDist {
        name: PackageName::from_str(name).unwrap(),
        display_name: name.into(),
        version: Version::from_str("1.0").unwrap(),
        format: DistFormat::DistInfo,
        location: site.join(format!("{name}-1.0.dist-info")),
        site_dir: site.to_path_buf(),
        prefix: prefix.to_path_buf(),
        metadata: None,
        metadata_sha256: None,
        wheel: None,
        record: None,
        record_sha256: None,
        entry_points: None,
        installer: None,
        requested: false,
        source: Source::Index,
        pyodide_files: PyodideFiles::default(),
        built_by_uv: false,
        provenance: None,
        imports: vec![],
        problems: vec![],
    }
}
