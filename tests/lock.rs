//! `icelock lock` against real environments built offline by pip and by uv from the fixture
//! wheels, attributed against a local package index (tests/index/server.py) that serves the
//! very wheels they were installed from. The oracles: the files themselves (sha256, size), what
//! pip says it would install (`pip install --dry-run --report`), what the installers recorded
//! (`direct_url.json`), and the server's own log of every request.
//!
//! Every icelock run here sees no machine-wide index settings and a fresh `HOME` (so a fresh
//! cache), and names its index with `--index-url` or `--no-index --find-links`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;
use support::*;

/// Wheel-installed dists of the full environment (everything but the editables and the
/// path-installed demo-single).
const FULL_INDEX: &[&str] = &[
    "backdemo-tarfile",
    "demo-app",
    "demo-core",
    "demo-extra",
    "demo-importname",
    "demo-meta",
    "demo-native",
    "demo-quirks",
    "demo-scripts",
    "nsdemo-alpha",
    "nsdemo-beta",
    "setuptools",
];

/// Wheels above this size must be read in ranges, never fetched whole, to prove METADATA.
const BIG: u64 = 70 * 1024;

// ---------------------------------------------------------------------------------------------
// What the index serves

#[derive(Debug, Clone)]
struct ServedFile {
    /// The real file (the served folder holds links to it).
    path: PathBuf,
    size: u64,
    sha256: String,
    /// sha256 of the wheel's own `.dist-info/METADATA`.
    metadata_sha256: String,
    /// As server.py lists it (`upload-time`, from the file's mtime).
    upload_time: String,
}

struct Served {
    /// The folder server.py serves: links to every fixture wheel, the tools wheels and the
    /// big wheel.
    dir: PathBuf,
    /// The folder holding the big wheel (a find-links location for installing it).
    extra: PathBuf,
    files: BTreeMap<String, ServedFile>,
}

impl Served {
    /// The served wheel of `name` (normalised) at `version`.
    fn wheel(&self, name: &str, version: &str) -> (&str, &ServedFile) {
        let found: Vec<(&str, &ServedFile)> = self
            .files
            .iter()
            .filter(|(f, _)| {
                let parts: Vec<&str> = f.trim_end_matches(".whl").split('-').collect();
                f.ends_with(".whl") && normalize(parts[0]) == name && parts[1] == version
            })
            .map(|(f, s)| (f.as_str(), s))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "served wheels of {name} {version}: {found:?}"
        );
        found[0]
    }
}

