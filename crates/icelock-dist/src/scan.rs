//! The inventory of an environment: every distribution on its path, read once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use icelock_env::{Environment, SiteRole};
use rayon::prelude::*;
use sha2::Digest;
use uv_normalize::PackageName;
use uv_pep440::Version;

use crate::metadata::{CoreMetadata, Requirement};
use crate::source::{DirectUrl, Provenance, PyodideFiles};
use crate::{
    DistFormat, DistProblem, EntryPoints, InstalledDist, Source, WheelInfo, imports, record,
};

/// Metadata files larger than this are refused: real METADATA is kilobytes (a long README
/// included), and reading an unbounded file would let one broken dist exhaust memory.
const MAX_METADATA_FILE: u64 = 16 * 1024 * 1024;

/// Every distribution in an environment.
#[derive(Debug, Default)]
pub struct Inventory {
    /// One per normalised name, in path order.
    pub dists: Vec<InstalledDist>,
    /// Later copies of a name already found: never imported, but a sign of a broken install.
    pub shadowed: Vec<Shadowed>,
    /// Metadata folders that could not be read as a distribution at all.
    pub problems: Vec<ScanProblem>,
}

#[derive(Debug, Clone)]
pub struct Shadowed {
    pub name: PackageName,
    pub version: Version,
    pub location: PathBuf,
    /// The copy that wins.
    pub by: PathBuf,
    /// Expected, not a conflict: the base interpreter's copy under a venv's own, or a setuptools
    /// editable's `.egg-info` in its source tree.
    pub benign: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ScanProblem {
    pub location: PathBuf,
    pub message: String,
}

/// The distributions an index will likely be asked about, from the names of their folders: a
/// `.dist-info` holding a `WHEEL` and none of the marks of a direct, local or Pyodide install
/// (`direct_url.json`, `PYODIDE_URL`, `PYODIDE_SOURCE`). A caller can start those lookups
/// before [`scan`] has read every folder. Nothing is read but folder listings and three
/// `stat`s per folder, and no name is offered that a scan would not look up.
pub fn index_candidates<'a>(
    site_folders: impl IntoIterator<Item = &'a Path>,
) -> Vec<(PackageName, Version)> {
    site_folders
        .into_iter()
        .filter_map(|site| std::fs::read_dir(site).ok())
        .flat_map(|entries| entries.flatten())
        .filter_map(|entry| {
            let folder = entry.file_name();
            let folder = folder.to_str()?;
            let stem = folder.get(..folder.len().checked_sub(".dist-info".len())?)?;
            if !is_metadata_suffix(folder, ".dist-info") {
                return None;
            }
            let (name, version) = stem.rsplit_once('-')?;
            let dir = entry.path();
            let is_index_wheel = dir.join("WHEEL").is_file()
                && ["direct_url.json", "PYODIDE_URL", "PYODIDE_SOURCE"]
                    .iter()
                    .all(|mark| std::fs::symlink_metadata(dir.join(mark)).is_err());
            is_index_wheel.then_some((name.parse().ok()?, version.parse().ok()?))
        })
        .collect()
}

