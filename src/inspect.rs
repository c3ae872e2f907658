//! One pass over an environment: locate it, take its inventory, build its graph; and the
//! `check` verdict drawn from those facts.

use std::path::PathBuf;

use icelock_dist::integrity::{self, FileProblem};
use icelock_dist::known::KnownFiles;
use icelock_dist::{DistFormat, InstalledDist, Inventory};
use icelock_env::{EnvError, EnvRequest, Environment};
use icelock_graph::{DependencyProblem, Graph};
use serde::Serialize;

pub struct Inspection {
    pub env: Environment,
    pub inventory: Inventory,
    pub graph: Graph,
    /// What else the environment's Python can import or run, and who owns it.
    pub survey: icelock_survey::Survey,
}

impl Inspection {
    pub fn load(env: Option<PathBuf>) -> Result<Self, EnvError> {
        Ok(Self::of(Self::locate(env)?))
    }

    /// The environment asked for (see [`EnvRequest::from_process`]), not yet read.
    pub fn locate(env: Option<PathBuf>) -> Result<Environment, EnvError> {
        icelock_env::locate(&EnvRequest::from_process(env))
    }

    /// Takes `env`'s inventory and builds its graph.
    pub fn of(env: Environment) -> Self {
        let inventory = icelock_dist::scan(&env);
        let graph = icelock_graph::build(&inventory.dists, &env.markers);
        let survey = icelock_survey::survey(&env, &inventory);
        Self {
            env,
            inventory,
            graph,
            survey,
        }
    }

    pub fn dists(&self) -> &[InstalledDist] {
        &self.inventory.dists
    }

    /// The interpreter that compiles this environment's sources, to compare bytecode with
    /// them: its own, run isolated. `Err` says why there is none to run.
    pub fn python(&self) -> Result<PathBuf, String> {
        if self.env.pyodide.is_some() {
            return Err(
                "a Pyodide environment's interpreter runs in a browser or Node, not here".into(),
            );
        }
        if let Some(python) = &self.env.interpreter {
            return Ok(python.clone());
        }
        ["bin/python", "bin/python3", "Scripts/python.exe"]
            .iter()
            .map(|p| self.env.root.join(p))
            .find(|p| p.is_file())
            .ok_or_else(|| "this folder holds no interpreter to compile its sources with".into())
    }

    /// Compares the bytecode Python would run for every listed source with that source
    /// compiled (see `icelock_dist::bytecode`), reusing verdicts remembered in `known` (and
    /// remembering the new ones there).
    pub fn bytecode(&self, known: Option<&std::path::Path>) -> icelock_dist::bytecode::Checked {
        let python = match self.python() {
            Ok(python) => python,
            Err(why) => {
                return icelock_dist::bytecode::Checked {
                    problems: vec![Vec::new(); self.dists().len()],
                    unchecked: Some(why),
                    ..Default::default()
                };
            }
        };
        let loaded = known.map(KnownFiles::load);
        // CPython's cache tag, from the version the markers hold; another implementation's
        // pycs are found by listing.
        let markers = &self.env.markers;
        let tag = (markers.implementation_name() == "cpython")
            .then(|| {
                let release = markers.python_full_version().version.release();
                Some(format!("cpython-{}{}", release.first()?, release.get(1)?))
            })
            .flatten();
        let (checked, remembered) =
            icelock_dist::bytecode::check(self.dists(), &python, tag.as_deref(), loaded.as_ref());
        if let (Some(path), Some(remembered)) = (known, remembered) {
            remembered.save(path);
        }
        checked
    }

    /// Where the bytecode verdicts of this environment are remembered in `cache`.
    fn bytecode_verdicts(&self, cache: &icelock_index::cache::Cache) -> PathBuf {
        let root = std::fs::canonicalize(&self.env.root).unwrap_or(self.env.root.clone());
        let mut path = cache.known_files_path(&root).into_os_string();
        path.push(".bytecode");
        PathBuf::from(path)
    }

    /// Checks the installed files against RECORD. Files unchanged (by their stat) since they
    /// last matched RECORD are not hashed again; without a cache, everything is. With
    /// `bytecode`, the bytecode of the listed sources too (its problems are the dist's).
    pub fn integrity_with(
        &self,
        indexes: &icelock_index::Indexes,
        bytecode: bool,
    ) -> (
        Vec<integrity::Integrity>,
        Option<icelock_dist::bytecode::Checked>,
    ) {
        if !bytecode {
            return (self.integrity(indexes), None);
        }
        let known = indexes
            .client()
            .cache()
            .map(|cache| self.bytecode_verdicts(cache));
        // Both mostly wait on the file system: side by side, not one after the other.
        let (mut integrity, mut checked) = std::thread::scope(|scope| {
            let bytecode = scope.spawn(|| self.bytecode(known.as_deref()));
            let integrity = self.integrity(indexes);
            let checked = bytecode
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (integrity, checked)
        });
        join_bytecode(&mut integrity, &mut checked);
        (integrity, Some(checked))
    }

