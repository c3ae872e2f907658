//! Bytecode: the `.pyc` files Python runs in place of a distribution's sources, bound to them.
//!
//! RECORD lists a `.pyc` without a hash (pip) or not at all (uv), and Python writes more of them
//! at import time, so no RECORD binds them. Yet Python runs a `__pycache__/X.<tag>.pyc` instead
//! of `X.py` whenever its header says it was compiled from that source: a timestamp pyc whose
//! recorded mtime and size are the source's, a checked hash-based pyc whose source hash
//! matches, and an unchecked hash-based pyc always (PEP 552). Whatever code it holds then runs.
//!
//! So every such pyc of a RECORD-listed source must be that source compiled. Only the
//! environment's own interpreter can say (its magic number, its cache tag, its compiler), so it
//! is run, isolated (`-I -S`: nothing of the environment is imported, no `.pth` file read), to
//! compile each source and compare the code objects (equal code, whatever file name was
//! compiled in). A pyc whose header does not match its source is rewritten by Python before any
//! use and is left alone. A verdict is remembered by the pyc's stat and the source's, as file
//! hashes are in [`KnownFiles`](crate::known::KnownFiles).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use rayon::prelude::*;
use sha2::Digest;

use crate::InstalledDist;
use crate::integrity::{FileProblem, at_folder, locate};
use crate::known::{Cutoff, KnownFiles, Match, Stat};
use crate::record::RecordHash;

/// One pyc that Python would load in place of a listed source.
#[derive(Debug, Clone)]
struct Job {
    dist: usize,
    source: PathBuf,
    pyc: PathBuf,
    /// As people see it: the source's RECORD folder, `__pycache__/`, the pyc's name.
    shown: String,
    source_shown: String,
    /// What the verdict is remembered under (see [`verdict_key`]).
    key: Option<RecordHash>,
}

/// What checking came to.
#[derive(Debug, Default)]
pub struct Checked {
    /// Pycs Python would load, found to be their sources compiled (now or remembered).
    pub bound: usize,
    /// Per dist (in the order given), the pycs that are not.
    pub problems: Vec<Vec<FileProblem>>,
    /// Why nothing could be checked, when that is so.
    pub unchecked: Option<String>,
}

/// Checks the pycs of `dists`' listed sources with `python`, whose cache tag (`cpython-311`)
/// is `tag` where known (else every pyc of a source's name is looked at, and the interpreter
/// tells its own). With `known`, verdicts it holds are reused and the ones made now returned
/// to remember (`None`: nothing new).
pub fn check(
    dists: &[InstalledDist],
    python: &Path,
    tag: Option<&str>,
    known: Option<&KnownFiles>,
) -> (Checked, Option<KnownFiles>) {
    let cutoff = Cutoff::for_run_started(SystemTime::now());
    let mut checked = Checked {
        problems: vec![Vec::new(); dists.len()],
        ..Checked::default()
    };
    // Each dist's pycs, found in parallel (a large environment has some 20,000, each a stat or
    // two). A verdict remembered from an earlier run, by the pyc's stat and the source's, is
    // reused before the pyc is even opened.
    let found: Vec<(Vec<Job>, Vec<Reused>, Vec<Folder>)> = dists
        .par_iter()
        .enumerate()
        .map(|(i, dist)| discover(i, dist, known, tag))
        .collect();
    // A folder kept open past this run could be replaced on disk before the next one.
    rayon::broadcast(|_| at_folder::forget());
    // What is remembered next is what is still true now (reused or made), nothing older.
    let mut fresh = KnownFiles::new();
    let mut remember = |pyc: &Path, stat: Stat, key: &RecordHash| {
        if cutoff.admits(&stat)
            && let Some(found) = Match::new(pyc.to_path_buf(), stat, key)
        {
            fresh.insert(found);
        }
    };
    let mut jobs = Vec::new();
    let mut folders_changed = false;
    for (found_jobs, reused, folders) in found {
        checked.bound += reused.len();
        for (pyc, stat, key) in reused {
            remember(&pyc, stat, &key);
        }
        for (folder, stat, key, was_known) in folders {
            folders_changed |= !was_known;
            remember(&folder, stat, &key);
        }
        jobs.extend(found_jobs);
    }
    let todo = jobs;
    let verdicts = if todo.is_empty() {
        Vec::new()
    } else {
        match compare(python, &todo) {
            Ok(verdicts) => verdicts,
            Err(why) => {
                checked.unchecked = Some(why);
                return (checked, None);
            }
        }
    };
    for (job, verdict) in todo.iter().zip(verdicts) {
        match verdict {
            Verdict::Same => {
                checked.bound += 1;
                if let (Some(key), Ok(meta)) = (&job.key, std::fs::symlink_metadata(&job.pyc))
                    && let Some(stat) = Stat::of(&meta)
                {
                    remember(&job.pyc, stat, key);
                }
            }
            Verdict::Inert => {}
            Verdict::Differs(detail) => checked.problems[job.dist].push(FileProblem::Bytecode {
                path: job.shown.clone(),
                of: job.source_shown.clone(),
                detail,
            }),
        }
    }
    // Nothing to write when every verdict was reused and none was dropped.
    // Nothing to write when every verdict was reused and none was dropped (a folder shared by
    // several dists is found once per dist, so entries are counted as remembered, by inode).
    let changed =
        !todo.is_empty() || folders_changed || known.is_some_and(|k| k.len() != fresh.len());
    (checked, (known.is_some() && changed).then_some(fresh))
}
/// A pyc whose verdict was remembered: where it is, its stat and its key, to remember again.
type Reused = (PathBuf, Stat, RecordHash);

