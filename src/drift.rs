//! `icelock verify`: is the environment exactly what a lock says, down to the files?
//!
//! Each installed distribution is matched by name to the lock's entries and given one
//! [`Status`]; a required entry nothing is installed for is `missing`. `ok` means what `lock`
//! means by proven: the installed files equal RECORD, RECORD equals the locked artifact's own,
//! and that artifact is the file of the locked sha256. The report is data; `render` formats it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use futures_util::future::join_all;
use icelock_attribute::locked::{self, Candidate, LockedProof};
use icelock_attribute::{FileDiff, Verify};
use icelock_dist::integrity::Integrity;
use icelock_dist::{InstalledDist, Source};
use icelock_lockfile::{ArtifactKind, Expected, LockFile, LockedArtifact, LockedPackage};
use serde::Serialize;

use crate::inspect::Inspection;

/// One package's standing against the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Proven to be the locked artifact (or, for a source tree, the locked tree).
    Ok,
    /// Locked for this environment, not installed.
    Missing,
    /// Installed, not in the lock.
    Extra,
    /// Another version is installed.
    Version,
    /// The locked version, but not a locked file: another wheel, or a build with the same
    /// METADATA and other files.
    Artifact,
    /// Installed files no longer match the installed RECORD, or files no RECORD lists sit in
    /// its folders.
    Modified,
    /// Could not be checked; `reason` says why.
    Unverifiable,
    /// Not a package: an entry on the environment's path or in its scripts folder that can
    /// change what runs and that no RECORD lists (a `.pth` file that runs code, a module, an
    /// executable). No lock rebuilds it.
    Unowned,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Missing => "missing",
            Self::Extra => "extra",
            Self::Version => "version",
            Self::Artifact => "artifact",
            Self::Modified => "modified",
            Self::Unverifiable => "unverifiable",
            Self::Unowned => "unowned",
        }
    }
}

/// What `verify --format json` prints: documented in the README, stable.
#[derive(Debug, Serialize)]
pub struct Report {
    pub lock: LockJson,
    pub environment: PathBuf,
    pub packages: Vec<PackageReport>,
    /// What else is on the environment's path or in its scripts folder that no RECORD lists
    /// and that can change what runs: each `unowned`.
    pub entries: Vec<EntryReport>,
    /// What the comparison of bytecode with its sources came to (set by the caller).
    pub bytecode: Option<crate::inspect::BytecodeReport>,
    /// Packages (and entries) per status.
    pub summary: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Serialize)]
pub struct LockJson {
    pub path: PathBuf,
    pub format: &'static str,
}

