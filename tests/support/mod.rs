//! Shared by the integration tests: the tools venv (pip, uv, setuptools), the fixture wheelhouse,
//! real virtualenvs built from it with pip or uv, and a runner for the `icelock` binary.
//!
//! Nothing here touches the network except `.ci/install-test-tools`, which is run once (it is a
//! no-op when the tools venv is already built). Every installer call is `--no-index`/`--offline`
//! with a scrubbed environment, so machine-wide pip/uv settings cannot leak into the tests.

#![allow(dead_code)]

pub mod online;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any one child process may run before the test fails (and the child is killed).
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(300);
/// How long one `icelock` run may take: these environments are tiny.
pub const ICELOCK_TIMEOUT: Duration = Duration::from_secs(60);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures_dir() -> PathBuf {
    repo_root().join("tests").join("fixtures")
}

/// `target/tmp`, cargo's scratch folder for integration tests.
fn target_tmp() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    fs::create_dir_all(&dir).expect("create CARGO_TARGET_TMPDIR");
    dir
}

/// A folder owned by this test process, under `target/tmp`: what lives as long as the process
/// (the shared venvs) goes here. Folders left by earlier processes that are gone are removed.
pub fn process_scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = target_tmp();
        if let Ok(entries) = fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("run-")
                    && pid.parse::<u32>().is_ok()
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("run-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create process scratch dir");
        dir
    })
}

/// A temp dir for one test (removed when dropped).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("t-")
        .tempdir_in(process_scratch())
        .expect("create temp dir")
}

/// Holds an exclusive lock on `target/tmp/<name>.lock` while alive: serialises work shared by
/// the test binaries cargo runs (one after another by default, but nothing promises that).
struct FileLock(fs::File);

impl FileLock {
    fn acquire(name: &str) -> FileLock {
        let path = target_tmp().join(format!("{name}.lock"));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("open lock file {}: {e}", path.display()));
        file.lock()
            .unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
        FileLock(file)
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

// ---------------------------------------------------------------------------------------------
// Running children

/// A command whose environment cannot pull in machine-wide Python/pip/uv settings.
pub fn clean_command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("PIP_") || k.starts_with("UV_") || k.starts_with("PYTHON") {
            cmd.env_remove(&key);
        }
    }
    for k in [
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "__PYVENV_LAUNCHER__",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUTF8", "1")
        .env("UV_NO_CONFIG", "1")
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_PROGRESS", "1")
        // Hard links from uv's cache would make a test that edits an installed file edit the
        // cache too.
        .env("UV_LINK_MODE", "copy");
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to completion, killing it after `timeout`. Returns None on timeout.
pub fn output_with_timeout(cmd: &mut Command, timeout: Duration) -> Option<Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", describe(cmd)));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // On a timeout the readers are left behind: a grandchild may still hold the pipes.
    let status = status?;
    let stdout = t_out.join().unwrap();
    let stderr = t_err.join().unwrap();
    Some(Output {
        status,
        stdout,
        stderr,
    })
}

pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    if let Some(dir) = cmd.get_current_dir() {
        s.push_str(&format!("  (in {})", dir.display()));
    }
    s
}

