//! From proven facts to the lock model: one entry per distribution, nothing re-derived.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use icelock_attribute::{Attributed, Attribution};
use icelock_lock::{Artifact, LockEnvironment, LockModel, Package, PackageSource, PyodideTarget};

use crate::inspect::Inspection;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "{name} {version} was installed from VCS, but no commit was recorded: a lock needs one"
    )]
    NoCommit { name: String, version: String },
    #[error("{path}: {message}")]
    BaseLock { path: PathBuf, message: String },
}

/// What the user allows into a lock beyond proven artifacts.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Normalised names left out on purpose.
    pub exclude: Vec<String>,
    /// Write local source trees (directory, editable) as `directory` entries.
    pub allow_local: bool,
    /// Lock the index's sdist for a dist built from it.
    pub allow_sdist: bool,
}

/// What happens to one distribution in a lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Lock,
    Excluded,
    /// Stops the lock; each reason says what to do.
    Blocked(Vec<String>),
}

/// Applies the policy to the attributions (which stay as they are: they are facts).
pub fn judge(inspection: &Inspection, attributed: &[Attributed], policy: &Policy) -> Vec<Verdict> {
    inspection
        .dists()
        .iter()
        .zip(attributed)
        .map(|(dist, a)| {
            if policy.exclude.iter().any(|e| e == dist.name.as_ref()) {
                return Verdict::Excluded;
            }
            match &a.attribution {
                Attribution::Unproven {
                    sdist: Some(_), ..
                } if policy.allow_sdist => Verdict::Lock,
                Attribution::Unproven { reasons, .. } => Verdict::Blocked(reasons.clone()),
                Attribution::Directory { path, url, .. } | Attribution::Editable { path, url }
                    if !policy.allow_local =>
                {
                    let editable = matches!(a.attribution, Attribution::Editable { .. });
                    let place = path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| url.clone());
                    let rebuild = if editable {
                        String::new()
                    } else {
                        " or --wheelhouse DIR to lock a wheel rebuilt from its installed files,".to_string()
                    };
                    Verdict::Blocked(vec![format!(
                        "installed from the local source tree {place}{}: a lock can only point at that folder on this machine; pass --allow-local to lock it as a `directory` entry anyway,{rebuild} or --exclude {}",
                        if editable { " (editable)" } else { "" },
                        dist.name
                    )])
                }
                _ => Verdict::Lock,
            }
        })
        .collect()
}

/// Where pyodide-lock.json's runtime entries come from, and what they resolve against.
pub struct PyodideOptions {
    pub base_lock: Option<PathBuf>,
    pub base_url: Option<String>,
}

fn artifact(a: &icelock_attribute::Artifact) -> Artifact {
    Artifact {
        filename: a.filename.clone(),
        url: a.url.clone(),
        sha256: a.sha256.clone(),
        size: a.size,
        upload_time: a.upload_time.clone(),
    }
}

fn is_wheel(filename: &str) -> bool {
    filename.ends_with(".whl")
}

/// The environment marker: true exactly on this platform and Python.
fn marker(inspection: &Inspection) -> String {
    let m = &inspection.env.markers;
    format!(
        "sys_platform == '{}' and platform_machine == '{}' and implementation_name == '{}' and python_full_version == '{}'",
        m.sys_platform(),
        m.platform_machine(),
        m.implementation_name(),
        m.python_full_version()
    )
}

