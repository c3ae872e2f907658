//! Attribution: which exact artifact each installed distribution came from, and the proof.
//!
//! The evidence names a candidate artifact, strongest first:
//!
//! 1. what the installer recorded ([`installer`]): `direct_url.json` (pip's carries the
//!    archive's hash; uv's none), micropip's `PYODIDE_URL` + `PYODIDE_SHA256`; for
//!    `pyodide.loadPackage`, the runtime's own `pyodide-lock.json` ([`runtime`]). VCS, directory
//!    and editable installs are source trees, reported as such.
//! 2. otherwise the configured indexes ([`index`]): the wheel whose name, version, build tag and
//!    *set* of tags equal the installed `WHEEL`'s.
//!
//! A candidate is then proven ([`proof`]) by one chain, whatever named it: the installed files
//! equal the installed RECORD (checked file by file, [`settle`]), the installed RECORD equals
//! the artifact's own RECORD, read out of the artifact (a range request for its tail, or the
//! file itself), with every difference an installer makes accounted for by one rule
//! ([`record_compare`]), and the artifact is the file whose sha256 the index lists or the
//! installer recorded. RECORD hashes every file, METADATA included, so this binds the code, not
//! only the label. A PEP 658 METADATA hash on the page is a free first filter: a wheel whose
//! METADATA differs is turned away without touching it. It is never a proof on its own; only
//! `--verify metadata` accepts one, and every result of that mode says `metadata-only`.
//!
//! Every result is data ([`Attributed`]); nothing here formats output.

mod explain;
mod index;
mod installer;
pub mod locked;
mod metadata_only;
mod proof;
mod record_compare;
mod runtime;

use futures_util::future::join_all;
use icelock_dist::integrity::{FileProblem, Integrity};
use icelock_dist::{InstalledDist, Source};
use icelock_env::Environment;
use icelock_index::{Indexes, ProjectFiles};
use serde::Serialize;
use uv_normalize::PackageName;

pub use record_compare::FileDiff;

/// The command that puts back the index's wheel of `dist` with its installer (never building
/// from source): the way out people are told of.
pub fn reinstall_command(dist: &InstalledDist) -> String {
    explain::reinstall_wheel(dist)
}

/// Why `dist`, whose installed files fail `integrity`, cannot be proven, and what puts it
/// right: what `lock` says of it, for every command that finds it so.
pub fn modified_reason(
    dist: &InstalledDist,
    integrity: &icelock_dist::integrity::Integrity,
) -> String {
    explain::modified_reason(dist, integrity)
}

/// How much a proof checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verify {
    /// The weak mode, asked for by name: the installed METADATA's sha256 against the index's
    /// (or the installer's record alone). Proves the label, not the files: `metadata-only`.
    Metadata,
    /// The artifact's RECORD against the installed one (the default).
    #[default]
    Record,
    /// As `Record`, with the whole artifact downloaded and hashed.
    Hash,
}

/// A callback told of each finished distribution.
pub type OnDone = std::sync::Arc<dyn Fn(&PackageName) + Send + Sync>;

#[derive(Clone, Default)]
pub struct Options {
    pub verify: Verify,
    /// Called once per distribution as its attribution completes (for a progress bar).
    pub on_done: Option<OnDone>,
}

/// What a proof binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProofKind {
    /// The installed files equal the installed RECORD, which equals the artifact's own RECORD
    /// (read out of it through ranges, trusting the server's TLS for those bytes), and the
    /// artifact is the file of the listed or recorded sha256.
    WheelRecord,
    /// As `wheel-record`, with the whole artifact read and hashed.
    WheelHash,
    /// `--verify metadata`: only METADATA (or the installer's record) was matched. The files
    /// are not bound: a rebuild from a changed checkout keeps its METADATA.
    MetadataOnly,
}

impl ProofKind {
    const ALL: [ProofKind; 3] = [Self::WheelRecord, Self::WheelHash, Self::MetadataOnly];

