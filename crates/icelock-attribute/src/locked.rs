//! Proving an installed distribution to be one of the artifacts a lock names, by the same
//! chain as [`crate::gather`]: installed RECORD = the artifact's RECORD, the artifact = the
//! locked sha256. The lock names the files, so no index page is asked for, except where it
//! names a file only by its hash or its name (`requirements.txt`, `poetry.lock`, `pdm.lock`):
//! then the index says where that file is, and must agree on its hash.

use std::collections::BTreeSet;
use std::path::PathBuf;

use futures_util::future::join_all;
use icelock_dist::InstalledDist;
use icelock_index::wheel_name::tag_set;
use icelock_index::{Indexes, WheelName};
use url::Url;

use crate::proof::{self, Target, Trial};
use crate::record_compare::FileDiff;
use crate::{Artifact, ProofKind, Verify};

/// One artifact a lock allows, as far as it says.
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    pub filename: Option<String>,
    pub url: Option<String>,
    pub path: Option<PathBuf>,
    /// Lower-case hex.
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

/// What checking a dist against its locked artifacts came to.
#[derive(Debug, Clone)]
pub enum LockedProof {
    /// The installed files are this locked artifact's.
    Proven {
        artifact: Artifact,
        proof: ProofKind,
        notes: Vec<String>,
    },
    /// Locked wheels of the installed name, version and tags were read, and none holds the
    /// installed files: a rebuild with the same METADATA, or files changed along with RECORD.
    Differs { diffs: Vec<(String, FileDiff)> },
    /// No locked file is a wheel with the installed name, version and tags.
    OtherFiles { reason: String },
    /// The lock names only source (an sdist): a wheel built from it is bound to no file.
    SourceOnly { reason: String },
    /// The check could not be made.
    Unverifiable { reasons: Vec<String> },
}

