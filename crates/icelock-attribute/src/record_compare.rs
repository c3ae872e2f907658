//! The heart of the proof: the installed RECORD against the artifact's own RECORD, row for row.
//!
//! An installer copies a wheel's files with their RECORD rows and changes a few things of its
//! own. Each change is accounted for by exactly one rule below, and nothing else passes:
//!
//! - its own files in `.dist-info` (`RECORD` itself, `INSTALLER`, `REQUESTED`,
//!   `direct_url.json`, PEP 710's `provenance_url.json`, and uv's `uv_build.json` /
//!   `uv_cache.json` when uv installed it) are not the wheel's;
//! - `.data/purelib` and `.data/platlib` land in site-packages, `.data/data` in the scheme's
//!   data folder (`../../../x` from a venv's site-packages), `.data/scripts` in its scripts
//!   folder, `.data/headers` in an `include/…` folder: a row is looked for where it lands;
//! - a script whose first line is `#!python` is rewritten to name the interpreter: its bytes
//!   after that line must be the wheel's, and the new first line a shebang (or the `/bin/sh`
//!   trampoline installers use for long paths) naming this environment's interpreter
//!   ([`Interpreter`]), with the wheel's arguments (and pipx's ` -E` after them);
//! - byte-compiled `__pycache__/X.*.pyc` files of a `X.py` the wheel holds are compiled by the
//!   installer (pip lists them with no hash);
//! - a launcher in the scripts folder for a `[console_scripts]` / `[gui_scripts]` entry (of an
//!   `entry_points.txt` bound by its own row) must be, byte for byte, what one of the installers
//!   writes for that entry point ([`LAUNCHERS`]: pip's, distlib's, pypa/installer's, uv's)
//!   after an interpreter line naming this environment's interpreter (pipx adds ` -E`).
//!
//! Where two rows do not settle it (no hash on a side, other hashes, another algorithm), the
//! bytes do: the wheel's member, read from the artifact, against the installed file. So a wheel
//! whose own RECORD is wrong (some published wheels' are) is still proven, and said to be wrong.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use icelock_dist::EntryPoints;
use icelock_dist::record::{self, RecordEntry, RecordHash};
use sha2::Digest;

/// Content checks beyond this many rows are not made: so many differing rows mean other files,
/// and reading them all would cost more than the answer is worth.
pub(crate) const MAX_CONTENT_CHECKS: usize = 64;

/// What the installed side says.
pub(crate) struct Installed<'a> {
    pub rows: &'a [RecordEntry],
    /// The `.dist-info` folder's name.
    pub dist_info: &'a str,
    pub installer: Option<&'a str>,
    pub entry_points: Option<&'a EntryPoints>,
    /// What a launcher's or script's first line may run.
    pub interpreter: &'a Interpreter,
}

/// The interpreter an installer names in the first line of what it writes to the scripts
/// folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Interpreter {
    /// A virtual environment's: a `python*` in its scripts folder (given resolved). A copied
    /// venv's launchers name the original's, and are not this environment's.
    InFolder(std::path::PathBuf),
    /// A prefix, user base or `--target` folder holds no interpreter of its own: the Python that
    /// ran the installer is named, whichever it was, by its absolute path.
    AnyAbsolute,
}

impl Interpreter {
    /// For `dist`: a venv's, unless `pip --target` put it there (the Python that ran pip,
    /// whichever, is then named).
    pub(crate) fn for_dist(dist: &icelock_dist::InstalledDist) -> Self {
        let target = dist
            .record
            .iter()
            .flatten()
            .any(|row| icelock_dist::integrity::is_target_row(dist, &row.path));
        if target {
            Self::AnyAbsolute
        } else {
            Self::for_prefix(&dist.prefix)
        }
    }

    /// For a distribution under `prefix`.
    pub(crate) fn for_prefix(prefix: &std::path::Path) -> Self {
        if prefix.join("pyvenv.cfg").is_file() {
            let bin = ["bin", "Scripts"]
                .iter()
                .map(|b| prefix.join(b))
                .find(|b| b.is_dir())
                .unwrap_or_else(|| prefix.join("bin"));
            Self::InFolder(std::fs::canonicalize(&bin).unwrap_or(bin))
        } else {
            Self::AnyAbsolute
        }
    }

    fn names(&self, path: &str) -> bool {
        let path = std::path::Path::new(path);
        let is_python = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(icelock_env::is_interpreter_name);
        if !is_python || !path.is_absolute() {
            return false;
        }
        match self {
            Self::AnyAbsolute => true,
            Self::InFolder(bin) => path.parent().is_some_and(|parent| {
                parent == bin || std::fs::canonicalize(parent).is_ok_and(|p| &p == bin)
            }),
        }
    }
}

/// Where the rows disagree, as people need to hear it: by installed path (the wheel's own path
/// for what is only in the wheel).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDiff {
    pub changed: Vec<String>,
    pub only_installed: Vec<String>,
    pub only_in_wheel: Vec<String>,
    /// The wheel's and the installed METADATA's sha256 (hex), when they differ.
    pub metadata: Option<(String, String)>,
    /// Why some rows were not checked by their bytes.
    pub unchecked: Option<String>,
}

impl FileDiff {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.only_installed.is_empty() && self.only_in_wheel.is_empty()
    }

    /// Only METADATA (and what is derived from the build: WHEEL) differ: a build of the same
    /// files by another tool or at another time.
    pub fn only_metadata_differs(&self, dist_info: &str) -> bool {
        self.only_installed.is_empty()
            && self.only_in_wheel.is_empty()
            && self.changed.iter().all(|p| {
                p.strip_prefix(dist_info)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|name| matches!(name, "METADATA" | "WHEEL"))
            })
    }
}

/// The rows agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bound {
    /// Wheel rows matched by installed rows.
    pub rows: usize,
    /// Installed rows accounted for by an installer's rule.
    pub exempt: usize,
    /// Worth telling (the wheel's own RECORD is wrong about a file, …).
    pub notes: Vec<String>,
    /// Everything rests on installed RECORD rows with hashes, which every run checks again: a
    /// proof kept for these RECORD bytes stays true. Not so when an installed file without a
    /// hash was read to settle a row.
    pub rests_on_hashed_rows: bool,
    /// (zip member, installed RECORD path) of each file the wheel holds as installed, byte for
    /// byte: what the zip's own directory must agree with.
    pub verbatim: Vec<(String, String)>,
}