    /// The name used in reports, locks and the cache.
    pub fn name(self) -> &'static str {
        match self {
            Self::WheelRecord => "wheel-record",
            Self::WheelHash => "wheel-hash",
            Self::MetadataOnly => "metadata-only",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What named the artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// An index (or find-links location) lists the wheel with the installed tags.
    IndexListing,
    /// `--verify metadata`: the index's PEP 658/714 METADATA hash equals the installed one's.
    CoreMetadataHash,
    /// `--verify metadata`: the index's `.metadata` file hashes to the installed METADATA's.
    MetadataFile,
    /// `--verify metadata`: the METADATA read out of the wheel equals the installed one.
    WheelMetadata,
    /// `direct_url.json` with the archive's hash (pip).
    DirectUrlHash,
    /// `direct_url.json` without a hash (uv): the URL's file was hashed here.
    DirectUrl,
    /// micropip's `PYODIDE_URL` and `PYODIDE_SHA256`.
    MicropipRecord,
    /// The Pyodide runtime's own `pyodide-lock.json`, at the installed version.
    PyodideLock,
}

/// The exact file a distribution came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    pub filename: String,
    /// Credentials removed.
    pub url: String,
    pub sha256: String,
    pub size: Option<u64>,
    pub upload_time: Option<String>,
    /// The index or find-links location that lists it (credentials removed).
    pub index: Option<String>,
}

/// The verdict for one distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Attribution {
    /// From an index (or find-links), proven.
    Index {
        #[serde(flatten)]
        artifact: Artifact,
        proof: ProofKind,
        evidence: Evidence,
    },
    /// A URL or local archive, as `direct_url.json` records it.
    Url {
        #[serde(flatten)]
        artifact: Artifact,
        proof: ProofKind,
        evidence: Evidence,
    },
    Micropip {
        #[serde(flatten)]
        artifact: Artifact,
        proof: ProofKind,
        evidence: Evidence,
    },
    /// A package of the Pyodide runtime's own lock.
    Pyodide {
        #[serde(flatten)]
        artifact: Artifact,
        proof: ProofKind,
        evidence: Evidence,
    },
    Vcs {
        url: String,
        vcs: String,
        commit_id: Option<String>,
        requested_revision: Option<String>,
        subdirectory: Option<String>,
    },
    Directory {
        url: String,
        path: Option<std::path::PathBuf>,
        subdirectory: Option<String>,
    },
    Editable {
        url: String,
        path: Option<std::path::PathBuf>,
    },
    /// Not proven; the reasons say why and what to do.
    Unproven {
        reasons: Vec<String>,
        /// The sdist the dist looks built from (the index's, or the archive `direct_url.json`
        /// names): what `--allow-sdist` locks instead.
        #[serde(skip_serializing_if = "Option::is_none")]
        sdist: Option<Artifact>,
    },
}

impl Attribution {
    pub fn is_proven(&self) -> bool {
        !matches!(self, Self::Unproven { .. })
    }

    pub fn artifact(&self) -> Option<(&Artifact, ProofKind)> {
        match self {
            Self::Index {
                artifact, proof, ..
            }
            | Self::Url {
                artifact, proof, ..
            }
            | Self::Micropip {
                artifact, proof, ..
            }
            | Self::Pyodide {
                artifact, proof, ..
            } => Some((artifact, *proof)),
            _ => None,
        }
    }
}

/// One distribution's attribution, with problems worth a person's attention even when proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributed {
    pub attribution: Attribution,
    pub problems: Vec<String>,
}

impl Attributed {
    fn proven(attribution: Attribution, problems: Vec<String>) -> Self {
        Self {
            attribution,
            problems,
        }
    }

    fn unproven(reasons: Vec<String>) -> Self {
        Self::unproven_with(reasons, None)
    }