    /// Checks the installed files against RECORD. Files unchanged (by their stat) since they
    /// last matched RECORD are not hashed again; without a cache, everything is.
    pub fn integrity(&self, indexes: &icelock_index::Indexes) -> Vec<integrity::Integrity> {
        let known_path = indexes.client().cache().map(|cache| {
            let root = std::fs::canonicalize(&self.env.root).unwrap_or(self.env.root.clone());
            cache.known_files_path(&root)
        });
        let known = known_path
            .as_deref()
            .map(KnownFiles::load)
            .unwrap_or_default();
        let rows: usize = self
            .dists()
            .iter()
            .map(|d| {
                d.record
                    .iter()
                    .flatten()
                    .filter(|r| r.hash.is_some())
                    .count()
            })
            .sum();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let bar =
            crate::progress::polled(rows as u64, "files checked against RECORD", done.clone());
        let (integrity, remembered) =
            integrity::check_all_with_progress(self.dists(), &known, &done);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        drop(known);
        if let (Some(path), Some(remembered)) = (&known_path, remembered) {
            remembered.save(path);
        }
        integrity
    }

    /// Attributes every distribution to the artifact it came from (network, unless offline).
    /// The installed files are checked against RECORD on other threads meanwhile: hashing and
    /// waiting for the network overlap instead of adding up.
    pub fn attribute(
        &self,
        runtime: &tokio::runtime::Runtime,
        indexes: &icelock_index::Indexes,
        verify: icelock_attribute::Verify,
        bytecode: bool,
    ) -> (
        Vec<icelock_attribute::Attributed>,
        Vec<integrity::Integrity>,
    ) {
        let progress = crate::progress::counter(self.dists().len() as u64, "attributed");
        let on_done = progress.clone().map(|bar| {
            std::sync::Arc::new(move |name: &uv_normalize::PackageName| {
                bar.set_message(name.to_string());
                bar.inc(1);
            }) as icelock_attribute::OnDone
        });
        let options = icelock_attribute::Options { verify, on_done };
        let (gathered, integrity) = std::thread::scope(|scope| {
            let checking = scope.spawn(|| self.integrity_with(indexes, bytecode).0);
            let gathered = runtime.block_on(icelock_attribute::gather(
                &self.env,
                self.dists(),
                indexes,
                &options,
            ));
            let integrity = checking
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (gathered, integrity)
        });
        let attributed = runtime.block_on(icelock_attribute::settle(
            self.dists(),
            &integrity,
            gathered,
            indexes,
            &options,
        ));
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        (attributed, integrity)
    }