/// Reads every `.dist-info` and `.egg-info` on the environment's path, in parallel.
pub fn scan(env: &Environment) -> Inventory {
    let mut found: Vec<(usize, PathBuf, SiteRole)> = Vec::new();
    let mut problems = Vec::new();
    for (order, site) in env.site_packages.iter().enumerate() {
        let entries = match std::fs::read_dir(&site.path) {
            Ok(entries) => entries,
            Err(err) => {
                problems.push(ScanProblem {
                    location: site.path.clone(),
                    message: format!("cannot list this folder: {err}"),
                });
                continue;
            }
        };
        let here: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    is_metadata_suffix(n, ".dist-info") || is_metadata_suffix(n, ".egg-info")
                })
            })
            .collect();
        // Directory order, not sorted: it is the order in which importlib.metadata (and so pip
        // and Python itself) meet two copies of one name in a folder.
        found.extend(here.into_iter().map(|p| (order, p, site.role)));
    }

    // Each site folder resolved once, for the files read below it by relative path.
    let real_sites: Vec<Option<PathBuf>> = env
        .site_packages
        .iter()
        .map(|site| {
            let prefix = env.prefix_for(&site.path);
            std::fs::canonicalize(&site.path)
                .ok()
                .filter(|real| real.starts_with(&prefix))
        })
        .collect();
    let read: Vec<(usize, SiteRole, Result<InstalledDist, ScanProblem>)> = found
        .into_par_iter()
        .map(|(order, location, role)| {
            let site = env.site_packages[order].path.clone();
            let prefix = env.prefix_for(&site);
            let real_site = real_sites[order].as_deref();
            (order, role, read_dist(&location, site, real_site, prefix))
        })
        .collect();

    let mut inventory = Inventory {
        problems,
        ..Inventory::default()
    };
    let mut index: HashMap<PackageName, usize> = HashMap::new();
    for (_, role, result) in read {
        let dist = match result {
            Ok(dist) => dist,
            Err(problem) => {
                inventory.problems.push(problem);
                continue;
            }
        };
        match index.get(&dist.name) {
            None => {
                index.insert(dist.name.clone(), inventory.dists.len());
                inventory.dists.push(dist);
            }
            Some(&winner) => {
                let winner = &inventory.dists[winner];
                // A venv's own copy overriding the base interpreter's is what
                // `include-system-site-packages` is for; an editable's `.egg-info` in its source
                // tree is setuptools' bookkeeping. Anything else is a broken install.
                let benign = role == SiteRole::System
                    || (role == SiteRole::Path
                        && dist.format == DistFormat::EggInfo
                        && matches!(winner.source, Source::Editable { .. }));
                inventory.shadowed.push(Shadowed {
                    name: dist.name,
                    version: dist.version,
                    location: dist.location,
                    by: winner.location.clone(),
                    benign,
                });
            }
        }
    }
    inventory
}

/// Reads a metadata file safely: inside `prefix`, a regular file, at most the cap.
fn read_capped(path: &Path, prefix: &Path) -> std::io::Result<Vec<u8>> {
    use icelock_env::safe_fs::{SafeReadError, read_inside};
    read_inside(path, prefix, MAX_METADATA_FILE).map_err(|err| match err {
        SafeReadError::NotFound => std::io::Error::from(std::io::ErrorKind::NotFound),
        SafeReadError::Io(io) => io,
        other => std::io::Error::other(other.to_string()),
    })
}

/// A metadata folder, resolved and listed once for all the files read from it.
struct Folder<'a> {
    dir: &'a Path,
    /// Its real path, when it resolves under the prefix.
    real: Option<PathBuf>,
    /// Its entries' names, when it could be listed: most of the dozen optional files a
    /// dist-info may hold are absent, and a listing costs less than a failed open for each.
    names: Option<Vec<std::ffi::OsString>>,
}

impl<'a> Folder<'a> {
    /// `site` is the site folder `dir` was found in and `real_site` its real path: a folder
    /// directly in it that is no symlink is resolved by one `lstat`, where `canonicalize` reads
    /// every component of the path again for every dist.
    fn new(dir: &'a Path, prefix: &Path, site: &Path, real_site: Option<&Path>) -> Self {
        let below_site = || {
            let real_site = real_site?;
            if dir == site {
                return Some(real_site.to_path_buf());
            }
            let name = dir.file_name().filter(|_| dir.parent() == Some(site))?;
            let meta = std::fs::symlink_metadata(dir).ok()?;
            meta.is_dir().then(|| real_site.join(name))
        };
        let real = below_site()
            .or_else(|| std::fs::canonicalize(dir).ok())
            .filter(|r| r.starts_with(prefix));
        let names = real
            .as_deref()
            .and_then(|r| std::fs::read_dir(r).ok())
            .map(|entries| {
                entries
                    .map(|e| e.map(|e| e.file_name()))
                    .collect::<std::io::Result<Vec<_>>>()
            });
        Self {
            dir,
            real,
            // A listing cut short by an error says nothing about what is absent.
            names: names.and_then(Result::ok),
        }
    }

    /// Whether the listing shows `name` absent. Compared without ASCII case, so that on a
    /// case-insensitive file system the open, not the listing, decides as it did before.
    fn lacks(&self, name: &str) -> bool {
        self.names.as_ref().is_some_and(|names| {
            !names
                .iter()
                .any(|n| n.as_encoded_bytes().eq_ignore_ascii_case(name.as_bytes()))
        })
    }

