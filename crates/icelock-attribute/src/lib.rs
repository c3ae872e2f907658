//! Attribution: which exact artifact each installed distribution came from, and the proof.
//!
//! The evidence ladder, strongest first:
//!
//! 1. what the installer recorded: `direct_url.json` with a hash (pip), or the URL hashed once
//!    (uv records none); micropip's `PYODIDE_URL` + `PYODIDE_SHA256`; for `pyodide.loadPackage`,
//!    the runtime's own `pyodide-lock.json`. VCS, directory and editable installs are source
//!    trees, attributed as such.
//! 2. otherwise the configured indexes: the wheel whose name, version, build tag and *set* of
//!    tags equal the installed `WHEEL`'s, proven by the installed METADATA's sha256 equalling the
//!    index's PEP 658/714 hash, or the `.metadata` file's, or that of the METADATA read out of
//!    the wheel through range requests. A wheel with the right tags but other METADATA was built
//!    elsewhere (locally, from the sdist): that is never attributed to the index.
//!
//! And before any of it, the installed files must still match RECORD.
//!
//! Every result is data ([`Attributed`]); nothing here formats output.

mod record_compare;

use std::collections::BTreeMap;

use futures_util::future::join_all;
use icelock_dist::verify::Integrity;
use icelock_dist::{InstalledDist, Source};
use icelock_env::Environment;
use icelock_index::lookup::{project_of, version_of};
use icelock_index::wheel_name::tag_set;
use icelock_index::{
    FetchError, IndexFile, Indexes, ListedFile, LookupError, ProjectFiles, WheelMembers, WheelName,
};
use serde::Serialize;
use uv_normalize::PackageName;

/// How much to check beyond the METADATA hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verify {
    /// The installed METADATA's sha256 against the index (the default).
    #[default]
    Metadata,
    /// Also the wheel's RECORD against the installed one.
    Record,
    /// Also download the whole wheel and hash it against the index's hash.
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

/// What established an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProofKind {
    /// `direct_url.json`'s archive hash, or the direct URL's bytes hashed.
    DirectUrlHash,
    /// micropip's `PYODIDE_URL` and `PYODIDE_SHA256`.
    MicropipRecord,
    /// The runtime's own `pyodide-lock.json` entry, at the installed version.
    PyodideLock,
    /// The index's PEP 658/714 METADATA hash equals the installed METADATA's sha256.
    CoreMetadataHash,
    /// The index's `.metadata` file hashes to the installed METADATA's sha256.
    MetadataFile,
    /// The METADATA inside the wheel, read with range requests, equals the installed one.
    WheelMetadata,
    /// As above, and the wheel's RECORD equals the installed RECORD.
    WheelRecord,
    /// As above, and the whole wheel hashes to the index's sha256.
    WheelHash,
}

impl ProofKind {
    const ALL: [ProofKind; 8] = [
        Self::DirectUrlHash,
        Self::MicropipRecord,
        Self::PyodideLock,
        Self::CoreMetadataHash,
        Self::MetadataFile,
        Self::WheelMetadata,
        Self::WheelRecord,
        Self::WheelHash,
    ];