/// What a comparison came to.
#[derive(Debug)]
pub(crate) enum Settled {
    Bound(Bound),
    Differs(FileDiff),
}

/// A comparison that may still need bytes: [`Plan::needs`] says which, [`Plan::settle`] gives
/// the answer.
pub(crate) struct Plan {
    interpreter: Interpreter,
    matched: usize,
    /// Rows the installer gave no digest, settled by hashing the installed file.
    unhashed: usize,
    installer: Option<String>,
    verbatim: Vec<(String, String)>,
    exempt: usize,
    pending: Vec<Pending>,
    diff: FileDiff,
    notes: Vec<String>,
    rests_on_hashed_rows: bool,
}

/// A row only bytes can settle.
#[derive(Debug, Clone)]
enum Pending {
    /// The member's bytes must be the installed file's: `installed_hash` when the installed row
    /// has a sha256 (every run checks the file against it), else the file's bytes.
    Content {
        member: String,
        installed: String,
        installed_hash: Option<[u8; 32]>,
        /// What the wheel's RECORD said, for the note when the bytes prove it wrong.
        wheel_row_says: Option<String>,
    },
    /// A `.data/scripts` file an installer may have given a new first line.
    Script { member: String, installed: String },
    /// An installed file that may be a launcher for `entry`.
    Launcher { installed: String, entry: usize },
    /// An installed file its RECORD row gives no digest for (pdm's rows for files linked from
    /// its cache), whose bytes must hash to the wheel's row for `member`.
    Unhashed {
        member: String,
        installed: String,
        expected: [u8; 32],
    },
}

/// The bytes a plan asked for: members of the wheel by zip path, installed files by RECORD
/// path (or why one could not be read).
#[derive(Default)]
pub(crate) struct Bytes {
    pub members: BTreeMap<String, Vec<u8>>,
    pub installed: BTreeMap<String, Result<Vec<u8>, String>>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

fn sha256_of(hash: &RecordHash) -> Option<[u8; 32]> {
    (hash.algorithm == "sha256")
        .then(|| hash.digest.as_slice().try_into().ok())
        .flatten()
}

fn describe(hash: Option<&RecordHash>, size: Option<u64>) -> String {
    match (hash, size) {
        (Some(h), Some(s)) => format!("{}={} ({s} bytes)", h.algorithm, h.hex()),
        (Some(h), None) => format!("{}={}", h.algorithm, h.hex()),
        (None, _) => "no hash".into(),
    }
}

impl Plan {
    /// Compares `installed` with the wheel's RECORD (`wheel_record`, its bytes), knowing the
    /// zip's member names (a wheel may hold a file its RECORD leaves out).
    pub(crate) fn new(
        installed: &Installed<'_>,
        wheel_record: &[u8],
        members: &BTreeSet<String>,
    ) -> Self {
        let dist_info = installed.dist_info;
        let data = format!("{}.data/", dist_info.trim_end_matches(".dist-info"));
        // virtualenv's seeder marks what it installed with an empty `NAME-VERSION.virtualenv`
        // beside the `.dist-info`, listed unhashed.
        let seeder_mark = format!("{}.virtualenv", dist_info.trim_end_matches(".dist-info"));
        let installer_file = |path: &str| -> bool {
            if path == seeder_mark {
                return true;
            }
            let Some(name) = path
                .strip_prefix(dist_info)
                .and_then(|rest| rest.strip_prefix('/'))
            else {
                return false;
            };
            match name {
                // Written by every installer (PEP 376, PEP 610, PEP 710).
                "RECORD"
                | "INSTALLER"
                | "REQUESTED"
                | "direct_url.json"
                | "provenance_url.json" => true,
                // uv's record of a build from source and of a local path's state.
                "uv_build.json" | "uv_cache.json" => installed.installer == Some("uv"),
                // pdm's note of where a cached install's files are.
                "REFER_TO" => installed.installer == Some("pdm"),
                _ => false,
            }
        };

        let (wheel_rows, _) = record::parse(wheel_record);
        let mut plan = Self {
            interpreter: installed.interpreter.clone(),
            matched: 0,
            unhashed: 0,
            installer: installed.installer.map(str::to_string),
            verbatim: Vec::new(),
            exempt: 0,
            pending: Vec::new(),
            diff: FileDiff::default(),
            notes: Vec::new(),
            rests_on_hashed_rows: true,
        };
        let mut remaining: HashMap<&str, &RecordEntry> = HashMap::new();
        for row in installed.rows {
            if installer_file(&row.path) {
                plan.exempt += 1;
            } else if remaining.insert(row.path.as_str(), row).is_some() {
                // Two rows for one path: which one a file was checked against is unclear.
                plan.diff.changed.push(row.path.clone());
            }
        }
        // Where the wheel's `.py` files landed, for their byte-compiled files.
        let mut sources: BTreeSet<String> = BTreeSet::new();
        let mut wheel_paths: BTreeSet<&str> = BTreeSet::new();
        for row in &wheel_rows {
            wheel_paths.insert(row.path.as_str());
            if installer_file(&row.path) {
                continue;
            }
            let Some(landed) = landing(&row.path, &data, &remaining) else {
                plan.diff.only_in_wheel.push(row.path.clone());
                continue;
            };
            let installed_row = remaining.remove(landed.as_str()).expect("found by landing");
            if landed.ends_with(".py") {
                sources.insert(landed.clone());
            }
            plan.compare(row, installed_row, &data);
        }

        // What only the installed side has: an installer's own, or a member the wheel's RECORD
        // left out, or not the wheel's at all.
        let mut left: Vec<&RecordEntry> = remaining.into_values().collect();
        left.sort_by(|a, b| a.path.cmp(&b.path));
        let scripts = installed
            .entry_points
            .map(|e| e.scripts.as_slice())
            .unwrap_or_default();
        for row in left {
            if is_compiled_source(&row.path, &sources)
                || (row.hash.is_none() && is_seeder_bytecode_row(&row.path, &sources))
            {
                plan.exempt += 1;
            } else if let Some(entry) = launcher_for(&row.path, scripts) {
                plan.pending.push(Pending::Launcher {
                    installed: row.path.clone(),
                    entry,
                });
            } else if members.contains(&row.path) && !wheel_paths.contains(row.path.as_str()) {
                plan.push_content(row.path.clone(), row, None);
            } else {
                plan.diff.only_installed.push(row.path.clone());
            }
        }
        // A launcher is only an installer's if entry_points.txt is the wheel's own: its row was
        // compared above, and the file read at scan time must be the one that row hashes.
        if plan
            .pending
            .iter()
            .any(|p| matches!(p, Pending::Launcher { .. }))
        {
            // The wheel's own row: the file read at scan time must be the one the wheel holds
            // (the installed row says the same where it has a digest; pdm's may not).
            let entry_points_row = wheel_rows
                .iter()
                .find(|r| r.path == format!("{dist_info}/entry_points.txt"));
            let bound = match (
                entry_points_row.and_then(|r| r.hash.as_ref()),
                installed.entry_points,
            ) {
                (Some(hash), Some(eps)) => sha256_of(hash) == Some(eps.sha256),
                _ => false,
            };
            if !bound {
                for pending in std::mem::take(&mut plan.pending) {
                    match pending {
                        Pending::Launcher { installed, .. } => {
                            plan.diff.only_installed.push(installed)
                        }
                        other => plan.pending.push(other),
                    }
                }
            }
        }
        // Rows settled by hashing an installed file cost no member read: only the others count.
        let with_members = plan
            .pending
            .iter()
            .filter(|p| !matches!(p, Pending::Unhashed { .. }))
            .count();
        if with_members > MAX_CONTENT_CHECKS {
            plan.diff.unchecked = Some(format!(
                "{with_members} rows would need their bytes compared, more than the {MAX_CONTENT_CHECKS} checked"
            ));
            for pending in std::mem::take(&mut plan.pending) {
                match pending {
                    Pending::Content { installed, .. } | Pending::Script { installed, .. } => {
                        plan.diff.changed.push(installed)
                    }
                    Pending::Launcher { installed, .. } => plan.diff.only_installed.push(installed),
                    unhashed @ Pending::Unhashed { .. } => plan.pending.push(unhashed),
                }
            }
        }
        plan
    }