pub fn show(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`; panics with its output unless it exits 0.
pub fn run_ok(cmd: &mut Command) -> Output {
    let what = describe(cmd);
    let out = output_with_timeout(cmd, CHILD_TIMEOUT)
        .unwrap_or_else(|| panic!("timed out after {CHILD_TIMEOUT:?}: {what}"));
    assert!(
        out.status.success(),
        "command failed: {what}\n{}",
        show(&out)
    );
    out
}

pub fn stdout_str(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

// ---------------------------------------------------------------------------------------------
// The tools venv

pub struct Tools {
    /// `target/test-tools`
    pub root: PathBuf,
    pub python: PathBuf,
    pub pip: PathBuf,
    pub uv: PathBuf,
    /// Wheels of setuptools, wheel and packaging, for installing them offline.
    pub wheels: PathBuf,
    /// poetry and pdm, from a venv of their own.
    pub poetry: PathBuf,
    pub pdm: PathBuf,
    /// pipx, in a venv of its own.
    pub pipx: PathBuf,
    /// The Python of that venv, which also has cyclonedx-py, cyclonedx-python-lib's validators
    /// and spdx-tools.
    pub lockers_python: PathBuf,
}

impl Tools {
    /// `python -m pip ARGS` from the tools venv.
    pub fn pip_command(&self) -> Command {
        let mut cmd = clean_command(&self.python);
        cmd.args(["-m", "pip"]);
        cmd
    }

    pub fn uv_command(&self) -> Command {
        clean_command(&self.uv)
    }

    /// Runs a short Python program in the tools venv (which has `packaging`).
    pub fn python_eval(&self, code: &str, args: &[&OsStr]) -> String {
        let mut cmd = clean_command(&self.python);
        cmd.arg("-c").arg(code).args(args);
        stdout_str(&run_ok(&mut cmd))
    }
}

/// Ensures the tools venv exists (running `.ci/install-test-tools` once per test process, under
/// a file lock) and returns its paths.
pub fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let root = repo_root();
        let script = root.join(".ci").join("install-test-tools");
        let _lock = FileLock::acquire("test-tools");
        let mut cmd = Command::new("bash");
        cmd.arg(&script).current_dir(&root).stdin(Stdio::null());
        let out = output_with_timeout(&mut cmd, Duration::from_secs(900));
        match out {
            Some(out) if out.status.success() => {}
            Some(out) => panic!(
                "could not build the test tools venv with {}; the integration tests need it \
                 (it installs pip, uv and setuptools from the package index once).\n{}",
                script.display(),
                show(&out)
            ),
            None => panic!("{} did not finish within 15 minutes", script.display()),
        }
        let dir = root.join("target").join("test-tools");
        let tools = Tools {
            python: dir.join("bin").join("python"),
            pip: dir.join("bin").join("pip"),
            uv: dir.join("bin").join("uv"),
            wheels: dir.join("wheels"),
            poetry: dir.join("lockers").join("bin").join("poetry"),
            pdm: dir.join("lockers").join("bin").join("pdm"),
            pipx: dir.join("pipx").join("bin").join("pipx"),
            lockers_python: dir.join("lockers").join("bin").join("python"),
            root: dir,
        };
        for p in [
            &tools.python,
            &tools.pip,
            &tools.uv,
            &tools.wheels,
            &tools.poetry,
            &tools.pdm,
            &tools.lockers_python,
        ] {
            assert!(
                p.exists(),
                "{} missing after {}",
                p.display(),
                script.display()
            );
        }
        tools
    })
}

// ---------------------------------------------------------------------------------------------
// Fixture wheels

#[derive(Debug, Clone)]
pub struct FixtureWheel {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
}

pub struct Wheelhouse {
    pub dir: PathBuf,
    pub wheels: Vec<FixtureWheel>,
}

impl Wheelhouse {
    /// The fixture wheel of `name` (any spelling) and `version`.
    pub fn wheel(&self, name: &str, version: &str) -> &FixtureWheel {
        let want = normalize(name);
        self.wheels
            .iter()
            .find(|w| normalize(&w.name) == want && w.version == version)
            .unwrap_or_else(|| {
                panic!(
                    "no fixture wheel {name} {version} in {}",
                    self.dir.display()
                )
            })
    }
}

/// Runs `tests/fixtures/make_wheels.py` into `dir`; returns `dir`.
pub fn build_wheels(dir: &Path) -> PathBuf {
    let t = tools();
    fs::create_dir_all(dir).expect("create wheelhouse dir");
    let mut cmd = clean_command(&t.python);
    cmd.arg(fixtures_dir().join("make_wheels.py")).arg(dir);
    run_ok(&mut cmd);
    dir.to_path_buf()
}

/// The fixture wheelhouse, built once per test process. It is cached in `target/tmp` under a
/// name derived from the builder's content (the builder is deterministic), so test binaries
/// share it and a change to the builder gives a new one.
pub fn wheelhouse() -> &'static Wheelhouse {
    static WH: OnceLock<Wheelhouse> = OnceLock::new();
    WH.get_or_init(|| {
        let script = fs::read(fixtures_dir().join("make_wheels.py")).expect("read make_wheels.py");
        let key = fnv1a(&script);
        let dir = target_tmp().join(format!("wheelhouse-{key:016x}"));
        let _lock = FileLock::acquire("wheelhouse");
        if !dir.join("manifest.json").exists() {
            // Wheelhouses of earlier versions of the builder are no longer wanted.
            for e in fs::read_dir(target_tmp()).unwrap().flatten() {
                if e.file_name().to_string_lossy().starts_with("wheelhouse-") {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
            let partial = target_tmp().join(format!("wheelhouse-{key:016x}.partial"));
            let _ = fs::remove_dir_all(&partial);
            build_wheels(&partial);
            fs::rename(&partial, &dir).expect("move wheelhouse into place");
        }
        let manifest: Value =
            serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let wheels = manifest
            .as_array()
            .unwrap()
            .iter()
            .map(|w| FixtureWheel {
                name: w["name"].as_str().unwrap().to_owned(),
                version: w["version"].as_str().unwrap().to_owned(),
                path: dir.join(w["file"].as_str().unwrap()),
            })
            .collect();
        Wheelhouse { dir, wheels }
    })
}

fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// PEP 503 normalisation.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

/// Copies fixture project `name` (a folder under tests/fixtures) into `dest_parent/name`, so
/// builds never write into the source tree. Returns the copy's path.
pub fn copy_fixture_project(name: &str, dest_parent: &Path) -> PathBuf {
    let src = fixtures_dir().join(name);
    assert!(src.is_dir(), "no fixture project {}", src.display());
    let dest = dest_parent.join(name);
    copy_tree(&src, &dest);
    dest
}

fn copy_tree(src: &Path, dest: &Path) {
    fs::create_dir_all(dest).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let n = name.to_string_lossy();
        if n == "build" || n == "__pycache__" || n.ends_with(".egg-info") {
            continue;
        }
        let ty = e.file_type().unwrap();
        if ty.is_dir() {
            copy_tree(&e.path(), &dest.join(&name));
        } else {
            fs::copy(e.path(), dest.join(&name)).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hashes (through the tools python: no hashing crate in the dev-dependencies)

/// Hex sha256 of each file, in order.
pub fn sha256_hex_many(paths: &[&Path]) -> Vec<String> {
    let args: Vec<&OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
    let out = tools().python_eval(
        "import hashlib,sys\nfor p in sys.argv[1:]:\n    print(hashlib.sha256(open(p,'rb').read()).hexdigest())",
        &args,
    );
    out.lines().map(str::to_owned).collect()
}

pub fn sha256_hex(path: &Path) -> String {
    sha256_hex_many(&[path]).remove(0)
}

/// The RECORD form of a file's digest: `sha256=<urlsafe b64, no padding>`.
pub fn record_digest(path: &Path) -> String {
    tools()
        .python_eval(
            "import hashlib,base64,sys\nd=hashlib.sha256(open(sys.argv[1],'rb').read()).digest()\nprint('sha256='+base64.urlsafe_b64encode(d).rstrip(b'=').decode())",
            &[path.as_os_str()],
        )
        .trim()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Virtualenvs

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installer {
    Pip,
    Uv,
}

impl Installer {
    /// What the installer writes to INSTALLER.
    pub fn name(self) -> &'static str {
        match self {
            Installer::Pip => "pip",
            Installer::Uv => "uv",
        }
    }
}

pub struct Venv {
    pub root: PathBuf,
    pub installer: Installer,
    uv_cache: PathBuf,
}

impl Venv {
    /// Creates a venv at `root`: with `python -m venv --without-pip` for [`Installer::Pip`]
    /// (pip is driven from the tools venv with `--python`), with `uv venv` for [`Installer::Uv`].
    /// Either way the interpreter is the tools venv's base CPython.
    pub fn create(root: &Path, installer: Installer) -> Venv {
        let t = tools();
        assert!(!root.exists(), "{} already exists", root.display());
        let uv_cache = root.with_file_name(format!(
            "{}.uv-cache",
            root.file_name().unwrap().to_string_lossy()
        ));
        match installer {
            Installer::Pip => {
                let mut cmd = clean_command(&t.python);
                cmd.args(["-m", "venv", "--without-pip"]).arg(root);
                run_ok(&mut cmd);
            }
            Installer::Uv => {
                let mut cmd = t.uv_command();
                cmd.env("UV_CACHE_DIR", &uv_cache)
                    .args(["venv", "--quiet", "--offline", "--python"])
                    .arg(&t.python)
                    .arg(root);
                run_ok(&mut cmd);
            }
        }
        let venv = Venv {
            root: root.to_path_buf(),
            installer,
            uv_cache,
        };
        assert!(
            venv.python().exists(),
            "no interpreter in {}",
            root.display()
        );
        venv
    }

    pub fn python(&self) -> PathBuf {
        self.root.join("bin").join("python")
    }

    /// The cache uv installs into this venv through (its `UV_CACHE_DIR`).
    pub fn uv_cache(&self) -> &Path {
        &self.uv_cache
    }

    /// `<root>/lib/python3.X/site-packages`.
    pub fn site_packages(&self) -> PathBuf {
        let lib = self.root.join("lib");
        for e in fs::read_dir(&lib).unwrap_or_else(|e| panic!("read {}: {e}", lib.display())) {
            let p = e.unwrap().path().join("site-packages");
            if p.is_dir() {
                return p;
            }
        }
        panic!("no site-packages under {}", lib.display())
    }

    /// pip from the tools venv, pointed at this venv's interpreter.
    pub fn pip_command(&self) -> Command {
        let mut cmd = tools().pip_command();
        cmd.arg("--python").arg(self.python());
        cmd
    }

    /// `uv pip SUBCOMMAND --python <venv> --offline ...`.
    pub fn uv_pip_command(&self, subcommand: &str) -> Command {
        let mut cmd = tools().uv_command();
        cmd.env("UV_CACHE_DIR", &self.uv_cache)
            .args(["pip", subcommand, "--offline", "--python"])
            .arg(self.python());
        cmd
    }

    /// Installs requirement strings / wheel paths with this venv's installer, offline, from the
    /// fixture wheelhouse and the tools wheels (setuptools, wheel, packaging).
    pub fn install<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let wh = wheelhouse();
        let t = tools();
        let mut cmd = match self.installer {
            Installer::Pip => {
                let mut c = self.pip_command();
                c.arg("install");
                c
            }
            Installer::Uv => self.uv_pip_command("install"),
        };
        cmd.arg("--no-index")
            .arg("--find-links")
            .arg(&wh.dir)
            .arg("--find-links")
            .arg(&t.wheels)
            .args(args);
        run_ok(&mut cmd)
    }

    /// Installs copies of fixture projects (folders under tests/fixtures) as editable, with
    /// setuptools installed into the venv first (the build runs without isolation, offline).
    /// Returns the paths of the copies, in order.
    pub fn install_editables(&self, projects: &[&str], copy_into: &Path) -> Vec<PathBuf> {
        let dests: Vec<PathBuf> = projects
            .iter()
            .map(|p| copy_fixture_project(p, copy_into))
            .collect();
        self.install(&["setuptools"]);
        let mut args: Vec<&OsStr> = vec![OsStr::new("--no-build-isolation")];
        for d in &dests {
            args.push(OsStr::new("-e"));
            args.push(d.as_os_str());
        }
        self.install(&args);
        dests
    }

    pub fn uninstall(&self, names: &[&str]) {
        let mut cmd = match self.installer {
            Installer::Pip => {
                let mut c = self.pip_command();
                c.args(["uninstall", "-y"]);
                c
            }
            Installer::Uv => self.uv_pip_command("uninstall"),
        };
        cmd.args(names);
        run_ok(&mut cmd);
    }

    /// `pip list --format json` (pip from the tools venv, run against this venv):
    /// normalised name -> version.
    pub fn pip_list(&self) -> BTreeMap<String, String> {
        let mut cmd = self.pip_command();
        cmd.args(["list", "--format", "json", "--no-index"]);
        name_versions(&run_ok(&mut cmd))
    }

    /// `uv pip list --format json`: normalised name -> version.
    pub fn uv_pip_list(&self) -> BTreeMap<String, String> {
        let mut cmd = self.uv_pip_command("list");
        cmd.args(["--format", "json"]);
        name_versions(&run_ok(&mut cmd))
    }

    /// `pip inspect`: the report's `installed` array.
    pub fn pip_inspect(&self) -> Vec<Value> {
        let mut cmd = self.pip_command();
        cmd.arg("inspect");
        let v: Value = serde_json::from_slice(&run_ok(&mut cmd).stdout).expect("pip inspect JSON");
        v["installed"].as_array().expect("installed array").clone()
    }

    /// `pip check`: (exit success, its lines).
    pub fn pip_check(&self) -> (bool, Vec<String>) {
        let mut cmd = self.pip_command();
        cmd.arg("check");
        let out = output_with_timeout(&mut cmd, CHILD_TIMEOUT).expect("pip check timed out");
        let lines = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.trim().is_empty())
            .collect();
        (out.status.success(), lines)
    }

    /// The `.dist-info` folder of the dist whose normalised name is `name`'s.
    pub fn dist_info(&self, name: &str) -> PathBuf {
        let want = normalize(name);
        let sp = self.site_packages();
        let mut found = Vec::new();
        for e in fs::read_dir(&sp).unwrap() {
            let p = e.unwrap().path();
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(stem) = f.strip_suffix(".dist-info") {
                let (n, _) = stem.rsplit_once('-').unwrap();
                if normalize(n) == want {
                    found.push(p);
                }
            }
        }
        assert_eq!(
            found.len(),
            1,
            "dist-info folders for {name} in {}: {found:?}",
            sp.display()
        );
        found.remove(0)
    }

    /// Appends rows to a dist's RECORD.
    pub fn append_record_rows(&self, name: &str, rows: &[String]) {
        let record = self.dist_info(name).join("RECORD");
        let mut text = fs::read_to_string(&record).unwrap();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        fs::write(&record, text).unwrap();
    }
}

fn name_versions(out: &Output) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("list JSON: {e}\n{}", show(out)));
    v.as_array()
        .expect("list array")
        .iter()
        .map(|d| {
            (
                normalize(d["name"].as_str().unwrap()),
                d["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// icelock

pub fn icelock_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_icelock"))
}

/// An `icelock` command with `VIRTUAL_ENV` (and conda's equivalent) removed.
pub fn icelock_command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut cmd = Command::new(icelock_exe());
    cmd.args(args);
    without_active_env(&mut cmd);
    cmd
}

/// No activated environment for icelock to pick up, and no input.
fn without_active_env(cmd: &mut Command) {
    cmd.env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env_remove("CONDA_DEFAULT_ENV")
        .stdin(Stdio::null());
}

/// [`icelock_command`] run on a pseudo-terminal (Python's `pty`, from the tools venv): its
/// stdout holds what a user's terminal would get, stdout and stderr together, escapes and all.
pub fn icelock_on_terminal<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut cmd = clean_command(&tools().python);
    cmd.args([
        "-c",
        "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))",
    ])
    .arg(icelock_exe())
    .args(args);
    without_active_env(&mut cmd);
    cmd
}

/// Runs `cmd` (built with [`icelock_command`]) with the icelock time limit; panics on timeout
/// or on a Rust panic in icelock.
pub fn run_icelock(cmd: &mut Command) -> Output {
    run_icelock_within(cmd, ICELOCK_TIMEOUT)
}

/// [`run_icelock`] with another time limit.
pub fn run_icelock_within(cmd: &mut Command, timeout: Duration) -> Output {
    let what = describe(cmd);
    let out = output_with_timeout(cmd, timeout)
        .unwrap_or_else(|| panic!("icelock did not finish within {timeout:?}: {what}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked at") && out.status.code() != Some(101),
        "icelock panicked: {what}\n{}",
        show(&out)
    );
    assert!(
        out.status.code().is_some(),
        "icelock killed by a signal: {what}\n{}",
        show(&out)
    );
    out
}

/// `icelock ARGS` with `VIRTUAL_ENV` removed from its environment.
pub fn icelock<S: AsRef<OsStr>>(args: &[S]) -> Output {
    run_icelock(&mut icelock_command(args))
}

/// Parses icelock's stdout as JSON, panicking with its whole output if it is not.
pub fn json_stdout(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("icelock stdout is not JSON ({e})\n{}", show(out)))
}

/// `icelock list --format json ENV`, asserting exit 0.
pub fn list_json(env: &Path) -> Value {
    let out = icelock(&[
        OsStr::new("list"),
        OsStr::new("--format"),
        OsStr::new("json"),
        env.as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "icelock list failed\n{}",
        show(&out)
    );
    json_stdout(&out)
}

/// `icelock check --format json ENV`: (exit code, report).
pub fn check_json(env: &Path) -> (i32, Value) {
    let out = icelock(&[
        OsStr::new("check"),
        OsStr::new("--format"),
        OsStr::new("json"),
        env.as_os_str(),
    ]);
    let code = out.status.code().unwrap();
    (code, json_stdout(&out))
}

/// The `packages` array of a list report, keyed by `name`; panics on a repeated name.
pub fn packages_by_name(report: &Value) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for p in report["packages"].as_array().expect("packages array") {
        let name = p["name"].as_str().expect("package name").to_owned();
        let prev = map.insert(name.clone(), p.clone());
        assert!(prev.is_none(), "package {name} listed twice");
    }
    map
}

/// A JSON array of strings as a set.
pub fn str_set(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("expected strings in {v}"))
                .to_owned()
        })
        .collect()
}

/// A JSON array of strings as a Vec (order kept).
pub fn str_vec(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("expected strings in {v}"))
                .to_owned()
        })
        .collect()
}

pub fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Canonical form of a path for comparisons (symlinks resolved).
pub fn canon(p: impl AsRef<Path>) -> PathBuf {
    let p = p.as_ref();
    fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

// ---------------------------------------------------------------------------------------------
// The full fixture environment

/// What the full environment installs by name from the wheelhouse (their dependencies come
/// along: demo-app, demo-core 1.2, demo-extra through demo-meta's `demo-app[fancy]`).
pub const FULL_REQUIREMENTS: &[&str] = &[
    "demo-meta",
    "demo-native",
    "nsdemo.alpha",
    "nsdemo.beta",
    "backdemo.tarfile",
    "demo-scripts",
    "demo-importname",
    "Demo_Quirks",
];

/// Every fixture wheel, an editable src-layout project and an editable flat-layout one, and
/// demo-single installed from its wheel's path (a URL install).
pub struct FullEnv {
    pub venv: Venv,
    /// The copy of tests/fixtures/editable-proj installed editable (src layout: a .pth path).
    pub editable: PathBuf,
    /// The copy of tests/fixtures/editable-flat installed editable (setuptools' finder).
    pub flat: PathBuf,
    /// The wheel demo-single was installed from, by path.
    pub single_wheel: PathBuf,
}

/// Builds the full environment under `dir` (which must exist) with `installer`.
pub fn build_full_env(dir: &Path, installer: Installer) -> FullEnv {
    let venv = Venv::create(&dir.join("venv"), installer);
    let single_wheel = wheelhouse().wheel("demo-single", "1.0").path.clone();
    let mut args: Vec<&OsStr> = FULL_REQUIREMENTS.iter().map(OsStr::new).collect();
    args.push(single_wheel.as_os_str());
    venv.install(&args);
    let mut eds = venv.install_editables(&["editable-proj", "editable-flat"], dir);
    let flat = eds.pop().unwrap();
    let editable = eds.pop().unwrap();
    FullEnv {
        venv,
        editable,
        flat,
        single_wheel,
    }
}

/// The full environment for `installer`, built once per test process. Tests must not modify
/// it: a test that changes an environment builds its own.
pub fn shared_full_env(installer: Installer) -> &'static FullEnv {
    static PIP: OnceLock<FullEnv> = OnceLock::new();
    static UV: OnceLock<FullEnv> = OnceLock::new();
    let cell = match installer {
        Installer::Pip => &PIP,
        Installer::Uv => &UV,
    };
    cell.get_or_init(|| {
        let dir = process_scratch().join(format!("full-{}", installer.name()));
        fs::create_dir_all(&dir).unwrap();
        build_full_env(&dir, installer)
    })
}

// ---------------------------------------------------------------------------------------------
// A local package index (tests/index/server.py) and icelock runs that only see what a test
// gives them

/// `tests/index/server.py` serving a folder, run with the tools python; killed when dropped.
pub struct IndexServer {
    child: std::process::Child,
    /// The address it listens on (`127.0.0.1` unless started with [`IndexServer::start_on`]).
    pub host: String,
    pub port: u16,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl IndexServer {
    /// Serves `folder` on loopback with server.py's `flags` (`--metadata none`, …).
    pub fn start<S: AsRef<OsStr>>(folder: &Path, flags: &[S]) -> IndexServer {
        IndexServer::start_on("127.0.0.1", folder, flags)
    }

    /// Serves `folder` on address `bind` (which URLs then use as the host).
    pub fn start_on<S: AsRef<OsStr>>(bind: &str, folder: &Path, flags: &[S]) -> IndexServer {
        use std::io::BufRead;
        let dir = tempdir();
        let log = dir.path().join("requests.jsonl");
        let stderr_path = dir.path().join("stderr");
        let stderr = fs::File::create(&stderr_path).expect("create server stderr file");
        let mut cmd = clean_command(&tools().python);
        cmd.arg(repo_root().join("tests").join("index").join("server.py"))
            .arg(folder)
            .args(flags)
            .arg("--bind")
            .arg(bind)
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(stderr);
        let what = describe(&cmd);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .and_then(|line| line.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the index server did not print its port: {what}\n--- stderr ---\n{}",
                fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        };
        IndexServer {
            child,
            host: bind.to_owned(),
            port,
            log,
            dir,
        }
    }

    /// `http://HOST:PORT`
    pub fn origin(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// `http://HOST:PORT/simple/`, the index URL.
    pub fn simple_url(&self) -> String {
        format!("{}/simple/", self.origin())
    }

    /// The requests served so far, one JSON object each (see server.py's `--log`).
    pub fn log(&self) -> Vec<Value> {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("server log line {l:?}: {e}"))
            })
            .collect()
    }

    /// Forgets the requests logged so far.
    pub fn clear_log(&self) {
        let _ = fs::remove_file(&self.log);
    }

    /// What the server wrote to stderr (tracebacks).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `icelock` command that sees no machine-wide index settings: no `PIP_*`, `UV_*` or