/// A `__pycache__` folder found to hold no `-O`/`-OO` bytecode of this interpreter's: its stat,
/// its key, and whether that was known already.
type Folder = (PathBuf, Stat, RecordHash, bool);

/// Whether `cache` holds no optimised pyc of `tag` (`NAME.TAG.opt-1.pyc`, `.opt-2.pyc`), so
/// only each source's plain pyc need be looked for: known from an earlier run while the
/// folder's stat is what it was then (a file added, removed or renamed in it changes it), else
/// by listing it. What to remember goes to `folders`.
fn without_optimised(
    cache: &Path,
    tag: &str,
    known: Option<&KnownFiles>,
    folders: &mut Vec<Folder>,
) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(cache) else {
        // No folder, no pycs of any level.
        return true;
    };
    let stat = meta.is_dir().then(|| Stat::of(&meta)).flatten();
    let key = {
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"icelock bytecode folder without optimised pycs 1\0");
        hasher.update(tag.as_bytes());
        RecordHash {
            algorithm: "sha256".into(),
            digest: crate::record::Digest::from_slice(&hasher.finalize()),
        }
    };
    if let (Some(known), Some(stat)) = (known, stat)
        && known.unchanged(cache, &stat, &key)
    {
        folders.push((cache.to_path_buf(), stat, key, true));
        return true;
    }
    let optimised = format!(".{tag}.opt-");
    let any = std::fs::read_dir(cache).map_or(true, |entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(&optimised))
    });
    if let (false, Some(stat)) = (any, stat) {
        folders.push((cache.to_path_buf(), stat, key, false));
    }
    !any
}