/// Builds the model. Every attribution must be proven (the caller checks).
pub fn build(
    inspection: &Inspection,
    attributed: &[Attributed],
    verdicts: &[Verdict],
    repacked: &BTreeMap<usize, (icelock_repack::Repacked, String)>,
    pyodide: &PyodideOptions,
) -> Result<LockModel, ModelError> {
    let mut packages = Vec::new();
    let mut indexes: Vec<String> = Vec::new();
    let excluded: Vec<String> = inspection
        .dists()
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| **v == Verdict::Excluded)
        .map(|(d, _)| d.name.to_string())
        .collect();
    for (i, (((dist, node), a), verdict)) in inspection
        .dists()
        .iter()
        .zip(&inspection.graph.nodes)
        .zip(attributed)
        .zip(verdicts)
        .enumerate()
    {
        if *verdict != Verdict::Lock {
            continue;
        }
        let (source, proof) = match &a.attribution {
            _ if repacked.contains_key(&i) => {
                let (wheel, url) = &repacked[&i];
                (
                    PackageSource::Wheel {
                        artifact: Artifact {
                            filename: wheel.filename.clone(),
                            url: url.clone(),
                            sha256: wheel.sha256.clone(),
                            size: Some(wheel.size),
                            upload_time: None,
                        },
                        index: None,
                    },
                    "repacked-installed-files",
                )
            }
            Attribution::Index {
                artifact: art,
                proof,
                ..
            } => {
                if let Some(index) = &art.index
                    && !indexes.contains(index)
                {
                    indexes.push(index.clone());
                }
                (
                    PackageSource::Wheel {
                        artifact: artifact(art),
                        index: art.index.clone(),
                    },
                    proof.name(),
                )
            }
            Attribution::Url {
                artifact: art,
                proof,
                ..
            } if is_wheel(&art.filename) => (
                PackageSource::Wheel {
                    artifact: artifact(art),
                    index: None,
                },
                proof.name(),
            ),
            Attribution::Url {
                artifact: art,
                proof,
                ..
            } => (
                PackageSource::Archive {
                    artifact: artifact(art),
                },
                proof.name(),
            ),
            Attribution::Micropip {
                artifact: art,
                proof,
                ..
            } => (
                PackageSource::Wheel {
                    artifact: artifact(art),
                    index: None,
                },
                proof.name(),
            ),
            Attribution::Pyodide { proof, .. } => (PackageSource::PyodideRuntime, proof.name()),
            Attribution::Vcs {
                url,
                vcs,
                commit_id,
                requested_revision,
                subdirectory,
            } => (
                PackageSource::Vcs {
                    vcs: vcs.clone(),
                    url: url.clone(),
                    commit_id: commit_id.clone().ok_or_else(|| ModelError::NoCommit {
                        name: dist.name.to_string(),
                        version: dist.version.to_string(),
                    })?,
                    requested_revision: requested_revision.clone(),
                    subdirectory: subdirectory.clone(),
                },
                "direct-url",
            ),
            Attribution::Directory {
                url,
                path,
                subdirectory,
            } => (
                PackageSource::Directory {
                    path: path.clone().unwrap_or_else(|| PathBuf::from(url)),
                    editable: false,
                    subdirectory: subdirectory.clone(),
                },
                "direct-url",
            ),
            Attribution::Editable { url, path } => (
                PackageSource::Directory {
                    path: path.clone().unwrap_or_else(|| PathBuf::from(url)),
                    editable: true,
                    subdirectory: None,
                },
                "direct-url",
            ),
            Attribution::Unproven {
                sdist: Some(sdist), ..
            } => {
                if let Some(index) = &sdist.index
                    && !indexes.contains(index)
                {
                    indexes.push(index.clone());
                }
                (
                    PackageSource::Sdist {
                        artifact: artifact(sdist),
                        index: sdist.index.clone(),
                    },
                    if sdist.index.is_some() {
                        "index-sdist"
                    } else {
                        "direct-url-sdist"
                    },
                )
            }
            Attribution::Unproven { .. } => continue,
        };
        packages.push(Package {
            name: dist.name.to_string(),
            display_name: dist.display_name.clone(),
            version: dist.version.to_string(),
            source,
            dependencies: node
                .depends
                .iter()
                .map(ToString::to_string)
                .filter(|d| !excluded.contains(d))
                .collect(),
            imports: dist.imports.clone(),
            requires_python: dist
                .metadata
                .as_ref()
                .and_then(|m| m.requires_python.clone()),
            proof: proof.to_string(),
        });
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));

    let target = pyodide_target(inspection, pyodide)?;
    Ok(LockModel {
        created_by: "icelock".into(),
        source_description: inspection.env.root.display().to_string(),
        environment: LockEnvironment {
            python_full_version: inspection.env.markers.python_full_version().to_string(),
            marker: marker(inspection),
            pyodide: target,
        },
        indexes,
        packages,
        excluded,
    })
}

fn pyodide_target(
    inspection: &Inspection,
    options: &PyodideOptions,
) -> Result<Option<PyodideTarget>, ModelError> {
    let (lock_path, default_base) = match (&options.base_lock, &inspection.env.pyodide) {
        (Some(path), _) => (path.clone(), path.parent().map(Path::to_path_buf)),
        (None, Some(runtime)) => (
            runtime.lock.clone(),
            runtime.lock.parent().map(Path::to_path_buf),
        ),
        (None, None) => return Ok(None),
    };
    let fail = |message: String| ModelError::BaseLock {
        path: lock_path.clone(),
        message,
    };
    let bytes = std::fs::read(&lock_path).map_err(|e| fail(e.to_string()))?;
    let lock: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))?;
    let info = lock
        .get("info")
        .cloned()
        .ok_or_else(|| fail("has no `info`".into()))?;
    let mut runtime_packages = BTreeMap::new();
    if let Some(serde_json::Value::Object(map)) = lock.get("packages") {
        for (name, entry) in map {
            if let serde_json::Value::Object(entry) = entry {
                runtime_packages.insert(name.clone(), entry.clone());
            }
        }
    }
    // Without --base-url, runtime files resolve to the runtime's folder on this machine, which
    // is right for Node and for serving the runtime folder itself.
    let runtime_base = match &options.base_url {
        Some(url) if url.ends_with('/') => url.clone(),
        Some(url) => format!("{url}/"),
        None => default_base
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d))
            .map(|d| format!("{}/", d.display()))
            .unwrap_or_default(),
    };
    Ok(Some(PyodideTarget {
        info,
        runtime_packages,
        runtime_base,
    }))
}