/// `ICELOCK_*` variables, no proxy, no `NETRC`, and `HOME` (with the XDG folders) set to `home`,
/// so no user pip.conf, `.netrc` or cache is read and the cache lives in `home`.
pub fn hermetic_icelock_command<S: AsRef<OsStr>>(home: &Path, args: &[S]) -> Command {
    let mut cmd = clean_command(icelock_exe());
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("ICELOCK_") || k.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(&key);
        }
    }
    for k in [
        "NETRC",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_DIRS",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_DIRS", home.join("xdg-config-dirs"))
        .args(args);
    cmd
}

// ---------------------------------------------------------------------------------------------
// Lock files: validators from the tools venv, and the Pyodide runtime under Node

/// Reads `path` (a pylock.toml) with `packaging.pylock.Pylock.from_dict` in the tools venv,
/// panicking with the validator's message if it refuses it. Returns what the validator parsed:
/// `{"lock_version", "created_by", "packages": [{"name", "version" (null for source trees),
/// "wheels": [{"name", "path", "url", "size", "hashes"}], "directory": {"path", "editable"} |
/// null, "dependencies"}]}`.
pub fn validate_pylock(path: &Path) -> Value {
    const CODE: &str = r#"
import json, sys, tomllib
from packaging.pylock import Pylock
with open(sys.argv[1], "rb") as f:
    lock = Pylock.from_dict(tomllib.load(f))
def wheel(w):
    return {"name": w.name, "path": w.path, "url": w.url, "size": w.size, "hashes": dict(w.hashes)}
print(json.dumps({
    "lock_version": str(lock.lock_version),
    "created_by": lock.created_by,
    "tool": lock.tool,
    "packages": [{
        "name": p.name,
        "version": None if p.version is None else str(p.version),
        "wheels": [wheel(w) for w in (p.wheels or [])],
        "directory": None if p.directory is None
            else {"path": p.directory.path, "editable": p.directory.editable},
        "dependencies": p.dependencies,
    } for p in lock.packages],
}))
"#;
    let mut cmd = clean_command(&tools().python);
    cmd.arg("-c").arg(CODE).arg(path);
    let what = describe(&cmd);
    let out =
        output_with_timeout(&mut cmd, CHILD_TIMEOUT).unwrap_or_else(|| panic!("timed out: {what}"));
    assert!(
        out.status.success(),
        "packaging.pylock refuses {}:\n{}\n--- the lock ---\n{}",
        path.display(),
        show(&out),
        fs::read_to_string(path).unwrap_or_default()
    );
    serde_json::from_slice(&out.stdout).expect("validator summary JSON")
}