/// The pycs of `dist`'s listed sources Python could load, and those whose verdict `known`
/// holds (with what to remember them by again).
fn discover(
    i: usize,
    dist: &InstalledDist,
    known: Option<&KnownFiles>,
    tag: Option<&str>,
) -> (Vec<Job>, Vec<Reused>, Vec<Folder>) {
    let mut jobs = Vec::new();
    let mut reused = Vec::new();
    let mut folders = Vec::new();
    let mut plain_only: HashMap<PathBuf, bool> = HashMap::new();
    let mut listings: HashMap<PathBuf, Vec<String>> = HashMap::new();
    for row in dist.record.iter().flatten() {
        let Some(stem_path) = row.path.strip_suffix(".py") else {
            continue;
        };
        let Ok(source) = locate(dist, &row.path) else {
            continue;
        };
        let (Some(folder), Some(stem)) = (source.parent(), source.file_stem()) else {
            continue;
        };
        let cache = folder.join("__pycache__");
        let stem = stem.to_string_lossy();
        let record_folder = stem_path
            .rsplit_once('/')
            .map_or(String::new(), |(f, _)| format!("{f}/"));
        // With this interpreter's cache tag known, only its three names can be loaded by it:
        // each is looked for by a stat relative to the folder (kept open while its files are),
        // the stat a remembered verdict is then checked by. Without it, the folder is listed.
        let found: Vec<(String, Option<Stat>)> = match tag {
            Some(tag) => {
                let plain = *plain_only
                    .entry(cache.clone())
                    .or_insert_with(|| without_optimised(&cache, tag, known, &mut folders));
                let levels: &[&str] = if plain {
                    &[""]
                } else {
                    &["", ".opt-1", ".opt-2"]
                };
                levels
                    .iter()
                    .filter_map(|level| {
                        let name = format!("{stem}.{tag}{level}.pyc");
                        let stat = at_folder::lstat_file(&cache, std::ffi::OsStr::new(&name))?;
                        Some((name, Some(stat)))
                    })
                    .collect()
            }
            None => {
                let listed = listings.entry(cache.clone()).or_insert_with(|| {
                    std::fs::read_dir(&cache)
                        .map(|entries| {
                            entries
                                .flatten()
                                .filter_map(|e| e.file_name().into_string().ok())
                                .filter(|n| n.ends_with(".pyc"))
                                .collect()
                        })
                        .unwrap_or_default()
                });
                let prefix = format!("{stem}.");
                listed
                    .iter()
                    .filter(|n| {
                        n.strip_prefix(prefix.as_str())
                            .is_some_and(|rest| rest.matches('.').count() <= 2)
                    })
                    .map(|n| (n.clone(), None))
                    .collect()
            }
        };
        // The verdict "this pyc is that source compiled" holds while the pyc is unchanged (its
        // stat) and the source is what RECORD hashes (checked on every run): it is reused
        // before anything is opened, with no stat of the source.
        let key = row.hash.as_ref().map(|hash| verdict_key(&row.path, hash));
        let mut source_meta = None;
        for (name, stat) in found {
            let pyc = cache.join(&name);
            let stat = stat.or_else(|| at_folder::lstat_file(&cache, std::ffi::OsStr::new(&name)));
            if let (Some(known), Some(key), Some(stat)) = (known, &key, stat)
                && known.unchanged(&pyc, &stat, key)
            {
                reused.push((pyc, stat, key.clone()));
                continue;
            }
            if source_meta.is_none() {
                source_meta = std::fs::metadata(&source).ok();
            }
            let Some(source_meta) = &source_meta else {
                continue;
            };
            if !loadable_header(&pyc, source_meta) {
                continue;
            }
            jobs.push(Job {
                dist: i,
                source: source.clone(),
                pyc,
                shown: format!("{record_folder}__pycache__/{name}"),
                source_shown: row.path.clone(),
                key: key.clone(),
            });
        }
    }
    (jobs, reused, folders)
}

/// Whether Python could take `pyc` for its source by the header alone: a hash-based pyc (its
/// source hash is the interpreter's to check), or a timestamp pyc recording the source's mtime
/// and size (both modulo 2³², as Python compares them).
fn loadable_header(pyc: &Path, source: &std::fs::Metadata) -> bool {
    let mut header = [0u8; 16];
    let read = std::fs::File::open(pyc).and_then(|mut f| f.read_exact(&mut header));
    if read.is_err() {
        return false;
    }
    let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    match word(4) {
        0 => {
            let mtime = source
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            word(8) == mtime as u32 && word(12) == source.len() as u32
        }
        // Bit 0: hash-based; bit 1: checked. Other flags make Python refuse the file.
        1 | 3 => true,
        _ => false,
    }
}

/// The digest a verdict is remembered under: the source's RECORD path and digest (a source
/// that is no longer that file fails its own check first).
fn verdict_key(source: &str, hash: &RecordHash) -> RecordHash {
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"icelock bytecode verdict 2\0");
    hasher.update(source.as_bytes());
    hasher.update(b"\0");
    hasher.update(hash.algorithm.as_bytes());
    hasher.update(&hash.digest);
    RecordHash {
        algorithm: "sha256".into(),
        digest: crate::record::Digest::from_slice(&hasher.finalize()),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Same,
    /// Python would not load it (another interpreter's, a stale or failing header).
    Inert,
    Differs(String),
}

/// Run by the environment's interpreter with `-I -S`: one `[source, pyc]` JSON line in, one
/// verdict line out. It decides as `importlib._bootstrap_external` does whether the pyc is
/// loaded for the source, and if so whether its code is the source's compiled.
const WORKER: &str = r#"
import sys, json, marshal, _imp, importlib.util
from importlib import _bootstrap_external as ext
magic = importlib.util.MAGIC_NUMBER

