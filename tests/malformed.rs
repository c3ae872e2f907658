//! Damaged environments through `list`, `check` and `lock --no-index --find-links WHEELHOUSE`:
//! METADATA that is not UTF-8 or holds a 10 MiB header, RECORD rows and symlinks that lead out
//! of the environment, a missing RECORD, two dist-infos for one name, a dist-info that is a
//! file, and dist-info files that are FIFOs (inside the environment, or symlinked from outside).
//!
//! For each: no panic, no hang, a clear problem for the damaged distribution, the others still
//! processed (listed, checked clean, proven), and nothing read outside the environment: the
//! things outside are FIFOs, so a read would block until the time limit and fail the test.
//! tests/list.rs and tests/check.rs already cover broken METADATA for `list`, and `..`/absolute
//! RECORD rows, duplicates, FIFOs named by RECORD and `.egg-info` for `check`; this file adds
//! `lock` for all of them, symlinks, and the dist-info's own files.

mod support;

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use support::*;

/// Longer than any of these runs takes (well under a second); a run that opened a FIFO blocks
/// until this and fails.
const LIMIT: Duration = Duration::from_secs(15);

/// Every dist the base environment holds.
const ALL: &[&str] = &[
    "demo-app",
    "demo-core",
    "demo-extra",
    "demo-scripts",
    "demo-single",
    "nsdemo-alpha",
];

/// demo-app (with demo-core), demo-extra, demo-scripts, demo-single and nsdemo.alpha, installed
/// by pip from the fixture wheels into `dir/venv`.
fn base_env(dir: &Path) -> Venv {
    let venv = Venv::create(&dir.join("venv"), Installer::Pip);
    venv.install(&[
        "demo-app",
        "demo-extra",
        "demo-scripts",
        "demo-single",
        "nsdemo.alpha",
    ]);
    venv
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(st.success(), "mkfifo {}", path.display());
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("symlink {} -> {}: {e}", link.display(), target.display()));
}

/// Rewrites the RECORD row of `file` (a path relative to site-packages) to its current digest
/// and size, so only the change a test means to make is there.
fn fix_record_row(venv: &Venv, dist: &str, file: &str) {
    let record = venv.dist_info(dist).join("RECORD");
    let path = venv.site_packages().join(file);
    let digest = record_digest(&path);
    let size = fs::metadata(&path).unwrap().len();
    let text = fs::read_to_string(&record).unwrap();
    let mut found = false;
    let rows: Vec<String> = text
        .lines()
        .map(|row| {
            if row.split(',').next() == Some(file) {
                found = true;
                format!("{file},{digest},{size}")
            } else {
                row.to_owned()
            }
        })
        .collect();
    assert!(found, "no RECORD row for {file}");
    fs::write(&record, rows.join("\n") + "\n").unwrap();
}

// ---------------------------------------------------------------------------------------------
// Running the three commands

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    List,
    Check,
    Lock,
}

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::List => "list",
            Cmd::Check => "check",
            Cmd::Lock => "lock",
        }
    }
}

struct Ran {
    cmd: Cmd,
    what: String,
    /// None: it did not finish within [`LIMIT`] (and was killed).
    out: Option<Output>,
}

