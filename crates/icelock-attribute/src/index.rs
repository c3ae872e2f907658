//! The index route: a distribution that no installer record names is looked for on the
//! configured indexes and find-links locations, as the wheel of the installed name, version,
//! build tag and *set* of tags; each such wheel is a candidate, and one must be proven.

use futures_util::future::join_all;
use icelock_dist::InstalledDist;
use icelock_index::lookup::{project_of, version_of};
use icelock_index::wheel_name::tag_set;
use icelock_index::{Indexes, ListedFile, ProjectFiles, WheelName};

use crate::proof::{self, Target, Trial};
use crate::record_compare::FileDiff;
use crate::{Artifact, Attributed, Attribution, Evidence, Options, Verify, explain, metadata_only};

pub(crate) async fn attribute(
    dist: &InstalledDist,
    files: &ProjectFiles,
    indexes: &Indexes,
    options: &Options,
) -> Attributed {
    let wheel = dist.wheel.as_ref().expect("checked by needs_index");
    let installed_tags = tag_set(&wheel.tags);
    let installed_metadata = hex::encode(dist.metadata_sha256.expect("checked by needs_index"));

    let same_version = |f: &&ListedFile| {
        WheelName::parse(&f.file.filename)
            .is_some_and(|w| w.name == dist.name && w.version == dist.version)
    };
    let mut candidates: Vec<&ListedFile> = files
        .files
        .iter()
        .filter(same_version)
        .filter(|f| {
            let w = WheelName::parse(&f.file.filename).expect("parsed above");
            w.build.as_deref() == wheel.build.as_deref() && w.tags == installed_tags
        })
        .collect();
    // A PEP 710 record names the file the installer took: try it first, still proving it.
    if let Some(provenance) = &dist.provenance {
        candidates.sort_by_key(|c| {
            let same_file = provenance
                .sha256
                .as_deref()
                .is_some_and(|s| Some(s) == c.file.sha256())
                || icelock_index::config::redact(&c.file.url) == provenance.url;
            !same_file
        });
    }
    let sdist = files.files.iter().find(|f| {
        !f.file.filename.ends_with(".whl")
            && project_of(&f.file.filename).is_some_and(|p| p == dist.name)
            && version_of(&f.file.filename).as_ref() == Some(&dist.version)
    });

    if candidates.is_empty() {
        return no_candidate(dist, files, indexes, sdist);
    }

    let trials = join_all(candidates.iter().map(|c| async {
        if options.verify == Verify::Metadata {
            // An index whose page declares PEP 658 metadata for some file is trusted to
            // declare it for all: a `.metadata` it does not declare is not asked for. One
            // that declares none may still serve them (some mirrors drop the key).
            let declares = files
                .files
                .iter()
                .any(|f| f.index == c.index && f.file.core_metadata.is_available());
            return metadata_only::prove(dist, c, &installed_metadata, !declares, indexes).await;
        }
        // The page's METADATA hash turns away another build without touching its wheel.
        if let Some(theirs) = c.file.core_metadata.sha256()
            && !theirs.eq_ignore_ascii_case(&installed_metadata)
        {
            return (
                Trial::Differs(FileDiff {
                    changed: vec![format!("{}/METADATA", proof::dist_info_name(dist))],
                    metadata: Some((theirs.to_ascii_lowercase(), installed_metadata.clone())),
                    ..FileDiff::default()
                }),
                Evidence::IndexListing,
            );
        }
        let target = Target {
            url: &c.file.url,
            sha256: c.file.sha256(),
            size: c.file.size,
        };
        (
            proof::bind(dist, &target, indexes, options.verify).await,
            Evidence::IndexListing,
        )
    }))
    .await;

    let mut proven = Vec::new();
    let mut differs = Vec::new();
    let mut failed = Vec::new();
    for (candidate, (trial, evidence)) in candidates.iter().zip(trials) {
        match trial {
            Trial::Proven {
                proof,
                sha256,
                size,
                notes,
            } => proven.push((candidate, proof, evidence, sha256, size, notes)),
            Trial::Differs(diff) => differs.push((candidate, diff)),
            Trial::Failed(message) => failed.push(format!(
                "{} on {}: {message}",
                candidate.file.filename, candidate.index
            )),
        }
    }
    if let Some((chosen, proof, evidence, sha256, size, notes)) = proven.first() {
        let mut problems = notes.clone();
        for (other, _, _, other_sha, _, _) in proven.iter().skip(1) {
            if other_sha != sha256 {
                problems.push(format!(
                    "{} is on {} and on {} with different file hashes ({} and {}), though both prove to be what is installed: the lock uses the first",
                    chosen.file.filename, chosen.index, other.index, sha256, other_sha
                ));
            }
        }
        return Attributed::proven(
            Attribution::Index {
                artifact: Artifact {
                    filename: chosen.file.filename.clone(),
                    url: icelock_index::config::redact(&chosen.file.url),
                    sha256: sha256.clone(),
                    size: *size,
                    upload_time: chosen.file.upload_time.clone(),
                    index: Some(chosen.index.clone()),
                },
                proof: *proof,
                evidence: *evidence,
            },
            problems,
        );
    }
    let dist_info = proof::dist_info_name(dist);
    let mut reasons: Vec<String> = differs
        .iter()
        .map(|(candidate, diff)| explain::not_this_wheel(candidate, &dist_info, diff))
        .collect();
    if !differs.is_empty() {
        reasons.extend(explain::built_locally(dist, sdist, true));
    }
    reasons.extend(failed);
    let sdist = if differs.is_empty() { None } else { sdist };
    Attributed::unproven_with(reasons, sdist.and_then(sdist_artifact))
}