def raw(code):
    # The instructions as they are in the file: `==` compares them with specialised opcodes
    # turned back into their generic forms and the inline caches skipped, so a pyc carrying
    # a specialised opcode (another operation) or bytes in a cache would pass it.
    return getattr(code, "_co_code_adaptive", code.co_code)

def raw_same(a, b):
    if raw(a) != raw(b):
        return False
    inner_a = [c for c in a.co_consts if isinstance(c, type(a))]
    inner_b = [c for c in b.co_consts if isinstance(c, type(b))]
    return len(inner_a) == len(inner_b) and all(raw_same(x, y) for x, y in zip(inner_a, inner_b))

for line in sys.stdin:
    src, pyc = json.loads(line)
    try:
        levels = {importlib.util.cache_from_source(src, optimization=o): o for o in ("", 1, 2)}
        if pyc not in levels:
            print("inert", flush=True); continue
        with open(pyc, "rb") as f:
            data = f.read()
        if data[:4] != magic:
            print("inert", flush=True); continue
        with open(src, "rb") as f:
            source = f.read()
        flags = int.from_bytes(data[4:8], "little")
        if flags & 1:
            if flags & 2 and _imp.check_hash_based_pycs != "never":
                if _imp.source_hash(ext._RAW_MAGIC_NUMBER, source) != data[8:16]:
                    print("inert", flush=True); continue
        else:
            import os
            st = os.stat(src)
            if int.from_bytes(data[8:12], "little") != int(st.st_mtime) & 0xFFFFFFFF or \
               int.from_bytes(data[12:16], "little") != st.st_size & 0xFFFFFFFF:
                print("inert", flush=True); continue
        try:
            code = marshal.loads(data[16:])
        except Exception:
            print("inert", flush=True); continue
        level = levels[pyc]
        try:
            ref = compile(source, src, "exec", dont_inherit=True, optimize=0 if level == "" else level)
        except SyntaxError as e:
            print("differs its source does not compile (%s), yet Python would run this" % e.msg, flush=True); continue
        print("same" if code == ref and raw_same(code, ref) else "differs other code than its source compiles to", flush=True)
    except Exception as e:
        print("differs it could not be compared (%r)" % (e,), flush=True)
"#;

/// The verdicts for `jobs`, in order, from as many interpreter processes as there are cores.
fn compare(python: &Path, jobs: &[Job]) -> Result<Vec<Verdict>, String> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().div_ceil(64))
        .max(1);
    let chunk = jobs.len().div_ceil(workers);
    let results: Vec<Result<Vec<Verdict>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| scope.spawn(move || run_worker(python, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("the bytecode check stopped".into()))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(jobs.len());
    for part in results {
        out.extend(part?);
    }
    Ok(out)
}

fn run_worker(python: &Path, jobs: &[Job]) -> Result<Vec<Verdict>, String> {
    let failed = |e: &dyn std::fmt::Display| {
        format!(
            "{} could not be run to compare bytecode with its sources: {e}",
            python.display()
        )
    };
    let mut child = Command::new(python)
        .args(["-I", "-S", "-c", WORKER])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(&e))?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let lines: Vec<String> = jobs
        .iter()
        .map(|job| {
            serde_json::to_string(&(job.source.to_string_lossy(), job.pyc.to_string_lossy()))
                .expect("strings serialize")
        })
        .collect();
    // Written from another thread while the answers are read, so neither pipe fills up.
    let writer = std::thread::spawn(move || {
        for line in lines {
            if writeln!(stdin, "{line}").is_err() {
                break;
            }
        }
    });
    let mut verdicts = Vec::with_capacity(jobs.len());
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| failed(&e))?;
        verdicts.push(match line.split_once(' ') {
            None if line == "same" => Verdict::Same,
            None if line == "inert" => Verdict::Inert,
            Some(("differs", why)) => Verdict::Differs(why.to_string()),
            _ => return Err(failed(&format!("it answered {line:?}"))),
        });
    }
    let _ = writer.join();
    let status = child.wait().map_err(|e| failed(&e))?;
    if verdicts.len() != jobs.len() {
        return Err(failed(&format!(
            "it answered {} of {} ({status})",
            verdicts.len(),
            jobs.len()
        )));
    }
    Ok(verdicts)
}
