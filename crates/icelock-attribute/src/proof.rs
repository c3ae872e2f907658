//! Proving that a candidate artifact is what is installed: its own RECORD, read out of it,
//! against the installed RECORD (see [`crate::record_compare`] for the rules), and the artifact
//! against the sha256 the index lists or the installer recorded.
//!
//! The artifact is read through a range request for its tail, which as wheels are built holds
//! RECORD; where the server ignores ranges, where no sha256 is known, or under `--verify hash`,
//! it is read whole and hashed (from pip's HTTP cache when that holds it). What the proof
//! trusts: for bytes read through ranges, that the server is the one the index names (its TLS);
//! a whole read checks the bytes themselves.
//!
//! A proof is kept in the cache under the artifact's sha256 and the installed RECORD's, unless
//! it rested on installed files no RECORD row hashes: the next run with the same RECORD reuses
//! it without a request.

use std::collections::{BTreeMap, BTreeSet};

use icelock_dist::InstalledDist;
use icelock_dist::integrity::{FileProblem, Integrity};
use icelock_index::cache::BoundFacts;
use icelock_index::sparse_zip::MemberInfo;
use icelock_index::{ExpectedTail, Indexes, Reading, WheelFile};
use url::Url;

use crate::record_compare::{Bytes, FileDiff, Installed, Interpreter, Plan, Settled};
use crate::{Attributed, ProofKind, Verify, is_content_problem, sha256_hex};

/// A member read to settle a row by its bytes is at most this large.
const CONTENT_MEMBER_MAX: u64 = 64 * 1024 * 1024;
/// All members read to settle rows, together.
const CONTENT_TOTAL_MAX: u64 = 128 * 1024 * 1024;

/// A candidate artifact.
pub(crate) struct Target<'a> {
    pub url: &'a Url,
    /// What the index lists or the installer recorded (hex).
    pub sha256: Option<&'a str>,
    /// What the index lists.
    pub size: Option<u64>,
}

/// What trying to prove one candidate came to.
#[derive(Debug)]
pub(crate) enum Trial {
    /// `size` as the server confirmed it.
    Proven {
        proof: ProofKind,
        sha256: String,
        size: Option<u64>,
        notes: Vec<String>,
    },
    /// The artifact's files are not the installed ones.
    Differs(FileDiff),
    /// The check could not be made (network, a broken file).
    Failed(String),
}