    /// One wheel row against the installed row where it landed.
    fn compare(&mut self, wheel: &RecordEntry, installed: &RecordEntry, data: &str) {
        let same_hash = match (&wheel.hash, &installed.hash) {
            (Some(w), Some(i)) if w.algorithm == i.algorithm => Some(w.digest == i.digest),
            _ => None,
        };
        let sizes_agree = match (wheel.size, installed.size) {
            (Some(w), Some(i)) => w == i,
            _ => true,
        };
        if same_hash == Some(true) && sizes_agree {
            self.matched += 1;
            self.verbatim
                .push((wheel.path.clone(), installed.path.clone()));
            return;
        }
        let is_script = wheel
            .path
            .strip_prefix(data)
            .is_some_and(|rest| rest.starts_with("scripts/"));
        if is_script {
            self.pending.push(Pending::Script {
                member: wheel.path.clone(),
                installed: installed.path.clone(),
            });
            return;
        }
        // No digest installed, one in the wheel: the installed file itself must hash to it
        // (no member need be read; the zip's directory is checked against it afterwards).
        if installed.hash.is_none()
            && let Some(expected) = wheel.hash.as_ref().and_then(sha256_of)
            && sizes_agree
        {
            self.rests_on_hashed_rows = false;
            self.pending.push(Pending::Unhashed {
                member: wheel.path.clone(),
                installed: installed.path.clone(),
                expected,
            });
            return;
        }
        if same_hash == Some(false) && wheel.path.ends_with(".dist-info/METADATA") {
            // The build's own description differs: the installed copy is another build.
            self.diff.metadata = Some((
                wheel.hash.as_ref().map(RecordHash::hex).unwrap_or_default(),
                installed
                    .hash
                    .as_ref()
                    .map(RecordHash::hex)
                    .unwrap_or_default(),
            ));
        }
        self.push_content(
            wheel.path.clone(),
            installed,
            Some(describe(wheel.hash.as_ref(), wheel.size)),
        );
    }

    fn push_content(&mut self, member: String, installed: &RecordEntry, says: Option<String>) {
        let installed_hash = installed.hash.as_ref().and_then(sha256_of);
        if installed_hash.is_none() {
            self.rests_on_hashed_rows = false;
        }
        self.pending.push(Pending::Content {
            member,
            installed: installed.path.clone(),
            installed_hash,
            wheel_row_says: says,
        });
    }

    /// The wheel members and installed files (by RECORD path) whose bytes [`Plan::settle`]
    /// needs; both empty when the rows alone settle it.
    pub(crate) fn needs(&self) -> (Vec<String>, Vec<String>) {
        let mut members = Vec::new();
        let mut installed = Vec::new();
        for pending in &self.pending {
            match pending {
                Pending::Content {
                    member,
                    installed: path,
                    installed_hash,
                    ..
                } => {
                    members.push(member.clone());
                    if installed_hash.is_none() {
                        installed.push(path.clone());
                    }
                }
                Pending::Script {
                    member,
                    installed: path,
                } => {
                    members.push(member.clone());
                    installed.push(path.clone());
                }
                Pending::Launcher {
                    installed: path, ..
                }
                | Pending::Unhashed {
                    installed: path, ..
                } => installed.push(path.clone()),
            }
        }
        members.sort();
        members.dedup();
        installed.sort();
        installed.dedup();
        (members, installed)
    }