    /// Everything `check` reports, in a stable order: by distribution, then by kind and path.
    pub fn check(&self) -> CheckReport {
        let mut integrity = integrity::check_all(self.dists());
        // Every file is hashed again; a bytecode verdict (compiling is what costs) is reused
        // while its pyc is unchanged by its stat and its source is what RECORD hashes, which
        // the line above just checked.
        let cache = icelock_index::cache::Cache::default_dir(&|name| std::env::var(name).ok())
            .map(icelock_index::cache::Cache::new);
        let verdicts = cache.as_ref().map(|cache| self.bytecode_verdicts(cache));
        let mut bytecode = self.bytecode(verdicts.as_deref());
        join_bytecode(&mut integrity, &mut bytecode);
        let mut problems = Vec::new();
        let mut files_checked = 0;
        let mut bytes_hashed = 0;
        for (dist, outcome) in self.dists().iter().zip(&integrity) {
            files_checked += outcome.files_ok + outcome.problems.len();
            bytes_hashed += outcome.bytes_hashed;
            let problem = |kind, path: Option<String>, message: String| CheckProblem {
                package: dist.name.to_string(),
                version: dist.version.to_string(),
                kind,
                path,
                message,
            };
            // A legacy egg-info install never had a RECORD: nothing is known to be wrong with
            // it, so it is reported without failing. A .dist-info without one is broken.
            if dist.format == DistFormat::EggInfo {
                problems.push(problem(
                    ProblemKind::Unverifiable,
                    None,
                    format!(
                        "{} is a legacy .egg-info install without RECORD: its files cannot be verified",
                        dist.location.display()
                    ),
                ));
            }
            for p in &dist.problems {
                problems.push(problem(
                    ProblemKind::Metadata,
                    Some(dist.location.join(&p.file).display().to_string()),
                    format!("{} {}", dist.location.join(&p.file).display(), p.message),
                ));
            }
            for file in &outcome.problems {
                let kind = match file {
                    FileProblem::Modified { .. } => ProblemKind::FileModified,
                    FileProblem::SizeMismatch { .. } => ProblemKind::SizeMismatch,
                    FileProblem::Missing { .. } => ProblemKind::FileMissing,
                    FileProblem::OutsideEnvironment { .. } => ProblemKind::OutsideEnvironment,
                    FileProblem::Unreadable { .. }
                    | FileProblem::NotAFile { .. }
                    | FileProblem::UnsupportedHash { .. } => ProblemKind::FileUnreadable,
                    FileProblem::Unlisted { .. } => ProblemKind::FileUnlisted,
                    FileProblem::Bytecode { .. } => ProblemKind::BytecodeDiffers,
                };
                problems.push(problem(
                    kind,
                    Some(file.path().to_string()),
                    file.to_string(),
                ));
            }
        }
        for dep in &self.graph.problems {
            let kind = match dep {
                DependencyProblem::Missing { .. } => ProblemKind::RequirementMissing,
                DependencyProblem::VersionMismatch { .. } => ProblemKind::VersionMismatch,
            };
            let version = match dep {
                DependencyProblem::Missing { version, .. }
                | DependencyProblem::VersionMismatch { version, .. } => version.to_string(),
            };
            problems.push(CheckProblem {
                package: dep.dist().to_string(),
                version,
                kind,
                path: None,
                message: dep.to_string(),
            });
        }
        for shadowed in self.inventory.shadowed.iter().filter(|s| !s.benign) {
            problems.push(CheckProblem {
                package: shadowed.name.to_string(),
                version: shadowed.version.to_string(),
                kind: ProblemKind::Duplicate,
                path: Some(shadowed.location.display().to_string()),
                message: format!(
                    "installed twice: {} is shadowed by {}, which is the one Python imports",
                    shadowed.location.display(),
                    shadowed.by.display()
                ),
            });
        }
        for scan in &self.inventory.problems {
            problems.push(CheckProblem {
                package: scan
                    .location
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                version: String::new(),
                kind: ProblemKind::Metadata,
                path: Some(scan.location.display().to_string()),
                message: scan.to_string(),
            });
        }
        for entry in &self.survey.unowned {
            // Reported above, with the folder's name.
            if matches!(
                entry.kind,
                icelock_survey::UnownedKind::UnreadableMetadata { .. }
            ) {
                continue;
            }
            problems.push(CheckProblem {
                package: String::new(),
                version: String::new(),
                kind: ProblemKind::Unowned,
                path: Some(entry.path.display().to_string()),
                message: format!("{}; {}", entry.kind, entry.way_out()),
            });
        }
        problems.sort_by(|a, b| (&a.package, a.kind, &a.path).cmp(&(&b.package, b.kind, &b.path)));
        CheckReport {
            files_checked,
            bytes_hashed,
            bytecode: BytecodeReport {
                compared: bytecode.bound,
                unchecked: bytecode.unchecked,
            },
            problems,
        }
    }
}

/// Adds the bytecode problems to each dist's, except those of a source already reported
/// changed or gone: that source's own problem says it, and its stale bytecode is part of it.
fn join_bytecode(
    integrity: &mut [integrity::Integrity],
    bytecode: &mut icelock_dist::bytecode::Checked,
) {
    for (outcome, problems) in integrity.iter_mut().zip(&mut bytecode.problems) {
        let sources: std::collections::HashSet<String> = outcome
            .problems
            .iter()
            .map(|p| p.path().to_string())
            .collect();
        outcome
            .problems
            .extend(problems.drain(..).filter(|p| match p {
                FileProblem::Bytecode { of, .. } => !sources.contains(of),
                _ => true,
            }));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    FileModified,
    FileMissing,
    SizeMismatch,
    OutsideEnvironment,
    FileUnreadable,
    /// In a distribution's folders, in no RECORD.
    FileUnlisted,
    /// Bytecode Python runs in place of a listed source, not compiled from it.
    BytecodeDiffers,
    RequirementMissing,
    VersionMismatch,
    Duplicate,
    Metadata,
    /// On the environment's path (a site folder's top, a `.pth` file, the scripts folder),
    /// able to change what runs, and owned by no RECORD and no rule of the environment's.
    Unowned,
    Unverifiable,
}

impl ProblemKind {
    /// An egg-info install cannot be verified, but nothing is known to be wrong with it either:
    /// it is reported without failing the check (as `pip check` passes it).
    pub fn is_failure(self) -> bool {
        self != Self::Unverifiable
    }
}

#[derive(Debug, Serialize)]
pub struct CheckProblem {
    pub package: String,
    pub version: String,
    pub kind: ProblemKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub files_checked: usize,
    pub bytes_hashed: u64,
    pub bytecode: BytecodeReport,
    pub problems: Vec<CheckProblem>,
}

/// What the bytecode check came to.
#[derive(Debug, Serialize)]
pub struct BytecodeReport {
    /// Pycs Python would run for a listed source, found to be that source compiled.
    pub compared: usize,
    /// Why bytecode could not be checked at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<String>,
}