/// No wheel of the installed name, version, build and tags is listed anywhere searched.
fn no_candidate(
    dist: &InstalledDist,
    files: &ProjectFiles,
    indexes: &Indexes,
    sdist: Option<&ListedFile>,
) -> Attributed {
    let wheel = dist.wheel.as_ref().expect("checked by needs_index");
    let installed_tags = tag_set(&wheel.tags);
    let mut reasons = Vec::new();
    let other_wheels: Vec<&str> = files
        .files
        .iter()
        .filter(|f| {
            WheelName::parse(&f.file.filename)
                .is_some_and(|w| w.name == dist.name && w.version == dist.version)
        })
        .map(|f| f.file.filename.as_str())
        .collect();
    let searched = indexes.searched().join(", ");
    if !other_wheels.is_empty() {
        reasons.push(format!(
            "no wheel of {} {} on {searched} has the installed tags {{{}}}{}; it has {}",
            dist.name,
            dist.version,
            installed_tags
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            wheel
                .build
                .as_deref()
                .map(|b| format!(" and build tag {b}"))
                .unwrap_or_default(),
            other_wheels.join(", ")
        ));
    } else if indexes.searched().is_empty() {
        reasons.push(format!(
            "no index or find-links location is configured (--no-index without --find-links), so no wheel of {} {} can be looked up; name one with --find-links DIR or --index-url URL",
            dist.name, dist.version
        ));
    } else if files.errors.is_empty() {
        reasons.push(format!(
            "no wheel of {} {} is on {searched}",
            dist.name, dist.version
        ));
    } else {
        reasons.push(format!(
            "no wheel of {} {} is listed by any location that answered (searched: {searched}); those that did not are named below",
            dist.name, dist.version
        ));
    }
    reasons.extend(explain::built_locally(
        dist,
        sdist,
        !other_wheels.is_empty(),
    ));
    reasons.extend(
        files
            .errors
            .iter()
            .map(|e| format!("an index could not be read: {e}")),
    );
    Attributed::unproven_with(reasons, sdist.and_then(sdist_artifact))
}

fn sdist_artifact(s: &ListedFile) -> Option<Artifact> {
    Some(Artifact {
        filename: s.file.filename.clone(),
        url: icelock_index::config::redact(&s.file.url),
        sha256: s.file.sha256()?.to_string(),
        size: s.file.size,
        upload_time: s.file.upload_time.clone(),
        index: Some(s.index.clone()),
    })
}