    /// The answer, once the bytes [`Plan::needs`] named are in `bytes` (what is missing there
    /// counts as different).
    pub(crate) fn settle(
        mut self,
        bytes: &Bytes,
        scripts: &[icelock_dist::ScriptEntry],
    ) -> Settled {
        let installed_bytes = |path: &str| bytes.installed.get(path).and_then(|r| r.as_ref().ok());
        for pending in std::mem::take(&mut self.pending) {
            match pending {
                Pending::Content {
                    member,
                    installed,
                    installed_hash,
                    wheel_row_says,
                } => {
                    let Some(member_bytes) = bytes.members.get(&member) else {
                        self.diff.changed.push(installed);
                        continue;
                    };
                    let actual = sha256(member_bytes);
                    let expected =
                        installed_hash.or_else(|| installed_bytes(&installed).map(|b| sha256(b)));
                    if expected == Some(actual) {
                        self.matched += 1;
                        self.verbatim.push((member.clone(), installed.clone()));
                        match wheel_row_says {
                            Some(says) => self.notes.push(format!(
                                "the wheel's own RECORD is wrong about {member} (it says {says}): the file in the wheel is the installed one"
                            )),
                            None => self.notes.push(format!(
                                "the wheel holds {member}, which its RECORD leaves out: the installed file is the wheel's"
                            )),
                        }
                        if member.ends_with(".dist-info/METADATA") {
                            self.diff.metadata = None;
                        }
                    } else {
                        self.diff.changed.push(installed);
                    }
                }
                Pending::Script { member, installed } => {
                    match (bytes.members.get(&member), installed_bytes(&installed)) {
                        (Some(wheel), Some(local))
                            if rewritten_script(wheel, local, &self.interpreter) =>
                        {
                            self.matched += 1;
                        }
                        _ => self.diff.changed.push(installed),
                    }
                }
                Pending::Unhashed {
                    member,
                    installed,
                    expected,
                } => match installed_bytes(&installed) {
                    Some(local) if sha256(local) == expected => {
                        self.matched += 1;
                        self.unhashed += 1;
                        self.verbatim.push((member, installed));
                    }
                    _ => self.diff.changed.push(installed),
                },
                Pending::Launcher { installed, entry } => match installed_bytes(&installed) {
                    Some(local) if is_launcher(local, &scripts[entry], &self.interpreter) => {
                        self.exempt += 1
                    }
                    _ => self.diff.only_installed.push(installed),
                },
            }
        }
        if self.unhashed > 0 {
            let whose = match self.installer.as_deref() {
                Some("pdm") => "pdm wrote them so for files it links from its install cache",
                _ => "the installer wrote them so",
            };
            self.notes.push(format!(
                "{} installed RECORD row{} had no digest ({whose}): each file was hashed and is the wheel's",
                self.unhashed,
                if self.unhashed == 1 { "" } else { "s" }
            ));
        }
        if self.diff.is_empty() {
            Settled::Bound(Bound {
                rows: self.matched,
                exempt: self.exempt,
                notes: self.notes,
                rests_on_hashed_rows: self.rests_on_hashed_rows,
                verbatim: self.verbatim,
            })
        } else {
            self.diff.changed.sort();
            self.diff.only_installed.sort();
            self.diff.only_in_wheel.sort();
            Settled::Differs(self.diff)
        }
    }
}

/// Where an installer put the wheel's `path`, among the installed rows not yet matched.
fn landing(path: &str, data: &str, installed: &HashMap<&str, &RecordEntry>) -> Option<String> {
    let Some(rest) = path.strip_prefix(data) else {
        return installed.contains_key(path).then(|| path.to_string());
    };
    let (scheme, inner) = rest.split_once('/')?;
    // The scheme folders sit above site-packages, as many `../` as its depth under the prefix
    // (three in a venv; two for pip's `--target`, which records its home scheme; none for uv's
    // `--target`, which puts them inside the folder).
    let above = |tail: &str| {
        (1..=8)
            .chain([0])
            .map(|depth| format!("{}{tail}", "../".repeat(depth)))
            .find(|candidate| installed.contains_key(candidate.as_str()))
    };
    match scheme {
        "purelib" | "platlib" => {
            if installed.contains_key(inner) {
                return Some(inner.to_string());
            }
            // A split layout puts platlib in another site folder (lib64 beside lib).
            installed
                .keys()
                .filter(|p| {
                    p.starts_with("../")
                        && (p.ends_with(&format!("/site-packages/{inner}"))
                            || p.ends_with(&format!("/dist-packages/{inner}")))
                })
                .min()
                .map(|p| p.to_string())
        }
        "data" => above(inner),
        "scripts" => above(&format!("bin/{inner}")).or_else(|| above(&format!("Scripts/{inner}"))),
        "headers" => installed
            .keys()
            .filter(|p| {
                p.starts_with("../") && p.contains("include/") && p.ends_with(&format!("/{inner}"))
            })
            .min()
            .map(|p| p.to_string()),
        _ => None,
    }
}

/// What virtualenv's app-data seeder (poetry's default) lists, unhashed, beside the wheel's
/// rows: a row for every `__pycache__` folder (folders, which run nothing: what is in them is
/// bound by the bytecode check), and `dir/stem.<tag>.pyc` beside a `dir/stem.py` that landed
/// from the wheel (a name no import looks for).
fn is_seeder_bytecode_row(path: &str, sources: &BTreeSet<String>) -> bool {
    if path == "__pycache__" || path.ends_with("/__pycache__") {
        return true;
    }
    let Some(file) = path.strip_suffix(".pyc") else {
        return false;
    };
    let (dir, name) = file.rsplit_once('/').map_or(("", file), |(d, n)| (d, n));
    let Some((stem, tag)) = name.split_once('.') else {
        return false;
    };
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    !tag.is_empty() && sources.contains(&format!("{prefix}{stem}.py"))
}

/// `dir/__pycache__/stem.<tag>[.opt-N].pyc` of a `dir/stem.py` that landed from the wheel.
fn is_compiled_source(path: &str, sources: &BTreeSet<String>) -> bool {
    let Some(file) = path.strip_suffix(".pyc") else {
        return false;
    };
    let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
    let Some(parent) = dir.strip_suffix("__pycache__") else {
        return false;
    };
    if !(parent.is_empty() || parent.ends_with('/')) {
        return false;
    }
    // `stem.cpython-311` or `stem.cpython-311.opt-1`: the stem is everything before the tag.
    let mut parts: Vec<&str> = name.split('.').collect();
    if parts.last().is_some_and(|p| p.starts_with("opt-")) {
        parts.pop();
    }
    if parts.len() < 2 {
        return false;
    }
    parts.pop();
    let stem = parts.join(".");
    sources.contains(&format!("{parent}{stem}.py"))
}

/// The entry whose launcher `path` would be: `../…/bin/<name>` (or `Scripts`), `<name>` an
/// entry point's.
fn launcher_for(path: &str, scripts: &[icelock_dist::ScriptEntry]) -> Option<usize> {
    // Above site-packages in a venv (`../../../bin/x`) or pip's `--target` (`../../bin/x`);
    // inside the folder for uv's `--target` (`bin/x`). Wherever it is, only a file made of the
    // launcher's lines passes `is_launcher`.
    let mut rest = path;
    while let Some(r) = rest.strip_prefix("../") {
        rest = r;
    }
    let name = rest
        .strip_prefix("bin/")
        .or_else(|| rest.strip_prefix("Scripts/"))?;
    scripts.iter().position(|s| s.name == name).or_else(|| {
        // Versioned names of an entry: pip writes `pipX.Y` beside the `pip` and `pip3` its own
        // wheel declares, and virtualenv's seeder (distlib's variants) `pip3`, `pip-3.11` and
        // `pip3.11` for an entry `pip` or `pip3`. The file must still be that entry's launcher.
        let base = without_version(name)?;
        scripts
            .iter()
            .position(|s| s.name == base || without_version(&s.name) == Some(base))
    })
}

/// `name` without a trailing Python version (`3`, `3.11`, `-3.11`), when it has one.
fn without_version(name: &str) -> Option<&str> {
    let at = name
        .char_indices()
        .find(|&(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)?;
    let (base, version) = name.split_at(at);
    let base = base.strip_suffix('-').unwrap_or(base);
    let numeric = version.split('.').count() <= 2
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (numeric && !base.is_empty()).then_some(base)
}

/// The first line of an installed file an installer wrote as the interpreter to run, when it
/// names `interpreter`: a shebang line, or the `/bin/sh` trampoline pip and uv write when the
/// interpreter's path is too long or has spaces. Returns what follows the interpreter's path
/// on that line (its arguments: ` -E` where pipx added it) and the rest of the file.
fn interpreter_line<'b>(bytes: &'b [u8], interpreter: &Interpreter) -> Option<(&'b str, &'b [u8])> {
    let line_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| from + i + 1)
    };
    if !bytes.starts_with(b"#!") {
        return None;
    }
    let first = line_end(0)?;
    if &bytes[..first] == b"#!/bin/sh\n" {
        let second = line_end(first)?;
        let third = line_end(second)?;
        let exec = std::str::from_utf8(&bytes[first..second]).ok()?;
        if &bytes[second..third] != b"' '''\n" {
            return None;
        }
        let quoted = exec
            .strip_prefix("'''exec' ")?
            .strip_suffix(" \"$0\" \"$@\"\n")?;
        let quote = quoted.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let (path, args) = quoted[1..].split_once(quote)?;
        return interpreter.names(path).then_some((args, &bytes[third..]));
    }
    let line = std::str::from_utf8(&bytes[2..first - 1]).ok()?;
    // A path with a space is written with the trampoline, so the first space ends it.
    let (path, args) = match line.find(' ') {
        Some(at) => line.split_at(at),
        None => (line, ""),
    };
    interpreter.names(path).then_some((args, &bytes[first..]))
}