/// Checks `dist` against `candidates`, every matching wheel at once.
pub async fn prove(
    dist: &InstalledDist,
    candidates: &[Candidate],
    indexes: &Indexes,
    verify: Verify,
) -> LockedProof {
    let Some(wheel) = &dist.wheel else {
        return LockedProof::Unverifiable {
            reasons: vec![format!(
                "{} has no WHEEL file, so it was not installed from a wheel any lock can name",
                dist.location.display()
            )],
        };
    };
    if dist.record.is_none() {
        return LockedProof::Unverifiable {
            reasons: vec![format!(
                "{} has no RECORD, so its files cannot be bound to any artifact",
                dist.location.display()
            )],
        };
    }
    let installed_tags = tag_set(&wheel.tags);
    let is_this_wheel = |filename: &str| {
        WheelName::parse(filename).is_some_and(|w| {
            w.name == dist.name
                && w.version == dist.version
                && w.build.as_deref() == wheel.build.as_deref()
                && w.tags == installed_tags
        })
    };
    let mut targets: Vec<(String, Url, Option<String>, Option<u64>)> = Vec::new();
    let mut problems = Vec::new();
    // Files the lock names without saying where they are.
    let mut by_hash: BTreeSet<&str> = BTreeSet::new();
    let mut by_name: Vec<&Candidate> = Vec::new();
    for candidate in candidates {
        let url = match (&candidate.url, &candidate.path) {
            (Some(url), _) => Url::parse(url).ok(),
            (None, Some(path)) => std::path::absolute(path)
                .ok()
                .and_then(|p| Url::from_file_path(p).ok()),
            (None, None) => None,
        };
        let filename = candidate
            .filename
            .clone()
            .or_else(|| url.as_ref().map(|u| crate::last_segment(u.as_str())));
        match (url, filename) {
            (Some(url), Some(filename)) => {
                if is_this_wheel(&filename) {
                    targets.push((filename, url, candidate.sha256.clone(), candidate.size));
                }
            }
            (None, Some(_)) => by_name.push(candidate),
            (None, None) => {
                if let Some(sha) = &candidate.sha256 {
                    by_hash.insert(sha.as_str());
                }
            }
            (Some(_), None) => {}
        }
    }
    if !by_hash.is_empty()
        || by_name
            .iter()
            .any(|c| c.filename.as_deref().is_some_and(is_this_wheel))
    {
        let files = indexes.project_files(&dist.name, Some(&dist.version)).await;
        for entry in &files.files {
            let file = &entry.file;
            if !is_this_wheel(&file.filename) {
                continue;
            }
            let listed_sha = file.sha256().map(str::to_ascii_lowercase);
            let named = by_name
                .iter()
                .find(|c| c.filename.as_deref() == Some(file.filename.as_str()));
            let hashed = listed_sha.as_deref().is_some_and(|s| by_hash.contains(s));
            if let Some(named) = named {
                match (&named.sha256, &listed_sha) {
                    (Some(locked), Some(listed)) if locked != listed => {
                        problems.push(format!(
                            "{} on {} hashes to {listed}, but the lock says {locked}",
                            file.filename, entry.index
                        ));
                        continue;
                    }
                    _ => {}
                }
                let sha = named.sha256.clone().or(listed_sha.clone());
                targets.push((file.filename.clone(), file.url.clone(), sha, file.size));
            } else if hashed {
                targets.push((
                    file.filename.clone(),
                    file.url.clone(),
                    listed_sha,
                    file.size,
                ));
            }
        }
        problems.extend(
            files
                .errors
                .iter()
                .map(|e| format!("an index could not be read: {e}")),
        );
        if !by_hash.is_empty() && targets.is_empty() && files.files.is_empty() {
            problems.push(format!(
                "the lock names {} {}'s files only by hash, and no index searched ({}) lists a file of it",
                dist.name,
                dist.version,
                indexes.searched().join(", ")
            ));
        }
    }
    if targets.is_empty() {
        if !problems.is_empty() {
            return LockedProof::Unverifiable { reasons: problems };
        }
        let wheels: Vec<String> = candidates
            .iter()
            .filter_map(|c| {
                c.filename
                    .clone()
                    .or_else(|| c.url.as_deref().map(crate::last_segment))
            })
            .filter(|n| n.ends_with(".whl"))
            .collect();
        let tags = installed_tags
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if wheels.is_empty() && by_hash.is_empty() {
            let sources: Vec<String> = candidates
                .iter()
                .filter_map(|c| c.filename.clone().or_else(|| c.url.clone()))
                .collect();
            return LockedProof::SourceOnly {
                reason: format!(
                    "the lock names no wheel of {} {}, only {}: the installed wheel (tags {{{tags}}}) was built from source, and no locked file can be proven to hold its files; lock a wheel instead",
                    dist.name,
                    dist.version,
                    if sources.is_empty() {
                        "source".to_string()
                    } else {
                        sources.join(", ")
                    }
                ),
            };
        }
        return LockedProof::OtherFiles {
            reason: if wheels.is_empty() {
                format!(
                    "no file the index lists with a locked hash is a wheel of {} {} with the installed tags {{{tags}}}",
                    dist.name, dist.version
                )
            } else {
                format!(
                    "no locked wheel has the installed tags {{{tags}}}; the lock has {}",
                    wheels.join(", ")
                )
            },
        };
    }
    let trials = join_all(targets.iter().map(|(_, url, sha, size)| {
        let target = Target {
            url,
            sha256: sha.as_deref(),
            size: *size,
        };
        async move { proof::bind(dist, &target, indexes, verify).await }
    }))
    .await;
    let mut diffs = Vec::new();
    for ((filename, url, _, _), trial) in targets.iter().zip(trials) {
        match trial {
            Trial::Proven {
                proof,
                sha256,
                size,
                notes,
            } => {
                return LockedProof::Proven {
                    artifact: Artifact {
                        filename: filename.clone(),
                        url: icelock_index::config::redact(url),
                        sha256,
                        size,
                        upload_time: None,
                        index: None,
                    },
                    proof,
                    notes,
                };
            }
            Trial::Differs(diff) => diffs.push((filename.clone(), diff)),
            Trial::Failed(message) => problems.push(format!("{filename}: {message}")),
        }
    }
    if diffs.is_empty() {
        LockedProof::Unverifiable { reasons: problems }
    } else {
        LockedProof::Differs { diffs }
    }
}
