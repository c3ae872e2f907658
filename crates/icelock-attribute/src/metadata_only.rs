//! `--verify metadata`, the weak mode: a candidate wheel is accepted when its METADATA is the
//! installed METADATA, by the cheapest route the index offers (the page's PEP 658/714 hash, the
//! `.metadata` file, or METADATA read out of the wheel through ranges). This proves the label
//! and not the files, since a wheel rebuilt from a changed checkout keeps its METADATA; every
//! result of it is named `metadata-only`.

use icelock_dist::InstalledDist;
use icelock_index::{FetchError, IndexFile, Indexes, ListedFile, LookupError, WheelMembers};

use crate::proof::{Trial, dist_info_name};
use crate::record_compare::FileDiff;
use crate::{Evidence, ProofKind, sha256_hex};

/// How a METADATA hash was reached when a `.metadata` file was worth asking for.
enum Route {
    MetadataFile(Vec<u8>),
    /// The hedge won, or the `.metadata` was missing and the hedge had already started.
    Tail(Result<WheelMembers, LookupError>),
    /// No `.metadata`, and no hedge started: the caller reads the wheel.
    Neither,
}

/// A speculative `.metadata` waits this many of the size probe's round trips (and at least
/// `HEDGE_FLOOR`) before the wheel's tail is asked for beside it. Some indexes take far longer
/// to say 404 for a `.metadata` they do not have (an upstream lookup, 150 ms on the mirror
/// measured in BENCHMARKS.md) than to serve one they have (a round trip).
const HEDGE_ROUND_TRIPS: u32 = 2;
const HEDGE_FLOOR: std::time::Duration = std::time::Duration::from_millis(25);
/// The wait when no probe timed a round trip (no size was listed to confirm).
const HEDGE_BLIND: std::time::Duration = std::time::Duration::from_millis(50);

fn differs(dist: &InstalledDist, theirs: String, ours: &str) -> Trial {
    Trial::Differs(FileDiff {
        changed: vec![format!("{}/METADATA", dist_info_name(dist))],
        metadata: Some((theirs, ours.to_string())),
        ..FileDiff::default()
    })
}

/// Matches the candidate's METADATA with the installed one's (hex sha256 `installed`).
/// `speculate`: ask for a `.metadata` file the page does not declare.
pub(crate) async fn prove(
    dist: &InstalledDist,
    candidate: &ListedFile,
    installed: &str,
    speculate: bool,
    indexes: &Indexes,
) -> (Trial, Evidence) {
    let file = &candidate.file;
    let metadata_member = format!("{}/METADATA", dist_info_name(dist));
    let mut verified_size: Option<u64> = None;
    // A find-links folder lists no hashes: the file is hashed, since the lock records one.
    let sha256 = match file.sha256() {
        Some(listed) => listed.to_ascii_lowercase(),
        None => match indexes.client().hash(&file.url).await {
            Ok((sha, size)) => {
                verified_size = Some(size);
                sha
            }
            Err(err) => {
                return (
                    Trial::Failed(format!("cannot hash the file: {err}")),
                    Evidence::IndexListing,
                );
            }
        },
    };

    // A wheel with this sha256 was matched before; its METADATA cannot have changed.
    let cache = indexes.client().cache();
    if let Some(cache) = cache
        && let Some(facts) = cache.wheel_facts(&sha256)
    {
        if facts.metadata_sha256 != installed {
            return (
                differs(dist, facts.metadata_sha256, installed),
                Evidence::IndexListing,
            );
        }
        if let Some(evidence) = evidence_named(&facts.proof) {
            return (
                Trial::Proven {
                    proof: ProofKind::MetadataOnly,
                    sha256,
                    size: facts.size,
                    notes: Vec::new(),
                },
                evidence,
            );
        }
    }

    let mut evidence = None;
    let mut size_answer = None;
    if let Some(index_hash) = file.core_metadata.sha256() {
        if index_hash != installed {
            return (
                differs(dist, index_hash.to_string(), installed),
                Evidence::CoreMetadataHash,
            );
        }
        evidence = Some(Evidence::CoreMetadataHash);
    }
    let wanted = vec![metadata_member.clone()];
    let mut members = None;
    if evidence.is_none() && (speculate || file.core_metadata.is_available()) {
        // The size probe (one byte of the wheel, whose answer carries its total size) is
        // only asked when a size is listed to confirm; it also times the round trip.
        let probe = file.size.is_some();
        let (route, size) = metadata_or_tail(indexes, file, &wanted, speculate, probe).await;
        match route {
            Route::MetadataFile(bytes) => {
                let sha = sha256_hex(&bytes);
                if sha != installed {
                    return (differs(dist, sha, installed), Evidence::MetadataFile);
                }
                evidence = Some(Evidence::MetadataFile);
                size_answer = size;
            }
            Route::Tail(read) => members = Some(read),
            Route::Neither => {}
        }
    }
    if evidence.is_none() && members.is_none() {
        members = Some(indexes.wheel_members(file, &wanted).await);
    }
    if let Some(read) = members {
        match read {
            Ok(read) => {
                let Some(metadata) = read.members.get(&metadata_member) else {
                    return (
                        Trial::Failed(format!("the wheel has no {metadata_member}")),
                        Evidence::WheelMetadata,
                    );
                };
                let sha = sha256_hex(metadata);
                if sha != installed {
                    return (differs(dist, sha, installed), Evidence::WheelMetadata);
                }
                evidence.get_or_insert(Evidence::WheelMetadata);
                verified_size.get_or_insert(read.size);
            }
            Err(err) => return (Trial::Failed(err.to_string()), Evidence::WheelMetadata),
        }
    }
    let evidence = evidence.expect("set by every path above");
    // A size is locked only once the server confirmed it: when the match never touched the
    // wheel, one byte of it is asked for, whose answer carries the file's total size.
    if verified_size.is_none()
        && let Some(listed_size) = file.size
    {
        let answer = match size_answer {
            Some(answer) => answer,
            None => indexes.client().total_size(&file.url).await,
        };
        match answer {
            Ok(total) if total == listed_size => verified_size = Some(total),
            Ok(total) => {
                return (
                    Trial::Failed(format!(
                        "the index lists the file's size as {listed_size} bytes, but the server says it has {total}"
                    )),
                    evidence,
                );
            }
            // Unconfirmed (offline, or a server without ranges): the size is left out.
            Err(_) => {}
        }
    }
    if let Some(cache) = cache {
        cache.store_wheel_facts(
            &sha256,
            &icelock_index::cache::WheelFacts {
                metadata_sha256: installed.to_string(),
                proof: evidence_name(evidence).to_string(),
                size: verified_size,
            },
        );
    }
    (
        Trial::Proven {
            proof: ProofKind::MetadataOnly,
            sha256,
            size: verified_size,
            notes: Vec::new(),
        },
        evidence,
    )
}