/// Reads `path` (a pyodide-lock.json) with pyodide-lock's `PyodideLockSpec.from_json` in the
/// tools venv, panicking with the validator's message if it refuses it. Returns the number of
/// packages the validator read.
pub fn validate_pyodide_lock(path: &Path) -> usize {
    const CODE: &str = r#"
import sys
from pathlib import Path
from pyodide_lock import PyodideLockSpec
spec = PyodideLockSpec.from_json(Path(sys.argv[1]))
print(len(spec.packages))
"#;
    let mut cmd = clean_command(&tools().python);
    cmd.arg("-c").arg(CODE).arg(path);
    let what = describe(&cmd);
    let out =
        output_with_timeout(&mut cmd, CHILD_TIMEOUT).unwrap_or_else(|| panic!("timed out: {what}"));
    assert!(
        out.status.success(),
        "pyodide-lock's validator refuses {}:\n{}",
        path.display(),
        show(&out)
    );
    stdout_str(&out)
        .trim()
        .parse()
        .expect("a package count from the validator")
}

/// The npm package `pyodide` that `.ci/install-test-tools` installs under
/// `target/test-tools/node/node_modules/pyodide`: the runtime (its `pyodide-lock.json`,
/// `pyodide.mjs`, the wasm and the standard library). Panics with a clear message when missing.
pub fn pyodide_runtime() -> PathBuf {
    let t = tools();
    let dir = t.root.join("node").join("node_modules").join("pyodide");
    for f in [
        "pyodide-lock.json",
        "pyodide.mjs",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
    ] {
        assert!(
            dir.join(f).is_file(),
            "the Pyodide runtime is missing {} (expected the npm package `pyodide` in {}); \
             .ci/install-test-tools installs it with npm: delete target/test-tools/.ready and \
             run it again",
            f,
            dir.display()
        );
    }
    dir
}