    /// Whether `name` exists in the folder (following a symlink, as `Path::exists` does).
    fn has(&self, name: &str) -> bool {
        !self.lacks(name) && self.dir.join(name).exists()
    }
}

/// A file in the metadata folder: `Ok(None)` when absent, `Err` (a problem) when unreadable.
fn optional_file(
    folder: &Folder<'_>,
    prefix: &Path,
    name: &str,
    problems: &mut Vec<DistProblem>,
) -> Option<Vec<u8>> {
    use icelock_env::safe_fs::{SafeReadError, read_in_folder};
    if folder.lacks(name) {
        return None;
    }
    let read = match &folder.real {
        Some(real) => {
            read_in_folder(real, name, prefix, MAX_METADATA_FILE).map_err(|err| match err {
                SafeReadError::NotFound => std::io::Error::from(std::io::ErrorKind::NotFound),
                SafeReadError::Io(io) => io,
                other => std::io::Error::other(other.to_string()),
            })
        }
        None => read_capped(&folder.dir.join(name), prefix),
    };
    match read {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            problems.push(DistProblem {
                file: name.to_string(),
                message: format!("cannot be read: {err}"),
            });
            None
        }
    }
}

/// A file of the metadata folder read by `parse`: `None` when absent, and a problem (`is not
/// <spec>: …`) when it does not parse.
fn parsed_file<T, E: std::fmt::Display>(
    folder: &Folder<'_>,
    prefix: &Path,
    name: &str,
    spec: &str,
    parse: impl Fn(&[u8]) -> Result<T, E>,
    problems: &mut Vec<DistProblem>,
) -> Option<T> {
    let bytes = optional_file(folder, prefix, name, problems)?;
    match parse(&bytes) {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            problems.push(DistProblem {
                file: name.to_string(),
                message: format!("is not {spec}: {e}"),
            });
            None
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// `name-version.dist-info` → (name, version), for when METADATA cannot say.
fn name_from_folder(location: &Path) -> Option<(String, PackageName, Version)> {
    let stem = location.file_stem()?.to_str()?;
    let (name, version) = stem.split_once('-')?;
    let version = version.split('-').next()?;
    Some((
        name.to_string(),
        PackageName::from_str(name).ok()?,
        Version::from_str(version).ok()?,
    ))
}

/// `name` ends with `suffix` in any case: `importlib.metadata` compares the lower-cased name,
/// so `NAME-1.0.DIST-INFO` is found, and its entry points load, as any other.
fn is_metadata_suffix(name: &str, suffix: &str) -> bool {
    name.len() > suffix.len()
        && name.is_char_boundary(name.len() - suffix.len())
        && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

pub(crate) fn read_dist(
    location: &Path,
    site_dir: PathBuf,
    real_site: Option<&Path>,
    prefix: PathBuf,
) -> Result<InstalledDist, ScanProblem> {
    let is_egg = location
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("egg-info"));
    let scan_problem = |message: String| ScanProblem {
        location: location.to_path_buf(),
        message,
    };
    if !is_egg && !location.is_dir() {
        return Err(scan_problem(
            "is a file, not a folder: a .dist-info must be a folder (a broken install)".into(),
        ));
    }
    // An .egg-info may be a single PKG-INFO file (distutils) or a folder.
    let (dir, metadata_name) = if is_egg {
        if location.is_dir() {
            (location.to_path_buf(), "PKG-INFO")
        } else {
            (location.parent().unwrap_or(location).to_path_buf(), "")
        }
    } else {
        (location.to_path_buf(), "METADATA")
    };
    let mut problems = Vec::new();
    let folder = Folder::new(&dir, &prefix, &site_dir, real_site);
    let metadata_bytes = if metadata_name.is_empty() {
        read_capped(location, &prefix)
            .map_err(|e| scan_problem(format!("cannot be read: {e}")))
            .map(Some)?
    } else {
        optional_file(&folder, &prefix, metadata_name, &mut problems)
    };
    let shown_name = if metadata_name.is_empty() {
        location
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    } else {
        metadata_name.to_string()
    };

    let mut metadata = None;
    let mut metadata_sha256 = None;
    match &metadata_bytes {
        None => problems.push(DistProblem {
            file: shown_name.clone(),
            message: "is missing".into(),
        }),
        Some(bytes) => {
            if !is_egg {
                metadata_sha256 = Some(sha2::Sha256::digest(bytes).into());
            }
            match CoreMetadata::parse(bytes) {
                Ok((meta, warnings)) => {
                    problems.extend(warnings.into_iter().map(|w| DistProblem {
                        file: shown_name.clone(),
                        message: w.to_string(),
                    }));
                    metadata = Some(meta);
                }
                Err(err) => problems.push(DistProblem {
                    file: shown_name.clone(),
                    message: err.to_string(),
                }),
            }
        }
    }
    let (display_name, name, version) = match &metadata {
        Some(m) => (m.name.clone(), m.normalized_name.clone(), m.version.clone()),
        None => name_from_folder(location).ok_or_else(|| {
            scan_problem(format!(
                "neither {shown_name} nor the folder name says which distribution this is"
            ))
        })?,
    };

    if is_egg {
        if let Some(meta) = &mut metadata
            && meta.requires_dist.is_empty()
            && dir.is_dir()
            && location.is_dir()
            && let Some(bytes) = optional_file(&folder, &prefix, "requires.txt", &mut problems)
        {
            meta.requires_dist = requires_txt(&String::from_utf8_lossy(&bytes), &mut problems);
        }
        let imports = if location.is_dir() {
            optional_file(&folder, &prefix, "top_level.txt", &mut problems)
                .map(|b| {
                    let mut v: Vec<String> = String::from_utf8_lossy(&b)
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from)
                        .collect();
                    v.sort();
                    v.dedup();
                    v
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        return Ok(InstalledDist {
            name,
            display_name,
            version,
            format: DistFormat::EggInfo,
            location: location.to_path_buf(),
            site_dir,
            prefix,
            metadata,
            metadata_sha256: None,
            wheel: None,
            record: None,
            record_sha256: None,
            entry_points: None,
            installer: None,
            requested: false,
            source: Source::EggInfo,
            pyodide_files: PyodideFiles::default(),
            built_by_uv: false,
            provenance: None,
            imports,
            problems,
        });
    }

    let wheel = optional_file(&folder, &prefix, "WHEEL", &mut problems)
        .map(|b| WheelInfo::parse(&text(&b)));
    let mut record_sha256 = None;
    let record = match optional_file(&folder, &prefix, "RECORD", &mut problems) {
        Some(bytes) => {
            record_sha256 = Some(sha2::Sha256::digest(&bytes).into());
            let (entries, errors) = record::parse(&bytes);
            problems.extend(errors.into_iter().map(|e| DistProblem {
                file: "RECORD".into(),
                message: format!("row {}: {}", e.line, e.message),
            }));
            Some(entries)
        }
        None => {
            problems.push(DistProblem {
                file: "RECORD".into(),
                message: "is missing: the installed files cannot be verified".into(),
            });
            None
        }
    };
    let installer = optional_file(&folder, &prefix, "INSTALLER", &mut problems)
        .map(|b| text(&b))
        .filter(|s| !s.is_empty());
    let requested = folder.has("REQUESTED");
    let pyodide_files = PyodideFiles {
        source: optional_file(&folder, &prefix, "PYODIDE_SOURCE", &mut problems).map(|b| text(&b)),
        url: optional_file(&folder, &prefix, "PYODIDE_URL", &mut problems).map(|b| text(&b)),
        sha256: optional_file(&folder, &prefix, "PYODIDE_SHA256", &mut problems).map(|b| text(&b)),
        requires: optional_file(&folder, &prefix, "PYODIDE_REQUIRES", &mut problems)
            .and_then(|b| serde_json::from_slice(&b).ok()),
    };
    let direct_url = parsed_file(
        &folder,
        &prefix,
        "direct_url.json",
        "PEP 610",
        DirectUrl::parse,
        &mut problems,
    );
    let provenance = parsed_file(
        &folder,
        &prefix,
        "provenance_url.json",
        "PEP 710",
        Provenance::parse,
        &mut problems,
    );
    let source = direct_url
        .or_else(|| pyodide_files.source_for(installer.as_deref()))
        .unwrap_or(Source::Index);
    let built_by_uv = folder.has("uv_build.json");
    let entry_points = optional_file(&folder, &prefix, "entry_points.txt", &mut problems)
        .map(|bytes| EntryPoints::parse(&bytes));

    let imports = derive_imports(
        &site_dir,
        real_site,
        &prefix,
        &folder,
        metadata.as_ref(),
        record.as_deref(),
        &source,
    );

    Ok(InstalledDist {
        name,
        display_name,
        version,
        format: DistFormat::DistInfo,
        location: location.to_path_buf(),
        site_dir,
        prefix,
        metadata,
        metadata_sha256,
        wheel,
        record,
        record_sha256,
        entry_points,
        installer,
        requested,
        source,
        pyodide_files,
        built_by_uv,
        provenance,
        imports,
        problems,
    })
}

fn derive_imports(
    site_dir: &Path,
    real_site: Option<&Path>,
    prefix: &Path,
    dist_info: &Folder<'_>,
    metadata: Option<&CoreMetadata>,
    record: Option<&[record::RecordEntry]>,
    source: &Source,
) -> Vec<String> {
    if let Some(names) = metadata.and_then(|m| m.import_names.as_ref()) {
        let mut names = names.clone();
        names.sort();
        names.dedup();
        return names;
    }
    let Some(record) = record else {
        return Vec::new();
    };
    let paths: Vec<&str> = record.iter().map(|e| e.path.as_str()).collect();
    // Unreadable is as good as absent here: the list only refines import names.
    let declared: Vec<String> =
        optional_file(dist_info, prefix, "namespace_packages.txt", &mut Vec::new())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map(|t| {
                t.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
    let mut names =
        imports::from_record(paths.iter().copied(), &declared, &|rel| match real_site {
            Some(real) => {
                icelock_env::safe_fs::read_below(real, rel, prefix, imports::STUB_READ_CAP)
                    .is_ok_and(|head| imports::is_namespace_stub_text(&head))
            }
            None => imports::is_namespace_stub(&site_dir.join(rel), prefix),
        });
    if matches!(source, Source::Editable { .. }) {
        names.extend(imports::from_editable(site_dir, prefix, &paths));
    }
    names.into_iter().collect()
}

/// setuptools' `requires.txt`: bare requirements, then `[extra]`, `[extra:marker]` or `[:marker]`
/// sections whose requirements carry that condition.
fn requires_txt(text: &str, problems: &mut Vec<DistProblem>) -> Vec<Requirement> {
    let mut out = Vec::new();
    let mut condition: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (extra, marker) = section.split_once(':').unwrap_or((section, ""));
            let mut parts = Vec::new();
            if !marker.trim().is_empty() {
                parts.push(format!("({})", marker.trim()));
            }
            if !extra.trim().is_empty() {
                parts.push(format!("extra == \"{}\"", extra.trim()));
            }
            condition = (!parts.is_empty()).then(|| parts.join(" and "));
            continue;
        }
        let spec = match &condition {
            Some(c) => format!("{line} ; {c}"),
            None => line.to_string(),
        };
        match uv_pypi_types::LenientRequirement::from_str(&spec) {
            Ok(req) => out.push(Requirement::from(req)),
            Err(err) => problems.push(DistProblem {
                file: "requires.txt".into(),
                message: format!("has a line that is not PEP 508: {line:?} ({err})"),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_txt_sections_become_markers() {
        let mut problems = Vec::new();
        let reqs = requires_txt(
            "six>=1.0\n\n[socks]\nPySocks!=1.5.7\n\n[:sys_platform == \"win32\"]\ncolorama\n",
            &mut problems,
        );
        assert!(problems.is_empty());
        assert_eq!(reqs.len(), 3);
        assert!(reqs[1].marker.top_level_extra_name().is_some());
        assert!(reqs[0].marker.is_true());
    }

    #[test]
    fn folder_name_fallback() {
        let (name, normal, version) =
            name_from_folder(Path::new("/s/PySocks-1.7.1.dist-info")).unwrap();
        assert_eq!(name, "PySocks");
        assert_eq!(normal.as_ref(), "pysocks");
        assert_eq!(version.to_string(), "1.7.1");
    }

    #[test]
    fn a_dist_info_that_is_a_file_is_a_scan_problem() {
        let tmp = tempfile::tempdir().unwrap();
        let bogus = tmp.path().join("x-1.0.dist-info");
        std::fs::write(&bogus, "").unwrap();
        let err = read_dist(&bogus, tmp.path().into(), None, tmp.path().into()).unwrap_err();
        assert!(err.message.contains("is a file"));
    }

    /// The dist-info folder is listed once and resolved without `canonicalize` when it is a
    /// plain folder of the site; a symlinked one is still resolved in full, and one whose files
    /// lie outside the environment is still not read.
    #[cfg(unix)]
    #[test]
    fn dist_info_folders_are_resolved_and_listed_once() {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = std::fs::canonicalize(tmp.path()).unwrap().join("env");
        let site = prefix.join("site-packages");
        let elsewhere = prefix.join("elsewhere");
        let outside = prefix.parent().unwrap().join("outside");
        for dir in [&site, &elsewhere, &outside] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let fill = |dir: &Path, name: &str, extra: &[&str]| {
            std::fs::create_dir(dir).unwrap();
            let metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
            std::fs::write(dir.join("METADATA"), metadata).unwrap();
            std::fs::write(dir.join("RECORD"), format!("{name}/__init__.py,,\n")).unwrap();
            std::fs::write(dir.join("INSTALLER"), "pip\n").unwrap();
            for file in extra {
                std::fs::write(dir.join(file), "").unwrap();
            }
        };
        fill(&site.join("plain-1.0.dist-info"), "plain", &["REQUESTED"]);
        fill(&elsewhere.join("linked-1.0.dist-info"), "linked", &[]);
        fill(
            &outside.join("escaped-1.0.dist-info"),
            "escaped",
            &["REQUESTED"],
        );
        for (target, name) in [
            (&elsewhere, "linked-1.0.dist-info"),
            (&outside, "escaped-1.0.dist-info"),
        ] {
            std::os::unix::fs::symlink(target.join(name), site.join(name)).unwrap();
        }
        let read = |name: &str| {
            read_dist(&site.join(name), site.clone(), Some(&site), prefix.clone()).unwrap()
        };

        let plain = read("plain-1.0.dist-info");
        assert_eq!(plain.display_name, "plain");
        assert_eq!(plain.installer.as_deref(), Some("pip"));
        assert!(plain.requested);
        assert!(!plain.built_by_uv);
        assert_eq!(plain.pyodide_files, PyodideFiles::default());
        assert!(plain.problems.is_empty(), "{:?}", plain.problems);

        let linked = read("linked-1.0.dist-info");
        assert_eq!(linked.display_name, "linked");
        assert_eq!(linked.installer.as_deref(), Some("pip"));
        assert!(!linked.requested);
        assert!(linked.problems.is_empty(), "{:?}", linked.problems);

        let escaped = read("escaped-1.0.dist-info");
        assert!(escaped.metadata.is_none());
        assert!(escaped.installer.is_none());
        assert!(
            escaped
                .problems
                .iter()
                .any(|p| p.file == "METADATA" && p.message.contains("cannot be read")),
            "{:?}",
            escaped.problems
        );
    }

    /// Only index installs of wheels are offered ahead: a name from a local, direct or Pyodide
    /// install is never sent to an index before the scan says it should be.
    #[test]
    fn index_candidates_are_the_index_wheels() {
        let tmp = tempfile::tempdir().unwrap();
        let dist = |folder: &str, files: &[&str]| {
            let dir = tmp.path().join(folder);
            std::fs::create_dir(&dir).unwrap();
            for file in files {
                std::fs::write(dir.join(file), "").unwrap();
            }
        };
        dist("Demo_Pkg-1.0.dist-info", &["WHEEL", "METADATA", "RECORD"]);
        dist("local-2.0.dist-info", &["WHEEL", "direct_url.json"]);
        dist("fetched-3.0.dist-info", &["WHEEL", "PYODIDE_URL"]);
        dist("loaded-4.0.dist-info", &["WHEEL", "PYODIDE_SOURCE"]);
        dist("built-5.0.dist-info", &["METADATA"]);
        dist("old-6.0.egg-info", &["PKG-INFO"]);
        dist("not-a-version-x.y!.dist-info", &["WHEEL"]);
        std::fs::write(tmp.path().join("stray-7.0.dist-info"), "").unwrap();
        let found = index_candidates([tmp.path()]);
        let expected: Vec<(PackageName, Version)> =
            vec![("demo-pkg".parse().unwrap(), "1.0".parse().unwrap())];
        assert_eq!(found, expected);
        assert!(index_candidates([tmp.path().join("missing").as_path()]).is_empty());
    }
}