#[derive(Debug, Serialize)]
pub struct PackageReport {
    pub name: String,
    /// The installed version, else the locked one.
    pub version: Option<String>,
    pub status: Status,
    pub locked: Option<LockedJson>,
    pub installed: Option<InstalledJson>,
    /// The files that differ: installed files changed since install (`modified`), or where
    /// the installed RECORD and the locked artifact's disagree (`artifact`).
    pub files: Vec<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LockedJson {
    pub version: Option<String>,
    /// 1-based line of the entry in the lock.
    pub line: Option<usize>,
    pub artifacts: Vec<ArtifactJson>,
}

#[derive(Debug, Serialize)]
pub struct ArtifactJson {
    pub filename: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InstalledJson {
    pub version: String,
    pub location: PathBuf,
    pub installer: Option<String>,
    /// The locked artifact it was proven to be.
    pub artifact: Option<ArtifactJson>,
    /// What the proof binds: `wheel-record`, `wheel-hash`, or `source-tree` (the locked
    /// folder is the installed one; no file is bound).
    pub proof: Option<&'static str>,
}

/// An entry the environment's survey found no owner for.
#[derive(Debug, Serialize)]
pub struct EntryReport {
    /// With U+FFFD where the name is not UTF-8.
    pub path: String,
    pub status: Status,
    pub reason: String,
}

impl Report {
    pub fn drifted(&self) -> bool {
        self.packages.iter().any(|p| p.status != Status::Ok) || !self.entries.is_empty()
    }
}

/// Judges every installed distribution of `inspection` against `lock`.
/// `integrity` gives the installed files' check against RECORD; it is called once the
/// locked artifacts are read, so the caller can hash the files meanwhile.
pub async fn judge(
    inspection: &Inspection,
    lock: &LockFile,
    integrity: impl FnOnce() -> Vec<Integrity>,
    indexes: &icelock_index::Indexes,
    verify: Verify,
) -> Report {
    let mut by_name: BTreeMap<&uv_normalize::PackageName, Vec<&LockedPackage>> = BTreeMap::new();
    for package in &lock.packages {
        by_name.entry(&package.name).or_default().push(package);
    }
    let dists = inspection.dists();
    let judged = join_all(dists.iter().map(|dist| {
        let entries = by_name.get(&dist.name).cloned().unwrap_or_default();
        judge_one(dist, entries, indexes, verify)
    }))
    .await;
    // Files changed since install outrank what the artifacts said: a dist of the locked
    // version whose files no longer match its own RECORD is `modified`.
    let integrity = integrity();
    let judged: Vec<PackageReport> = judged
        .into_iter()
        .zip(dists.iter().zip(&integrity))
        .map(|((report, locked_version), (dist, integrity))| {
            if locked_version && !integrity.problems.is_empty() {
                modified(report, dist, integrity)
            } else {
                report
            }
        })
        .collect();
    let installed: BTreeSet<&uv_normalize::PackageName> = dists.iter().map(|d| &d.name).collect();
    let mut packages = judged;
    let mut missing_seen = BTreeSet::new();
    for package in &lock.packages {
        if package.expected == Expected::Required
            && !installed.contains(&package.name)
            && missing_seen.insert(&package.name)
        {
            packages.push(PackageReport {
                name: package.name.to_string(),
                version: package.version.as_ref().map(ToString::to_string),
                status: Status::Missing,
                locked: Some(locked_json(package)),
                installed: None,
                files: Vec::new(),
                reason: Some("locked for this environment, not installed".into()),
            });
        }
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name).then(a.status.cmp(&b.status)));
    let entries: Vec<EntryReport> = inspection
        .survey
        .unowned
        .iter()
        .map(|entry| EntryReport {
            path: entry.path.to_string_lossy().into_owned(),
            status: Status::Unowned,
            reason: format!("{}; {}", entry.kind, entry.way_out()),
        })
        .collect();
    let mut summary = BTreeMap::new();
    for status in packages
        .iter()
        .map(|p| p.status)
        .chain(entries.iter().map(|e| e.status))
    {
        *summary.entry(status.name()).or_insert(0) += 1;
    }
    Report {
        lock: LockJson {
            path: lock.path.clone(),
            format: lock.kind.name(),
        },
        environment: inspection.env.root.clone(),
        packages,
        entries,
        bytecode: None,
        summary,
    }
}

/// The report of `dist` from what the lock says and the artifacts show, and whether it is the
/// locked version (so a check of its files decides over that report).
async fn judge_one(
    dist: &InstalledDist,
    entries: Vec<&LockedPackage>,
    indexes: &icelock_index::Indexes,
    verify: Verify,
) -> (PackageReport, bool) {
    let mut report = PackageReport {
        name: dist.name.to_string(),
        version: Some(dist.version.to_string()),
        status: Status::Ok,
        locked: None,
        installed: Some(InstalledJson {
            version: dist.version.to_string(),
            location: dist.location.clone(),
            installer: dist.installer.clone(),
            artifact: None,
            proof: None,
        }),
        files: Vec::new(),
        reason: None,
    };
    if entries.is_empty() {
        report.status = Status::Extra;
        report.reason = Some("installed, but the lock has no entry for it".into());
        return (report, false);
    }
    // Where the lock requires the package here, the installed one must be a required entry
    // (a universal lock's entry for another platform does not excuse it); the entry of the
    // installed version, else the one expected, to say which version that is.
    let required: Vec<&LockedPackage> = entries
        .iter()
        .copied()
        .filter(|e| e.expected == Expected::Required)
        .collect();
    let pool = if required.is_empty() {
        &entries
    } else {
        &required
    };
    let entry = pool
        .iter()
        .find(|e| e.version.as_ref().is_none_or(|v| *v == dist.version))
        .unwrap_or(&pool[0]);
    report.locked = Some(locked_json(entry));
    if let Some(version) = &entry.version
        && *version != dist.version
    {
        report.status = Status::Version;
        report.reason = Some(format!(
            "{} is installed, the lock has {version}",
            dist.version
        ));
        return (report, false);
    }
    if let Some(verdict) = source_tree(dist, &entry.artifacts) {
        match verdict {
            Ok(()) => {
                if let Some(installed) = &mut report.installed {
                    installed.proof = Some("source-tree");
                }
                report.reason = Some(
                    "installed from the source tree the lock names: a folder, so no file is bound"
                        .into(),
                );
            }
            Err(reason) => {
                report.status = Status::Artifact;
                report.reason = Some(reason);
            }
        }
        return (report, true);
    }
    let candidates: Vec<Candidate> = entry.artifacts.iter().map(candidate).collect();
    match locked::prove(dist, &candidates, indexes, verify).await {
        LockedProof::Proven {
            artifact, proof, ..
        } => {
            if let Some(installed) = &mut report.installed {
                installed.proof = Some(proof.name());
                installed.artifact = Some(ArtifactJson {
                    filename: Some(artifact.filename),
                    url: Some(artifact.url),
                    sha256: Some(artifact.sha256),
                });
            }
        }
        LockedProof::Differs { diffs } => {
            report.status = Status::Artifact;
            let (filename, diff) = &diffs[0];
            report.files = diff_files(diff);
            report.reason = Some(format!(
                "the installed files are not {filename}'s ({}): a build with the same name and version, not the locked file; put the locked wheel back with `{}`",
                summarize(diff),
                icelock_attribute::reinstall_command(dist)
            ));
        }
        LockedProof::OtherFiles { reason } => {
            report.status = Status::Artifact;
            report.reason = Some(reason);
        }
        LockedProof::SourceOnly { reason } => {
            report.status = Status::Unverifiable;
            report.reason = Some(reason);
        }
        LockedProof::Unverifiable { reasons } => {
            report.status = Status::Unverifiable;
            report.reason = Some(reasons.join("; "));
        }
    }
    (report, true)
}

/// `report` overruled: files of `dist` changed since install, or added beside them.
fn modified(
    mut report: PackageReport,
    dist: &InstalledDist,
    integrity: &Integrity,
) -> PackageReport {
    report.status = Status::Modified;
    if let Some(installed) = &mut report.installed {
        installed.artifact = None;
        installed.proof = None;
    }
    report.files = integrity
        .problems
        .iter()
        .map(|p| p.path().to_string())
        .collect();
    report.reason = Some(icelock_attribute::modified_reason(dist, integrity));
    report
}

/// For a dist installed from a source tree (a folder, editable or not, or a VCS checkout):
/// whether the lock names that same tree. `None` for a dist installed from an artifact.
fn source_tree(dist: &InstalledDist, artifacts: &[LockedArtifact]) -> Option<Result<(), String>> {
    let same_folder = |installed: &Option<PathBuf>| {
        artifacts.iter().any(|a| {
            matches!(a.kind, ArtifactKind::Directory { .. })
                && a.path
                    .as_deref()
                    .zip(installed.as_deref())
                    .is_some_and(|(l, i)| same_path(l, i))
        })
    };
    match &dist.source {
        Source::Editable { path, .. } | Source::Directory { path, .. } => {
            Some(if same_folder(path) {
                Ok(())
            } else {
                Err(format!(
                    "installed from the source tree {}, which the lock does not name",
                    path.as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ))
            })
        }
        Source::Vcs { url, commit_id, .. } => {
            let same = artifacts.iter().any(|a| match &a.kind {
                ArtifactKind::Vcs { commit } => commit.is_some() && commit == commit_id,
                _ => false,
            });
            Some(if same {
                Ok(())
            } else {
                Err(format!(
                    "installed from {url} at {}, which the lock does not name",
                    commit_id.as_deref().unwrap_or("an unrecorded commit")
                ))
            })
        }
        _ => {
            // A lock that names a source tree for a dist installed from an artifact: the files
            // are not the tree's.
            if !artifacts.is_empty()
                && artifacts.iter().all(|a| {
                    matches!(
                        a.kind,
                        ArtifactKind::Directory { .. } | ArtifactKind::Vcs { .. }
                    )
                })
            {
                return Some(Err(
                    "the lock names a source tree, but a wheel is installed".into(),
                ));
            }
            None
        }
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canonical(a) == canonical(b)
}

fn candidate(artifact: &LockedArtifact) -> Candidate {
    Candidate {
        filename: artifact.filename.clone(),
        url: artifact.url.clone(),
        path: artifact.path.clone(),
        sha256: artifact.sha256.clone(),
        size: artifact.size,
    }
}

fn locked_json(package: &LockedPackage) -> LockedJson {
    LockedJson {
        version: package.version.as_ref().map(ToString::to_string),
        line: package.line,
        artifacts: package
            .artifacts
            .iter()
            .map(|a| ArtifactJson {
                filename: a.filename.clone(),
                url: a
                    .url
                    .clone()
                    .or_else(|| a.path.as_ref().map(|p| p.display().to_string())),
                sha256: a.sha256.clone(),
            })
            .collect(),
    }
}

fn diff_files(diff: &FileDiff) -> Vec<String> {
    diff.changed
        .iter()
        .chain(&diff.only_installed)
        .chain(&diff.only_in_wheel)
        .cloned()
        .collect()
}

/// "2 differ, 1 only installed" and the first few names.
fn summarize(diff: &FileDiff) -> String {
    let mut parts = Vec::new();
    for (list, what) in [
        (&diff.changed, "differ"),
        (&diff.only_installed, "only installed"),
        (&diff.only_in_wheel, "only in the locked wheel"),
    ] {
        if list.is_empty() {
            continue;
        }
        let shown: Vec<&str> = list.iter().take(3).map(String::as_str).collect();
        let more = list.len().saturating_sub(shown.len());
        parts.push(format!(
            "{what}: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    parts.join("; ")
}