/// `node` from PATH; panics with a clear message when there is none.
pub fn node_exe() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("node");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "no `node` on PATH: the Pyodide tests run the Pyodide runtime under Node.js (20 or later); \
         install Node.js and npm, then run .ci/install-test-tools"
    )
}

// ---------------------------------------------------------------------------------------------
// Comparing environments rebuilt from a lock with the original (tests/ways_out*.rs)

/// A dist's RECORD rows as (path, hash, size), without the rows installers add themselves
/// (`INSTALLER`, `REQUESTED`, `direct_url.json`, `RECORD`, `uv_*.json`, `*.pyc`) and without
/// `../../../bin/*`, whose launchers embed the installing interpreter's path. What remains is
/// what the wheel put there: equal row sets mean equal installed files.
pub fn wheel_record_rows(dist_info: &Path) -> BTreeSet<(String, String, String)> {
    let record = dist_info.join("RECORD");
    let text =
        fs::read_to_string(&record).unwrap_or_else(|e| panic!("read {}: {e}", record.display()));
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.rsplitn(3, ',').collect();
            assert_eq!(parts.len(), 3, "RECORD row {l:?} in {}", record.display());
            (
                parts[2].trim_matches('"').to_string(),
                parts[1].to_string(),
                parts[0].to_string(),
            )
        })
        .filter(|(path, _, _)| {
            let name = path.rsplit('/').next().unwrap_or_default();
            let installers = path.ends_with(".pyc")
                || path.starts_with("../../../bin/")
                || ["INSTALLER", "REQUESTED", "direct_url.json", "RECORD"].contains(&name)
                || (name.starts_with("uv_") && name.ends_with(".json"));
            !installers
        })
        .collect()
}

