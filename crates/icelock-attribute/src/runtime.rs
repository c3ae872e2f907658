//! The Pyodide runtime's own packages, which `pyodide.loadPackage` unpacks: the runtime's
//! `pyodide-lock.json` names the wheel at the installed version, and the wheel, where it can be
//! read (beside the lock, as a full Pyodide distribution ships them, or at an absolute URL), is
//! proven like any other.

use icelock_dist::InstalledDist;
use icelock_index::Indexes;

use crate::proof::{self, Target, Trial};
use crate::{
    Artifact, Attributed, Attribution, Evidence, Options, ProofKind, RuntimeLock, Verify, explain,
    last_segment,
};

pub(crate) async fn attribute(
    dist: &InstalledDist,
    channel: &str,
    runtime_lock: Option<&RuntimeLock>,
    runtime_dir: Option<&std::path::Path>,
    indexes: &Indexes,
    options: &Options,
) -> Attributed {
    let packages = match runtime_lock {
        None => {
            return Attributed::unproven(vec![format!(
                "loaded by pyodide.loadPackage from {channel:?}, but this environment has no Pyodide runtime to look it up in"
            )]);
        }
        Some(Err(err)) => return Attributed::unproven(vec![err.to_string()]),
        Some(Ok(packages)) => packages,
    };
    let Some(entry) = packages.get(dist.name.as_ref()) else {
        return Attributed::unproven(vec![format!(
            "loaded by pyodide.loadPackage, but the runtime's pyodide-lock.json has no package {}",
            dist.name
        )]);
    };
    if entry.version != dist.version.to_string() {
        return Attributed::unproven(vec![format!(
            "loaded by pyodide.loadPackage at {}, but the runtime's pyodide-lock.json has {} {}",
            dist.version, dist.name, entry.version
        )]);
    }
    let sha256 = entry.sha256.to_ascii_lowercase();
    let attributed = |proof, size, notes| {
        Attributed::proven(
            Attribution::Pyodide {
                artifact: Artifact {
                    filename: last_segment(&entry.file_name),
                    url: entry.file_name.clone(),
                    sha256: sha256.clone(),
                    size,
                    upload_time: None,
                    index: None,
                },
                proof,
                evidence: Evidence::PyodideLock,
            },
            notes,
        )
    };
    if options.verify == Verify::Metadata {
        return attributed(ProofKind::MetadataOnly, None, Vec::new());
    }
    // An absolute URL, or a file beside the runtime's lock.
    let url = url::Url::parse(&entry.file_name).ok().or_else(|| {
        let path = runtime_dir?.join(&entry.file_name);
        path.is_file()
            .then(|| url::Url::from_file_path(path).ok())
            .flatten()
    });
    let Some(url) = url else {
        return Attributed::unproven(vec![format!(
            "loaded by pyodide.loadPackage: the runtime's lock names {}, which is not beside the lock on this machine, so the installed files cannot be proven to be its own; install the full Pyodide distribution (it ships the wheels), lock a wheel rebuilt from the installed files with --wheelhouse DIR, or accept the runtime's lock entry alone with --verify metadata",
            entry.file_name
        )]);
    };
    let target = Target {
        url: &url,
        sha256: Some(&sha256),
        size: None,
    };
    match proof::bind(dist, &target, indexes, options.verify).await {
        Trial::Proven {
            proof, size, notes, ..
        } => attributed(proof, size, notes),
        Trial::Differs(diff) => Attributed::unproven(vec![format!(
            "loaded by pyodide.loadPackage from the runtime's {}, which does not hold the installed files: {}; to lock what is installed, rebuild it with --wheelhouse DIR",
            entry.file_name,
            explain::files(&diff)
        )]),
        Trial::Failed(message) => Attributed::unproven(vec![format!(
            "loaded by pyodide.loadPackage from the runtime's {}, which cannot be read now: {message}; lock a wheel rebuilt from the installed files with --wheelhouse DIR, or accept the runtime's lock entry alone with --verify metadata",
            entry.file_name
        )]),
    }
}