    /// The name used in reports (and in the cache).
    pub fn name(self) -> &'static str {
        match self {
            Self::DirectUrlHash => "direct-url-hash",
            Self::MicropipRecord => "micropip-record",
            Self::PyodideLock => "pyodide-lock",
            Self::CoreMetadataHash => "core-metadata-hash",
            Self::MetadataFile => "metadata-file",
            Self::WheelMetadata => "wheel-metadata",
            Self::WheelRecord => "wheel-record",
            Self::WheelHash => "wheel-hash",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
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
    },
    /// A URL or local archive, as `direct_url.json` records it.
    Url {
        #[serde(flatten)]
        artifact: Artifact,
        proof: ProofKind,
    },
    Micropip {
        #[serde(flatten)]
        artifact: Artifact,
        proof: ProofKind,
    },
    /// A package of the Pyodide runtime's own lock.
    Pyodide {
        #[serde(flatten)]
        artifact: Artifact,
        proof: ProofKind,
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
        /// The index's sdist of the installed version, when the dist looks built from it: what
        /// `--allow-sdist` locks instead.
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
            Self::Index { artifact, proof }
            | Self::Url { artifact, proof }
            | Self::Micropip { artifact, proof }
            | Self::Pyodide { artifact, proof } => Some((artifact, *proof)),
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
    fn unproven(reasons: Vec<String>) -> Self {
        Self {
            attribution: Attribution::Unproven {
                reasons,
                sdist: None,
            },
            problems: Vec::new(),
        }
    }

    fn unproven_with_sdist(reasons: Vec<String>, sdist: Option<&ListedFile>) -> Self {
        Self {
            attribution: Attribution::Unproven {
                reasons,
                sdist: sdist.and_then(|s| {
                    Some(Artifact {
                        filename: s.file.filename.clone(),
                        url: icelock_index::config::redact(&s.file.url),
                        sha256: s.file.sha256()?.to_string(),
                        size: s.file.size,
                        upload_time: s.file.upload_time.clone(),
                        index: Some(s.index.clone()),
                    })
                }),
            },
            problems: Vec::new(),
        }
    }
}

/// The runtime's own pyodide-lock.json packages, as read (or why not).
type RuntimeLock = Result<BTreeMap<String, icelock_env::RuntimePackage>, icelock_env::EnvError>;

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
    let one = |dist: &'a InstalledDist| async move {
        // Looked up once per project and version, however many dists share them.
        let files = if needs_index(dist) {
            Some(indexes.project_files(&dist.name, Some(&dist.version)).await)
        } else {
            None
        };
        let attributed = attribute_one(dist, files.as_ref(), runtime_lock, indexes, options).await;
        if let Some(on_done) = &options.on_done {
            on_done(&dist.name);
        }
        attributed
    };
    join_all(dists.iter().map(one)).await
}

/// The verdicts: a distribution whose installed files no longer match RECORD is unproven,
/// whatever the index said; the others keep what [`gather`] found.
pub fn settle(
    dists: &[InstalledDist],
    integrity: &[Integrity],
    gathered: Vec<Attributed>,
) -> Vec<Attributed> {
    dists
        .iter()
        .zip(integrity)
        .zip(gathered)
        .map(|((dist, integrity), gathered)| {
            if integrity.problems.is_empty() {
                gathered
            } else {
                modified(dist, integrity)
            }
        })
        .collect()
}