    fn unproven_with(reasons: Vec<String>, sdist: Option<Artifact>) -> Self {
        Self {
            attribution: Attribution::Unproven { reasons, sdist },
            problems: Vec::new(),
        }
    }
}

/// The runtime's own pyodide-lock.json packages, as read (or why not).
type RuntimeLock =
    Result<std::collections::BTreeMap<String, icelock_env::RuntimePackage>, icelock_env::EnvError>;

/// What an index lookup is needed for.
fn needs_index(dist: &InstalledDist) -> bool {
    matches!(dist.source, Source::Index) && dist.wheel.is_some() && dist.metadata_sha256.is_some()
}

/// Gathers the evidence for every distribution and proves what it can; the result is in the
/// order of `dists`. It does not look at the installed files (that is [`settle`]'s input), so
/// the two can run at the same time: the network work here, the hashing on other cores.
///
/// Each project runs as its own pipeline (page, then proofs), so a project's proof starts as
/// soon as its page is in, never waiting for the slowest page.
pub async fn gather<'a>(
    env: &Environment,
    dists: &'a [InstalledDist],
    indexes: &Indexes,
    options: &Options,
) -> Vec<Attributed> {
    let runtime_lock = env.pyodide.as_ref().map(|runtime| runtime.packages());
    let runtime_lock = runtime_lock.as_ref();
    // A runtime lock's relative `file_name` is relative to the lock's own folder.
    let runtime_dir = env
        .pyodide
        .as_ref()
        .and_then(|runtime| runtime.lock.parent());
    let one = |dist: &'a InstalledDist| async move {
        // Looked up once per project and version, however many dists share them.
        let files = if needs_index(dist) {
            Some(indexes.project_files(&dist.name, Some(&dist.version)).await)
        } else {
            None
        };
        let routes = Routes {
            files: files.as_ref(),
            runtime_lock,
            runtime_dir,
        };
        let attributed = attribute_one(dist, &routes, indexes, options).await;
        if let Some(on_done) = &options.on_done {
            on_done(&dist.name);
        }
        attributed
    };
    join_all(dists.iter().map(one)).await
}

/// The verdicts: a distribution whose installed files no longer match RECORD is unproven,
/// whatever the evidence said, unless the artifact itself shows that its own RECORD is what is
/// wrong (the installer copied a wrong row along with the right file). The others keep what
/// [`gather`] found.
pub async fn settle(
    dists: &[InstalledDist],
    integrity: &[Integrity],
    gathered: Vec<Attributed>,
    indexes: &Indexes,
    options: &Options,
) -> Vec<Attributed> {
    let settled =
        dists
            .iter()
            .zip(integrity)
            .zip(gathered)
            .map(|((dist, integrity), gathered)| async move {
                if integrity.problems.is_empty() {
                    return gathered;
                }
                if options.verify >= Verify::Record
                    && let Some(kept) =
                        proof::wrong_wheel_record(dist, integrity, &gathered, indexes).await
                {
                    return kept;
                }
                explain::modified(dist, integrity)
            });
    join_all(settled).await
}

/// Where the evidence of [`attribute_one`] comes from, beside the dist itself.
struct Routes<'a> {
    files: Option<&'a ProjectFiles>,
    runtime_lock: Option<&'a RuntimeLock>,
    runtime_dir: Option<&'a std::path::Path>,
}