/// pipx's mark on the launchers of the applications it installs.
const PIPX_ARGS: &str = " -E";

/// `installed` is the wheel's `#!python` script with this environment's interpreter named in
/// its first line, the wheel's arguments kept (and pipx's ` -E` after them).
fn rewritten_script(wheel: &[u8], installed: &[u8], interpreter: &Interpreter) -> bool {
    let Some(first_end) = wheel.iter().position(|&b| b == b'\n').map(|i| i + 1) else {
        return false;
    };
    let line = &wheel[..first_end - 1];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(wheel_args) = line
        .strip_prefix(b"#!pythonw")
        .or_else(|| line.strip_prefix(b"#!python"))
        .and_then(|a| std::str::from_utf8(a).ok())
        .filter(|a| a.is_empty() || a.starts_with(' '))
    else {
        return false;
    };
    match interpreter_line(installed, interpreter) {
        Some((args, rest)) => {
            (args == wheel_args || args.strip_suffix(PIPX_ARGS) == Some(wheel_args))
                && rest == &wheel[first_end..]
        }
        None => false,
    }
}

/// The launchers installers write, past the interpreter line, for `{module}:{func}` (`{import}`
/// being `func`'s first part): pip before 26 (distlib 0.3's template), pip 26, distlib 0.4
/// (virtualenv's seeder), pypa/installer (poetry, pdm), uv.
const LAUNCHERS: &[&str] = &[
    "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import {import}\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit({func}())\n",
    "import sys\nfrom {module} import {import}\nif __name__ == '__main__':\n    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n    sys.exit({func}())\n",
    "# -*- coding: utf-8 -*-\nimport re\nimport sys\nif __name__ == '__main__':\n    from {module} import {import}\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit({func}())\n",
    "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import {import}\nif __name__ == \"__main__\":\n    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n    sys.exit({func}())\n",
    "# -*- coding: utf-8 -*-\nimport sys\nfrom {module} import {import}\nif __name__ == \"__main__\":\n    if sys.argv[0].endswith(\"-script.pyw\"):\n        sys.argv[0] = sys.argv[0][:-11]\n    elif sys.argv[0].endswith(\".exe\"):\n        sys.argv[0] = sys.argv[0][:-4]\n    sys.exit({func}())\n",
];