async fn attribute_one(
    dist: &InstalledDist,
    files: Option<&ProjectFiles>,
    runtime_lock: Option<&RuntimeLock>,
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
            reinstall_hint(dist)
        ));
        return Attributed::unproven(reasons);
    }
    // Without RECORD nothing says the installed files are the artifact's: a match of METADATA
    // alone would prove the label, not the contents.
    if dist.format == icelock_dist::DistFormat::DistInfo && dist.record.is_none() {
        return Attributed::unproven(vec![format!(
            "{} has no RECORD, so its installed files cannot be checked against any artifact; reinstall it: {}",
            dist.location.display(),
            reinstall_hint(dist)
        )]);
    }
    match &dist.source {
        Source::Index if needs_index(dist) => {
            let empty = ProjectFiles::default();
            from_index(dist, files.unwrap_or(&empty), indexes, options).await
        }
        Source::Index => Attributed::unproven(vec![format!(
            "{} has no WHEEL or METADATA to match against an index; reinstall it: pip install --force-reinstall --no-deps {}=={}",
            dist.location.display(),
            dist.name,
            dist.version
        )]),
        Source::EggInfo => Attributed::unproven(vec![format!(
            "a legacy .egg-info install ({}): it has no RECORD and no wheel tags, so no file can be proven to be it; reinstall it as a wheel: pip install --force-reinstall --no-deps {}=={}",
            dist.location.display(),
            dist.name,
            dist.version
        )]),
        Source::Url { url, hash, .. } => from_direct_url(dist, url, hash.as_deref(), indexes).await,
        Source::Micropip { url, sha256, .. } => match sha256 {
            Some(sha256) => Attributed {
                attribution: Attribution::Micropip {
                    artifact: Artifact {
                        filename: last_segment(url),
                        url: url.clone(),
                        sha256: sha256.to_ascii_lowercase(),
                        size: None,
                        upload_time: None,
                        index: None,
                    },
                    proof: ProofKind::MicropipRecord,
                },
                problems: Vec::new(),
            },
            None => Attributed::unproven(vec![format!(
                "micropip recorded the URL {url} but no PYODIDE_SHA256"
            )]),
        },
        Source::Pyodide { channel } => from_runtime_lock(dist, channel, runtime_lock),
        Source::Vcs {
            url,
            vcs,
            commit_id,
            requested_revision,
            subdirectory,
        } => Attributed {
            attribution: Attribution::Vcs {
                url: url.clone(),
                vcs: vcs.clone(),
                commit_id: commit_id.clone(),
                requested_revision: requested_revision.clone(),
                subdirectory: subdirectory.clone(),
            },
            problems: Vec::new(),
        },
        Source::Directory {
            url,
            path,
            subdirectory,
        } => Attributed {
            attribution: Attribution::Directory {
                url: url.clone(),
                path: path.clone(),
                subdirectory: subdirectory.clone(),
            },
            problems: Vec::new(),
        },
        Source::Editable { url, path } => Attributed {
            attribution: Attribution::Editable {
                url: url.clone(),
                path: path.clone(),
            },
            problems: Vec::new(),
        },
    }
}

fn reinstall_hint(dist: &InstalledDist) -> String {
    format!(
        "pip install --force-reinstall --no-deps {}=={}",
        dist.name, dist.version
    )
}

fn modified(dist: &InstalledDist, integrity: &Integrity) -> Attributed {
    let shown: Vec<String> = integrity
        .problems
        .iter()
        .take(5)
        .map(ToString::to_string)
        .collect();
    let more = integrity.problems.len().saturating_sub(shown.len());
    let mut reason = format!(
        "its installed files no longer match RECORD, so no artifact can be proven to be what is installed: {}",
        shown.join("; ")
    );
    if more > 0 {
        reason.push_str(&format!("; and {more} more"));
    }
    reason.push_str(&format!(
        ". Restore it with `{}`, or run `icelock check` for the full list",
        reinstall_hint(dist)
    ));
    Attributed::unproven(vec![reason])
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

async fn from_direct_url(
    dist: &InstalledDist,
    url: &str,
    hash: Option<&str>,
    indexes: &Indexes,
) -> Attributed {
    let artifact = |sha256: String, size: Option<u64>| Artifact {
        filename: last_segment(url),
        url: url.to_string(),
        sha256,
        size,
        upload_time: None,
        index: None,
    };
    if let Some(("sha256", hex)) = hash.and_then(|h| h.split_once('=')) {
        return Attributed {
            attribution: Attribution::Url {
                artifact: artifact(hex.to_ascii_lowercase(), None),
                proof: ProofKind::DirectUrlHash,
            },
            problems: Vec::new(),
        };
    }
    // uv records no hash (and pip may record another algorithm): hash the URL's bytes once.
    let parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(err) => {
            return Attributed::unproven(vec![format!(
                "direct_url.json holds {url:?}, which is not a URL ({err})"
            )]);
        }
    };
    match indexes.client().hash(&parsed).await {
        Ok((sha256, size)) => Attributed {
            attribution: Attribution::Url {
                artifact: artifact(sha256, Some(size)),
                proof: ProofKind::DirectUrlHash,
            },
            problems: Vec::new(),
        },
        Err(err) => Attributed::unproven(vec![format!(
            "installed from {url}, with no hash recorded, and that URL cannot be read now to hash it: {err}; put the file back, or reinstall {} from an index: {}",
            dist.name,
            reinstall_hint(dist)
        )]),
    }
}