async fn attribute_one(
    dist: &InstalledDist,
    routes: &Routes<'_>,
    indexes: &Indexes,
    options: &Options,
) -> Attributed {
    // A metadata file that could not be read (a pipe, a link out of the environment) may hide
    // evidence, such as a direct URL: nothing is attributed on what remains.
    let unreadable: Vec<String> = dist
        .problems
        .iter()
        .filter(|p| p.message.starts_with("cannot be read"))
        .map(|p| format!("{} {}", dist.location.join(&p.file).display(), p.message))
        .collect();
    if !unreadable.is_empty() {
        let mut reasons = unreadable;
        reasons.push(format!(
            "what it says about its origin cannot be read, so it is not attributed; repair or reinstall it: {}",
            explain::reinstall(dist)
        ));
        return Attributed::unproven(reasons);
    }
    // Without RECORD nothing says the installed files are the artifact's: a match of METADATA
    // alone would prove the label, not the contents.
    if dist.format == icelock_dist::DistFormat::DistInfo && dist.record.is_none() {
        return Attributed::unproven(vec![format!(
            "{} has no RECORD, so its installed files cannot be checked against any artifact; reinstall it: {}",
            dist.location.display(),
            explain::reinstall(dist)
        )]);
    }
    match &dist.source {
        Source::Index if needs_index(dist) => {
            let empty = ProjectFiles::default();
            index::attribute(dist, routes.files.unwrap_or(&empty), indexes, options).await
        }
        Source::Index => Attributed::unproven(vec![format!(
            "{} has no WHEEL or METADATA to match against an index; reinstall it: {}",
            dist.location.display(),
            explain::reinstall(dist)
        )]),
        Source::EggInfo => Attributed::unproven(vec![format!(
            "a legacy .egg-info install ({}): it has no RECORD and no wheel tags, so no file can be proven to be it; reinstall it as a wheel: {}",
            dist.location.display(),
            explain::reinstall(dist)
        )]),
        Source::Url { url, hash, .. } => {
            installer::from_direct_url(dist, url, hash.as_deref(), indexes, options).await
        }
        Source::Micropip { url, sha256, .. } => {
            installer::from_micropip(dist, url, sha256.as_deref(), indexes, options).await
        }
        Source::Pyodide { channel } => {
            runtime::attribute(
                dist,
                channel,
                routes.runtime_lock,
                routes.runtime_dir,
                indexes,
                options,
            )
            .await
        }
        Source::Vcs {
            url,
            vcs,
            commit_id,
            requested_revision,
            subdirectory,
        } => Attributed::proven(
            Attribution::Vcs {
                url: url.clone(),
                vcs: vcs.clone(),
                commit_id: commit_id.clone(),
                requested_revision: requested_revision.clone(),
                subdirectory: subdirectory.clone(),
            },
            Vec::new(),
        ),
        Source::Directory {
            url,
            path,
            subdirectory,
        } => Attributed::proven(
            Attribution::Directory {
                url: url.clone(),
                path: path.clone(),
                subdirectory: subdirectory.clone(),
            },
            Vec::new(),
        ),
        Source::Editable { url, path } => Attributed::proven(
            Attribution::Editable {
                url: url.clone(),
                path: path.clone(),
            },
            Vec::new(),
        ),
    }
}

/// A file problem of the kind a wrong RECORD row explains: the file is there, readable, with
/// other bytes than the row says.
fn is_content_problem(problem: &FileProblem) -> bool {
    matches!(
        problem,
        FileProblem::Modified { .. } | FileProblem::SizeMismatch { .. }
    )
}

fn last_segment(url: &str) -> String {
    url.split(['#', '?'])
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_names_are_the_serialized_names() {
        for proof in ProofKind::ALL {
            assert_eq!(
                serde_json::to_string(&proof).unwrap(),
                format!("\"{}\"", proof.name())
            );
            assert_eq!(ProofKind::from_name(proof.name()), Some(proof));
        }
    }

    #[test]
    fn file_names_from_urls() {
        assert_eq!(
            last_segment("https://h/a/b/x-1.0-py3-none-any.whl#sha256=ab"),
            "x-1.0-py3-none-any.whl"
        );
        assert_eq!(last_segment("file:///w/x.tar.gz?x=1"), "x.tar.gz");
        assert_eq!(
            icelock_index::lookup::version_of("demo_pkg-1.0.post1.tar.gz")
                .map(|v| v.to_string())
                .as_deref(),
            Some("1.0.post1")
        );
    }
}