/// `list --format json`, `check --format json` and `lock --no-index --find-links WHEELHOUSE
/// --format json` on `env`, side by side, each killed after [`LIMIT`].
fn run_three(env: &Path) -> Vec<Ran> {
    let home = tempdir();
    let wh = wheelhouse().dir.clone();
    let commands: Vec<(Cmd, Command)> = vec![
        (
            Cmd::List,
            icelock_command(&[
                OsString::from("list"),
                "--format".into(),
                "json".into(),
                env.into(),
            ]),
        ),
        (
            Cmd::Check,
            icelock_command(&[
                OsString::from("check"),
                "--format".into(),
                "json".into(),
                env.into(),
            ]),
        ),
        (
            Cmd::Lock,
            hermetic_icelock_command(
                home.path(),
                &[
                    OsString::from("lock"),
                    "--no-index".into(),
                    "--find-links".into(),
                    wh.into(),
                    "--no-cache".into(),
                    "--format".into(),
                    "json".into(),
                    env.into(),
                ],
            ),
        ),
    ];
    std::thread::scope(|s| {
        let handles: Vec<_> = commands
            .into_iter()
            .map(|(cmd, mut command)| {
                s.spawn(move || {
                    let what = describe(&command);
                    let out = output_with_timeout(&mut command, LIMIT);
                    Ran { cmd, what, out }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// What the three runs said, and everything found wrong with it (reported together at the end,
/// so one run's hang does not hide what the others did).
struct Outcome {
    runs: Vec<(Cmd, String, Option<Value>, Option<Output>)>,
    failures: Vec<String>,
}

impl Outcome {
    fn new(env: &Path) -> Outcome {
        let mut failures = Vec::new();
        let mut runs = Vec::new();
        for ran in run_three(env) {
            let Some(out) = ran.out else {
                failures.push(format!(
                    "`icelock {}` did not finish within {LIMIT:?} (it blocked: on a FIFO it opened?): {}",
                    ran.cmd.name(),
                    ran.what
                ));
                runs.push((ran.cmd, ran.what, None, None));
                continue;
            };
            let stderr = String::from_utf8_lossy(&out.stderr);
            let code = out.status.code();
            let want: &[i32] = match ran.cmd {
                Cmd::List => &[0],
                Cmd::Check | Cmd::Lock => &[0, 1],
            };
            if stderr.contains("panicked at") || code.is_none_or(|c| !want.contains(&c)) {
                failures.push(format!(
                    "`icelock {}` exited {:?} (want one of {want:?}; 2 is a fatal error, 101 a panic): {}\n{}",
                    ran.cmd.name(),
                    code,
                    ran.what,
                    show(&out)
                ));
            }
            let report = serde_json::from_slice::<Value>(&out.stdout).ok();
            if report.is_none() {
                failures.push(format!(
                    "`icelock {}` printed no JSON report: {}\n{}",
                    ran.cmd.name(),
                    ran.what,
                    show(&out)
                ));
            }
            runs.push((ran.cmd, ran.what, report, Some(out)));
        }
        Outcome { runs, failures }
    }

    fn report(&self, cmd: Cmd) -> Option<&Value> {
        self.runs
            .iter()
            .find(|r| r.0 == cmd)
            .and_then(|r| r.2.as_ref())
    }

    fn code(&self, cmd: Cmd) -> Option<i32> {
        self.runs
            .iter()
            .find(|r| r.0 == cmd)
            .and_then(|r| r.3.as_ref())
            .and_then(|o| o.status.code())
    }

    fn fail(&mut self, cmd: Cmd, message: String) {
        let report = self
            .report(cmd)
            .map(|r| format!("{r:#}"))
            .unwrap_or_default();
        self.failures.push(format!(
            "`icelock {}`: {message}\n--- its report ---\n{}",
            cmd.name(),
            truncate(&report, 6000)
        ));
    }

    /// Everything `cmd` says about `name` (or about the folder `dist_info`): the package's
    /// problems and reasons, and the report-wide problems that name it.
    fn said_about(&self, cmd: Cmd, name: &str, dist_info: &str) -> Vec<String> {
        let Some(r) = self.report(cmd) else {
            return Vec::new();
        };
        let mut said = Vec::new();
        if let Some(pkgs) = r["packages"].as_array() {
            for p in pkgs.iter().filter(|p| p["name"] == name) {
                for key in ["problems"] {
                    if let Some(a) = p[key].as_array() {
                        said.extend(a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()));
                    }
                }
                if let Some(a) = p["source"]["reasons"].as_array() {
                    said.extend(a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()));
                }
            }
        }
        for p in r["problems"].as_array().into_iter().flatten() {
            let text = match p.as_str() {
                Some(s) => s.to_owned(),
                None => p.to_string(),
            };
            if p["package"] == name || text.contains(dist_info) {
                said.push(text);
            }
        }
        said
    }

    /// `cmd` reports a problem for `name` that holds one of `needles` (case-insensitive).
    fn expect_problem(&mut self, cmd: Cmd, name: &str, dist_info: &str, needles: &[&str]) {
        if self.report(cmd).is_none() {
            return;
        }
        let said = self.said_about(cmd, name, dist_info);
        let lower = said.join("\n").to_lowercase();
        if !needles.iter().any(|n| lower.contains(&n.to_lowercase())) {
            self.fail(
                cmd,
                format!("no clear problem for {name} ({dist_info}): want one of {needles:?}, it said {said:#?}"),
            );
        }
        if cmd == Cmd::Lock {
            let kind = self.package(cmd, name).map(|p| p["source"]["kind"].clone());
            if kind.as_ref().is_some_and(|k| k == "index") {
                self.fail(
                    cmd,
                    format!("{name} is damaged ({needles:?}) but proven: the lock would vouch for files it could not check"),
                );
            }
        }
    }

    fn package(&self, cmd: Cmd, name: &str) -> Option<Value> {
        self.report(cmd)?["packages"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
    }

    /// `name` is processed as if nothing were wrong: listed with no problem, checked clean,
    /// proven.
    fn expect_clean(&mut self, name: &str) {
        for cmd in [Cmd::List, Cmd::Check, Cmd::Lock] {
            if self.report(cmd).is_none() {
                continue;
            }
            let said = self.said_about(cmd, name, &format!("/{}-", name.replace('-', "_")));
            let listed = cmd == Cmd::Check || self.package(cmd, name).is_some();
            let proven = cmd != Cmd::Lock
                || self
                    .package(cmd, name)
                    .is_some_and(|p| p["source"]["kind"] == "index");
            if !said.is_empty() || !listed || !proven {
                self.fail(
                    cmd,
                    format!("{name} is not damaged and must be processed as usual (listed, clean, proven); it said {said:#?}"),
                );
            }
        }
    }

    /// Every name of `names` is listed by `list` and `lock`.
    fn expect_listed(&mut self, names: &[&str]) {
        for cmd in [Cmd::List, Cmd::Lock] {
            let Some(r) = self.report(cmd) else { continue };
            let listed: Vec<String> = r["packages"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p["name"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            for name in names {
                if !listed.iter().any(|n| n == name) {
                    self.fail(cmd, format!("{name} is not listed"));
                }
            }
        }
    }

    fn finish(self, what: &str) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} failure(s):\n\n{}",
            self.failures.len(),
            self.failures.join("\n\n")
        );
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_owned();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes more)", &s[..end], s.len() - end)
}

fn dist_info_name(venv: &Venv, name: &str) -> String {
    venv.dist_info(name)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------
// METADATA

/// One METADATA is Latin-1, not UTF-8; another is garbage with no Name. `lock` reports both
/// (not proven: their METADATA is not the wheels'), and proves the rest.
#[test]
fn metadata_not_utf8_or_garbage() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let alpha = dist_info_name(&venv, "nsdemo.alpha");
    let single = dist_info_name(&venv, "demo-single");
    fs::write(
        venv.dist_info("nsdemo.alpha").join("METADATA"),
        b"Metadata-Version: 2.1\nName: nsdemo.alpha\nVersion: 1.0\nSummary: caf\xe9 \xff\xfe\n",
    )
    .unwrap();
    fs::write(
        venv.dist_info("demo-single").join("METADATA"),
        b"\x00\xff\xfe\x80garbage\n\n\xc3",
    )
    .unwrap();

    let mut o = Outcome::new(&venv.root);
    for cmd in [Cmd::List, Cmd::Check, Cmd::Lock] {
        o.expect_problem(cmd, "nsdemo-alpha", &alpha, &["utf-8", "metadata"]);
        o.expect_problem(cmd, "demo-single", &single, &["metadata", "name"]);
    }
    for name in ["demo-app", "demo-core", "demo-extra", "demo-scripts"] {
        o.expect_clean(name);
    }
    o.finish("METADATA not UTF-8 / garbage");
}

/// A 10 MiB Summary (RECORD updated to match, so the environment is consistent): read in
/// bounded time, the dist listed and checked clean, and unproven by `lock` (its METADATA is not
/// the wheel's), the rest proven.
#[test]
fn metadata_with_a_10_mib_header() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let di = venv.dist_info("nsdemo.alpha");
    let meta = di.join("METADATA");
    let text = fs::read(&meta).unwrap();
    let at = text
        .windows(9)
        .position(|w| w == b"\nVersion:")
        .expect("a Version line")
        + 1;
    let mut big = text[..at].to_vec();
    big.extend_from_slice(b"Summary: ");
    big.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    big.push(b'\n');
    big.extend_from_slice(&text[at..]);
    fs::write(&meta, &big).unwrap();
    let rel = format!("{}/METADATA", di.file_name().unwrap().to_string_lossy());
    fix_record_row(&venv, "nsdemo.alpha", &rel);

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(ALL);
    let lock_said = o.said_about(Cmd::Lock, "nsdemo-alpha", "nsdemo_alpha");
    o.expect_problem(Cmd::Lock, "nsdemo-alpha", "nsdemo_alpha", &["metadata"]);
    let check_said = o.said_about(Cmd::Check, "nsdemo-alpha", "nsdemo_alpha");
    if !check_said.is_empty() {
        o.fail(
            Cmd::Check,
            format!("the RECORD matches: nothing is wrong with the files: {check_said:#?}"),
        );
    }
    if o.package(Cmd::List, "nsdemo-alpha")
        .is_some_and(|p| p["version"] != "1.0")
    {
        o.fail(
            Cmd::List,
            "nsdemo-alpha's version is read past the big header".into(),
        );
    }
    for name in [
        "demo-app",
        "demo-core",
        "demo-extra",
        "demo-scripts",
        "demo-single",
    ] {
        o.expect_clean(name);
    }
    eprintln!("10 MiB header: lock says {lock_said:?}");
    o.finish("a 10 MiB METADATA header");
}

// ---------------------------------------------------------------------------------------------
// RECORD rows and symlinks leading out of the environment

/// demo-app's RECORD names a FIFO outside through `..` and by an absolute path; demo-core's
/// util.py is a symlink to a FIFO outside; nsdemo.alpha's package folder is a symlink to a folder
/// outside (a copy, whose core.py is a FIFO). Each is reported by `check` and unproven by `lock`,
/// and nothing outside is opened (it would block).
#[test]
fn record_rows_and_symlinks_leading_outside() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let sp = venv.site_packages();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();

    let fifo = outside.join("row.fifo");
    mkfifo(&fifo);
    let depth = canon(&sp).components().count() - 1;
    let dotdot = format!(
        "{}{}",
        "../".repeat(depth),
        canon(&fifo).to_string_lossy().trim_start_matches('/')
    );
    venv.append_record_rows(
        "demo-app",
        &[
            format!("{dotdot},sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0"),
            format!(
                "{},sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0",
                canon(&fifo).display()
            ),
        ],
    );

    let util_fifo = outside.join("util.fifo");
    mkfifo(&util_fifo);
    let util = sp.join("demo_core").join("util.py");
    fs::remove_file(&util).unwrap();
    symlink(&util_fifo, &util);

    let pkg = outside.join("alpha");
    fs::create_dir(&pkg).unwrap();
    fs::copy(sp.join("nsdemo/alpha/__init__.py"), pkg.join("__init__.py")).unwrap();
    mkfifo(&pkg.join("core.py"));
    fs::remove_dir_all(sp.join("nsdemo/alpha")).unwrap();
    symlink(&pkg, &sp.join("nsdemo/alpha"));

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(ALL);
    for cmd in [Cmd::Check, Cmd::Lock] {
        o.expect_problem(cmd, "demo-app", "demo_app-1.0", &["row.fifo"]);
        o.expect_problem(cmd, "demo-core", "demo_core-1.2", &["util.py"]);
        o.expect_problem(
            cmd,
            "nsdemo-alpha",
            "nsdemo_alpha-1.0",
            &["nsdemo/alpha/core.py"],
        );
    }
    for name in ["demo-extra", "demo-scripts", "demo-single"] {
        o.expect_clean(name);
    }
    o.finish("RECORD rows and symlinks leading outside");
}

/// A package's `__init__.py` that is a FIFO (nsdemo.alpha's) or a symlink to a FIFO outside the
/// environment (demo-core's). Import names are read from RECORD, and a namespace stub is told
/// from a package by a look inside `__init__.py`: that look must not open either.
#[test]
fn package_init_that_is_a_fifo_or_leads_outside() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let sp = venv.site_packages();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let init_fifo = outside.join("init.fifo");
    mkfifo(&init_fifo);
    let init = sp.join("demo_core").join("__init__.py");
    fs::remove_file(&init).unwrap();
    symlink(&init_fifo, &init);
    let alpha_init = sp.join("nsdemo/alpha/__init__.py");
    fs::remove_file(&alpha_init).unwrap();
    mkfifo(&alpha_init);

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(ALL);
    for cmd in [Cmd::Check, Cmd::Lock] {
        o.expect_problem(
            cmd,
            "demo-core",
            "demo_core-1.2",
            &["demo_core/__init__.py"],
        );
        o.expect_problem(
            cmd,
            "nsdemo-alpha",
            "nsdemo_alpha-1.0",
            &["nsdemo/alpha/__init__.py"],
        );
    }
    for name in ["demo-extra", "demo-scripts", "demo-single"] {
        o.expect_clean(name);
    }
    o.finish("__init__.py that is a FIFO / leads outside");
}

// ---------------------------------------------------------------------------------------------
// RECORD missing, two dist-infos, a dist-info that is not a folder

/// Without RECORD the installed files cannot be checked: every command says so, and `lock`
/// does not vouch for the dist (as it does not for a dist whose files fail RECORD).
#[test]
fn missing_record() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let single = dist_info_name(&venv, "demo-single");
    fs::remove_file(venv.dist_info("demo-single").join("RECORD")).unwrap();

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(ALL);
    for cmd in [Cmd::List, Cmd::Check, Cmd::Lock] {
        o.expect_problem(cmd, "demo-single", &single, &["RECORD"]);
    }
    for name in [
        "demo-app",
        "demo-core",
        "demo-extra",
        "demo-scripts",
        "nsdemo-alpha",
    ] {
        o.expect_clean(name);
    }
    o.finish("a missing RECORD");
}

/// demo-core 0.9's dist-info left beside 1.2's (an upgrade that went wrong: the files are
/// 1.2's). One demo-core is reported, the one Python's importlib.metadata finds first (what
/// `pip list` shows too), and the other is reported as shadowed.
#[test]
fn two_dist_infos_for_one_name() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let old = Venv::create(&tmp.path().join("old"), Installer::Pip);
    old.install(&["--no-deps", "demo-core==0.9"]);
    let old_di = old.dist_info("demo-core");
    let copy = venv.site_packages().join(old_di.file_name().unwrap());
    fs::create_dir(&copy).unwrap();
    for e in fs::read_dir(&old_di).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let python_says =
        stdout_str(&run_ok(clean_command(venv.python()).arg("-c").arg(
            "import importlib.metadata as m; print(m.version('demo-core'))",
        )))
        .trim()
        .to_owned();
    let pip_says = venv.pip_list()["demo-core"].clone();
    assert_eq!(
        python_says, pip_says,
        "pip list and importlib.metadata agree"
    );

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(ALL);
    for cmd in [Cmd::List, Cmd::Lock] {
        let Some(r) = o.report(cmd) else { continue };
        let versions: Vec<String> = r["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == "demo-core")
            .map(|p| p["version"].as_str().unwrap_or_default().to_owned())
            .collect();
        let shadowed = r["shadowed"].to_string();
        if versions != vec![python_says.clone()] {
            o.fail(
                cmd,
                format!("demo-core reported as {versions:?}; Python's importlib.metadata (and pip list) say {python_says}"),
            );
        }
        if !(shadowed.contains("demo_core-0.9.dist-info")
            || shadowed.contains("demo_core-1.2.dist-info"))
        {
            o.fail(
                cmd,
                format!("the other demo-core dist-info is not reported: shadowed = {shadowed}"),
            );
        }
    }
    o.expect_problem(
        Cmd::Check,
        "demo-core",
        "demo_core-",
        &["installed twice", "duplicate"],
    );
    for name in ["demo-extra", "demo-scripts", "demo-single", "nsdemo-alpha"] {
        o.expect_clean(name);
    }
    o.finish("two dist-infos for demo-core");
}

/// `bogus-1.0.dist-info` is a file; `ghost-1.0.dist-info` a symlink to nothing. Both are
/// reported; everything else is processed.
#[test]
fn dist_info_that_is_a_file_or_a_dangling_symlink() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let sp = venv.site_packages();
    fs::write(sp.join("bogus-1.0.dist-info"), "not a folder\n").unwrap();
    symlink(&tmp.path().join("nowhere"), &sp.join("ghost-1.0.dist-info"));

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(ALL);
    for cmd in [Cmd::List, Cmd::Check, Cmd::Lock] {
        o.expect_problem(
            cmd,
            "bogus",
            "bogus-1.0.dist-info",
            &["bogus-1.0.dist-info"],
        );
        o.expect_problem(
            cmd,
            "ghost",
            "ghost-1.0.dist-info",
            &["ghost-1.0.dist-info"],
        );
    }
    for name in ALL {
        o.expect_clean(name);
    }
    o.finish("a dist-info that is a file / a dangling symlink");
}