/// `git ARGS` in `dir` with no user or system configuration; returns its trimmed stdout.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let mut cmd = clean_command("git");
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
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    stdout_str(&run_ok(&mut cmd)).trim().to_owned()
}

/// A TOML file read by the tools python's `tomllib`, as JSON (datetimes as strings).
pub fn toml_as_json(path: &Path) -> Value {
    let out = tools().python_eval(
        "import json,sys,tomllib\nprint(json.dumps(tomllib.load(open(sys.argv[1],'rb')), default=str))",
        &[path.as_os_str()],
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The members of a wheel (a zip): name -> sha256 hex of its bytes.
pub fn zip_member_hashes(path: &Path) -> BTreeMap<String, String> {
    let out = tools().python_eval(
        "import hashlib,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}))",
        &[path.as_os_str()],
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The RECORD inside a wheel, as (path, hash, size) rows.
pub fn zip_record_rows(path: &Path) -> BTreeSet<(String, String, String)> {
    let out = tools().python_eval(
        "import csv,io,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nn=[m for m in z.namelist() if m.endswith('.dist-info/RECORD')][0]\nprint(json.dumps(list(csv.reader(io.StringIO(z.read(n).decode())))))",
        &[path.as_os_str()],
    );
    let rows: Vec<Vec<String>> =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rows.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Forged wheels

/// Rebuilds `wheel` into `dir` under the same file name, METADATA byte for byte, and a RECORD
/// that is right for the new contents (as a build from a changed checkout would be): `mode` is
/// `change:PATH` (bytes appended to that member), `add:PATH` (a new module) or `remove:PATH`;
/// or `crc:PATH`, which gives that member other code of the same size and CRC-32 (its last
/// four bytes chosen to make it so) and keeps the genuine RECORD, as a forger who wants the
/// zip's directory to agree with the installed files would.
pub fn forge(wheel: &Path, dir: &Path, mode: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let out = tools().python_eval(
        r#"
import base64, hashlib, os, sys, zipfile
src, outdir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
how, target = mode.split(":", 1)
dst = os.path.join(outdir, os.path.basename(src))
def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
with zipfile.ZipFile(src) as zin:
    items = [[i, zin.read(i.filename)] for i in zin.infolist()]
record = next(i.filename for i, _ in items
              if i.filename.endswith(".dist-info/RECORD") and i.filename.count("/") == 1)
items = [it for it in items if it[0].filename != record]
names = [i.filename for i, _ in items]
if how == "change":
    assert target in names, (target, names)
    for it in items:
        if it[0].filename == target:
            it[1] = it[1] + b"\nFORGED = True\n"
elif how == "add":
    assert target not in names
    items.insert(0, [zipfile.ZipInfo(target, date_time=(2020, 2, 2, 0, 0, 0)), b"FORGED = True\n"])
elif how == "remove":
    assert target in names, (target, names)
    items = [it for it in items if it[0].filename != target]
elif how == "crc":
    import zlib
    genuine = dict(zip(names, (d for _, d in items)))[target]
    forged = b"FORGED = 1\n#" + genuine[:len(genuine) - 17] + b"\x23"
    assert len(forged) == len(genuine) - 4
    # CRC-32 of a fixed length is affine in the last four bytes: solve for them over GF(2).
    base = zlib.crc32(forged + bytes(4))
    cols = [zlib.crc32(forged + (1 << i).to_bytes(4, "little")) ^ base for i in range(32)]
    want, rows_ = zlib.crc32(genuine) ^ base, [(c, 1 << i) for i, c in enumerate(cols)]
    basis = {}
    for c, x in rows_:
        for bit in reversed(range(32)):
            if c >> bit & 1:
                if bit in basis:
                    c, x = c ^ basis[bit][0], x ^ basis[bit][1]
                else:
                    basis[bit] = (c, x)
                    break
    x = 0
    for bit in reversed(range(32)):
        if want >> bit & 1:
            want, x = want ^ basis[bit][0], x ^ basis[bit][1]
    forged += x.to_bytes(4, "little")
    assert zlib.crc32(forged) == zlib.crc32(genuine) and len(forged) == len(genuine) and forged != genuine
    for it in items:
        if it[0].filename == target:
            it[1] = forged
    with zipfile.ZipFile(src) as zin:
        items.append([zin.getinfo(record), zin.read(record)])
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            zout.writestr(info, data)
    print(dst)
    sys.exit(0)
rows = ["%s,%s,%d" % (i.filename, digest(d), len(d)) for i, d in items] + [record + ",,"]
with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
    for info, data in items:
        zout.writestr(info, data)
    zout.writestr(zipfile.ZipInfo(record, date_time=(2020, 2, 2, 0, 0, 0)), "\n".join(rows) + "\n")
print(dst)
"#,
        &[wheel.as_os_str(), dir.as_os_str(), OsStr::new(mode)],
    );
    let forged = PathBuf::from(out.trim());
    assert_eq!(forged.file_name(), wheel.file_name());
    forged
}

/// METADATA of a wheel, as bytes.
pub fn wheel_metadata(wheel: &Path) -> String {
    tools().python_eval(
        r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
    sys.stdout.write(z.read(name).hex())
"#,
        &[wheel.as_os_str()],
    )
}

// ---------------------------------------------------------------------------------------------
// SBOMs: the real validators

/// Validates a CycloneDX 1.6 JSON file with cyclonedx-python-lib's `JsonStrictValidator`,
/// panicking with its errors; returns the document.
pub fn validate_cyclonedx(path: &Path) -> Value {
    let out = clean_command(&tools().lockers_python)
        .arg("-c")
        .arg(
            r#"
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())
if errors:
    sys.exit(f"not valid CycloneDX 1.6: {errors}")
"#,
        )
        .arg(path)
        .output()
        .expect("run the CycloneDX validator");
    assert!(out.status.success(), "{}: {}", path.display(), show(&out));
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// Validates an SPDX 2.3 JSON file with spdx-tools (`pyspdxtools -i`); returns the document.
pub fn validate_spdx(path: &Path) -> Value {
    let pyspdxtools = tools().lockers_python.with_file_name("pyspdxtools");
    let out = clean_command(&pyspdxtools)
        .arg("-i")
        .arg(path)
        .output()
        .expect("run pyspdxtools");
    assert!(out.status.success(), "{}: {}", path.display(), show(&out));
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// As [`validate_spdx`], through spdx-tools' own parser and validator, with one allowance: its
/// URL pattern wants a domain name, so a download location on the local test index
/// (`http://127.0.0.1:PORT/…`) is refused though SPDX allows any URL. Every other message fails.
pub fn validate_spdx_local(path: &Path) -> Value {
    let out = clean_command(&tools().lockers_python)
        .arg("-c")
        .arg(
            r#"
import sys
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
document = parse_file(sys.argv[1])
messages = [m.validation_message for m in validate_full_spdx_document(document)]
left = [m for m in messages if not ("download_location" in m and "http://127.0.0.1:" in m)]
if left:
    sys.exit("not valid SPDX 2.3: " + "; ".join(left))
"#,
        )
        .arg(path)
        .output()
        .expect("run spdx-tools");
    assert!(out.status.success(), "{}: {}", path.display(), show(&out));
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// (normalised name, version) of every component of a CycloneDX document.
pub fn cyclonedx_components(doc: &Value) -> BTreeSet<(String, String)> {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                normalize(c["name"].as_str().unwrap()),
                c["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The components `cyclonedx-py environment` finds for the interpreter `python`.
pub fn cyclonedx_py_components(python: &Path) -> BTreeSet<(String, String)> {
    let dir = tempdir();
    let out = dir.path().join("peer.cdx.json");
    let mut cmd = clean_command(tools().lockers_python.with_file_name("cyclonedx-py"));
    cmd.args(["environment", "--of", "JSON", "--sv", "1.6", "-o"])
        .arg(&out)
        .arg(python);
    run_ok(&mut cmd);
    cyclonedx_components(&serde_json::from_slice(&fs::read(&out).unwrap()).unwrap())
}

/// `pipx install --backend BACKEND ARGS` with pipx's homes in `dir` (PIPX_HOME, its bin and man
/// folders), uv on PATH for the uv backend; returns the app venvs' folder.
pub fn pipx_install(dir: &Path, backend: &str, args: &[&OsStr]) -> PathBuf {
    let t = tools();
    let mut path = std::ffi::OsString::from(t.python.parent().unwrap());
    if let Some(rest) = std::env::var_os("PATH") {
        path.push(":");
        path.push(rest);
    }
    let mut cmd = clean_command(&t.pipx);
    cmd.env("PIPX_HOME", dir.join("home"))
        .env("PIPX_BIN_DIR", dir.join("bin"))
        .env("PIPX_MAN_DIR", dir.join("man"))
        .env("PATH", path)
        .args(["install", "--backend", backend, "--python"])
        .arg(fs::canonicalize(&t.python).unwrap())
        .args(args);
    run_ok(&mut cmd);
    dir.join("home").join("venvs")
}

/// Rewrites `path`'s row in `dist_info`'s RECORD to hash `bytes`, as someone covering an edit
/// would.
pub fn rewrite_record_row(dist_info: &Path, row_path: &str, bytes: &[u8]) {
    use base64::Engine;
    use sha2::Digest;
    let digest =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes));
    let record_path = dist_info.join("RECORD");
    let record = fs::read_to_string(&record_path).unwrap();
    let rewritten: String = record
        .lines()
        .map(|row| {
            if row.starts_with(&format!("{row_path},")) {
                format!("{row_path},sha256={digest},{}\n", bytes.len())
            } else {
                format!("{row}\n")
            }
        })
        .collect();
    assert_ne!(rewritten, record, "the row of {row_path} was rewritten");
    fs::write(&record_path, rewritten).unwrap();
}