/// Facts about files, from the tools python: size, sha256, METADATA sha256, upload time as
/// server.py computes it.
fn file_facts(paths: &[PathBuf]) -> Vec<ServedFile> {
    let args: Vec<&OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
    let out = tools().python_eval(
        r#"
import hashlib, json, os, sys, time, zipfile
out = []
for p in sys.argv[1:]:
    data = open(p, "rb").read()
    meta = ""
    if p.endswith(".whl"):
        with zipfile.ZipFile(p) as zf:
            for n in zf.namelist():
                parts = n.split("/")
                if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                    meta = hashlib.sha256(zf.read(n)).hexdigest()
                    break
    out.append({
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "metadata_sha256": meta,
        "upload_time": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(os.path.getmtime(p))),
    })
print(json.dumps(out))
"#,
        &args,
    );
    let v: Value = serde_json::from_str(&out).expect("file facts JSON");
    v.as_array()
        .unwrap()
        .iter()
        .zip(paths)
        .map(|(f, p)| ServedFile {
            path: p.clone(),
            size: f["size"].as_u64().unwrap(),
            sha256: f["sha256"].as_str().unwrap().to_owned(),
            metadata_sha256: f["metadata_sha256"].as_str().unwrap().to_owned(),
            upload_time: f["upload_time"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// Writes demo-big 1.0: a pure wheel with a 400 KB incompressible file, its METADATA stored
/// first in the zip and its RECORD last, so reading both takes ranges from both ends.
fn write_big_wheel(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let out = tools().python_eval(
        r#"
import base64, hashlib, os, random, sys, zipfile
di = "demo_big-1.0.dist-info"
entries = [
    (di + "/METADATA", b"Metadata-Version: 2.1\nName: demo-big\nVersion: 1.0\nSummary: icelock test fixture demo-big: too big to fetch whole\n"),
    (di + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: icelock-tests (1.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ("demo_big/__init__.py", b"import os\nBLOB = os.path.join(os.path.dirname(__file__), 'blob.bin')\n"),
    ("demo_big/blob.bin", random.Random(1).randbytes(400000)),
]
# A thousand small files give a RECORD of ~80 KB, stored: it lies outside the last 64 KiB and
# far from METADATA, so a test can tell whether it was read.
entries += [("demo_big/data/f%04d.txt" % i, b"%d\n" % i) for i in range(1000)]
path = os.path.join(sys.argv[1], "demo_big-1.0-py3-none-any.whl")
rows = []
with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
    for arc, data in entries + [(di + "/RECORD", None)]:
        if data is None:
            rows.append(arc + ",,")
            data = ("\n".join(rows) + "\n").encode()
        else:
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append("%s,sha256=%s,%d" % (arc, digest, len(data)))
        info = zipfile.ZipInfo(arc, date_time=(2020, 2, 2, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED if arc.endswith("RECORD") else zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16
        zf.writestr(info, data)
print(path)
"#,
        &[dir.as_os_str()],
    );
    PathBuf::from(out.trim())
}

fn served() -> &'static Served {
    static S: OnceLock<Served> = OnceLock::new();
    S.get_or_init(|| {
        let scratch = process_scratch();
        let extra = scratch.join("extra-wheels");
        let big = write_big_wheel(&extra);
        let mut paths: Vec<PathBuf> = wheelhouse().wheels.iter().map(|w| w.path.clone()).collect();
        for e in fs::read_dir(&tools().wheels).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "whl") {
                paths.push(p);
            }
        }
        paths.push(big);
        let dir = scratch.join("served");
        fs::create_dir_all(&dir).unwrap();
        for p in &paths {
            std::os::unix::fs::symlink(p, dir.join(p.file_name().unwrap())).unwrap();
        }
        let files = file_facts(&paths)
            .into_iter()
            .map(|f| {
                (
                    f.path.file_name().unwrap().to_string_lossy().into_owned(),
                    f,
                )
            })
            .collect();
        Served { dir, extra, files }
    })
}

/// A folder served by a test of its own: links to every served wheel, plus `extra` files.
fn served_with(parent: &Path, extra: &[&Path]) -> PathBuf {
    let dir = parent.join("served");
    fs::create_dir_all(&dir).unwrap();
    for f in served().files.values() {
        std::os::unix::fs::symlink(&f.path, dir.join(f.path.file_name().unwrap())).unwrap();
    }
    for p in extra {
        fs::copy(p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir
}

// ---------------------------------------------------------------------------------------------
// Environments

/// Installs `args` with the venv's installer from the `find_links` folders only.
fn install_from<S: AsRef<OsStr>>(venv: &Venv, find_links: &[&Path], args: &[S]) {
    let mut cmd = match venv.installer {
        Installer::Pip => {
            let mut c = venv.pip_command();
            c.arg("install");
            c
        }
        Installer::Uv => venv.uv_pip_command("install"),
    };
    cmd.arg("--no-index");
    for dir in find_links {
        cmd.arg("--find-links").arg(dir);
    }
    cmd.args(args);
    run_ok(&mut cmd);
}

/// demo-big (400 KB), setuptools (the biggest real wheel at hand) and demo-app with demo-core.
fn big_env(installer: Installer) -> &'static Venv {
    static PIP: OnceLock<Venv> = OnceLock::new();
    static UV: OnceLock<Venv> = OnceLock::new();
    let cell = match installer {
        Installer::Pip => &PIP,
        Installer::Uv => &UV,
    };
    cell.get_or_init(|| {
        let venv = Venv::create(
            &process_scratch().join(format!("big-{}", installer.name())),
            installer,
        );
        install_from(&venv, &[&served().extra], &["demo-big"]);
        venv.install(&["setuptools", "demo-app"]);
        venv
    })
}

const BIG_INDEX: &[&str] = &["demo-app", "demo-big", "demo-core", "setuptools"];

/// What pip would install for the full environment's requirements from the same folders:
/// normalised name → (file name, sha256), from `pip install --dry-run --report`.
fn pip_resolution() -> &'static BTreeMap<String, (String, String)> {
    static R: OnceLock<BTreeMap<String, (String, String)>> = OnceLock::new();
    R.get_or_init(|| {
        let env = shared_full_env(Installer::Pip);
        let tmp = tempdir();
        let report = tmp.path().join("report.json");
        let mut cmd = env.venv.pip_command();
        cmd.args([
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
        ])
        .arg(&report)
        .arg("--no-index")
        .arg("--find-links")
        .arg(&wheelhouse().dir)
        .arg("--find-links")
        .arg(&tools().wheels)
        .args(FULL_REQUIREMENTS)
        .arg("setuptools");
        run_ok(&mut cmd);
        let r: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
        r["install"]
            .as_array()
            .expect("install array")
            .iter()
            .map(|i| {
                let url = i["download_info"]["url"].as_str().unwrap();
                let sha = i["download_info"]["archive_info"]["hashes"]["sha256"]
                    .as_str()
                    .unwrap();
                (
                    normalize(i["metadata"]["name"].as_str().unwrap()),
                    (url.rsplit('/').next().unwrap().to_owned(), sha.to_owned()),
                )
            })
            .collect()
    })
}

fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir)
        .args([
            "-c",
            "user.name=icelock-tests",
            "-c",
            "user.email=tests@icelock.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    stdout_str(&run_ok(&mut cmd)).trim().to_owned()
}

// ---------------------------------------------------------------------------------------------
// Running icelock lock

struct Run {
    code: i32,
    /// stdout parsed (Null when stdout is empty, as with `-o FILE`).
    report: Value,
    stdout: String,
    stderr: String,
    out: Output,
}

impl Run {
    fn pkgs(&self) -> BTreeMap<String, Value> {
        packages_by_name(&self.report)
    }

    fn pkg(&self, name: &str) -> Value {
        self.pkgs()
            .remove(name)
            .unwrap_or_else(|| panic!("{name} not in the report\n{}", show(&self.out)))
    }

    /// Names whose `source.kind` is `kind`.
    fn of_kind(&self, kind: &str) -> BTreeSet<String> {
        self.pkgs()
            .into_iter()
            .filter(|(_, p)| p["source"]["kind"] == kind)
            .map(|(n, _)| n)
            .collect()
    }

    /// The reasons of an unproven package, joined.
    fn reasons(&self, name: &str) -> String {
        let p = self.pkg(name);
        assert_eq!(
            p["source"]["kind"],
            "unproven",
            "{name} should be unproven: {p:#}\n{}",
            show(&self.out)
        );
        let reasons = str_vec(&p["source"]["reasons"]);
        assert!(
            !reasons.is_empty(),
            "{name}: unproven with no reason: {p:#}"
        );
        // The reasons are also the package's problems.
        let problems = str_set(&p["problems"]);
        for r in &reasons {
            assert!(
                problems.contains(r),
                "{name}: reason {r:?} not among problems {problems:?}"
            );
        }
        reasons.join("\n")
    }
}

fn lock_args(env: &Path, flags: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["lock", "--format", "json"].map(OsString::from).to_vec();
    args.extend(flags.iter().map(OsString::from));
    args.push(env.as_os_str().to_owned());
    args
}

/// `icelock lock --format json FLAGS ENV` with `home` as HOME.
fn lock_in_home(home: &Path, env: &Path, flags: &[&str]) -> Run {
    run_lock(hermetic_icelock_command(home, &lock_args(env, flags)))
}

/// Runs a prepared `icelock lock --format json` command.
fn run_lock(mut cmd: std::process::Command) -> Run {
    let out = run_icelock(&mut cmd);
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("no exit code\n{}", show(&out)));
    assert!(
        code == 0 || code == 1,
        "lock exits 0 or 1 when it has a report\n{}",
        show(&out)
    );
    let stdout = String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = if stdout.is_empty() {
        Value::Null
    } else {
        json_stdout(&out)
    };
    Run {
        code,
        report,
        stdout,
        stderr,
        out,
    }
}

/// As [`lock_in_home`], with a fresh HOME (so a cold cache).
fn lock(env: &Path, flags: &[&str]) -> Run {
    let home = tempdir();
    lock_in_home(home.path(), env, flags)
}

fn lock_with_index(env: &Path, server: &IndexServer, flags: &[&str]) -> Run {
    let url = server.simple_url();
    let mut all = vec!["--index-url", url.as_str()];
    all.extend(flags);
    lock(env, &all)
}

// ---------------------------------------------------------------------------------------------
// Assertions

/// Every index-kind package in `names` came from `server` with `proof` (alternatives split by
/// `|`), and its artifact is the served file, byte for byte.
fn assert_index_artifacts(run: &Run, names: &[&str], server: &IndexServer, proof: &str) {
    let pkgs = run.pkgs();
    let mut wrong = Vec::new();
    for name in names {
        let p = pkgs
            .get(*name)
            .unwrap_or_else(|| panic!("{name} not in the report\n{}", show(&run.out)));
        let s = &p["source"];
        if s["kind"] != "index" {
            wrong.push(format!("{name}: not attributed to the index: {s}"));
            continue;
        }
        let version = p["version"].as_str().unwrap();
        let (filename, file) = served().wheel(name, version);
        let want_url = format!("{}/files/{filename}", server.origin());
        let checks = [
            // `proof` or `proof/evidence`: what binds it, and, where it matters, how it was found.
            (
                "proof",
                proof.split('|').any(|want| match want.split_once('/') {
                    Some((proof, evidence)) => s["proof"] == proof && s["evidence"] == evidence,
                    None => s["proof"] == want,
                }),
            ),
            ("filename", s["filename"] == filename),
            ("url", s["url"] == want_url.as_str()),
            ("sha256", s["sha256"] == file.sha256.as_str()),
            ("index", s["index"] == server.simple_url().as_str()),
            // HTML pages carry no size; what is said must be right.
            ("size", s["size"].is_null() || s["size"] == file.size),
            (
                "upload_time",
                s["upload_time"].is_null()
                    || s["upload_time"]
                        .as_str()
                        .is_some_and(|t| t.starts_with(&file.upload_time[..19])),
            ),
            ("problems", p["problems"] == Value::Array(vec![])),
        ];
        for (what, ok) in checks {
            if !ok {
                wrong.push(format!(
                    "{name}: {what} wrong: {s}; want {filename}, {want_url}, sha256 {}, size {}, upload time {}, proof {proof}, problems []: {}",
                    file.sha256, file.size, file.upload_time, p["problems"]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), show(&run.out));
}

/// The JSON reports' sizes must be right; with a JSON index page they must be there.
fn assert_sizes_present(run: &Run, names: &[&str]) {
    for name in names {
        let p = run.pkg(name);
        let (_, file) = served().wheel(name, p["version"].as_str().unwrap());
        assert_eq!(p["source"]["size"], file.size, "{name}: {}", p["source"]);
        assert!(
            p["source"]["upload_time"].is_string(),
            "{name}: a PEP 700 page gives upload-time: {}",
            p["source"]
        );
    }
}

fn all_proven(run: &Run) {
    let unproven = run.of_kind("unproven");
    assert!(
        unproven.is_empty() && run.code == 0,
        "unproven: {unproven:?}, exit {}\n{}",
        run.code,
        show(&run.out)
    );
}

fn log_paths(log: &[Value]) -> Vec<String> {
    log.iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

/// `/simple/<project>/` requests by project.
fn simple_counts(log: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for p in log_paths(log) {
        if let Some(rest) = p.strip_prefix("/simple/") {
            *counts
                .entry(rest.trim_end_matches('/').to_owned())
                .or_insert(0) += 1;
        }
    }
    counts
}

/// Requests for the wheel `filename` itself (not its `.metadata`).
fn wheel_requests<'a>(log: &'a [Value], filename: &str) -> Vec<&'a Value> {
    let path = format!("/files/{filename}");
    log.iter().filter(|e| e["path"] == path.as_str()).collect()
}

/// Where a wheel's `.dist-info/RECORD` member lies (local header to the end of its data), and
/// where its last 64 KiB (the tail icelock reads first) begin.
fn record_member_span(wheel: &Path) -> (std::ops::Range<u64>, u64) {
    let out = tools().python_eval(
        r#"
import os, struct, sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as zf:
    # The wheel's own RECORD, not one of a vendored dist's (setuptools has several).
    info = next(i for i in zf.infolist()
                if i.filename.endswith(".dist-info/RECORD") and i.filename.count("/") == 1)
with open(path, "rb") as f:
    f.seek(info.header_offset + 26)
    name_len, extra_len = struct.unpack("<HH", f.read(4))
start = info.header_offset
end = start + 30 + name_len + extra_len + info.compress_size
print(start, end, max(0, os.path.getsize(path) - 65536))
"#,
        &[wheel.as_os_str()],
    );
    let n: Vec<u64> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
    (n[0]..n[1], n[2])
}

/// The bytes of a `size`-byte file that a GET answered: its explicit or suffix range, or all.
fn served_range(r: &Value, size: u64) -> std::ops::Range<u64> {
    let Some(range) = r["range"].as_str().and_then(|r| r.strip_prefix("bytes=")) else {
        return 0..size;
    };
    if let Some(n) = range.strip_prefix('-') {
        return size.saturating_sub(n.parse().unwrap())..size;
    }
    let (a, b) = range.split_once('-').unwrap();
    let end = if b.is_empty() {
        size
    } else {
        (b.parse::<u64>().unwrap() + 1).min(size)
    };
    a.parse().unwrap()..end
}

/// Whether the ranges that were answered for a wheel hold all of `span`.
fn covered(reqs: &[&Value], size: u64, span: &std::ops::Range<u64>) -> bool {
    let mut got: Vec<_> = reqs
        .iter()
        .filter(|r| r["status"] == 206 || r["status"] == 200)
        .map(|r| served_range(r, size))
        .collect();
    got.sort_by_key(|r| r.start);
    let mut at = span.start;
    for r in got {
        if r.start <= at {
            at = at.max(r.end);
        }
    }
    at >= span.end
}

/// Each named wheel's RECORD was read through ranges, never the whole wheel unasked: in one
/// request when RECORD lies in its last 64 KiB (the least the first tail read holds), in at
/// most two otherwise.
fn assert_records_read_in_ranges(run: &Run, log: &[Value], names: &[&str]) {
    let mut wrong = Vec::new();
    for name in names {
        let (filename, file) = served().wheel(name, run.pkg(name)["version"].as_str().unwrap());
        let (record, tail_start) = record_member_span(&file.path);
        let reqs = wheel_requests(log, filename);
        let shown: Vec<_> = reqs
            .iter()
            .map(|r| format!("{} {}", r["range"].as_str().unwrap_or("-"), r["status"]))
            .collect();
        let most = if record.start >= tail_start { 1 } else { 2 };
        if reqs.is_empty() || reqs.len() > most {
            wrong.push(format!(
                "{filename}: {} requests, want 1..={most} (RECORD at {record:?}, {} bytes): {shown:?}",
                reqs.len(),
                file.size
            ));
        } else if !reqs
            .iter()
            .all(|r| r["status"] == 206 && !r["range"].is_null())
        {
            wrong.push(format!("{filename}: not all range answers: {shown:?}"));
        } else if !covered(&reqs, file.size, &record) {
            wrong.push(format!(
                "{filename}: RECORD ({record:?}) not inside what was read: {shown:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// No `.metadata` file was asked for: the default proof reads RECORD, which binds METADATA.
fn assert_no_metadata_files_asked(log: &[Value]) {
    let asked: Vec<&Value> = log
        .iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with(".metadata")))
        .collect();
    assert!(asked.is_empty(), ".metadata files asked for: {asked:#?}");
}

/// No GET of a wheel without a Range header.
fn assert_no_whole_wheel_gets(log: &[Value]) {
    let whole: Vec<&Value> = log
        .iter()
        .filter(|e| {
            e["method"] == "GET"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/files/") && p.ends_with(".whl"))
                && e["range"].is_null()
        })
        .collect();
    assert!(whole.is_empty(), "wheels fetched whole: {whole:#?}");
}

fn names_set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn full_names(installer: Installer) -> BTreeSet<String> {
    shared_full_env(installer)
        .venv
        .pip_list()
        .into_keys()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. An index with PEP 658/714 hashes: the real PyPI's way

fn metadata_hashes_prove_every_wheel(installer: Installer) {
    let env = shared_full_env(installer);
    let server = IndexServer::start(&served().dir, &["--metadata", "hash"]);
    let run = lock_with_index(&env.venv.root, &server, &[]);
    all_proven(&run);
    assert_eq!(
        run.pkgs().keys().cloned().collect::<BTreeSet<_>>(),
        full_names(installer),
        "the report lists what pip list lists"
    );
    assert_eq!(run.of_kind("index"), names_set(FULL_INDEX));
    assert_eq!(run.of_kind("url"), names_set(&["demo-single"]));
    assert_eq!(
        run.of_kind("editable"),
        names_set(&["demo-editable", "demo-flat"])
    );
    // The page's METADATA hashes only filter; each wheel's own RECORD binds the files.
    assert_index_artifacts(&run, FULL_INDEX, &server, "wheel-record/index-listing");
    assert_sizes_present(&run, FULL_INDEX);

    // What pip itself would install from the same folders is what the lock names.
    let pip = pip_resolution();
    for name in FULL_INDEX {
        let p = run.pkg(name);
        let (file, sha) = pip
            .get(*name)
            .unwrap_or_else(|| panic!("pip resolves no {name}"));
        assert_eq!(
            p["source"]["filename"],
            file.as_str(),
            "{name} vs pip's report"
        );
        assert_eq!(
            p["source"]["sha256"],
            sha.as_str(),
            "{name} vs pip's report"
        );
    }

    // The rest of the report is `list --format json`'s.
    let listed = packages_by_name(&list_json(&env.venv.root));
    for (name, p) in run.pkgs() {
        let l = &listed[&name];
        for key in [
            "display_name",
            "version",
            "installer",
            "location",
            "wheel",
            "metadata_sha256",
            "imports",
            "depends",
            "extras",
        ] {
            assert_eq!(p[key], l[key], "{name}: {key} differs from list's");
        }
    }
    assert_eq!(
        run.report["environment"],
        list_json(&env.venv.root)["environment"]
    );

    // One page per wheel-installed project, each wheel's RECORD in ranges, nothing else
    // asked for, no wheel downloaded.
    let log = server.log();
    assert_records_read_in_ranges(&run, &log, FULL_INDEX);
    assert_no_metadata_files_asked(&log);
    let want: BTreeMap<String, usize> = FULL_INDEX.iter().map(|n| (n.to_string(), 1)).collect();
    assert_eq!(
        simple_counts(&log),
        want,
        "project pages fetched: {:#?}",
        log_paths(&log)
    );
    assert_no_whole_wheel_gets(&log);
    for e in &log {
        if e["path"].as_str().unwrap().starts_with("/simple/") {
            assert!(
                e["accept"]
                    .as_str()
                    .is_some_and(|a| a.contains("application/vnd.pypi.simple.v1+json")),
                "project pages are asked for as PEP 691 JSON: {e}"
            );
        }
    }
    let n = run.pkgs().len();
    assert!(
        run.stderr.contains(&format!("{n} of {n}")),
        "summary on stderr: {}",
        run.stderr
    );
}

#[test]
fn metadata_hashes_prove_every_wheel_pip_env() {
    metadata_hashes_prove_every_wheel(Installer::Pip);
}

#[test]
fn metadata_hashes_prove_every_wheel_uv_env() {
    metadata_hashes_prove_every_wheel(Installer::Uv);
}

// ---------------------------------------------------------------------------------------------
// 2. `.metadata` files without hashes; no PEP 658 at all (the mirror's way): ranges

/// `--verify metadata`: a `.metadata` file the page declares is the evidence, and the lock
/// says it proves METADATA only.
#[test]
fn metadata_files_without_hashes() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let server = IndexServer::start(&served().dir, &["--metadata", "bool"]);
        let run = lock_with_index(&env.venv.root, &server, &["--verify", "metadata"]);
        all_proven(&run);
        assert_index_artifacts(&run, FULL_INDEX, &server, "metadata-only/metadata-file");
        let log = server.log();
        for name in FULL_INDEX {
            let (filename, _) = served().wheel(name, run.pkg(name)["version"].as_str().unwrap());
            let path = format!("/files/{filename}.metadata");
            assert!(
                log.iter()
                    .any(|e| e["path"] == path.as_str() && e["status"] == 200),
                "{name}: no GET of {path}: {:#?}",
                log_paths(&log)
            );
        }
        assert_no_whole_wheel_gets(&log);
    }
}

/// With no PEP 658 at all, each wheel's RECORD is read out of it in ranges: never the whole of
/// a big wheel. Under `--verify metadata` only METADATA is, and RECORD is not asked for.
fn no_pep658_reads_ranges(installer: Installer) {
    let venv = big_env(installer);
    let server = IndexServer::start(&served().dir, &["--metadata", "none"]);
    let run = lock_with_index(&venv.root, &server, &[]);
    all_proven(&run);
    assert_eq!(run.of_kind("index"), names_set(BIG_INDEX));
    assert_index_artifacts(&run, BIG_INDEX, &server, "wheel-record/index-listing");
    let log = server.log();
    assert_no_whole_wheel_gets(&log);
    assert_no_metadata_files_asked(&log);
    assert_records_read_in_ranges(&run, &log, BIG_INDEX);
    let mut big_seen = 0;
    let mut too_much = Vec::new();
    for name in BIG_INDEX {
        let (filename, file) = served().wheel(name, run.pkg(name)["version"].as_str().unwrap());
        let reqs = wheel_requests(&log, filename);
        let bytes: u64 = reqs.iter().map(|r| r["bytes"].as_u64().unwrap()).sum();
        if file.size > BIG {
            big_seen += 1;
            if bytes >= file.size / 2 {
                too_much.push(format!(
                    "{filename}: {bytes} bytes fetched to prove a {}-byte wheel, in ranges {:?}",
                    file.size,
                    reqs.iter()
                        .map(|r| r["range"].as_str().unwrap_or("-"))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    assert_eq!(
        big_seen, 2,
        "demo-big and setuptools are both over {BIG} bytes"
    );
    assert!(too_much.is_empty(), "{}", too_much.join("\n"));

    // `--verify metadata` compares no RECORD, so no range asks for it (the tail, and a range
    // widened to be worth its round trip, may bring some along: demo-big's RECORD lies clear
    // of both).
    let server = IndexServer::start(&served().dir, &["--metadata", "none"]);
    let run = lock_with_index(&venv.root, &server, &["--verify", "metadata"]);
    all_proven(&run);
    assert_index_artifacts(&run, BIG_INDEX, &server, "metadata-only/wheel-metadata");
    let log = server.log();
    assert_no_whole_wheel_gets(&log);
    let (filename, file) = served().wheel("demo-big", "1.0");
    let (record, tail_start) = record_member_span(&file.path);
    assert!(
        record.end - record.start > 64 * 1024 && record.start < tail_start,
        "demo-big's RECORD ({record:?}) is long and before the tail ({tail_start})"
    );
    let outside_tail = record.start..record.end.min(tail_start);
    // The first read is a tail, sized for the central directory: past it, no range may ask for
    // RECORD.
    for got in wheel_requests(&log, filename)
        .into_iter()
        .map(|r| served_range(r, file.size))
        .filter(|got| got.end < file.size)
    {
        assert!(
            got.end <= outside_tail.start || got.start >= outside_tail.end,
            "{filename}: {got:?} reads RECORD ({record:?}), which nothing compares"
        );
    }
}

#[test]
fn no_pep658_reads_ranges_pip_env() {
    no_pep658_reads_ranges(Installer::Pip);
}

#[test]
fn no_pep658_reads_ranges_uv_env() {
    no_pep658_reads_ranges(Installer::Uv);
}

#[test]
fn no_pep658_full_env() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let server = IndexServer::start(&served().dir, &["--metadata", "none"]);
        let run = lock_with_index(&env.venv.root, &server, &[]);
        all_proven(&run);
        assert_index_artifacts(&run, FULL_INDEX, &server, "wheel-record/index-listing");
        let log = server.log();
        assert_no_whole_wheel_gets(&log);
        assert_records_read_in_ranges(&run, &log, FULL_INDEX);
    }
}

/// An index that declares no PEP 658 may still serve `.metadata` files (the mirror these
/// machines reach does, for about half the wheels): under `--verify metadata` they are asked
/// for, and are the evidence. By default they are not asked for: RECORD binds METADATA.
#[test]
fn undeclared_metadata_files_are_asked_for() {
    let env = shared_full_env(Installer::Pip);
    let server = IndexServer::start(&served().dir, &["--metadata", "undeclared"]);
    let run = lock_with_index(&env.venv.root, &server, &[]);
    all_proven(&run);
    assert_index_artifacts(&run, FULL_INDEX, &server, "wheel-record/index-listing");
    assert_no_metadata_files_asked(&server.log());

    let server = IndexServer::start(&served().dir, &["--metadata", "undeclared"]);
    let run = lock_with_index(&env.venv.root, &server, &["--verify", "metadata"]);
    all_proven(&run);
    // A `.metadata` slower than the hedge lets the wheel's own METADATA prove instead; both
    // are evidence of the same bytes.
    assert_index_artifacts(
        &run,
        FULL_INDEX,
        &server,
        "metadata-only/metadata-file|metadata-only/wheel-metadata",
    );
    let log = server.log();
    let mut by_file = 0;
    for name in FULL_INDEX {
        let p = run.pkg(name);
        let (filename, _) = served().wheel(name, p["version"].as_str().unwrap());
        let path = format!("/files/{filename}.metadata");
        assert!(
            log.iter()
                .any(|e| e["path"] == path.as_str() && e["status"] == 200),
            "{name}: the undeclared {path} was not asked for: {:#?}",
            log_paths(&log)
        );
        by_file += usize::from(p["source"]["evidence"] == "metadata-file");
    }
    assert!(
        by_file > 0,
        "no package was proven by the `.metadata` the index served\n{}",
        show(&run.out)
    );
    assert_no_whole_wheel_gets(&log);
}

/// An index whose `.metadata` files (declared by `metadata`) answer `seconds` late.
fn slow_metadata_index(metadata: &str, seconds: &str) -> IndexServer {
    IndexServer::start(
        &served().dir,
        &[
            "--metadata",
            metadata,
            "--slow",
            seconds,
            "--only",
            r"\.metadata$",
        ],
    )
}

/// `--verify metadata`: a speculative `.metadata` that is slow to answer (an index that looks
/// upstream before it says 404) does not hold the proof up: the wheel's METADATA is read through ranges beside
/// it, and proves first. Were the `.metadata` waited for, each would be served after 30 s and
/// prove by itself.
#[test]
fn slow_speculative_metadata_is_hedged_by_ranges() {
    let env = shared_full_env(Installer::Uv);
    let server = slow_metadata_index("undeclared", "30");
    let run = lock_with_index(&env.venv.root, &server, &["--verify", "metadata"]);
    all_proven(&run);
    assert_index_artifacts(&run, FULL_INDEX, &server, "metadata-only/wheel-metadata");
    let log = server.log();
    for name in FULL_INDEX {
        let (filename, _) = served().wheel(name, run.pkg(name)["version"].as_str().unwrap());
        assert!(
            wheel_requests(&log, filename)
                .iter()
                .any(|r| r["status"] == 206 && r["range"] != "bytes=0-0"),
            "{filename}: no range read of the wheel: {:#?}",
            log_paths(&log)
        );
    }
    assert!(
        !log.iter()
            .any(|e| e["path"].as_str().is_some_and(|p| p.ends_with(".metadata"))),
        "a .metadata was answered before the lock finished, so it was waited for: {:#?}",
        log_paths(&log)
    );
    assert_no_whole_wheel_gets(&log);
}

/// `--verify metadata`: a `.metadata` the page declares is waited for, however slow: no range read of the wheel
/// is spent beside it (only the one-byte size probe).
#[test]
fn declared_metadata_is_waited_for() {
    let env = shared_full_env(Installer::Pip);
    let server = slow_metadata_index("bool", "0.3");
    let run = lock_with_index(&env.venv.root, &server, &["--verify", "metadata"]);
    all_proven(&run);
    assert_index_artifacts(&run, FULL_INDEX, &server, "metadata-only/metadata-file");
    let log = server.log();
    let ranges: Vec<&Value> = log
        .iter()
        .filter(|e| {
            e["path"].as_str().is_some_and(|p| p.starts_with("/files/"))
                && !e["range"].is_null()
                && e["range"] != "bytes=0-0"
        })
        .collect();
    assert!(
        ranges.is_empty(),
        "wheels read beside declared .metadata files: {ranges:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. PEP 503 HTML and PEP 691 JSON pages

#[test]
fn html_and_json_pages() {
    let mut too_much = Vec::new();
    let record = "wheel-record/index-listing";
    for (installer, format, metadata, verify, proof) in [
        (Installer::Pip, "html", "hash", "record", record),
        (Installer::Pip, "html", "bool", "record", record),
        (Installer::Pip, "html", "none", "record", record),
        (Installer::Uv, "html", "none", "record", record),
        (Installer::Pip, "json", "hash", "record", record),
        (Installer::Uv, "json", "none", "record", record),
        (
            Installer::Pip,
            "html",
            "hash",
            "metadata",
            "metadata-only/core-metadata-hash",
        ),
        (
            Installer::Pip,
            "html",
            "bool",
            "metadata",
            "metadata-only/metadata-file",
        ),
        (
            Installer::Uv,
            "html",
            "none",
            "metadata",
            "metadata-only/wheel-metadata",
        ),
        (
            Installer::Pip,
            "json",
            "hash",
            "metadata",
            "metadata-only/core-metadata-hash",
        ),
    ] {
        let venv = big_env(installer);
        let server =
            IndexServer::start(&served().dir, &["--format", format, "--metadata", metadata]);
        let run = lock_with_index(&venv.root, &server, &["--verify", verify]);
        let what = format!(
            "{} env, {format} pages, metadata {metadata}, --verify {verify}",
            installer.name()
        );
        assert!(run.code == 0, "{what}\n{}", show(&run.out));
        all_proven(&run);
        assert_index_artifacts(&run, BIG_INDEX, &server, proof);
        if format == "json" {
            assert_sizes_present(&run, BIG_INDEX);
        }
        let log = server.log();
        assert_no_whole_wheel_gets(&log);
        if verify == "record" {
            // HTML pages give no size: a suffix range stands for the sized tail.
            assert_records_read_in_ranges(&run, &log, BIG_INDEX);
            assert_no_metadata_files_asked(&log);
        }
        if metadata == "none" || verify == "record" {
            let (filename, file) = served().wheel("demo-big", "1.0");
            let bytes: u64 = wheel_requests(&log, filename)
                .iter()
                .map(|r| r["bytes"].as_u64().unwrap())
                .sum();
            if bytes >= file.size / 2 {
                too_much.push(format!(
                    "{what}: {bytes} of {} bytes of {filename} fetched",
                    file.size
                ));
            }
        }
    }
    assert!(too_much.is_empty(), "{}", too_much.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 4. A server that ignores Range

#[test]
fn server_ignoring_range_still_proves() {
    for format in ["json", "html"] {
        let venv = big_env(Installer::Pip);
        let server = IndexServer::start(
            &served().dir,
            &["--metadata", "none", "--no-range", "--format", format],
        );
        let run = lock_with_index(&venv.root, &server, &[]);
        all_proven(&run);
        // The whole body was read, so it was hashed too: the stronger proof, for free.
        assert_index_artifacts(&run, BIG_INDEX, &server, "wheel-hash/index-listing");
        let log = server.log();
        let (filename, file) = served().wheel("demo-big", "1.0");
        let reqs = wheel_requests(&log, filename);
        assert!(
            reqs.iter()
                .any(|r| r["status"] == 200 && r["bytes"] == file.size),
            "{format}: the whole body was sent and accepted: {reqs:#?}"
        );
    }
}

/// PEP 503 pages give no size, so the tail is asked for as a suffix range; a server that
/// refuses those (real PyPI's CDN has answered 501) costs one probe for the size, not the proof.
#[test]
fn refused_suffix_ranges_fall_back_to_a_probe() {
    let venv = big_env(Installer::Uv);
    let server = IndexServer::start(
        &served().dir,
        &[
            "--format",
            "html",
            "--metadata",
            "none",
            "--no-suffix-range",
        ],
    );
    let run = lock_with_index(&venv.root, &server, &[]);
    all_proven(&run);
    assert_index_artifacts(&run, BIG_INDEX, &server, "wheel-record/index-listing");
    let log = server.log();
    assert_no_whole_wheel_gets(&log);
    for name in BIG_INDEX {
        let (filename, file) = served().wheel(name, run.pkg(name)["version"].as_str().unwrap());
        let (record, _) = record_member_span(&file.path);
        let reqs = wheel_requests(&log, filename);
        let refused = reqs.iter().filter(|r| r["status"] == 501).count();
        assert_eq!(
            refused, 1,
            "{filename}: one suffix range, refused: {reqs:#?}"
        );
        assert!(
            covered(&reqs, file.size, &record),
            "{filename}: RECORD ({record:?}) read after the refusal: {reqs:#?}"
        );
        assert!(reqs.len() <= 4, "{filename}: {reqs:#?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. --verify record and --verify hash

#[test]
fn verify_record_and_hash() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        for (verify, proof) in [("record", "wheel-record"), ("hash", "wheel-hash")] {
            let server = IndexServer::start(&served().dir, &["--metadata", "hash"]);
            let run = lock_with_index(&env.venv.root, &server, &["--verify", verify]);
            all_proven(&run);
            assert_index_artifacts(&run, FULL_INDEX, &server, proof);
            let log = server.log();
            for name in FULL_INDEX {
                let (filename, file) =
                    served().wheel(name, run.pkg(name)["version"].as_str().unwrap());
                let reqs = wheel_requests(&log, filename);
                assert!(!reqs.is_empty(), "--verify {verify}: {filename} never read");
                if verify == "hash" {
                    assert!(
                        reqs.iter()
                            .any(|r| r["range"].is_null() && r["bytes"] == file.size),
                        "--verify hash downloads {filename} whole: {reqs:#?}"
                    );
                }
            }
        }
        // The big env too: setuptools' RECORD is long, demo-big's is at the far end.
        let venv = big_env(installer);
        let server = IndexServer::start(&served().dir, &["--metadata", "none"]);
        let run = lock_with_index(&venv.root, &server, &["--verify", "record"]);
        all_proven(&run);
        assert_index_artifacts(&run, BIG_INDEX, &server, "wheel-record");
        assert_records_read_in_ranges(&run, &server.log(), BIG_INDEX);
    }
}

/// `--verify hash` hashes a wheel that pip's HTTP cache already holds instead of downloading
/// it again (pip keeps bodies as `http-v2/a/b/c/d/e/<sha224 of the URL>.body`).
#[test]
fn verify_hash_uses_pips_cache() {
    use sha2::Digest;
    let env = shared_full_env(Installer::Pip);
    let server = IndexServer::start(&served().dir, &["--metadata", "hash"]);
    let (filename, file) = served().wheel("demo-core", "1.2");
    let home = tempdir();
    let url = format!("{}/files/{filename}", server.origin());
    let hashed = hex::encode(sha2::Sha224::digest(url.as_bytes()));
    let mut body = home.path().join(".cache/pip/http-v2");
    for c in hashed.chars().take(5) {
        body.push(c.to_string());
    }
    fs::create_dir_all(&body).unwrap();
    fs::copy(&file.path, body.join(format!("{hashed}.body"))).unwrap();

    let index = server.simple_url();
    let mut cmd = hermetic_icelock_command(
        home.path(),
        &lock_args(
            &env.venv.root,
            &["--index-url", &index, "--verify", "hash", "--no-cache"],
        ),
    );
    // The tests' commands turn pip's cache off (as pip would read it, icelock obeys).
    cmd.env_remove("PIP_NO_CACHE_DIR");
    let out = run_icelock(&mut cmd);
    let run = Run {
        code: out.status.code().unwrap(),
        report: serde_json::from_slice(&out.stdout).unwrap(),
        stdout: String::from_utf8(out.stdout.clone()).unwrap(),
        stderr: String::from_utf8(out.stderr.clone()).unwrap(),
        out,
    };
    all_proven(&run);
    assert_eq!(run.pkg("demo-core")["source"]["proof"], "wheel-hash");
    assert_eq!(
        run.pkg("demo-core")["source"]["sha256"],
        file.sha256.as_str()
    );
    let log = server.log();
    let whole: Vec<&Value> = wheel_requests(&log, filename)
        .into_iter()
        .filter(|r| r["range"].is_null())
        .collect();
    assert!(
        whole.is_empty(),
        "{filename} was downloaded although pip's cache has it: {whole:#?}"
    );
}

#[test]
fn wrong_hash_on_the_index_fails_verify_hash() {
    let env = shared_full_env(Installer::Pip);
    let (filename, file) = served().wheel("demo-core", "1.2");
    let server = IndexServer::start(&served().dir, &["--wrong-hash", filename]);
    let run = lock_with_index(&env.venv.root, &server, &["--verify", "hash"]);
    assert_eq!(run.code, 1, "{}", show(&run.out));
    let reasons = run.reasons("demo-core");
    assert!(
        reasons.contains("hash")
            && reasons.contains(&file.sha256)
            && reasons.contains(&"0".repeat(64)),
        "the reason names the listed and the actual hash: {reasons}"
    );
    assert_eq!(run.of_kind("unproven"), names_set(&["demo-core"]));
    let others: Vec<&str> = FULL_INDEX
        .iter()
        .copied()
        .filter(|n| *n != "demo-core")
        .collect();
    assert_index_artifacts(&run, &others, &server, "wheel-hash");
    assert!(
        run.stderr.contains("demo-core"),
        "summary names demo-core: {}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Installed METADATA differs from the index wheel's (a local build)

/// Rewrites `wheel` into `dir` under the same file name, with `line` added to METADATA and the
/// RECORD row fixed: same name, version, tags and files, other METADATA.
fn rebuild_with_other_metadata(wheel: &Path, dir: &Path, line: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let out = tools().python_eval(
        r#"
import base64, hashlib, os, sys, zipfile
src, outdir, line = sys.argv[1], sys.argv[2], sys.argv[3]
dst = os.path.join(outdir, os.path.basename(src))
def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
with zipfile.ZipFile(src) as zin:
    items = [(i, zin.read(i.filename)) for i in zin.infolist()]
meta_name = next(i.filename for i, _ in items if i.filename.endswith(".dist-info/METADATA"))
record_name = next(i.filename for i, _ in items if i.filename.endswith(".dist-info/RECORD"))
out = []
for info, data in items:
    if info.filename == meta_name:
        data = data + line.encode() + b"\n"
        new_meta = data
    out.append((info, data))
rows = []
for row in dict(out)[[i for i, _ in out if i.filename == record_name][0]].decode().splitlines():
    path = row.split(",")[0]
    if path == meta_name:
        row = "%s,%s,%d" % (path, digest(new_meta), len(new_meta))
    rows.append(row)
with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
    for info, data in out:
        if info.filename == record_name:
            data = ("\n".join(rows) + "\n").encode()
        zout.writestr(info, data)
print(dst)
"#,
        &[wheel.as_os_str(), dir.as_os_str(), OsStr::new(line)],
    );
    PathBuf::from(out.trim())
}

/// A small sdist of demo-core 1.2, for the index to list beside its wheel.
fn write_sdist(dir: &Path) -> PathBuf {
    let out = tools().python_eval(
        r#"
import io, os, sys, tarfile
path = os.path.join(sys.argv[1], "demo_core-1.2.tar.gz")
pkg_info = b"Metadata-Version: 2.1\nName: demo-core\nVersion: 1.2\n"
with tarfile.open(path, "w:gz") as tf:
    info = tarfile.TarInfo("demo_core-1.2/PKG-INFO")
    info.size = len(pkg_info)
    info.mtime = 1580601600
    tf.addfile(info, io.BytesIO(pkg_info))
print(path)
"#,
        &[dir.as_os_str()],
    );
    PathBuf::from(out.trim())
}

fn local_build_is_not_the_index_wheel(installer: Installer) {
    let tmp = tempdir();
    let (filename, original) = served().wheel("demo-core", "1.2");
    let local = rebuild_with_other_metadata(
        &original.path,
        &tmp.path().join("local"),
        "Platform: built-here",
    );
    assert_eq!(local.file_name().unwrap().to_str(), Some(filename));
    let venv = Venv::create(&tmp.path().join("venv"), installer);
    install_from(&venv, &[&tmp.path().join("local")], &["demo-core==1.2"]);
    venv.install(&["demo-app"]);
    let installed_meta = venv.dist_info("demo-core").join("METADATA");
    let installed_sha = sha256_hex(&installed_meta);
    assert_ne!(
        installed_sha, original.metadata_sha256,
        "the rebuild has other METADATA"
    );
    let sdist_dir = tmp.path().join("sdist");
    fs::create_dir_all(&sdist_dir).unwrap();
    let sdist = write_sdist(&sdist_dir);
    let folder = served_with(tmp.path(), &[&sdist]);

    for metadata in ["hash", "bool", "none"] {
        let server = IndexServer::start(&folder, &["--metadata", metadata]);
        let run = lock_with_index(&venv.root, &server, &[]);
        let what = format!("{} env, metadata {metadata}", installer.name());
        assert_eq!(run.code, 1, "{what}\n{}", show(&run.out));
        let reasons = run.reasons("demo-core");
        assert!(
            reasons.contains("METADATA") && reasons.contains("differs"),
            "{what}: the reason says METADATA differs: {reasons}"
        );
        assert!(
            reasons.contains(&installed_sha) && reasons.contains(&original.metadata_sha256),
            "{what}: the reason gives both METADATA hashes ({installed_sha} installed, {} on the index): {reasons}",
            original.metadata_sha256
        );
        assert!(
            reasons.contains("demo_core-1.2.tar.gz"),
            "{what}: the reason points at the sdist it was likely built from: {reasons}"
        );
        // The report is still whole: everything else is proven.
        assert_eq!(
            run.pkgs().keys().cloned().collect::<BTreeSet<_>>(),
            venv.pip_list().into_keys().collect::<BTreeSet<_>>()
        );
        assert_eq!(run.of_kind("unproven"), names_set(&["demo-core"]), "{what}");
        assert_index_artifacts(&run, &["demo-app"], &server, "wheel-record/index-listing");
        assert!(run.stderr.contains("demo-core"), "{}", run.stderr);
    }
}

#[test]
fn local_build_is_not_the_index_wheel_pip_env() {
    local_build_is_not_the_index_wheel(Installer::Pip);
}

#[test]
fn local_build_is_not_the_index_wheel_uv_env() {
    local_build_is_not_the_index_wheel(Installer::Uv);
}

// ---------------------------------------------------------------------------------------------
// 7. A modified installed file

#[test]
fn modified_installed_file_is_unproven() {
    for installer in [Installer::Pip, Installer::Uv] {
        let tmp = tempdir();
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        venv.install(&["demo-app"]);
        let util = venv.site_packages().join("demo_core").join("util.py");
        let mut text = fs::read_to_string(&util).unwrap();
        text.push_str("# patched by hand\n");
        fs::write(&util, text).unwrap();
        let server = IndexServer::start(&served().dir, &[] as &[&str]);
        let run = lock_with_index(&venv.root, &server, &[]);
        assert_eq!(run.code, 1, "{}", show(&run.out));
        let reasons = run.reasons("demo-core");
        assert!(
            reasons.contains("demo_core/util.py"),
            "{} env: the reason names the file: {reasons}",
            installer.name()
        );
        assert_eq!(run.of_kind("unproven"), names_set(&["demo-core"]));
        assert_index_artifacts(&run, &["demo-app"], &server, "wheel-record/index-listing");
    }
}

/// A warm `lock` does not hash files unchanged since the last one (their stat is remembered in
/// the cache), but an edit is still caught: same size, modification time put back, so only the
/// change time and the content tell.
#[test]
fn remembered_files_still_catch_an_edit() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-app"]);
    // Files changed in the last two seconds are never remembered (their stat could still
    // change within the clock's resolution): let the install age past that.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let server = IndexServer::start(&served().dir, &[] as &[&str]);
    let home = tempdir();
    let url = server.simple_url();
    let flags = ["--index-url", url.as_str()];
    let first = lock_in_home(home.path(), &venv.root, &flags);
    all_proven(&first);
    let remembered: Vec<PathBuf> = walk_files(&home.path().join(".cache/icelock/v2/installed"));
    assert_eq!(
        remembered.len(),
        1,
        "one file of remembered stats per environment"
    );
    let util = venv.site_packages().join("demo_core").join("util.py");
    let text = fs::read_to_string(&util).unwrap();
    assert!(
        fs::read_to_string(&remembered[0])
            .unwrap()
            .contains(&util.canonicalize().unwrap().display().to_string()),
        "the file's stat was remembered"
    );
    let second = lock_in_home(home.path(), &venv.root, &flags);
    all_proven(&second);

    let mtime = fs::metadata(&util).unwrap().modified().unwrap();
    let edited: String = text
        .chars()
        .map(|c| if c == '2' { '3' } else { c })
        .collect();
    assert_ne!(edited, text, "the edit changes the content");
    assert_eq!(edited.len(), text.len(), "and keeps the size");
    fs::write(&util, &edited).unwrap();
    fs::File::options()
        .write(true)
        .open(&util)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let third = lock_in_home(home.path(), &venv.root, &flags);
    assert_eq!(third.code, 1, "{}", show(&third.out));
    assert_eq!(third.of_kind("unproven"), names_set(&["demo-core"]));
    assert!(third.reasons("demo-core").contains("demo_core/util.py"));
}

/// Files added beside the listed ones change what is imported without touching a listed byte:
/// a folder `demo_core/util/` is imported in place of `demo_core/util.py` (Python itself is
/// asked), and a `singlemod/` folder at the top of site-packages in place of `singlemod.py`.
/// Each is refused with the path named, on a warm run too (nothing remembered excuses it),
/// and `check` reports it; what Python writes itself (`__pycache__` at import, `-O` included)
/// and another tool's file at the top (`sitecustomize.py`) are not anyone's problem.
#[test]
fn files_added_beside_the_listed_ones_are_refused() {
    for installer in [Installer::Pip, Installer::Uv] {
        let tmp = tempdir();
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        venv.install(&["demo-app", "demo-single"]);
        let site = venv.site_packages();
        for flags in [&[][..], &["-O"][..]] {
            let mut python = clean_command(venv.python());
            python
                .env_remove("PYTHONDONTWRITEBYTECODE")
                .args(flags)
                .args(["-c", "import demo_app, demo_core.util, singlemod"]);
            run_ok(&mut python);
        }
        assert!(
            site.join("demo_core/__pycache__").is_dir(),
            "Python wrote bytecode"
        );
        let server = IndexServer::start(&served().dir, &[] as &[&str]);
        let home = tempdir();
        let url = server.simple_url();
        let flags = ["--index-url", url.as_str()];
        let clean = lock_in_home(home.path(), &venv.root, &flags);
        all_proven(&clean);

        fs::create_dir(site.join("demo_core/util")).unwrap();
        fs::write(site.join("demo_core/util/__init__.py"), "WHO = 'added'\n").unwrap();
        fs::create_dir(site.join("singlemod")).unwrap();
        fs::write(site.join("singlemod/__init__.py"), "WHO = 'added'\n").unwrap();
        let mut python = clean_command(venv.python());
        python.args([
            "-c",
            "import demo_core.util, singlemod; print(demo_core.util.WHO, singlemod.WHO)",
        ]);
        assert_eq!(
            String::from_utf8(run_ok(&mut python).stdout)
                .unwrap()
                .trim(),
            "added added",
            "Python imports the added folders in place of the listed modules"
        );
        let run = lock_in_home(home.path(), &venv.root, &flags);
        assert_eq!(run.code, 1, "{}", show(&run.out));
        assert_eq!(
            run.of_kind("unproven"),
            names_set(&["demo-core", "demo-single"]),
            "{}",
            show(&run.out)
        );
        let core = run.reasons("demo-core");
        assert!(
            core.contains("demo_core/util/: in the distribution's folders but in no RECORD"),
            "{core}"
        );
        let single = run.reasons("demo-single");
        assert!(
            single.contains("singlemod/: in no RECORD, and imported as `singlemod`"),
            "{single}"
        );
        assert!(!core.contains("__pycache__"));

        let mut check = icelock_command(&[
            "check".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            venv.root.as_os_str(),
        ]);
        let out = run_icelock(&mut check);
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let report = json_stdout(&out);
        let unlisted: BTreeSet<(String, String)> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "file-unlisted")
            .map(|p| {
                (
                    p["package"].as_str().unwrap().to_string(),
                    p["path"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            unlisted,
            [
                ("demo-core", "demo_core/util/"),
                ("demo-single", "singlemod/")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into_iter()
            .collect(),
            "{report:#}"
        );

        // With a listed file changed too, the way out is the reinstall and the removal both.
        let util = site.join("demo_core/util.py");
        let text = fs::read_to_string(&util).unwrap();
        fs::write(&util, format!("{text}# edited\n")).unwrap();
        let both = lock_in_home(home.path(), &venv.root, &flags).reasons("demo-core");
        assert!(
            both.contains("demo_core/util.py") && both.contains("demo_core/util/"),
            "{both}"
        );
        assert!(
            both.contains("Restore it with `")
                && both.contains("and remove what no RECORD lists (a reinstall leaves it)"),
            "{both}"
        );
        fs::write(&util, text).unwrap();
        assert!(
            core.contains("A reinstall leaves such files in place")
                && core.contains("`rm -r demo_core/util/`")
                && !core.contains("Restore it with"),
            "only unlisted files: removing them is the way out, not a reinstall: {core}"
        );

        fs::remove_dir_all(site.join("demo_core/util")).unwrap();
        fs::remove_dir_all(site.join("singlemod")).unwrap();
        all_proven(&lock_in_home(home.path(), &venv.root, &flags));
    }
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 7b. Forged wheels: same file name, same METADATA, other files

/// The forgeries, by project: what is done to its wheel, and the installed path the refusal
/// must name.
const FORGERIES: &[(&str, &str, &str, &str)] = &[
    // (project, version, forge mode, named in the reason)
    (
        "demo-core",
        "1.2",
        "change:demo_core/util.py",
        "demo_core/util.py",
    ),
    (
        "nsdemo-alpha",
        "1.0",
        "add:nsdemo/alpha/evil.py",
        "nsdemo/alpha/evil.py",
    ),
    (
        "demo-app",
        "1.0",
        "remove:demo_app/cli.py",
        "demo_app/cli.py",
    ),
    (
        "demo-native",
        "1.0",
        "change:_demo_native.cpython-311-x86_64-linux-gnu.so",
        "_demo_native.cpython-311-x86_64-linux-gnu.so",
    ),
];

/// Each forged wheel in `dir`, checked to keep the genuine one's name and METADATA.
fn forge_all(dir: &Path) -> Vec<PathBuf> {
    FORGERIES
        .iter()
        .map(|(name, version, mode, _)| {
            let (_, genuine) = served().wheel(name, version);
            let forged = forge(&genuine.path, dir, mode);
            assert_eq!(
                wheel_metadata(&forged),
                wheel_metadata(&genuine.path),
                "{name}: the forgery keeps METADATA"
            );
            assert_ne!(sha256_hex(&forged), genuine.sha256, "{name}");
            forged
        })
        .collect()
}

/// Installed from forged wheels (same file names and METADATA as the index's), plus a dist
/// edited after install with its RECORD row rewritten to match: each is refused by default
/// with the file named, while the genuine wheels beside them are proven.
#[test]
fn forged_installs_are_refused_by_default() {
    for installer in [Installer::Pip, Installer::Uv] {
        let tmp = tempdir();
        let forged_dir = tmp.path().join("forged");
        forge_all(&forged_dir);
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        let forged_names: Vec<&str> = FORGERIES.iter().map(|f| f.0).collect();
        let mut args = vec!["--no-deps"];
        args.extend(&forged_names);
        install_from(&venv, &[&forged_dir], &args);
        install_from(
            &venv,
            &[&served().dir],
            &["--no-deps", "demo-extra", "nsdemo-beta", "demo-scripts"],
        );

        // demo-extra: edited after install, its RECORD row rewritten to match the edit.
        let init = venv.site_packages().join("demo_extra/__init__.py");
        let edited = b"FANCY = False\n";
        fs::write(&init, edited).unwrap();
        rewrite_record_row(
            &venv.dist_info("demo-extra"),
            "demo_extra/__init__.py",
            edited,
        );

        let server = IndexServer::start(&served().dir, &["--metadata", "hash"]);
        let run = lock_with_index(&venv.root, &server, &[]);
        let what = installer.name();
        assert_eq!(run.code, 1, "{what}\n{}", show(&run.out));
        let mut refused = names_set(&forged_names);
        refused.insert("demo-extra".into());
        assert_eq!(
            run.of_kind("unproven"),
            refused,
            "{what}\n{}",
            show(&run.out)
        );
        let mut named = FORGERIES
            .iter()
            .map(|(name, _, _, file)| (*name, *file))
            .collect::<Vec<_>>();
        named.push(("demo-extra", "demo_extra/__init__.py"));
        for (name, file) in named {
            let reasons = run.reasons(name);
            assert!(
                reasons.contains(file),
                "{what}: {name}: the refusal names {file}: {reasons}"
            );
            assert!(
                reasons.contains("--wheelhouse"),
                "{what}: {name}: the way out is offered: {reasons}"
            );
        }
        assert_index_artifacts(
            &run,
            &["nsdemo-beta", "demo-scripts"],
            &server,
            "wheel-record/index-listing",
        );

        // The weak mode would have taken them all: it says so in its proof's name.
        let server = IndexServer::start(&served().dir, &["--metadata", "hash"]);
        let weak = lock_with_index(&venv.root, &server, &["--verify", "metadata"]);
        for name in &forged_names {
            let s = &weak.pkg(name)["source"];
            assert!(
                s["kind"] == "unproven" || s["proof"] == "metadata-only",
                "{what}: {name} under --verify metadata: {s}"
            );
        }
    }
}

/// A local wheel read whole is checked member by member: one whose member has other code with
/// the size and CRC-32 of the genuine file (the zip's directory then agrees with every
/// installed file) is refused with the member named, where the whole file's hash alone would
/// have "proven" it. uv records no hash for a path install, so the file on disk is what would
/// be locked.
#[test]
fn a_whole_wheel_is_checked_member_by_member() {
    let tmp = tempdir();
    let (_, genuine) = served().wheel("demo-core", "1.2");
    let forged = forge(
        &genuine.path,
        &tmp.path().join("forged"),
        "crc:demo_core/util.py",
    );
    let wheels = tmp.path().join("wheels");
    fs::create_dir_all(&wheels).unwrap();
    let local = wheels.join(genuine.path.file_name().unwrap());
    fs::copy(&genuine.path, &local).unwrap();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    run_ok(
        venv.uv_pip_command("install")
            .args(["--no-index", "--no-deps"])
            .arg(&local),
    );
    let home = tempdir();
    for verify in ["record", "hash"] {
        let run = lock_in_home(home.path(), &venv.root, &["--no-index", "--verify", verify]);
        all_proven(&run);
        assert_eq!(run.pkg("demo-core")["source"]["proof"], "wheel-hash");
    }

    fs::copy(&forged, &local).unwrap();
    for verify in ["record", "hash"] {
        let run = lock_in_home(home.path(), &venv.root, &["--no-index", "--verify", verify]);
        assert_eq!(run.code, 1, "--verify {verify}\n{}", show(&run.out));
        let reasons = run.reasons("demo-core");
        assert!(
            reasons.contains("demo_core/util.py")
                && reasons.contains("does not hash to its RECORD row"),
            "--verify {verify}: the member is named: {reasons}"
        );
    }
}

/// The index serves forged wheels under the real file names (listing their own sha256, as an
/// index would) while the environment holds the genuine ones: refused too, with the files
/// named; everything else proven.
#[test]
fn forged_wheels_on_the_index_are_refused() {
    let tmp = tempdir();
    let forged = forge_all(&tmp.path().join("forged"));
    let dir = tmp.path().join("served");
    fs::create_dir_all(&dir).unwrap();
    for f in served().files.values() {
        let name = f.path.file_name().unwrap();
        match forged.iter().find(|p| p.file_name() == Some(name)) {
            Some(forgery) => fs::copy(forgery, dir.join(name)).map(drop).unwrap(),
            None => std::os::unix::fs::symlink(&f.path, dir.join(name)).unwrap(),
        }
    }
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        for format in ["json", "html"] {
            let server = IndexServer::start(&dir, &["--metadata", "hash", "--format", format]);
            let run = lock_with_index(&env.venv.root, &server, &[]);
            let what = format!("{} env, {format} pages", installer.name());
            assert_eq!(run.code, 1, "{what}\n{}", show(&run.out));
            let forged_names: Vec<&str> = FORGERIES.iter().map(|f| f.0).collect();
            assert_eq!(
                run.of_kind("unproven"),
                names_set(&forged_names),
                "{what}\n{}",
                show(&run.out)
            );
            for (name, _, _, file) in FORGERIES {
                let reasons = run.reasons(name);
                assert!(reasons.contains(file), "{what}: {name}: {reasons}");
            }
            let genuine: Vec<&str> = FULL_INDEX
                .iter()
                .copied()
                .filter(|n| !forged_names.contains(n))
                .collect();
            let proofs: BTreeSet<String> = genuine
                .iter()
                .map(|n| run.pkg(n)["source"]["proof"].to_string())
                .collect();
            assert_eq!(
                proofs,
                BTreeSet::from(["\"wheel-record\"".to_string()]),
                "{what}"
            );
        }
    }
}

/// An index wheel whose own RECORD is wrong about a file (real cases exist): installers copy
/// the wrong row, so the installed file fails its RECORD; the wheel's bytes show the file is
/// the wheel's, and the lock says so instead of crying tampering.
#[test]
fn a_wheels_own_wrong_record_is_said_not_taken_for_tampering() {
    let tmp = tempdir();
    let (filename, genuine) = served().wheel("demo-core", "1.2");
    let bad_dir = tmp.path().join("bad");
    fs::create_dir_all(&bad_dir).unwrap();
    let bad = tools().python_eval(
        r#"
import os, sys, zipfile
src, outdir = sys.argv[1], sys.argv[2]
dst = os.path.join(outdir, os.path.basename(src))
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith(".dist-info/RECORD"):
            rows = []
            for row in data.decode().splitlines():
                if row.startswith("demo_core/util.py,"):
                    path, _, size = row.split(",")
                    row = "%s,sha256=%s,%s" % (path, "A" * 43, size)
                rows.append(row)
            data = ("\n".join(rows) + "\n").encode()
        zout.writestr(info, data)
print(dst)
"#,
        &[genuine.path.as_os_str(), bad_dir.as_os_str()],
    );
    let bad = PathBuf::from(bad.trim());
    assert_eq!(bad.file_name().unwrap().to_str(), Some(filename));
    let folder = tmp.path().join("served");
    fs::create_dir_all(&folder).unwrap();
    for f in served().files.values() {
        let name = f.path.file_name().unwrap();
        if name.to_str() == Some(filename) {
            fs::copy(&bad, folder.join(name)).unwrap();
        } else {
            std::os::unix::fs::symlink(&f.path, folder.join(name)).unwrap();
        }
    }
    for installer in [Installer::Pip, Installer::Uv] {
        let venv = Venv::create(
            &tmp.path().join(format!("venv-{}", installer.name())),
            installer,
        );
        install_from(&venv, &[&folder], &["demo-app"]);
        let server = IndexServer::start(&folder, &[] as &[&str]);
        let run = lock_with_index(&venv.root, &server, &[]);
        let what = installer.name();
        let p = run.pkg("demo-core");
        assert_eq!(
            p["source"]["kind"],
            "index",
            "{what}: {p:#}\n{}",
            show(&run.out)
        );
        assert_eq!(p["source"]["sha256"], sha256_hex(&bad).as_str(), "{what}");
        let problems = str_vec(&p["problems"]).join("\n");
        assert!(
            problems.contains("the wheel's own RECORD is wrong about demo_core/util.py"),
            "{what}: {problems}"
        );

        // An edit of that same file is still an edit: the wheel's bytes are not the file.
        let util = venv.site_packages().join("demo_core/util.py");
        let mut text = fs::read_to_string(&util).unwrap();
        text.push_str("# edited\n");
        fs::write(&util, text).unwrap();
        let run = lock_with_index(&venv.root, &server, &[]);
        assert_eq!(run.code, 1, "{what}\n{}", show(&run.out));
        assert!(run.reasons("demo-core").contains("demo_core/util.py"));
    }
}

// ---------------------------------------------------------------------------------------------
// 7c. Real layouts, made by the real installers: each honest one proves

/// What every layout installs: a package with a dependency, and one with a `.data/scripts`
/// script, a `.data/data` file and a console-script launcher.
const LAYOUT_DISTS: &[&str] = &["demo-app", "demo-core", "demo-scripts"];

/// `lock` of `env` against the served index proves exactly the layout's dists, by their own
/// RECORD, with no problem said.
fn assert_layout_proves(env: &Path, what: &str) {
    let server = IndexServer::start(&served().dir, &[] as &[&str]);
    let run = lock_with_index(env, &server, &[]);
    all_proven(&run);
    assert_eq!(
        run.pkgs().keys().cloned().collect::<BTreeSet<_>>(),
        names_set(LAYOUT_DISTS),
        "{what}\n{}",
        show(&run.out)
    );
    assert_index_artifacts(&run, LAYOUT_DISTS, &server, "wheel-record/index-listing");
}

/// `pip install --target DIR` (scripts in DIR/bin, RECORD saying `../../bin/x`) and uv's
/// (`bin/x` inside DIR): a bare folder, its Python told by what was byte-compiled for it.
#[test]
fn target_folders_prove() {
    let tmp = tempdir();
    let pip_dir = tmp.path().join("pip-target");
    let mut pip = tools().pip_command();
    pip.args(["install", "--no-index", "--compile", "--find-links"])
        .arg(&served().dir)
        .arg("--target")
        .arg(&pip_dir)
        .arg("demo-app")
        .arg("demo-scripts");
    run_ok(&mut pip);
    let record = fs::read_to_string(pip_dir.join("demo_scripts-1.0.dist-info/RECORD")).unwrap();
    assert!(
        record.contains("../../bin/demo-scripts") && pip_dir.join("bin/demo-scripts").is_file(),
        "pip's --target layout: RECORD says ../../bin, the file is in DIR/bin: {record}"
    );
    assert_layout_proves(&pip_dir, "pip --target");

    let uv_dir = tmp.path().join("uv-target");
    let mut uv = tools().uv_command();
    uv.env("UV_CACHE_DIR", tmp.path().join("uv-cache"))
        .args([
            "pip",
            "install",
            "--offline",
            "--no-index",
            "--compile-bytecode",
        ])
        .arg("--python")
        .arg(&tools().python)
        .arg("--find-links")
        .arg(&served().dir)
        .arg("--target")
        .arg(&uv_dir)
        .args(["demo-app", "demo-scripts"]);
    run_ok(&mut uv);
    assert!(uv_dir.join("bin/demo-scripts").is_file());
    assert_layout_proves(&uv_dir, "uv --target");

    // Nothing compiled, nothing in the path: which Python is for is unknown, and said so.
    let bare = tmp.path().join("uv-bare");
    let mut uv = tools().uv_command();
    uv.env("UV_CACHE_DIR", tmp.path().join("uv-cache"))
        .args(["pip", "install", "--offline", "--no-index"])
        .arg("--python")
        .arg(&tools().python)
        .arg("--find-links")
        .arg(&served().dir)
        .arg("--target")
        .arg(&bare)
        .arg("demo-core");
    run_ok(&mut uv);
    let out = run_icelock(&mut icelock_command(&[
        OsStr::new("lock"),
        OsStr::new("--no-index"),
        bare.as_os_str(),
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("which Python") && err.contains("compileall"),
        "the error says what is unknown and what to do: {err}"
    );
}

/// `pip install --prefix DIR`, `--root DIR` and a user base (`--user` with PYTHONUSERBASE):
/// the prefix folder itself, or its site-packages, is locked.
#[test]
fn prefix_root_and_user_installs_prove() {
    let tmp = tempdir();
    let install = |flags: &[&OsStr], envs: &[(&str, &Path)]| {
        let mut pip = tools().pip_command();
        pip.args(["install", "--no-index", "--find-links"])
            .arg(&served().dir)
            .args(flags)
            .args(["demo-app", "demo-scripts"]);
        for (k, v) in envs {
            pip.env(k, v);
        }
        run_ok(&mut pip);
    };
    let prefix = tmp.path().join("prefix");
    install(&[OsStr::new("--prefix"), prefix.as_os_str()], &[]);
    assert!(prefix.join("bin/demo-scripts").is_file());
    assert_layout_proves(&prefix, "pip --prefix, the prefix");
    let site = fs::read_dir(prefix.join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .unwrap();
    assert_layout_proves(&site, "pip --prefix, its site-packages");

    let root = tmp.path().join("root");
    install(&[OsStr::new("--root"), root.as_os_str()], &[]);
    let site = walk_files(&root)
        .into_iter()
        .find(|p| p.ends_with("demo_core-1.2.dist-info/METADATA"))
        .and_then(|p| p.parent()?.parent().map(Path::to_path_buf))
        .expect("pip --root installed demo-core");
    assert_layout_proves(&site, "pip --root");

    // `--user` needs an interpreter outside a venv: the tools venv's base, driven by this pip.
    let cfg = fs::read_to_string(tools().root.join("pyvenv.cfg")).unwrap();
    let home = cfg
        .lines()
        .find_map(|l| {
            l.strip_prefix("home")
                .map(|r| r.trim_start_matches([' ', '=']).trim())
        })
        .expect("pyvenv.cfg names home");
    let base = Path::new(home).join("python3");
    let user = tmp.path().join("user");
    let mut pip = tools().pip_command();
    pip.arg("--python")
        .arg(&base)
        .args([
            "install",
            "--user",
            "--break-system-packages",
            "--no-index",
            "--find-links",
        ])
        .arg(&served().dir)
        .args(["demo-app", "demo-scripts"])
        .env("PYTHONUSERBASE", &user);
    run_ok(&mut pip);
    assert_layout_proves(&user, "pip --user, the user base");
}

/// Debian's own Python and pip install into `/usr/local/lib/python3.X/dist-packages`, scripts
/// in `/usr/local/bin` (its `posix_local` scheme); under `--root DIR` that is the same layout
/// below DIR. Both the dist-packages folder and the `usr/local` prefix prove. On a machine
/// without a Debian Python (no `dist-packages` on its `sys.path`, or no pip) there is nothing
/// to test, and the test says so.
#[test]
fn debian_local_dist_packages_prove() {
    let python = Path::new("/usr/bin/python3");
    let probe = python.is_file().then(|| {
        clean_command(python)
            .args([
                "-c",
                "import sys, pip; print(any(p.endswith('/dist-packages') for p in sys.path))",
            ])
            .output()
    });
    let is_debian =
        matches!(&probe, Some(Ok(out)) if out.status.success() && stdout_str(out).trim() == "True");
    if !is_debian {
        eprintln!(
            "skipped: /usr/bin/python3 is not a Debian Python with pip (no dist-packages on its sys.path)"
        );
        return;
    }
    let tmp = tempdir();
    let root = tmp.path().join("root");
    let mut pip = clean_command(python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--break-system-packages",
        "--no-warn-script-location",
        "--root",
    ])
    .arg(&root)
    .args(["--no-index", "--find-links"])
    .arg(&served().dir)
    .args(["demo-app", "demo-scripts"]);
    run_ok(&mut pip);
    let local = root.join("usr/local");
    assert!(
        local.join("bin/demo-scripts").is_file(),
        "Debian's scheme puts scripts in usr/local/bin"
    );
    let site = fs::read_dir(local.join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("dist-packages"))
        .find(|p| p.is_dir())
        .expect("Debian's pip installs into dist-packages");
    assert_layout_proves(&site, "Debian pip, /usr/local dist-packages");
    assert_layout_proves(&local, "Debian pip, the /usr/local prefix");
}

/// A venv made with `--system-site-packages` sees the base interpreter's distributions: they are
/// judged under the base's prefix (their files are not "outside the environment"), and only
/// what the index cannot prove is unproven; the venv's own are proven.
#[test]
fn system_site_packages_are_the_bases() {
    let tmp = tempdir();
    let root = tmp.path().join("venv");
    let mut cmd = clean_command(&tools().python);
    cmd.args(["-m", "venv", "--without-pip", "--system-site-packages"])
        .arg(&root);
    run_ok(&mut cmd);
    let mut pip = tools().pip_command();
    pip.arg("--python")
        .arg(root.join("bin/python"))
        .args(["install", "--no-index", "--find-links"])
        .arg(&served().dir)
        .args(["demo-app", "demo-scripts"]);
    run_ok(&mut pip);
    let server = IndexServer::start(&served().dir, &[] as &[&str]);
    let run = lock_with_index(&root, &server, &[]);
    assert_index_artifacts(&run, LAYOUT_DISTS, &server, "wheel-record/index-listing");
    let venv_root = canon(&root);
    let mut base = 0;
    for (name, p) in run.pkgs() {
        let location = canon(p["location"].as_str().unwrap());
        if location.starts_with(&venv_root) {
            assert!(LAYOUT_DISTS.contains(&name.as_str()), "{name} in the venv");
            continue;
        }
        base += 1;
        let said = format!("{}{}", p["problems"], p["source"]);
        assert!(
            !said.contains("outside the environment"),
            "{name}, the base's, is judged under the base's prefix: {said}"
        );
    }
    if base == 0 {
        eprintln!("note: the base interpreter has no distributions; only the venv's were checked");
    }
}

/// pipx's layout: every app's venv reaches one shared venv (pip in it) through a `.pth` line
/// naming the shared venv's site-packages. A dist there has its scripts in the shared venv's
/// `bin`, so it is judged under that prefix, not refused as "outside the environment"; an added
/// folder that is no prefix's site-packages stays its own prefix (RECORD may not climb out).
#[test]
fn pth_linked_site_packages_are_their_prefixs() {
    let tmp = tempdir();
    let shared = Venv::create(&tmp.path().join("shared"), Installer::Pip);
    let mut pip = shared.pip_command();
    pip.args(["install", "--no-index", "--no-deps", "--find-links"])
        .arg(&served().dir)
        .arg("demo-scripts");
    run_ok(&mut pip);
    assert!(shared.root.join("bin/demo-scripts").is_file());
    let app = Venv::create(&tmp.path().join("app"), Installer::Pip);
    let mut pip = app.pip_command();
    pip.args(["install", "--no-index", "--no-deps", "--find-links"])
        .arg(&served().dir)
        .args(["demo-app", "demo-core"]);
    run_ok(&mut pip);
    fs::write(
        app.site_packages().join("pipx_shared.pth"),
        format!("{}\n", shared.site_packages().display()),
    )
    .unwrap();
    assert_layout_proves(&app.root, "a .pth naming another venv's site-packages");

    // The same dists in a folder that is no prefix's site-packages: the script's `../../bin`
    // now climbs out of what the .pth added, and is refused.
    let loose = tmp.path().join("loose");
    fs::rename(shared.site_packages(), &loose).unwrap();
    fs::write(
        app.site_packages().join("pipx_shared.pth"),
        format!("{}\n", loose.display()),
    )
    .unwrap();
    let server = IndexServer::start(&served().dir, &[] as &[&str]);
    let run = lock_with_index(&app.root, &server, &[]);
    assert_eq!(
        run.of_kind("unproven"),
        names_set(&["demo-scripts"]),
        "{}",
        show(&run.out)
    );
    let why = run.reasons("demo-scripts");
    assert!(why.contains("outside the environment"), "{why}");
}

/// uv's link modes: files cloned, copied, hard-linked, or symlinked into uv's cache (then
/// every installed file resolves there, outside the environment, and is read there).
#[test]
fn uv_link_modes_prove() {
    for mode in ["clone", "copy", "hardlink", "symlink"] {
        let tmp = tempdir();
        let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
        let mut uv = venv.uv_pip_command("install");
        uv.env("UV_LINK_MODE", mode)
            .arg("--no-index")
            .arg("--find-links")
            .arg(&served().dir)
            .args(["demo-app", "demo-scripts"]);
        run_ok(&mut uv);
        let util = venv.site_packages().join("demo_core/util.py");
        if mode == "symlink" {
            assert!(
                fs::symlink_metadata(&util)
                    .unwrap()
                    .file_type()
                    .is_symlink(),
                "uv linked {} into its cache",
                util.display()
            );
        }
        if mode != "symlink" {
            assert_layout_proves(&venv.root, &format!("uv --link-mode {mode}"));
            continue;
        }
        // Links into uv's cache are followed where uv itself would find its cache (here, as
        // the installing shell had it, UV_CACHE_DIR); with another cache configured, the same
        // folder is only a look-alike (an archive-v0 beside a CACHEDIR.TAG), and refused.
        let server = IndexServer::start(&served().dir, &[] as &[&str]);
        let url = server.simple_url();
        for (cache, proven) in [
            (venv.uv_cache().to_path_buf(), true),
            (tmp.path().join("elsewhere"), false),
        ] {
            let home = tempdir();
            let mut cmd = hermetic_icelock_command(
                home.path(),
                &lock_args(&venv.root, &["--index-url", url.as_str()]),
            );
            cmd.env("UV_CACHE_DIR", &cache);
            let run = run_lock(cmd);
            if proven {
                all_proven(&run);
                assert_index_artifacts(&run, LAYOUT_DISTS, &server, "wheel-record/index-listing");
            } else {
                assert_eq!(run.code, 1, "{}", show(&run.out));
                let reasons = run.reasons("demo-core");
                assert!(
                    reasons.contains("resolves outside the environment"),
                    "{reasons}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Wheels installed from a path

#[test]
fn path_installs_are_url_artifacts() {
    for installer in [Installer::Pip, Installer::Uv] {
        // The full env's demo-single, installed by absolute path.
        let env = shared_full_env(installer);
        let server = IndexServer::start(&served().dir, &[] as &[&str]);
        let run = lock_with_index(&env.venv.root, &server, &[]);
        let s = run.pkg("demo-single")["source"].clone();
        let want_sha = sha256_hex(&env.single_wheel);
        // pip records the archive's hash, uv does not; either way the local file is read
        // whole, its RECORD compared and its hash taken.
        let evidence = match installer {
            Installer::Pip => "direct-url-hash",
            Installer::Uv => "direct-url",
        };
        assert_eq!(s["kind"], "url", "{s}");
        assert_eq!(s["proof"], "wheel-hash", "{s}");
        assert_eq!(s["evidence"], evidence, "{s}");
        assert_eq!(s["sha256"], want_sha.as_str(), "{s}");
        assert_eq!(s["filename"], "demo_single-1.0-py3-none-any.whl", "{s}");
        let url = s["url"].as_str().unwrap();
        assert!(url.starts_with("file://"), "{s}");
        assert_eq!(
            canon(url.strip_prefix("file://").unwrap()),
            canon(&env.single_wheel),
            "{s}"
        );
        if installer == Installer::Pip {
            let du: Value = serde_json::from_slice(
                &fs::read(env.venv.dist_info("demo-single").join("direct_url.json")).unwrap(),
            )
            .unwrap();
            assert_eq!(
                s["sha256"], du["archive_info"]["hashes"]["sha256"],
                "pip's own record: {du}"
            );
        }
        assert!(
            !simple_counts(&server.log()).contains_key("demo-single"),
            "a URL install is not looked up on the index"
        );

        // `install ./x.whl` from a copy, which then goes away: its files can no longer be
        // compared, so only a proof remembered from when they could stands (and only where
        // the installer recorded the hash it is remembered under: pip's).
        let tmp = tempdir();
        let wheels = tmp.path().join("wheels");
        fs::create_dir_all(&wheels).unwrap();
        let copy = wheels.join("demo_single-1.0-py3-none-any.whl");
        fs::copy(&env.single_wheel, &copy).unwrap();
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        let mut cmd = match installer {
            Installer::Pip => {
                let mut c = venv.pip_command();
                c.args(["install", "--no-index"]);
                c
            }
            Installer::Uv => {
                let mut c = venv.uv_pip_command("install");
                c.arg("--no-index");
                c
            }
        };
        cmd.current_dir(&wheels)
            .arg("./demo_single-1.0-py3-none-any.whl");
        run_ok(&mut cmd);
        let home = tempdir();
        let run = lock_in_home(home.path(), &venv.root, &["--no-index"]);
        all_proven(&run);
        let s = run.pkg("demo-single")["source"].clone();
        assert_eq!(s["kind"], "url", "{s}");
        assert_eq!(s["proof"], "wheel-hash", "{s}");
        assert_eq!(s["evidence"], evidence, "{s}");
        assert_eq!(s["sha256"], want_sha.as_str(), "{s}");
        assert_eq!(
            canon(s["url"].as_str().unwrap().strip_prefix("file://").unwrap()),
            canon(&copy)
        );

        fs::remove_file(&copy).unwrap();
        let fresh = lock(&venv.root, &["--no-index"]);
        assert_eq!(fresh.code, 1, "{}", show(&fresh.out));
        let reasons = fresh.reasons("demo-single");
        assert!(
            reasons.contains("demo_single-1.0-py3-none-any.whl"),
            "{}: the reason names the file that is gone: {reasons}",
            installer.name()
        );
        let warm = lock_in_home(home.path(), &venv.root, &["--no-index"]);
        match installer {
            Installer::Pip => {
                all_proven(&warm);
                let s = &warm.pkg("demo-single")["source"];
                assert_eq!(s["sha256"], want_sha.as_str(), "{s}");
                assert_eq!(s["proof"], "wheel-hash", "{s}");
            }
            Installer::Uv => {
                assert_eq!(warm.code, 1, "{}", show(&warm.out));
                assert!(
                    warm.reasons("demo-single")
                        .contains("demo_single-1.0-py3-none-any.whl")
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Editable, directory and VCS installs

#[test]
fn editable_directory_and_vcs_sources() {
    // The full env's two editables.
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let run = lock(&env.venv.root, &["--no-index"]);
        for (name, dir) in [("demo-editable", &env.editable), ("demo-flat", &env.flat)] {
            let s = run.pkg(name)["source"].clone();
            assert_eq!(s["kind"], "editable", "{name}: {s}");
            assert_eq!(
                canon(s["path"].as_str().expect("editable path")),
                canon(dir),
                "{s}"
            );
            assert!(
                s["url"].as_str().is_some_and(|u| u.starts_with("file://")),
                "{s}"
            );
            assert_eq!(run.pkg(name)["problems"], Value::Array(vec![]), "{name}");
        }
    }

    for installer in [Installer::Pip, Installer::Uv] {
        let tmp = tempdir();
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        venv.install(&["setuptools", "demo-core"]);
        let flat = copy_fixture_project("editable-flat", tmp.path());
        venv.install(&[OsStr::new("--no-build-isolation"), flat.as_os_str()]);
        let repo = copy_fixture_project("editable-proj", tmp.path());
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "fixture"]);
        git(&repo, &["tag", "v0.1"]);
        let commit = git(&repo, &["rev-parse", "HEAD"]);
        let url = format!("git+file://{}@v0.1", repo.display());
        venv.install(&["--no-build-isolation", url.as_str()]);

        let server = IndexServer::start(&served().dir, &[] as &[&str]);
        let run = lock_with_index(&venv.root, &server, &[]);
        all_proven(&run);
        let what = installer.name();
        let d = run.pkg("demo-flat")["source"].clone();
        assert_eq!(d["kind"], "directory", "{what}: {d}");
        assert_eq!(
            canon(d["path"].as_str().expect("directory path")),
            canon(&flat),
            "{d}"
        );
        let v = run.pkg("demo-editable")["source"].clone();
        assert_eq!(v["kind"], "vcs", "{what}: {v}");
        assert_eq!(v["vcs"], "git", "{v}");
        assert_eq!(v["commit_id"].as_str(), Some(commit.as_str()), "{v}");
        assert_eq!(v["requested_revision"], "v0.1", "{v}");
        let vurl = v["url"].as_str().expect("vcs url");
        assert!(
            vurl.starts_with("file://") && vurl.trim_end_matches('/').ends_with("/editable-proj"),
            "{v}"
        );
        assert_index_artifacts(
            &run,
            &["demo-core", "setuptools"],
            &server,
            "wheel-record/index-listing",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 10. --find-links folders with --no-index

/// `--no-index` alone leaves nothing to search, and a find-links folder that does not exist is
/// not silently skipped: each unproven dist's reasons say so.
#[test]
fn nothing_to_search_and_a_missing_find_links_folder_are_said() {
    let env = shared_full_env(Installer::Pip);
    let run = lock(&env.venv.root, &["--no-index"]);
    assert_eq!(run.code, 1, "{}", show(&run.out));
    assert_eq!(run.of_kind("unproven"), names_set(FULL_INDEX));
    for name in FULL_INDEX {
        let reasons = run.reasons(name);
        assert!(
            reasons.contains("no index or find-links location is configured"),
            "{name}: {reasons}"
        );
    }
    let tmp = tempdir();
    let missing = tmp.path().join("no-such-folder");
    let run = lock(
        &env.venv.root,
        &["--no-index", "--find-links", missing.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", show(&run.out));
    for name in FULL_INDEX {
        let reasons = run.reasons(name);
        assert!(
            reasons.contains("no-such-folder") && reasons.contains("does not exist"),
            "{name}: {reasons}"
        );
    }
}

#[test]
fn find_links_folders() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let wh = &wheelhouse().dir;
        let tw = &tools().wheels;
        let run = lock(
            &env.venv.root,
            &[
                "--no-index",
                "--find-links",
                wh.to_str().unwrap(),
                "--find-links",
                tw.to_str().unwrap(),
            ],
        );
        all_proven(&run);
        assert_eq!(run.of_kind("index"), names_set(FULL_INDEX));
        for name in FULL_INDEX {
            let p = run.pkg(name);
            let s = &p["source"];
            let (filename, file) = served().wheel(name, p["version"].as_str().unwrap());
            let folder = canon(file.path.parent().unwrap());
            assert_eq!(s["filename"], filename, "{name}: {s}");
            assert_eq!(s["sha256"], file.sha256.as_str(), "{name}: {s}");
            // A local file is read whole: no server stands for its bytes.
            assert_eq!(s["proof"], "wheel-hash", "{name}: {s}");
            assert_eq!(s["evidence"], "index-listing", "{name}: {s}");
            let url = s["url"].as_str().unwrap();
            assert_eq!(
                canon(url.strip_prefix("file://").expect("a file URL")),
                canon(&file.path),
                "{s}"
            );
            let index = s["index"].as_str().expect("index");
            assert_eq!(
                canon(index.strip_prefix("file://").expect("a file URL")),
                folder,
                "{name}: {s}"
            );
            assert!(s["size"].is_null() || s["size"] == file.size, "{s}");
        }
    }
}

#[test]
fn extra_index_url_is_searched_too() {
    // The primary index serves only the fixture wheels; setuptools is on the extra one.
    let tmp = tempdir();
    let primary_dir = tmp.path().join("primary");
    let extra_dir = tmp.path().join("extra");
    fs::create_dir_all(&primary_dir).unwrap();
    fs::create_dir_all(&extra_dir).unwrap();
    for (name, f) in &served().files {
        let dir = if name.starts_with("setuptools") {
            &extra_dir
        } else {
            &primary_dir
        };
        std::os::unix::fs::symlink(&f.path, dir.join(name)).unwrap();
    }
    let primary = IndexServer::start(&primary_dir, &[] as &[&str]);
    let extra = IndexServer::start(&extra_dir, &[] as &[&str]);
    let env = shared_full_env(Installer::Uv);
    let extra_url = extra.simple_url();
    let run = lock_with_index(&env.venv.root, &primary, &["--extra-index-url", &extra_url]);
    all_proven(&run);
    let others: Vec<&str> = FULL_INDEX
        .iter()
        .copied()
        .filter(|n| *n != "setuptools")
        .collect();
    assert_index_artifacts(&run, &others, &primary, "wheel-record/index-listing");
    assert_index_artifacts(&run, &["setuptools"], &extra, "wheel-record/index-listing");
}

// ---------------------------------------------------------------------------------------------
// 11. Flaky servers, redirects, plain http off loopback

#[test]
fn retries_through_server_errors() {
    let venv = big_env(Installer::Pip);
    for metadata in ["hash", "none"] {
        let server = IndexServer::start(
            &served().dir,
            &["--fail-first", "2", "--metadata", metadata],
        );
        let run = lock_with_index(&venv.root, &server, &[]);
        all_proven(&run);
        assert_index_artifacts(&run, BIG_INDEX, &server, "wheel-record/index-listing");
        let log = server.log();
        for name in BIG_INDEX {
            let path = format!("/simple/{name}/");
            let statuses: Vec<i64> = log
                .iter()
                .filter(|e| e["path"] == path.as_str())
                .map(|e| e["status"].as_i64().unwrap())
                .collect();
            assert_eq!(statuses, vec![500, 500, 200], "{path}: retried twice");
        }
    }
}

/// This machine's address off loopback, if it has one.
fn non_loopback_address() -> Option<String> {
    let out = tools().python_eval(
        r#"
import socket
addr = ""
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("10.255.255.255", 9))
    addr = s.getsockname()[0]
except OSError:
    pass
if not addr or addr.startswith("127."):
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            if not info[4][0].startswith("127."):
                addr = info[4][0]
                break
    except OSError:
        pass
print("" if addr.startswith("127.") else addr)
"#,
        &[],
    );
    let addr = out.trim();
    (!addr.is_empty()).then(|| addr.to_owned())
}

fn skip_note(what: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipping {what}: this machine has no address off loopback"
    );
}

#[test]
fn redirect_to_plain_http_is_refused() {
    let venv = big_env(Installer::Pip);
    // To a host that does not resolve: the reason must be the refusal, not a lookup failure.
    let server = IndexServer::start(&served().dir, &["--redirect-http", "--metadata", "none"]);
    let run = lock_with_index(&venv.root, &server, &[]);
    assert_eq!(run.code, 1, "{}", show(&run.out));
    for name in BIG_INDEX {
        let reasons = run.reasons(name);
        assert!(
            reasons.contains("redirect"),
            "{name}: the reason mentions the refused redirect: {reasons}"
        );
    }
}

#[test]
fn redirect_off_loopback_is_never_followed() {
    // To a plain-http server off loopback that would answer: it must never be asked.
    let Some(addr) = non_loopback_address() else {
        return skip_note("the off-loopback redirect");
    };
    let venv = big_env(Installer::Pip);
    let elsewhere = IndexServer::start_on(&addr, &served().dir, &["--metadata", "none"]);
    let server = IndexServer::start(
        &served().dir,
        &["--redirect-to", &elsewhere.origin(), "--metadata", "none"],
    );
    let run = lock_with_index(&venv.root, &server, &[]);
    let reached = elsewhere.log();
    assert!(
        reached.is_empty(),
        "icelock followed a redirect to plain http off loopback ({}): {:#?}\n{}",
        elsewhere.origin(),
        log_paths(&reached),
        show(&run.out)
    );
    assert_eq!(run.code, 1, "{}", show(&run.out));
    for name in BIG_INDEX {
        let reasons = run.reasons(name);
        assert!(reasons.contains("redirect"), "{name}: {reasons}");
    }
}

#[test]
fn plain_http_off_loopback_needs_trusted_host() {
    let Some(addr) = non_loopback_address() else {
        return skip_note("plain http off loopback");
    };
    let venv = big_env(Installer::Uv);
    let server = IndexServer::start_on(&addr, &served().dir, &[] as &[&str]);
    let run = lock_with_index(&venv.root, &server, &[]);
    assert_eq!(run.code, 1, "{}", show(&run.out));
    assert!(
        server.log().is_empty(),
        "plain http off loopback was used: {:#?}",
        server.log()
    );
    for name in BIG_INDEX {
        let reasons = run.reasons(name);
        assert!(
            reasons.contains("trusted-host"),
            "{name}: the reason says how to allow it: {reasons}"
        );
    }
    let run = lock_with_index(&venv.root, &server, &["--trusted-host", &addr]);
    all_proven(&run);
    assert_index_artifacts(&run, BIG_INDEX, &server, "wheel-record/index-listing");
}

// ---------------------------------------------------------------------------------------------
// 12. --offline

#[test]
fn offline_with_a_cold_cache_asks_nothing() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let server = IndexServer::start(&served().dir, &[] as &[&str]);
        let run = lock_with_index(&env.venv.root, &server, &["--offline"]);
        assert_eq!(run.code, 1, "{}", show(&run.out));
        assert_eq!(run.of_kind("unproven"), names_set(FULL_INDEX));
        for name in FULL_INDEX {
            let reasons = run.reasons(name);
            assert!(reasons.contains("offline"), "{name}: {reasons}");
        }
        // What needs no index is still proven.
        assert_eq!(run.of_kind("url"), names_set(&["demo-single"]));
        assert_eq!(
            run.of_kind("editable"),
            names_set(&["demo-editable", "demo-flat"])
        );
        assert_eq!(server.log(), Vec::<Value>::new(), "--offline made requests");
    }
}

#[test]
fn offline_with_a_warm_cache_proves_from_it() {
    let env = shared_full_env(Installer::Pip);
    let home = tempdir();
    let server = IndexServer::start(&served().dir, &[] as &[&str]);
    let url = server.simple_url();
    let online = lock_in_home(home.path(), &env.venv.root, &["--index-url", &url]);
    all_proven(&online);
    server.clear_log();
    let offline = lock_in_home(
        home.path(),
        &env.venv.root,
        &["--index-url", &url, "--offline"],
    );
    assert_eq!(server.log(), Vec::<Value>::new(), "--offline made requests");
    all_proven(&offline);
    for name in FULL_INDEX {
        assert_eq!(
            offline.pkg(name)["source"],
            online.pkg(name)["source"],
            "{name}: the cached attribution is the online one"
        );
    }
}

/// A warm run revalidates each page with its ETag and proves from the cache on 304, with the
/// same result; within a `max-age` the server granted it asks nothing at all; `no-cache` makes it
/// ask every time.
#[test]
fn warm_runs_revalidate_pages_and_honour_max_age() {
    let env = shared_full_env(Installer::Pip);
    // (Cache-Control, ETag sent, --refresh, whether the warm run asks for pages again)
    for (cache_control, etag, refresh, asks_again) in [
        // Validators without a lifetime: asked again, answered 304.
        (None, true, false, true),
        (Some("max-age=600, public"), true, false, false),
        (Some("max-age=600, public"), true, true, true),
        (Some("no-cache"), true, false, true),
        // Nothing at all (the mirror these machines reach): fresh for 10 minutes.
        (None, false, false, false),
    ] {
        let mut flags = vec![];
        if etag {
            flags.push("--etag");
        }
        if let Some(value) = cache_control {
            flags.extend(["--cache-control", value]);
        }
        let server = IndexServer::start(&served().dir, &flags);
        let home = tempdir();
        let url = server.simple_url();
        let cold = lock_in_home(home.path(), &env.venv.root, &["--index-url", &url]);
        all_proven(&cold);
        server.clear_log();
        let mut warm_flags = vec!["--index-url", url.as_str()];
        if refresh {
            warm_flags.push("--refresh");
        }
        let warm = lock_in_home(home.path(), &env.venv.root, &warm_flags);
        all_proven(&warm);
        for name in FULL_INDEX {
            assert_eq!(
                warm.pkg(name)["source"],
                cold.pkg(name)["source"],
                "{name}: the warm attribution is the cold one ({cache_control:?})"
            );
        }
        let log = server.log();
        let pages: Vec<&Value> = log
            .iter()
            .filter(|e| e["path"].as_str().unwrap().starts_with("/simple/"))
            .collect();
        if asks_again {
            assert!(
                !pages.is_empty(),
                "{cache_control:?}: pages are revalidated"
            );
            for page in &pages {
                assert_eq!(page["status"], 304, "{cache_control:?}: {page}");
            }
            if refresh {
                assert_eq!(
                    pages.len(),
                    FULL_INDEX.len(),
                    "--refresh asks for every page"
                );
            }
        } else {
            assert_eq!(pages.len(), 0, "fresh pages are not asked for: {pages:?}");
        }
        // The proven wheels' facts come from the cache: no wheel or .metadata is read again.
        let files: Vec<&Value> = log
            .iter()
            .filter(|e| e["path"].as_str().unwrap().starts_with("/files/"))
            .collect();
        assert_eq!(files, Vec::<&Value>::new(), "{cache_control:?}");
    }
}

/// An index without validators or a lifetime sends every page whole each time it is asked (the
/// mirror these machines reach does): under `--refresh` the pages are read again, and a cached
/// entry whose kept part has not changed is left as it is (not written again), while one that
/// changed is replaced.
#[test]
fn unchanged_pages_are_not_rewritten() {
    use std::os::unix::fs::MetadataExt;
    let env = shared_full_env(Installer::Pip);
    let server = IndexServer::start(&served().dir, &[] as &[&str]);
    let home = tempdir();
    let url = server.simple_url();
    let pages_dir = home.path().join(".cache/icelock/v2/pages");
    let inodes = || -> BTreeMap<PathBuf, u64> {
        walk_files(&pages_dir)
            .into_iter()
            .map(|p| {
                let ino = fs::metadata(&p).unwrap().ino();
                (p, ino)
            })
            .collect()
    };
    let cold = lock_in_home(home.path(), &env.venv.root, &["--index-url", &url]);
    all_proven(&cold);
    let before = inodes();
    assert!(
        before.len() >= FULL_INDEX.len(),
        "a page entry per project: {before:#?}"
    );
    server.clear_log();
    let refresh = ["--index-url", url.as_str(), "--refresh"];
    let warm = lock_in_home(home.path(), &env.venv.root, &refresh);
    all_proven(&warm);
    assert!(
        server
            .log()
            .iter()
            .any(|e| e["path"].as_str().unwrap().starts_with("/simple/") && e["status"] == 200),
        "without validators the pages are fetched again"
    );
    assert_eq!(
        inodes(),
        before,
        "unchanged page entries were written again"
    );

    // A changed entry is replaced: here, one whose kept files were edited in the cache.
    let (changed, _) = before.iter().next().unwrap();
    let text = fs::read_to_string(changed).unwrap();
    let (head, body) = text.split_once('\n').unwrap();
    let mut page: Value = serde_json::from_str(body).unwrap();
    page["files"] = Value::Array(Vec::new());
    fs::write(changed, format!("{head}\n{page}")).unwrap();
    let edited = fs::metadata(changed).unwrap().ino();
    let again = lock_in_home(home.path(), &env.venv.root, &refresh);
    all_proven(&again);
    let after = inodes();
    assert_ne!(after[changed], edited, "a changed entry is written again");
    assert_ne!(
        fs::read_to_string(changed).unwrap(),
        format!("{head}\n{page}"),
        "the entry holds the page's files again"
    );
}

// ---------------------------------------------------------------------------------------------
// 13. Credentials

fn assert_no_secret(run: &Run, secret: &str, extra: Option<&str>) {
    for (what, text) in [
        ("stdout", run.stdout.as_str()),
        ("stderr", run.stderr.as_str()),
    ]
    .into_iter()
    .chain(extra.map(|t| ("-o file", t)))
    {
        assert!(
            !text.contains(secret),
            "{secret} appears in {what}:\n{text}"
        );
        assert!(
            !text.contains("user:"),
            "the user name appears in a URL in {what}:\n{text}"
        );
        assert!(
            !text.contains("user@"),
            "the user name appears in a URL in {what}:\n{text}"
        );
    }
}

#[test]
fn credentials_in_the_index_url_are_sent_and_never_shown() {
    let env = shared_full_env(Installer::Pip);
    let server = IndexServer::start(
        &served().dir,
        &["--require-auth", "user:s3cret", "--metadata", "none"],
    );
    let url = format!("http://user:s3cret@127.0.0.1:{}/simple/", server.port);
    let tmp = tempdir();
    let out_file = tmp.path().join("lock.json");
    let mut run = lock(
        &env.venv.root,
        &["--index-url", &url, "-v", "-o", out_file.to_str().unwrap()],
    );
    let written = fs::read_to_string(&out_file).expect("-o file written");
    assert_eq!(run.stdout, "", "with -o the report goes to the file");
    run.report = serde_json::from_str(&written).expect("the -o file is JSON");
    all_proven(&run);
    let log = server.log();
    assert!(!log.is_empty());
    for e in &log {
        assert_eq!(
            e["authorization"], true,
            "every request carries the login: {e}"
        );
        assert_eq!(e["user"], "user", "{e}");
        assert_ne!(e["status"], 401, "{e}");
    }
    assert_no_secret(&run, "s3cret", Some(&written));
    let report: Value = serde_json::from_str(&written).unwrap();
    for name in FULL_INDEX {
        let p = packages_by_name(&report)[*name].clone();
        assert_eq!(
            p["source"]["index"],
            server.simple_url().as_str(),
            "{name}: redacted index"
        );
        assert!(
            p["source"]["url"]
                .as_str()
                .unwrap()
                .starts_with(&server.origin()),
            "{p}"
        );
    }
    assert!(
        run.stderr.contains(&format!("GET {}", server.simple_url())),
        "-v logs each request, without the login: {}",
        run.stderr
    );

    // Failures: a wrong password, and a server that fails every request. The messages carry
    // URLs, never the login.
    let url = format!("http://user:wr0ng@127.0.0.1:{}/simple/", server.port);
    let run = lock(&env.venv.root, &["--index-url", &url, "-v"]);
    assert_eq!(run.code, 1, "{}", show(&run.out));
    assert!(
        run.reasons("demo-core").contains("401"),
        "{}",
        run.reasons("demo-core")
    );
    assert_no_secret(&run, "wr0ng", None);

    let failing = IndexServer::start(
        &served().dir,
        &["--fail-first", "100", "--metadata", "none"],
    );
    let url = format!("http://user:s3cret@127.0.0.1:{}/simple/", failing.port);
    let run = lock(&env.venv.root, &["--index-url", &url, "-v"]);
    assert_eq!(run.code, 1, "{}", show(&run.out));
    assert!(
        run.reasons("demo-core").contains("500"),
        "{}",
        run.reasons("demo-core")
    );
    assert_no_secret(&run, "s3cret", None);
}

#[test]
fn credentials_are_not_sent_across_a_redirect() {
    // Files redirected to another server (as PyPI's go to its CDN): the login for the index
    // must not follow them there.
    let venv = big_env(Installer::Pip);
    let files = IndexServer::start(&served().dir, &["--metadata", "none"]);
    let index = IndexServer::start(
        &served().dir,
        &[
            "--require-auth",
            "user:s3cret",
            "--metadata",
            "none",
            "--redirect-to",
            &files.origin(),
        ],
    );
    let url = format!("http://user:s3cret@127.0.0.1:{}/simple/", index.port);
    let run = lock(&venv.root, &["--index-url", &url]);
    all_proven(&run);
    let reached = files.log();
    assert!(!reached.is_empty(), "the redirects were followed");
    for e in &reached {
        assert_eq!(
            e["authorization"], false,
            "the login went to another host: {e}"
        );
    }
    for e in index.log() {
        assert_eq!(e["user"], "user", "{e}");
    }
    assert_no_secret(&run, "s3cret", None);
}

#[test]
fn netrc_login_is_used_for_its_host() {
    let venv = big_env(Installer::Uv);
    let server = IndexServer::start(&served().dir, &["--require-auth", "user:s3cret"]);
    let home = tempdir();
    let netrc = home.path().join(".netrc");
    fs::write(
        &netrc,
        "machine 127.0.0.1\n  login user\n  password s3cret\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&netrc, fs::Permissions::from_mode(0o600)).unwrap();
    let url = server.simple_url();
    let run = lock_in_home(home.path(), &venv.root, &["--index-url", &url, "-v"]);
    let log = server.log();
    assert!(
        log.iter().all(|e| e["user"] == "user"),
        "the .netrc login for 127.0.0.1 was not sent to 127.0.0.1:{} (pip and uv match .netrc by host, whatever the port): {:#?}\n{}",
        server.port,
        log,
        show(&run.out)
    );
    all_proven(&run);
    assert_no_secret(&run, "s3cret", None);
}

// ---------------------------------------------------------------------------------------------
// 14. -o FILE

#[test]
fn output_file_is_the_report_written_whole() {
    let env = shared_full_env(Installer::Uv);
    let server = IndexServer::start(&served().dir, &[] as &[&str]);
    let to_stdout = lock_with_index(&env.venv.root, &server, &[]);
    all_proven(&to_stdout);

    let tmp = tempdir();
    let out_file = tmp.path().join("lock.json");
    // An existing, longer file is replaced whole.
    fs::write(&out_file, "x".repeat(to_stdout.stdout.len() * 2)).unwrap();
    let run = lock_with_index(&env.venv.root, &server, &["-o", out_file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", show(&run.out));
    assert_eq!(run.stdout, "", "with -o nothing goes to stdout");
    assert!(!run.stderr.is_empty(), "the summary still goes to stderr");
    let written = fs::read_to_string(&out_file).unwrap();
    assert_eq!(
        written, to_stdout.stdout,
        "-o FILE holds what stdout would have"
    );
    let left: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec!["lock.json".to_owned()],
        "no temporary file left behind"
    );

    // An unproven run still writes its report (and exits 1).
    let run = lock_with_index(
        &env.venv.root,
        &server,
        &["--offline", "-o", out_file.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", show(&run.out));
    let report: Value = serde_json::from_str(&fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(
        packages_by_name(&report).keys().collect::<Vec<_>>(),
        to_stdout.pkgs().keys().collect::<Vec<_>>()
    );
    assert!(packages_by_name(&report)["demo-core"]["source"]["kind"] == "unproven");
}

#[test]
fn output_file_has_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let env = shared_full_env(Installer::Pip);
    let tmp = tempdir();
    // What any new file gets here (0666 less the umask), and an existing file's own mode.
    let reference = tmp.path().join("reference");
    fs::write(&reference, "").unwrap();
    let ordinary = fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
    let new_file = tmp.path().join("new.json");
    let existing = tmp.path().join("existing.json");
    fs::write(&existing, "{}").unwrap();
    fs::set_permissions(&existing, fs::Permissions::from_mode(0o664)).unwrap();
    for out in [&new_file, &existing] {
        let run = lock(&env.venv.root, &["--no-index", "-o", out.to_str().unwrap()]);
        assert!(fs::metadata(out).unwrap().len() > 100, "{}", show(&run.out));
    }
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        (mode(&new_file), mode(&existing)),
        (ordinary, 0o664),
        "a new -o file gets the mode any new file gets ({ordinary:o}), a replaced one keeps its own (664); got {:o} and {:o}",
        mode(&new_file),
        mode(&existing)
    );
}

/// `-o` naming something that is not a regular file (`/dev/null`, `/dev/stdout`, a named
/// pipe) is written into, never replaced: the atomic rename would put a file where the device
/// was (run as root, over `/dev/null` itself). A named pipe stands in for the device here.
#[test]
fn output_to_a_device_or_pipe_writes_into_it() {
    let env = shared_full_env(Installer::Pip);
    let tmp = tempdir();
    let fifo = tmp.path().join("out.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Read on another thread, waited for with a limit: were the pipe replaced, nothing would
    // ever open it for writing and the read would block for good.
    let (sent, received) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let _ = sent.send(fs::read_to_string(&fifo).unwrap_or_default());
        });
    }
    let run = lock(
        &env.venv.root,
        &["--no-index", "-o", fifo.to_str().unwrap()],
    );
    let read = received
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("nothing was written into the pipe\n{}", show(&run.out)));
    assert!(read.contains("\"packages\""), "{}\n{read}", show(&run.out));
    use std::os::unix::fs::FileTypeExt;
    assert!(
        fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "the pipe is still a pipe"
    );
}