// ---------------------------------------------------------------------------------------------
// The dist-info's own files: FIFOs, and symlinks out of the environment

/// METADATA, RECORD, WHEEL, INSTALLER and direct_url.json that are FIFOs, one dist each: each
/// is reported (not a regular file), none is opened (that would block), demo-extra is proven.
#[test]
fn dist_info_files_that_are_fifos() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let cases = [
        ("demo-scripts", "METADATA"),
        ("demo-app", "RECORD"),
        ("demo-core", "WHEEL"),
        ("nsdemo-alpha", "INSTALLER"),
        ("demo-single", "direct_url.json"),
    ];
    let mut names = Vec::new();
    for (dist, file) in cases {
        let di = venv.dist_info(dist);
        let _ = fs::remove_file(di.join(file));
        mkfifo(&di.join(file));
        names.push(dist_info_name(&venv, dist));
    }

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(&[
        "demo-app",
        "demo-core",
        "demo-extra",
        "demo-single",
        "nsdemo-alpha",
    ]);
    for ((dist, file), di) in cases.iter().zip(&names) {
        for cmd in [Cmd::List, Cmd::Check, Cmd::Lock] {
            o.expect_problem(cmd, dist, di, &[file]);
        }
    }
    o.expect_clean("demo-extra");
    o.finish("dist-info files that are FIFOs");
}