fn from_runtime_lock(
    dist: &InstalledDist,
    channel: &str,
    runtime_lock: Option<&RuntimeLock>,
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
    Attributed {
        attribution: Attribution::Pyodide {
            artifact: Artifact {
                filename: last_segment(&entry.file_name),
                url: entry.file_name.clone(),
                sha256: entry.sha256.to_ascii_lowercase(),
                size: None,
                upload_time: None,
                index: None,
            },
            proof: ProofKind::PyodideLock,
        },
        problems: Vec::new(),
    }
}

/// The outcome of trying to prove one candidate.
enum Trial {
    /// `size` only when a request confirmed it: an index's word alone is not locked.
    Proven {
        proof: ProofKind,
        sha256: String,
        size: Option<u64>,
    },
    /// The candidate's METADATA is another file: not what is installed.
    Differs { index_sha256: String },
    /// The check could not be made (network, broken file).
    Failed(String),
}

async fn from_index(
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
        let mut reasons = Vec::new();
        let other_wheels: Vec<&str> = files
            .files
            .iter()
            .filter(same_version)
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
        reasons.extend(built_locally_hint(dist, sdist, !other_wheels.is_empty()));
        reasons.extend(
            files
                .errors
                .iter()
                .map(|e| format!("an index could not be read: {e}")),
        );
        return Attributed::unproven_with_sdist(reasons, sdist);
    }

    let trials = join_all(candidates.iter().map(|c| {
        // An index whose page declares PEP 658 metadata for some file is trusted to
        // declare it for all: a `.metadata` it does not declare is not asked for. One
        // that declares none may still serve them (some mirrors drop the key).
        let declares = files
            .files
            .iter()
            .any(|f| f.index == c.index && f.file.core_metadata.is_available());
        let speculate = !declares;
        prove(dist, c, &installed_metadata, speculate, indexes, options)
    }))
    .await;
    let mut proven: Vec<(&ListedFile, ProofKind, String, Option<u64>)> = Vec::new();
    let mut differs = Vec::new();
    let mut failed = Vec::new();
    for (candidate, trial) in candidates.iter().zip(trials) {
        match trial {
            Trial::Proven {
                proof,
                sha256,
                size,
            } => proven.push((candidate, proof, sha256, size)),
            Trial::Differs { index_sha256 } => differs.push((candidate, index_sha256)),
            Trial::Failed(message) => failed.push(format!(
                "{} on {}: {message}",
                candidate.file.filename, candidate.index
            )),
        }
    }
    if let Some((chosen, proof, sha256, size)) = proven.first() {
        let mut problems = Vec::new();
        for (other, _, other_sha, _) in proven.iter().skip(1) {
            if other_sha != sha256 {
                problems.push(format!(
                    "{} is on {} and on {} with different file hashes ({} and {}), though both have the installed METADATA: the lock uses the first",
                    chosen.file.filename, chosen.index, other.index, sha256, other_sha
                ));
            }
        }
        return Attributed {
            attribution: Attribution::Index {
                artifact: Artifact {
                    filename: chosen.file.filename.clone(),
                    url: icelock_index::config::redact(&chosen.file.url),
                    sha256: sha256.clone(),
                    size: *size,
                    upload_time: chosen.file.upload_time.clone(),
                    index: Some(chosen.index.clone()),
                },
                proof: *proof,
            },
            problems,
        };
    }
    let mut reasons = Vec::new();
    for (candidate, index_sha256) in &differs {
        reasons.push(format!(
            "the wheel {} on {} has the installed tags, but its METADATA differs (sha256 {index_sha256}, installed {installed_metadata}): the installed copy was not installed from it",
            candidate.file.filename, candidate.index
        ));
    }
    if !differs.is_empty() {
        reasons.extend(built_locally_hint(dist, sdist, true));
    }
    reasons.extend(failed);
    Attributed::unproven_with_sdist(reasons, if differs.is_empty() { None } else { sdist })
}

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