/// The `.dist-info` folder's name, which the wheel's own is.
pub(crate) fn dist_info_name(dist: &InstalledDist) -> String {
    dist.location
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// How many bytes at the end of `dist`'s wheel should hold the end-of-central-directory record,
/// the central directory and RECORD, from the installed RECORD: a directory entry is 46 bytes
/// and the name, RECORD deflates to under 0.7 of its text (0.35–0.66 over the 54 wheels of a
/// web stack, the hashes being incompressible), and repaired binary wheels (auditwheel,
/// delocate) sort `licenses/` and `sboms/` after RECORD. Measured on those wheels this asks
/// for 2.4% of their bytes where a share of each file asked for 6.6%, with no wheel needing a
/// second request. `None` without a RECORD.
fn expected_tail(dist: &InstalledDist) -> Option<ExpectedTail> {
    let rows = dist.record.as_deref()?;
    let dist_info = dist_info_name(dist);
    let binary = dist.wheel.as_ref().is_some_and(|w| {
        w.root_is_purelib == Some(false) || w.tags.iter().any(|t| !t.ends_with("-any"))
    });
    let mut directory = 0u64;
    let mut record = 0u64;
    let mut after_record = 0u64;
    for row in rows {
        let path = row.path.as_str();
        // What the installer wrote, not the wheel: byte code and its own records.
        if path.ends_with(".pyc")
            || path.strip_prefix(dist_info.as_str()).is_some_and(|rest| {
                matches!(rest, "/INSTALLER" | "/REQUESTED" | "/direct_url.json")
            })
        {
            continue;
        }
        let name = path.len() as u64;
        directory += 46 + name;
        // `path,sha256=<43>,size` and the line's end.
        let digits = row
            .size
            .map_or(0, |n| u64::from(n.checked_ilog10().unwrap_or(0) + 1));
        record += name + 1 + row.hash.as_ref().map_or(0, |_| 50) + 1 + digits + 1;
        if binary
            && path
                .strip_prefix(dist_info.as_str())
                .is_some_and(|rest| rest.starts_with("/licenses/") || rest.starts_with("/sboms/"))
        {
            after_record += 30 + name + row.size.unwrap_or(0) / 2;
        }
    }
    let record_header = 30 + dist_info.len() as u64 + "/RECORD".len() as u64;
    Some(ExpectedTail(
        END_RECORD + directory + record_header + record * 7 / 10 + after_record + TAIL_SLACK,
    ))
}

/// The end-of-central-directory record without a comment.
const END_RECORD: u64 = 22;
/// Room for what the estimate does not count: extra fields, folders' own entries, a comment.
const TAIL_SLACK: u64 = 1024;

/// Proves `target` to be what `dist` was installed from, or says why not.
pub(crate) async fn bind(
    dist: &InstalledDist,
    target: &Target<'_>,
    indexes: &Indexes,
    verify: Verify,
) -> Trial {
    let record_sha256 = dist.record_sha256.map(hex::encode);
    let cache = indexes.client().cache();
    // Without a known sha256 there is nothing to check range-read bytes against: the file is
    // read whole, and its hash is what is locked.
    // A local file is read whole: it may have changed since the hash was recorded, and no
    // server stands for its bytes.
    let whole = verify == Verify::Hash || target.sha256.is_none() || target.url.scheme() == "file";
    if let (Some(cache), Some(sha256), Some(record)) = (cache, target.sha256, &record_sha256)
        && let Some(facts) = cache.bound(sha256, record)
        && let Some(proof) = ProofKind::from_name(&facts.proof)
        && (!whole || proof == ProofKind::WheelHash)
    {
        return Trial::Proven {
            proof,
            sha256: sha256.to_string(),
            size: facts.size,
            notes: facts.notes,
        };
    }
    let mut wheel = match open(indexes, target, whole, expected_tail(dist)).await {
        Ok(wheel) => wheel,
        Err(message) => return Trial::Failed(message),
    };
    let bound = match compare(dist, &mut wheel, indexes).await {
        Ok(Settled::Bound(bound)) => bound,
        Ok(Settled::Differs(diff)) => return Trial::Differs(diff),
        Err(message) => return Trial::Failed(message),
    };
    let sha256 = match (wheel.sha256(), target.sha256) {
        (Some(actual), Some(listed)) if !actual.eq_ignore_ascii_case(listed) => {
            return Trial::Failed(format!(
                "the file hashes to {actual}, but {listed} is listed for it: the index or the file is corrupt"
            ));
        }
        (Some(actual), _) => actual.to_string(),
        (None, Some(listed)) => listed.to_ascii_lowercase(),
        (None, None) => unreachable!("a file with no known sha256 is read whole"),
    };
    let proof = if wheel.sha256().is_some() {
        ProofKind::WheelHash
    } else {
        ProofKind::WheelRecord
    };
    let size = Some(wheel.size());
    if let (Some(cache), Some(record), true) = (cache, &record_sha256, bound.rests_on_hashed_rows) {
        cache.store_bound(
            &sha256,
            record,
            &BoundFacts {
                proof: proof.name().to_string(),
                size,
                notes: bound.notes.clone(),
            },
        );
    }
    Trial::Proven {
        proof,
        sha256,
        size,
        notes: bound.notes,
    }
}

/// Opens the artifact: from pip's HTTP cache when it holds the file of the known sha256 (no
/// request at all), else from its URL.
async fn open(
    indexes: &Indexes,
    target: &Target<'_>,
    whole: bool,
    expected: Option<ExpectedTail>,
) -> Result<WheelFile, String> {
    if let Some(listed) = target.sha256
        && let Some(local) = indexes.client().pip_cached(target.url)
        && let Ok(wheel) = indexes.open_wheel(&local, None, Reading::Whole).await
        && wheel
            .sha256()
            .is_some_and(|s| s.eq_ignore_ascii_case(listed))
    {
        return Ok(wheel);
    }
    let reading = if whole {
        Reading::Whole
    } else {
        Reading::Ranges(expected)
    };
    indexes
        .open_wheel(target.url, target.size, reading)
        .await
        .map_err(|e| e.to_string())
}

/// The comparison itself: RECORD, then whatever bytes its rows leave to settle.
async fn compare(
    dist: &InstalledDist,
    wheel: &mut WheelFile,
    indexes: &Indexes,
) -> Result<Settled, String> {
    let dist_info = dist_info_name(dist);
    let record_name = format!("{dist_info}/RECORD");
    let cap = indexes.client().options().max_metadata_bytes;
    let first = wheel
        .members(indexes, std::slice::from_ref(&record_name), cap)
        .await
        .map_err(|e| e.to_string())?;
    let Some(record) = first.found.get(&record_name) else {
        return Err(format!(
            "the wheel has no {record_name}, so nothing in it says which files it holds"
        ));
    };
    let interpreter = Interpreter::for_dist(dist);
    let installed = Installed {
        rows: dist.record.as_deref().unwrap_or_default(),
        dist_info: &dist_info,
        installer: dist.installer.as_deref(),
        entry_points: dist.entry_points.as_ref(),
        interpreter: &interpreter,
    };
    let names: BTreeSet<String> = first.listing.keys().cloned().collect();
    let plan = Plan::new(&installed, record, &names);
    let (members, files) = plan.needs();
    let mut bytes = Bytes::default();
    let readable = within_limits(&members, &first.listing);
    if !readable.is_empty() {
        bytes.members = wheel
            .members(indexes, &readable, CONTENT_MEMBER_MAX)
            .await
            .map_err(|e| e.to_string())?
            .found;
    }
    for path in files {
        let read = read_installed(dist, &path);
        bytes.installed.insert(path, read);
    }
    let scripts = dist
        .entry_points
        .as_ref()
        .map(|e| e.scripts.as_slice())
        .unwrap_or_default();
    let settled = plan.settle(&bytes, scripts);
    if let Settled::Bound(bound) = &settled {
        zip_agrees(dist, &bound.verbatim, &first.listing).await?;
        members_match_record(dist, wheel, &bound.verbatim)?;
    }
    Ok(settled)
}

/// A wheel read whole is in hand, so its members are hashed, not only sized and CRC'd: each
/// member taken as the installed file must hash to its RECORD row (the installed row, which
/// equals the wheel's). A member with the size and CRC-32 of the installed file but other
/// bytes (a CRC-32 is easy to forge) would otherwise be proven as `wheel-hash` and deployed.
fn members_match_record(
    dist: &InstalledDist,
    wheel: &mut WheelFile,
    verbatim: &[(String, String)],
) -> Result<(), String> {
    let rows: BTreeMap<&str, &icelock_dist::RecordEntry> = dist
        .record
        .iter()
        .flatten()
        .map(|row| (row.path.as_str(), row))
        .collect();
    let expected: BTreeMap<&str, &icelock_dist::record::RecordHash> = verbatim
        .iter()
        .filter_map(|(member, installed)| {
            let hash = rows.get(installed.as_str())?.hash.as_ref()?;
            Some((member.as_str(), hash))
        })
        .collect();
    let names: Vec<(String, String)> = expected
        .iter()
        .map(|(member, hash)| (member.to_string(), hash.algorithm.to_string()))
        .collect();
    let Some(digests) = wheel.whole_member_digests(&names) else {
        return Ok(());
    };
    let digests = digests.map_err(|e| e.to_string())?;
    for (member, hash) in expected {
        match digests.get(member) {
            Some(digest) if digest.as_slice() == hash.digest.as_slice() => {}
            Some(digest) => {
                return Err(format!(
                    "the wheel's member {member} does not hash to its RECORD row ({} {}, the member hashes to {}): installing the wheel would not give the installed file",
                    hash.algorithm,
                    hash.hex(),
                    hex::encode(digest)
                ));
            }
            None => {
                return Err(format!(
                    "the wheel's RECORD lists {member}, which its zip does not hold: installing it would not give the installed file"
                ));
            }
        }
    }
    Ok(())
}

/// Installers extract members without checking them against RECORD (pip and uv copy its rows
/// as they are), so a wheel whose RECORD matches is only what is installed if its members are
/// too. Their bytes are not fetched; the zip's directory is, and it gives each member's size
/// and CRC-32, which every extractor checks: each installed file must have both. This catches
/// every inconsistent wheel (a member that inflates to other bytes, a RECORD row for a file
/// the zip lacks). It would not stop a forger who also fixes the CRC-32s: that is what
/// `--verify hash`'s whole read is for.
async fn zip_agrees(
    dist: &InstalledDist,
    verbatim: &[(String, String)],
    listing: &BTreeMap<String, MemberInfo>,
) -> Result<(), String> {
    let mut files = Vec::with_capacity(verbatim.len());
    for (member, installed) in verbatim {
        let Some(info) = listing.get(member) else {
            return Err(format!(
                "the wheel's RECORD lists {member}, which its zip does not hold: installing it would not give the installed file"
            ));
        };
        let path = icelock_dist::integrity::locate(dist, installed).map_err(|p| {
            format!(
                "{installed} resolves outside the environment ({})",
                p.display()
            )
        })?;
        files.push((member.clone(), path, *info));
    }
    let prefix = dist.prefix.clone();
    let check = move || {
        use rayon::prelude::*;
        files.par_iter().try_for_each(|(member, path, info)| {
            let (size, crc32) = size_and_crc32(path, &prefix)
                .map_err(|e| format!("{} could not be read to compare with the wheel's zip: {e}", path.display()))?;
            if size == info.size && crc32 == info.crc32 {
                return Ok(());
            }
            Err(format!(
                "the wheel's zip does not hold what its RECORD says about {member}: its directory gives {} bytes with CRC-32 {:08x}, the installed file (which matches RECORD) has {size} bytes with CRC-32 {crc32:08x}; installing the wheel would not give the installed file",
                info.size, info.crc32
            ))
        })
    };
    tokio::task::spawn_blocking(check)
        .await
        .map_err(|e| format!("the comparison with the wheel's zip stopped: {e}"))?
}

fn size_and_crc32(path: &std::path::Path, prefix: &std::path::Path) -> Result<(u64, u32), String> {
    use std::io::Read;
    let mut file = icelock_env::safe_fs::open_inside(path, prefix).map_err(|e| e.to_string())?;
    let mut hasher = crc32fast::Hasher::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((size, hasher.finalize()))
}

/// The members worth reading: each within its limit, all within theirs (a member left out
/// counts as different).
fn within_limits(members: &[String], listing: &BTreeMap<String, MemberInfo>) -> Vec<String> {
    let mut total = 0u64;
    members
        .iter()
        .filter(|name| match listing.get(*name) {
            Some(&MemberInfo { size, .. })
                if size <= CONTENT_MEMBER_MAX && total + size <= CONTENT_TOTAL_MAX =>
            {
                total += size;
                true
            }
            _ => false,
        })
        .cloned()
        .collect()
}

/// An installed file by its RECORD path, read only inside the environment.
fn read_installed(dist: &InstalledDist, record_path: &str) -> Result<Vec<u8>, String> {
    let path = icelock_dist::integrity::locate(dist, record_path)
        .map_err(|p| format!("resolves outside the environment ({})", p.display()))?;
    icelock_env::safe_fs::read_inside(&path, &dist.prefix, CONTENT_MEMBER_MAX)
        .map_err(|e| e.to_string())
}

/// A proven dist whose installed files differ from its RECORD where the artifact shows why:
/// the wheel's own RECORD is wrong about those files, the installer copied the wrong rows, and
/// the files are the wheel's. Then the proof stands, with that said; otherwise `None`.
pub(crate) async fn wrong_wheel_record(
    dist: &InstalledDist,
    integrity: &Integrity,
    gathered: &Attributed,
    indexes: &Indexes,
) -> Option<Attributed> {
    let (artifact, proof) = gathered.attribution.artifact()?;
    if proof == ProofKind::MetadataOnly
        || !artifact.filename.ends_with(".whl")
        || !integrity.problems.iter().all(is_content_problem)
    {
        return None;
    }
    // Only files inside site-packages are where the wheel has them, under the same path.
    let paths: Vec<String> = integrity
        .problems
        .iter()
        .map(|p| p.path().to_string())
        .collect();
    if paths
        .iter()
        .any(|p| p.starts_with("../") || p.starts_with('/'))
    {
        return None;
    }
    let url = Url::parse(&artifact.url).ok()?;
    let mut wheel = indexes
        .open_wheel(&url, artifact.size, Reading::Ranges(expected_tail(dist)))
        .await
        .ok()?;
    let members = wheel
        .members(indexes, &paths, CONTENT_MEMBER_MAX)
        .await
        .ok()?;
    let mut notes = gathered.problems.clone();
    for problem in &integrity.problems {
        let path = problem.path();
        let member = members.found.get(path)?;
        let installed = read_installed(dist, path).ok()?;
        if sha256_hex(member) != sha256_hex(&installed) {
            return None;
        }
        let says = match problem {
            FileProblem::Modified {
                algorithm,
                expected,
                ..
            } => format!("{algorithm} {expected}"),
            FileProblem::SizeMismatch { expected, .. } => format!("{expected} bytes"),
            _ => unreachable!("only content problems come here"),
        };
        notes.push(format!(
            "the wheel's own RECORD is wrong about {path} (it says {says}, and the installer copied that row): the installed file is the one in the wheel"
        ));
    }
    Some(Attributed {
        attribution: gathered.attribution.clone(),
        problems: notes,
    })
}