/// demo-scripts' METADATA and demo-app's RECORD are symlinks to FIFOs outside the environment,
/// and `evil-1.0.dist-info` is a symlink to a folder outside whose METADATA is a FIFO: none is
/// read.
#[test]
fn dist_info_files_symlinked_outside() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    let sp = venv.site_packages();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let scripts = dist_info_name(&venv, "demo-scripts");
    let app = dist_info_name(&venv, "demo-app");
    for (dist, file, fifo) in [
        ("demo-scripts", "METADATA", "metadata.fifo"),
        ("demo-app", "RECORD", "record.fifo"),
    ] {
        let target = outside.join(fifo);
        mkfifo(&target);
        let link = venv.dist_info(dist).join(file);
        fs::remove_file(&link).unwrap();
        symlink(&target, &link);
    }
    let evil = outside.join("evil-1.0.dist-info");
    fs::create_dir(&evil).unwrap();
    mkfifo(&evil.join("METADATA"));
    symlink(&evil, &sp.join("evil-1.0.dist-info"));

    let mut o = Outcome::new(&venv.root);
    o.expect_listed(&["demo-core", "demo-extra", "demo-single", "nsdemo-alpha"]);
    for cmd in [Cmd::List, Cmd::Check, Cmd::Lock] {
        o.expect_problem(cmd, "demo-scripts", &scripts, &["METADATA"]);
        o.expect_problem(cmd, "demo-app", &app, &["RECORD"]);
        o.expect_problem(cmd, "evil", "evil-1.0.dist-info", &["evil-1.0.dist-info"]);
    }
    for name in ["demo-extra", "demo-single", "nsdemo-alpha"] {
        o.expect_clean(name);
    }
    o.finish("dist-info files symlinked outside");
}

/// A `.pth` file that is a FIFO (Python's own site.py would block on it at start-up): icelock
/// reads environments from disk and must not.
#[test]
fn pth_file_that_is_a_fifo() {
    let tmp = tempdir();
    let venv = base_env(tmp.path());
    mkfifo(&venv.site_packages().join("zzz-blocks.pth"));
    let mut o = Outcome::new(&venv.root);
    o.expect_listed(ALL);
    for name in ALL {
        o.expect_clean(name);
    }
    let codes: Vec<Option<i32>> = [Cmd::List, Cmd::Check, Cmd::Lock]
        .iter()
        .map(|c| o.code(*c))
        .collect();
    eprintln!("a .pth FIFO: exit codes {codes:?}");
    o.finish("a .pth FIFO");
}