fn built_locally_hint(
    dist: &InstalledDist,
    sdist: Option<&ListedFile>,
    index_has_wheel: bool,
) -> Vec<String> {
    let by = if dist.built_by_uv {
        "uv built it from source (it left uv_build.json)"
    } else {
        "it was most likely built locally"
    };
    let from = sdist
        .map(|s| format!(", from the sdist {} on {}", s.file.filename, s.index))
        .unwrap_or_default();
    let sdist_way = if sdist.is_some() {
        ", or lock that sdist with --allow-sdist"
    } else {
        ""
    };
    let way_out = if index_has_wheel {
        format!(
            "reinstall the index's wheel (pip install --force-reinstall --no-deps --only-binary :all: {}=={}), or lock a wheel rebuilt from the installed files with --wheelhouse DIR{sdist_way}",
            dist.name, dist.version
        )
    } else {
        format!("lock a wheel rebuilt from the installed files with --wheelhouse DIR{sdist_way}")
    };
    if sdist.is_none() && !dist.built_by_uv && !index_has_wheel {
        return vec![format!("to lock it anyway, {way_out}")];
    }
    vec![format!("{by}{from}; {way_out}")]
}

async fn prove(
    dist: &InstalledDist,
    candidate: &ListedFile,
    installed_metadata: &str,
    speculate: bool,
    indexes: &Indexes,
    options: &Options,
) -> Trial {
    let file = &candidate.file;
    let dist_info = dist
        .location
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let metadata_member = format!("{dist_info}/METADATA");
    let record_member = format!("{dist_info}/RECORD");

    // Step 0: a wheel with this sha256 was proven before; its METADATA cannot have changed.
    let listed = file.sha256().map(str::to_string);
    let cache = indexes.client().cache();
    if options.verify == Verify::Metadata
        && let (Some(cache), Some(sha)) = (cache, &listed)
        && let Some(facts) = cache.wheel_facts(sha)
    {
        if facts.metadata_sha256 != installed_metadata {
            return Trial::Differs {
                index_sha256: facts.metadata_sha256,
            };
        }
        if let Some(proof) = ProofKind::from_name(&facts.proof) {
            return Trial::Proven {
                proof,
                sha256: sha.clone(),
                size: facts.size,
            };
        }
    }

    // Step 1: the METADATA hash, by the cheapest route the index offers.
    let mut proof = None;
    let mut members: Option<Result<WheelMembers, LookupError>> = None;
    let mut verified_size: Option<u64> = None;
    // The server's answer about the file's size, when it was asked beside the `.metadata`.
    let mut size_answer = None;
    if let Some(index_hash) = file.core_metadata.sha256() {
        if index_hash != installed_metadata {
            return Trial::Differs {
                index_sha256: index_hash.to_string(),
            };
        }
        proof = Some(ProofKind::CoreMetadataHash);
    }
    let need_members = options.verify >= Verify::Record;
    // The wheel's RECORD is read only when it is compared: it can be hundreds of KiB.
    let wanted = if need_members {
        vec![metadata_member.clone(), record_member.clone()]
    } else {
        vec![metadata_member.clone()]
    };
    if proof.is_none() && !need_members && (speculate || file.core_metadata.is_available()) {
        // The size probe (one byte of the wheel, whose answer carries its total size) is
        // only asked when a size is listed to confirm; it also times the round trip.
        let probe = file.size.is_some() && options.verify == Verify::Metadata;
        let (route, size) = metadata_or_tail(indexes, file, &wanted, speculate, probe).await;
        match route {
            Route::MetadataFile(bytes) => {
                let sha = sha256_hex(&bytes);
                if sha != installed_metadata {
                    return Trial::Differs { index_sha256: sha };
                }
                proof = Some(ProofKind::MetadataFile);
                size_answer = size;
            }
            Route::Tail(read) => members = Some(read),
            Route::Neither => {}
        }
    }
    if members.is_none() && (proof.is_none() || need_members) {
        members = Some(indexes.wheel_members(file, &wanted).await);
    }
    if let Some(read) = members.take() {
        match read {
            Ok(read) => {
                let Some(metadata) = read.members.get(&metadata_member) else {
                    return Trial::Failed(format!("the wheel has no {metadata_member}"));
                };
                let sha = sha256_hex(metadata);
                if sha != installed_metadata {
                    return Trial::Differs { index_sha256: sha };
                }
                proof.get_or_insert(ProofKind::WheelMetadata);
                verified_size = Some(read.size);
                members = Some(Ok(read));
            }
            Err(err) => return Trial::Failed(err.to_string()),
        }
    }
    if options.verify >= Verify::Record {
        let Some(wheel_record) = members
            .as_ref()
            .and_then(|m| m.as_ref().ok())
            .and_then(|m| m.members.get(&record_member))
        else {
            return Trial::Failed(format!("the wheel has no {record_member}"));
        };
        if let Err(diff) = record_compare::compare(dist, wheel_record) {
            return Trial::Failed(format!(
                "the wheel's RECORD differs from the installed one: {diff}"
            ));
        }
        proof = Some(ProofKind::WheelRecord);
    }

    // Step 2: the file's own hash, which the lock records.
    let sha256 = match listed {
        Some(listed) if options.verify < Verify::Hash => listed,
        listed => match hash_whole(indexes, &file.url, listed.as_deref()).await {
            Ok((sha, whole_size)) => {
                verified_size = Some(whole_size);
                if let Some(listed) = &listed
                    && &sha != listed
                {
                    return Trial::Failed(format!(
                        "the file hashes to {sha}, but the index lists {listed}: the index or the file is corrupt"
                    ));
                }
                if options.verify >= Verify::Hash {
                    proof = Some(ProofKind::WheelHash);
                }
                sha
            }
            Err(err) => return Trial::Failed(format!("cannot hash the file: {err}")),
        },
    };
    // A size is locked only once the server confirmed it: when the proof never touched the
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
                return Trial::Failed(format!(
                    "the index lists the file's size as {listed_size} bytes, but the server says it has {total}"
                ));
            }
            // Unconfirmed (offline, or a server without ranges): the size is left out.
            Err(_) => {}
        }
    }
    let proof = proof.expect("set by every path above");
    if let Some(cache) = cache
        && matches!(
            proof,
            ProofKind::CoreMetadataHash | ProofKind::MetadataFile | ProofKind::WheelMetadata
        )
    {
        cache.store_wheel_facts(
            &sha256,
            &icelock_index::cache::WheelFacts {
                metadata_sha256: installed_metadata.to_string(),
                proof: proof.name().to_string(),
                size: verified_size,
            },
        );
    }
    Trial::Proven {
        proof,
        sha256,
        size: verified_size,
    }
}

/// The whole file's sha256: from pip's cache when it holds the file the index lists, else by
/// downloading it.
async fn hash_whole(
    indexes: &Indexes,
    url: &url::Url,
    listed: Option<&str>,
) -> Result<(String, u64), icelock_index::FetchError> {
    if let Some(listed) = listed
        && let Some((sha, size)) = indexes.client().hash_from_pip_cache(url).await
        && sha == listed
    {
        return Ok((sha, size));
    }
    indexes.client().hash(url).await
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
            version_of("demo_pkg-1.0.post1.tar.gz")
                .map(|v| v.to_string())
                .as_deref(),
            Some("1.0.post1")
        );
    }
}