/// `bytes` is, byte for byte, a launcher an installer writes for `entry`, run by this
/// environment's interpreter.
fn is_launcher(bytes: &[u8], entry: &icelock_dist::ScriptEntry, interpreter: &Interpreter) -> bool {
    const MAX_LAUNCHER: usize = 4096;
    if bytes.len() > MAX_LAUNCHER || entry.attr.is_empty() {
        return false;
    }
    let Some((args, body)) = interpreter_line(bytes, interpreter) else {
        return false;
    };
    if !args.is_empty() && args != PIPX_ARGS {
        return false;
    }
    let import = entry.attr.split('.').next().unwrap_or_default();
    LAUNCHERS.iter().any(|template| {
        let text = template
            .replace("{module}", &entry.module)
            .replace("{import}", import)
            .replace("{func}", &entry.attr);
        text.as_bytes() == body
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn digest(bytes: &[u8]) -> String {
        format!(
            "sha256={}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(bytes))
        )
    }

    /// A RECORD of `(path, content)` rows; `None` content: an empty hash and size.
    fn record(rows: &[(&str, Option<&[u8]>)]) -> String {
        rows.iter()
            .map(|(path, content)| match content {
                Some(c) => format!("{path},{},{}\n", digest(c), c.len()),
                None => format!("{path},,\n"),
            })
            .collect()
    }

    const DI: &str = "demo-1.0.dist-info";
    const LAUNCHER_PIP: &[u8] = b"#!/v/bin/python\nimport sys\nfrom demo.cli import main\nif __name__ == '__main__':\n    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n    sys.exit(main())\n";
    const LAUNCHER_UV: &[u8] = b"#!/v/bin/python\n# -*- coding: utf-8 -*-\nimport sys\nfrom demo.cli import main\nif __name__ == \"__main__\":\n    if sys.argv[0].endswith(\"-script.pyw\"):\n        sys.argv[0] = sys.argv[0][:-11]\n    elif sys.argv[0].endswith(\".exe\"):\n        sys.argv[0] = sys.argv[0][:-4]\n    sys.exit(main())\n";
    const ENTRY_POINTS: &[u8] = b"[console_scripts]\ndemo = demo.cli:main\n";

    struct Case {
        wheel: String,
        installed: String,
        members: BTreeSet<String>,
        bytes: Bytes,
        installer: &'static str,
        /// The installed `entry_points.txt`, as read at scan time.
        entry_points: Vec<u8>,
    }

    impl Case {
        /// A wheel with a module, a `#!python` script, a data file and entry points, and the
        /// installed side as pip lays it out in a venv.
        fn pip() -> Self {
            let script: &[u8] = b"#!python\nimport demo\ndemo.main()\n";
            let wheel = record(&[
                ("demo/__init__.py", Some(b"x = 1\n")),
                ("demo/cli.py", Some(b"def main(): pass\n")),
                ("demo-1.0.data/scripts/demo-hello", Some(script)),
                ("demo-1.0.data/data/share/demo/readme.txt", Some(b"hi\n")),
                ("demo-1.0.dist-info/METADATA", Some(b"Name: demo\n")),
                ("demo-1.0.dist-info/entry_points.txt", Some(ENTRY_POINTS)),
                ("demo-1.0.dist-info/RECORD", None),
            ]);
            let hello: &[u8] = b"#!/v/bin/python\nimport demo\ndemo.main()\n";
            let installed = record(&[
                ("../../../bin/demo", Some(LAUNCHER_PIP)),
                ("../../../bin/demo-hello", Some(hello)),
                ("../../../share/demo/readme.txt", Some(b"hi\n")),
                ("demo-1.0.dist-info/INSTALLER", Some(b"pip\n")),
                ("demo-1.0.dist-info/METADATA", Some(b"Name: demo\n")),
                ("demo-1.0.dist-info/RECORD", None),
                ("demo-1.0.dist-info/REQUESTED", Some(b"")),
                ("demo-1.0.dist-info/entry_points.txt", Some(ENTRY_POINTS)),
                ("demo/__init__.py", Some(b"x = 1\n")),
                ("demo/__pycache__/__init__.cpython-311.pyc", None),
                ("demo/__pycache__/cli.cpython-311.opt-1.pyc", None),
                ("demo/cli.py", Some(b"def main(): pass\n")),
            ]);
            let mut bytes = Bytes::default();
            bytes
                .members
                .insert("demo-1.0.data/scripts/demo-hello".into(), script.to_vec());
            bytes
                .installed
                .insert("../../../bin/demo-hello".into(), Ok(hello.to_vec()));
            bytes
                .installed
                .insert("../../../bin/demo".into(), Ok(LAUNCHER_PIP.to_vec()));
            Self {
                wheel,
                installed,
                members: BTreeSet::new(),
                bytes,
                installer: "pip",
                entry_points: ENTRY_POINTS.to_vec(),
            }
        }

        fn run(&self) -> Result<Bound, Box<FileDiff>> {
            match self.settled() {
                Settled::Bound(bound) => Ok(bound),
                Settled::Differs(diff) => Err(Box::new(diff)),
            }
        }

        fn settled(&self) -> Settled {
            let (rows, _) = record::parse(self.installed.as_bytes());
            let eps = EntryPoints::parse(&self.entry_points);
            let installed = Installed {
                rows: &rows,
                dist_info: DI,
                installer: Some(self.installer),
                entry_points: Some(&eps),
                interpreter: &Interpreter::InFolder("/v/bin".into()),
            };
            let plan = Plan::new(&installed, self.wheel.as_bytes(), &self.members);
            let (members, files) = plan.needs();
            for m in &members {
                assert!(
                    self.bytes.members.contains_key(m),
                    "the plan asks for member {m}"
                );
            }
            for f in &files {
                assert!(
                    self.bytes.installed.contains_key(f),
                    "the plan asks for file {f}"
                );
            }
            plan.settle(&self.bytes, &eps.scripts)
        }

        fn replace_installed(&mut self, path: &str, content: Option<&[u8]>) {
            let (rows, _) = record::parse(self.installed.as_bytes());
            self.installed = rows
                .iter()
                .map(|r| {
                    if r.path == path {
                        match content {
                            Some(c) => format!("{path},{},{}\n", digest(c), c.len()),
                            None => format!("{path},,\n"),
                        }
                    } else {
                        format!(
                            "{},{},{}\n",
                            r.path,
                            r.hash
                                .as_ref()
                                .map(|h| format!(
                                    "{}={}",
                                    h.algorithm,
                                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                                        .encode(&h.digest)
                                ))
                                .unwrap_or_default(),
                            r.size.map(|s| s.to_string()).unwrap_or_default()
                        )
                    }
                })
                .collect();
        }
    }

    #[test]
    fn an_honest_pip_install_is_bound_with_each_rule() {
        let bound = Case::pip().run().unwrap();
        // Six wheel rows (RECORD's own excluded); INSTALLER, REQUESTED, RECORD, two .pyc and
        // the launcher exempt.
        assert_eq!(bound.rows, 6, "{bound:?}");
        assert_eq!(bound.exempt, 6, "{bound:?}");
        assert!(bound.notes.is_empty());
        assert!(bound.rests_on_hashed_rows);
    }

    #[test]
    fn a_changed_module_is_named() {
        let mut case = Case::pip();
        case.replace_installed("demo/cli.py", Some(b"def main(): evil()\n"));
        case.bytes
            .members
            .insert("demo/cli.py".into(), b"def main(): pass\n".to_vec());
        let diff = case.run().unwrap_err();
        assert_eq!(diff.changed, ["demo/cli.py"]);
        assert!(diff.only_installed.is_empty() && diff.only_in_wheel.is_empty());
        assert_eq!(diff.metadata, None);
    }

    #[test]
    fn an_added_and_a_removed_module_are_named() {
        let mut case = Case::pip();
        case.installed
            .push_str(&record(&[("demo/evil.py", Some(b"boom\n"))]));
        case.replace_installed("demo/__init__.py", Some(b"x = 1\n"));
        case.installed = case
            .installed
            .lines()
            .filter(|l| !l.starts_with("demo/cli.py"))
            .map(|l| format!("{l}\n"))
            .collect();
        let diff = case.run().unwrap_err();
        // The removed module's byte-compiled file is no longer an installer's: its source is
        // not there.
        assert_eq!(
            diff.only_installed,
            ["demo/__pycache__/cli.cpython-311.opt-1.pyc", "demo/evil.py"]
        );
        assert_eq!(diff.only_in_wheel, ["demo/cli.py"]);
    }

    #[test]
    fn other_metadata_is_reported_with_both_hashes() {
        let mut case = Case::pip();
        case.replace_installed("demo-1.0.dist-info/METADATA", Some(b"Name: demo\nX: 1\n"));
        case.bytes.members.insert(
            "demo-1.0.dist-info/METADATA".into(),
            b"Name: demo\n".to_vec(),
        );
        let diff = case.run().unwrap_err();
        assert_eq!(diff.changed, ["demo-1.0.dist-info/METADATA"]);
        assert!(diff.only_metadata_differs(DI));
        let (wheel, installed) = diff.metadata.unwrap();
        assert_eq!(wheel, hex::encode(sha256(b"Name: demo\n")));
        assert_eq!(installed, hex::encode(sha256(b"Name: demo\nX: 1\n")));
    }

    #[test]
    fn a_wheel_whose_record_is_wrong_is_bound_by_its_bytes() {
        let mut case = Case::pip();
        // The wheel's row is wrong; the installer copied the file, whose bytes the installed
        // row hashes.
        case.wheel = case.wheel.replace(
            &format!("demo/cli.py,{},", digest(b"def main(): pass\n")),
            &format!("demo/cli.py,{},", digest(b"something else")),
        );
        case.bytes
            .members
            .insert("demo/cli.py".into(), b"def main(): pass\n".to_vec());
        let bound = case.run().unwrap();
        assert_eq!(bound.notes.len(), 1, "{bound:?}");
        assert!(bound.notes[0].contains("demo/cli.py"));
        assert!(bound.rests_on_hashed_rows);
        // The same wrong row with a file that is not the wheel's either: changed.
        case.replace_installed("demo/cli.py", Some(b"def main(): evil()\n"));
        assert_eq!(case.run().unwrap_err().changed, ["demo/cli.py"]);
    }

    /// A launcher is byte for byte one an installer writes for the entry point, run by this
    /// environment's interpreter: a copied venv's (another interpreter), an edited one, one
    /// with a line added or moved, is not.
    #[test]
    fn launchers_must_be_launchers_of_the_entry_point() {
        let body_pip25 = "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom demo.cli import main\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n";
        let body_installer = "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom demo.cli import main\nif __name__ == \"__main__\":\n    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n    sys.exit(main())\n";
        let body_distlib04 = "# -*- coding: utf-8 -*-\nimport re\nimport sys\nif __name__ == '__main__':\n    from demo.cli import main\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n";
        let owned = |text: String| text.into_bytes();
        let cases: Vec<(Vec<u8>, bool)> = vec![
            (LAUNCHER_PIP.to_vec(), true),
            (LAUNCHER_UV.to_vec(), true),
            (owned(format!("#!/v/bin/python3\n{body_pip25}")), true),
            (
                owned(format!("#!/v/bin/python3.11\n{body_installer}")),
                true,
            ),
            (owned(format!("#!/v/bin/python\n{body_distlib04}")), true),
            // pipx's mark.
            (owned(format!("#!/v/bin/python -E\n{body_pip25}")), true),
            // The trampoline for a long path, in either quoting.
            (
                owned(format!(
                    "#!/bin/sh\n'''exec' '/v/bin/python' \"$0\" \"$@\"\n' '''\n{body_pip25}"
                )),
                true,
            ),
            (
                owned(format!(
                    "#!/bin/sh\n'''exec' \"/v/bin/python\" \"$0\" \"$@\"\n' '''\n{body_pip25}"
                )),
                true,
            ),
            // Another interpreter (a copied venv's, the system's), another argument, more
            // shell in the trampoline.
            (owned(format!("#!/w/bin/python\n{body_pip25}")), false),
            (owned(format!("#!/usr/bin/python3\n{body_pip25}")), false),
            (
                owned(format!("#!/v/bin/python -I -c evil\n{body_pip25}")),
                false,
            ),
            (
                owned(format!(
                    "#!/bin/sh\n'''exec' '/v/bin/python' \"$0\" \"$@\"; evil\n' '''\n{body_pip25}"
                )),
                false,
            ),
            (
                owned(format!(
                    "#!/bin/sh\n'''exec' '/w/bin/python' \"$0\" \"$@\"\n' '''\n{body_pip25}"
                )),
                false,
            ),
            // Another call, an extra statement, lines moved, no shebang.
            (
                owned(format!(
                    "#!/v/bin/python\n{}",
                    body_pip25.replace("demo.cli", "demo.other")
                )),
                false,
            ),
            (
                owned(format!(
                    "#!/v/bin/python\n{}",
                    body_pip25.replace("import sys\n", "import sys\nimport os; os.system('x')\n")
                )),
                false,
            ),
            (
                owned(format!(
                    "#!/v/bin/python\n{}",
                    body_pip25.replace("import re\nimport sys\n", "import sys\nimport re\n")
                )),
                false,
            ),
            (owned(format!("#!/v/bin/python\n{body_pip25}\n")), false),
            (body_pip25.as_bytes().to_vec(), false),
        ];
        for (launcher, ok) in cases {
            let mut case = Case::pip();
            case.replace_installed("../../../bin/demo", Some(&launcher));
            case.bytes
                .installed
                .insert("../../../bin/demo".into(), Ok(launcher.clone()));
            let result = case.run();
            assert_eq!(
                result.is_ok(),
                ok,
                "{}: {result:?}",
                String::from_utf8_lossy(&launcher)
            );
            if !ok {
                assert_eq!(result.unwrap_err().only_installed, ["../../../bin/demo"]);
            }
        }
    }

    /// Installing pip, pip adds `pipX.Y` beside the `pip` and `pip3` its wheel declares; no
    /// other name is taken for the `pip` entry point's.
    #[test]
    fn pips_versioned_launcher_is_its_own() {
        let pip = icelock_dist::ScriptEntry {
            name: "pip".into(),
            module: "pip._internal.cli.main".into(),
            attr: "main".into(),
            gui: false,
        };
        let scripts = [pip];
        for (path, found) in [
            ("../../../bin/pip3.11", true),
            ("../../../bin/pip3", true),
            ("../../bin/pip3.14", true),
            ("../../../bin/pip3.x", false),
            ("../../../bin/pipx", false),
            ("../../../bin/pip3.11.1", false),
            ("../../../bin/pip.", false),
            // virtualenv's seeder.
            ("../../../bin/pip-3.11", true),
            ("../../../bin/pip-", false),
        ] {
            assert_eq!(launcher_for(path, &scripts).is_some(), found, "{path}");
        }
    }

    #[test]
    fn a_launcher_needs_the_wheels_entry_points() {
        let mut case = Case::pip();
        // The installed entry_points.txt is not the wheel's (an entry added, its row
        // rewritten): launchers are not judged by it.
        let evil = b"[console_scripts]\ndemo = demo.cli:main\nevil = demo:x\n";
        case.replace_installed("demo-1.0.dist-info/entry_points.txt", Some(evil));
        case.entry_points = evil.to_vec();
        case.bytes.members.insert(
            "demo-1.0.dist-info/entry_points.txt".into(),
            ENTRY_POINTS.to_vec(),
        );
        let diff = case.run().unwrap_err();
        assert!(
            diff.only_installed
                .contains(&"../../../bin/demo".to_string()),
            "{diff:?}"
        );
        assert!(
            diff.changed
                .contains(&"demo-1.0.dist-info/entry_points.txt".to_string())
        );
    }

    #[test]
    fn a_script_must_be_the_wheels_with_a_new_first_line() {
        let mut case = Case::pip();
        let edited: &[u8] = b"#!/v/bin/python\nimport demo\ndemo.main(); evil()\n";
        case.replace_installed("../../../bin/demo-hello", Some(edited));
        case.bytes
            .installed
            .insert("../../../bin/demo-hello".into(), Ok(edited.to_vec()));
        assert_eq!(case.run().unwrap_err().changed, ["../../../bin/demo-hello"]);
        // A script that did not start with #!python is never rewritten; one that did names
        // this environment's interpreter, with the wheel's arguments (and pipx's -E).
        let here = Interpreter::InFolder("/v/bin".into());
        for (wheel, installed, ok) in [
            (
                &b"#!/bin/sh\necho\n"[..],
                &b"#!/v/bin/python\necho\n"[..],
                false,
            ),
            (b"#!python\necho\n", b"#!/v/bin/python\necho\n", true),
            (b"#!python\necho\n", b"#!/v/bin/python3.11 -E\necho\n", true),
            (b"#!python -u\necho\n", b"#!/v/bin/python -u\necho\n", true),
            (b"#!python -u\necho\n", b"#!/v/bin/python\necho\n", false),
            (b"#!python\necho\n", b"#!/w/bin/python\necho\n", false),
            (b"#!python\necho\n", b"#!/v/bin/bash\necho\n", false),
            (
                b"#!python\necho\n",
                b"#!/v/bin/python -c 'evil()'\necho\n",
                false,
            ),
        ] {
            assert_eq!(
                rewritten_script(wheel, installed, &here),
                ok,
                "{}",
                String::from_utf8_lossy(installed)
            );
        }
        assert!(rewritten_script(
            b"#!python\necho\n",
            b"#!/usr/bin/python3\necho\n",
            &Interpreter::AnyAbsolute
        ));
    }

    #[test]
    fn pips_target_layout_and_uvs_own_files() {
        let mut case = Case::pip();
        case.installed = case.installed.replace("../../../", "../../");
        for (k, v) in std::mem::take(&mut case.bytes.installed) {
            case.bytes
                .installed
                .insert(k.replace("../../../", "../../"), v);
        }
        assert!(case.run().is_ok());

        let mut case = Case::pip();
        case.installed.push_str(&record(&[(
            "demo-1.0.dist-info/uv_cache.json",
            Some(b"{}"),
        )]));
        assert_eq!(
            case.run().unwrap_err().only_installed,
            ["demo-1.0.dist-info/uv_cache.json"],
            "uv's files are exempt only where uv installed"
        );
        case.installer = "uv";
        assert!(case.run().is_ok());
    }

    #[test]
    fn a_member_the_record_leaves_out_is_checked_by_its_bytes() {
        let mut case = Case::pip();
        case.installed
            .push_str(&record(&[("demo-1.0.dist-info/RECORD.jws", Some(b"sig"))]));
        case.members.insert("demo-1.0.dist-info/RECORD.jws".into());
        case.bytes
            .members
            .insert("demo-1.0.dist-info/RECORD.jws".into(), b"sig".to_vec());
        let bound = case.run().unwrap();
        assert_eq!(bound.notes.len(), 1);
        case.bytes
            .members
            .insert("demo-1.0.dist-info/RECORD.jws".into(), b"other".to_vec());
        assert_eq!(
            case.run().unwrap_err().changed,
            ["demo-1.0.dist-info/RECORD.jws"]
        );
    }

    #[test]
    fn an_installed_row_without_a_hash_is_read() {
        let mut case = Case::pip();
        case.replace_installed("demo/cli.py", None);
        case.bytes
            .members
            .insert("demo/cli.py".into(), b"def main(): pass\n".to_vec());
        case.bytes
            .installed
            .insert("demo/cli.py".into(), Ok(b"def main(): pass\n".to_vec()));
        let bound = case.run().unwrap();
        assert!(!bound.rests_on_hashed_rows, "such a proof is not kept");
        case.bytes
            .installed
            .insert("demo/cli.py".into(), Ok(b"def main(): evil()\n".to_vec()));
        assert_eq!(case.run().unwrap_err().changed, ["demo/cli.py"]);
    }

    #[test]
    fn compiled_files_belong_to_their_source() {
        let sources: BTreeSet<String> = ["a/b.py", "top.py", "a/x.y.py"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for (path, exempt) in [
            ("a/__pycache__/b.cpython-311.pyc", true),
            ("a/__pycache__/b.cpython-311.opt-2.pyc", true),
            ("__pycache__/top.cpython-314.pyc", true),
            ("a/__pycache__/x.y.cpython-311.pyc", true),
            ("a/__pycache__/c.cpython-311.pyc", false),
            ("a/b.pyc", false),
            ("a/not__pycache__/b.cpython-311.pyc", false),
        ] {
            assert_eq!(is_compiled_source(path, &sources), exempt, "{path}");
        }
    }
}
