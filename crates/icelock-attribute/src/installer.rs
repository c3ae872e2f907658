//! The installer's own records: `direct_url.json` (PEP 610) and micropip's `PYODIDE_URL` /
//! `PYODIDE_SHA256`. Each names the artifact; the artifact is then read and proven like any
//! other, since a record says what was installed then, not what is installed now.

use icelock_dist::InstalledDist;
use icelock_index::Indexes;

use crate::proof::{self, Target, Trial};
use crate::{
    Artifact, Attributed, Attribution, Evidence, Options, ProofKind, Verify, explain, last_segment,
};

fn artifact(url: &str, sha256: String, size: Option<u64>) -> Artifact {
    Artifact {
        filename: last_segment(url),
        url: url.to_string(),
        sha256,
        size,
        upload_time: None,
        index: None,
    }
}

/// The sha256 of an installer's `algorithm=hex` hash, when it is one.
fn sha256_of(hash: Option<&str>) -> Option<String> {
    match hash.and_then(|h| h.split_once('=')) {
        Some(("sha256", hex)) => Some(hex.to_ascii_lowercase()),
        _ => None,
    }
}

pub(crate) async fn from_direct_url(
    dist: &InstalledDist,
    url: &str,
    hash: Option<&str>,
    indexes: &Indexes,
    options: &Options,
) -> Attributed {
    let parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(err) => {
            return Attributed::unproven(vec![format!(
                "direct_url.json holds {url:?}, which is not a URL ({err})"
            )]);
        }
    };
    let recorded = sha256_of(hash);
    let evidence = if recorded.is_some() {
        Evidence::DirectUrlHash
    } else {
        Evidence::DirectUrl
    };
    if !last_segment(url).ends_with(".whl") {
        return built_from_archive(dist, url, &parsed, recorded, indexes).await;
    }
    if options.verify == Verify::Metadata
        && let Some(sha256) = &recorded
    {
        return Attributed::proven(
            Attribution::Url {
                artifact: artifact(url, sha256.clone(), None),
                proof: ProofKind::MetadataOnly,
                evidence,
            },
            Vec::new(),
        );
    }
    let target = Target {
        url: &parsed,
        sha256: recorded.as_deref(),
        size: None,
    };
    let recorded_text = recorded
        .as_ref()
        .map(|sha| format!(" (sha256 {sha}, as the installer recorded it)"))
        .unwrap_or_else(|| " (the installer recorded no hash)".into());
    match proof::bind(dist, &target, indexes, options.verify).await {
        Trial::Proven {
            proof,
            sha256,
            size,
            notes,
        } => Attributed::proven(
            Attribution::Url {
                artifact: artifact(url, sha256, size),
                proof,
                evidence,
            },
            notes,
        ),
        Trial::Differs(diff) => Attributed::unproven(vec![format!(
            "installed from {url}{recorded_text}, but that wheel does not hold the installed files: {}; to lock what is installed, rebuild it with --wheelhouse DIR",
            explain::files(&diff)
        )]),
        Trial::Failed(message) => Attributed::unproven(vec![format!(
            "installed from {url}{recorded_text}, which cannot be read now to prove the installed files are its own: {message}; put the file back, lock a wheel rebuilt from the installed files with --wheelhouse DIR, or reinstall {} from an index: {}",
            dist.name,
            explain::reinstall(dist)
        )]),
    }
}

/// A source archive the installer built here: no file can be proven to be the build, which is
/// not byte-reproducible; `--allow-sdist` may lock the archive itself, hashed now when the
/// installer recorded no hash.
async fn built_from_archive(
    dist: &InstalledDist,
    url: &str,
    parsed: &url::Url,
    recorded: Option<String>,
    indexes: &Indexes,
) -> Attributed {
    let sdist = match recorded {
        Some(sha256) => Some(artifact(url, sha256, None)),
        None => indexes
            .client()
            .hash(parsed)
            .await
            .ok()
            .map(|(sha256, size)| artifact(url, sha256, Some(size))),
    };
    let sdist_way = if sdist.is_some() {
        ", or lock the archive itself with --allow-sdist"
    } else {
        ""
    };
    Attributed::unproven_with(
        vec![format!(
            "{} was built here from the source archive {url}: a build from source is not byte-reproducible, so no file can be proven to be what is installed; lock a wheel rebuilt from the installed files with --wheelhouse DIR{sdist_way}",
            dist.name
        )],
        sdist,
    )
}

pub(crate) async fn from_micropip(
    dist: &InstalledDist,
    url: &str,
    sha256: Option<&str>,
    indexes: &Indexes,
    options: &Options,
) -> Attributed {
    let Some(sha256) = sha256.map(str::to_ascii_lowercase) else {
        return Attributed::unproven(vec![format!(
            "micropip recorded the URL {url} but no PYODIDE_SHA256, so nothing says which file it was; lock a wheel rebuilt from the installed files with --wheelhouse DIR"
        )]);
    };
    let record = |proof, sha256, size, notes| {
        Attributed::proven(
            Attribution::Micropip {
                artifact: artifact(url, sha256, size),
                proof,
                evidence: Evidence::MicropipRecord,
            },
            notes,
        )
    };
    if options.verify == Verify::Metadata {
        return record(ProofKind::MetadataOnly, sha256, None, Vec::new());
    }
    let parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(err) => {
            return Attributed::unproven(vec![format!(
                "micropip recorded {url:?}, which is not a URL ({err}); lock a wheel rebuilt from the installed files with --wheelhouse DIR"
            )]);
        }
    };
    let target = Target {
        url: &parsed,
        sha256: Some(&sha256),
        size: None,
    };
    match proof::bind(dist, &target, indexes, options.verify).await {
        Trial::Proven {
            proof,
            sha256,
            size,
            notes,
        } => record(proof, sha256, size, notes),
        Trial::Differs(diff) => Attributed::unproven(vec![format!(
            "micropip installed it from {url} (sha256 {sha256}), but that wheel does not hold the installed files: {}; to lock what is installed, rebuild it with --wheelhouse DIR",
            explain::files(&diff)
        )]),
        Trial::Failed(message) => Attributed::unproven(vec![format!(
            "micropip installed it from {url} (sha256 {sha256}), which cannot be read now to prove the installed files are its own: {message}; run where that URL is reachable, lock a wheel rebuilt from the installed files with --wheelhouse DIR, or accept micropip's record alone with --verify metadata"
        )]),
    }
}