/// The evidence's name as the cache keeps it (the names these entries always had).
fn evidence_name(evidence: Evidence) -> &'static str {
    match evidence {
        Evidence::CoreMetadataHash => "core-metadata-hash",
        Evidence::MetadataFile => "metadata-file",
        _ => "wheel-metadata",
    }
}

fn evidence_named(name: &str) -> Option<Evidence> {
    [
        Evidence::CoreMetadataHash,
        Evidence::MetadataFile,
        Evidence::WheelMetadata,
    ]
    .into_iter()
    .find(|e| evidence_name(*e) == name)
}

/// Asks for the `.metadata` file and, with `probe`, the wheel's size beside it. A declared
/// `.metadata` is waited for. A speculative one that is slow to answer is hedged: the `wanted`
/// members of the wheel are read through ranges at the same time, and whichever proves first
/// is kept (the other request is dropped). Returns the route and the size probe's answer.
async fn metadata_or_tail(
    indexes: &Indexes,
    file: &IndexFile,
    wanted: &[String],
    speculative: bool,
    probe: bool,
) -> (Route, Option<Result<u64, FetchError>>) {
    let started = std::time::Instant::now();
    let metadata = indexes.metadata_file(file);
    let size = async {
        if probe {
            Some(indexes.client().total_size(&file.url).await)
        } else {
            None
        }
    };
    tokio::pin!(metadata, size);
    let mut metadata_answer = None;
    let mut size_answer = None;
    tokio::select! {
        m = &mut metadata => metadata_answer = Some(m),
        s = &mut size => size_answer = Some(s),
    }
    if metadata_answer.is_none() {
        if speculative {
            let wait = match &size_answer {
                Some(Some(_)) => (started.elapsed() * HEDGE_ROUND_TRIPS).max(HEDGE_FLOOR),
                _ => HEDGE_BLIND,
            };
            if let Ok(m) = tokio::time::timeout(wait, &mut metadata).await {
                metadata_answer = Some(m);
            }
        } else {
            metadata_answer = Some(metadata.as_mut().await);
        }
    }
    let route = match metadata_answer {
        Some(Ok(Some(bytes))) => Route::MetadataFile(bytes),
        Some(_) => Route::Neither,
        None => {
            let tail = indexes.wheel_members(file, wanted);
            tokio::pin!(tail);
            tokio::select! {
                m = &mut metadata => match m {
                    Ok(Some(bytes)) => Route::MetadataFile(bytes),
                    _ => Route::Tail(tail.await),
                },
                t = &mut tail => match t {
                    Ok(read) => Route::Tail(Ok(read)),
                    // A server without ranges may still serve the `.metadata`.
                    Err(err) => match metadata.await {
                        Ok(Some(bytes)) => Route::MetadataFile(bytes),
                        _ => Route::Tail(Err(err)),
                    },
                },
            }
        }
    };
    let size = match (size_answer, &route) {
        (Some(answer), _) => answer,
        (None, Route::MetadataFile(_)) => size.await,
        (None, _) => None,
    };
    (route, size)
}
