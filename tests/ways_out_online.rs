//! The ways out for dists built here from PyPI sdists (the online tier; skipped, saying why,
//! only when the index cannot be reached):
//!
//! - docopt 0.6.2, which has only an sdist on the index: pip builds it, and no index can prove
//!   the result;
//! - termcolor 2.4.0 installed with `--no-binary termcolor`: the index has a wheel with the very
//!   tags, but the installed copy was built here (its METADATA differs).
//!
//! Each is refused without a way out; locked with `--allow-sdist` as the index's sdist (pylock
//! `[packages.sdist]`, requirements `name==version --hash=<sdist sha256>`) and installed again
//! by pip (from pylock.toml and with `--require-hashes`) and uv, which build the same sdist;
//! locked with `--wheelhouse` as a wheel rebuilt from the installed files (byte-identical run to
//! run), installed again offline, to the same RECORD rows, and proven again by icelock.
//!
//! Installs use this machine's index configuration (pip's configuration files and the index
//! variables), with build isolation from the index.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use support::online::*;
use support::*;

/// docopt's setup.cfg asks for a universal wheel: its WHEEL says py2-none-any and py3-none-any.
const DOCOPT_WHEEL: &str = "docopt-0.6.2-py2.py3-none-any.whl";
const TERMCOLOR_WHEEL: &str = "termcolor-2.4.0-py3-none-any.whl";

// ---------------------------------------------------------------------------------------------
// Installing from the index

/// `pip install --report` (the tools pip against `venv`) from the index as this machine reaches
/// it, run in `cwd`; returns pip's report.
fn pip_install_in(venv: &Venv, cwd: &Path, args: &[&OsStr]) -> Value {
    let report = tempdir();
    let report = report.path().join("report.json");
    let mut cmd = with_index_settings(venv.pip_command());
    cmd.current_dir(cwd)
        .args(["install", "--quiet", "--report"])
        .arg(&report)
        .args(args);
    run_ok(&mut cmd);
    serde_json::from_slice(&fs::read(&report).unwrap()).expect("pip report")
}

/// uv against `venv` with the machine's index settings and a cache beside the venv.
fn uv_pip(venv: &Venv, subcommand: &str) -> Command {
    let mut cmd = with_index_settings(tools().uv_command());
    cmd.env(
        "UV_CACHE_DIR",
        venv.root.with_file_name(format!(
            "{}.uv-cache",
            venv.root.file_name().unwrap().to_string_lossy()
        )),
    )
    .args(["pip", subcommand, "--python"])
    .arg(venv.python());
    cmd
}

struct SdistEnv {
    venv: Venv,
    /// The sdist pip built the dist from: (file name, URL, sha256).
    sdist: (String, String, String),
}

/// A pip venv at `process_scratch()/dir` with `args` installed from the index; `name` must have
/// been built from its sdist.
fn sdist_env(dir: &str, name: &str, args: &[&str]) -> SdistEnv {
    let dir = process_scratch().join(dir);
    fs::create_dir_all(&dir).unwrap();
    let venv = Venv::create(&dir.join("venv"), Installer::Pip);
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let report = pip_install_in(&venv, &dir, &args);
    let files = report_files(&report);
    let (_, url, sha) = files
        .get(name)
        .unwrap_or_else(|| panic!("pip did not install {name}: {files:?}"));
    assert!(url.ends_with(".tar.gz"), "pip built {name} from {url}");
    SdistEnv {
        sdist: (basename(url).to_owned(), url.clone(), sha.clone()),
        venv,
    }
}

/// docopt 0.6.2: only an sdist on the index.
fn docopt_env() -> &'static SdistEnv {
    static E: OnceLock<SdistEnv> = OnceLock::new();
    E.get_or_init(|| sdist_env("ways-out-docopt", "docopt", &["docopt==0.6.2"]))
}

/// termcolor 2.4.0 built here although the index has its wheel.
fn termcolor_env() -> &'static SdistEnv {
    static E: OnceLock<SdistEnv> = OnceLock::new();
    E.get_or_init(|| {
        sdist_env(
            "ways-out-termcolor",
            "termcolor",
            &["--no-binary", "termcolor", "termcolor==2.4.0"],
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Running icelock

/// `icelock lock ENV ARGS…` with this machine's index configuration and a cache of its own.
fn lock<S: AsRef<OsStr>>(env: &Path, args: &[S]) -> Output {
    let cache = tempdir();
    let cwd = tempdir();
    let mut all: Vec<OsString> = vec!["lock".into(), env.into()];
    all.extend(args.iter().map(|a| a.as_ref().to_owned()));
    let mut cmd = with_index_settings(clean_command(icelock_exe()));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ICELOCK_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("XDG_CACHE_HOME", cache.path())
        .current_dir(cwd.path())
        .args(&all);
    run_icelock_within(&mut cmd, Duration::from_secs(240))
}

/// `lock ENV -o OUT ARGS…`
fn lock_to(env: &Path, out: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&OsStr> = vec![OsStr::new("-o"), out.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    lock(env, &all)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", show(out));
}

fn assert_stderr_has(out: &Output, needles: &[&str], what: &str) {
    let err = stderr(out);
    for needle in needles {
        assert!(
            err.contains(needle),
            "{what}: stderr lacks {needle:?}\n{}",
            show(out)
        );
    }
}

/// `icelock lock --format json ENV --no-index --find-links LINKS`: the report by name, every
/// dist proven.
fn proven_from(env: &Path, links: &Path) -> BTreeMap<String, Value> {
    let out = lock(
        env,
        &[
            OsStr::new("--format"),
            OsStr::new("json"),
            OsStr::new("--no-index"),
            OsStr::new("--no-cache"),
            OsStr::new("--find-links"),
            links.as_os_str(),
        ],
    );
    assert_exit(&out, 0, "lock --format json of a rebuilt environment");
    let pkgs = packages_by_name(&json_stdout(&out));
    for (name, p) in &pkgs {
        assert_ne!(p["source"]["kind"], "unproven", "{name}: {p}");
    }
    pkgs
}

fn pylock_packages(path: &Path) -> BTreeMap<String, Value> {
    toml_as_json(path)["packages"]
        .as_array()
        .unwrap_or_else(|| panic!("no packages in {}", path.display()))
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p.clone()))
        .collect()
}

fn wheel_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// RECORD rows outside `.dist-info` (the package's own files), and the `.dist-info` file names.
/// Two builds of one sdist install the same files; their METADATA may differ by the build
/// backend's version.
fn built_files(dist_info: &Path) -> (BTreeSet<(String, String, String)>, BTreeSet<String>) {
    let rows = wheel_record_rows(dist_info);
    let (info, files): (BTreeSet<_>, BTreeSet<_>) = rows
        .into_iter()
        .partition(|(p, _, _)| p.split('/').next().unwrap().ends_with(".dist-info"));
    (
        files,
        info.into_iter()
            .map(|(p, _, _)| p.rsplit('/').next().unwrap().to_owned())
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Shared checks

/// No way out: exit 1, nothing written, the way out named.
fn refused_without_a_way_out(env: &SdistEnv, name: &str, needles: &[&str]) {
    let dir = tempdir();
    for file in ["pylock.toml", "requirements.txt"] {
        let target = dir.path().join(file);
        let out = lock_to(&env.venv.root, &target, &[]);
        assert_exit(&out, 1, &format!("-o {file} without a way out"));
        assert!(!target.exists(), "{file} written\n{}", show(&out));
        assert!(out.stdout.is_empty(), "{}", show(&out));
        let mut all = vec![
            "not lockable",
            env.sdist.0.as_str(),
            "--wheelhouse",
            "no lock written",
        ];
        all.extend(needles);
        assert_stderr_has(&out, &all, &format!("{name}, -o {file}"));
    }
    assert_eq!(wheel_files(dir.path()), Vec::<String>::new());
    // The report carries the sdist as evidence.
    let out = lock(&env.venv.root, &["--format", "json"]);
    assert_exit(&out, 1, "lock --format json");
    let p = &packages_by_name(&json_stdout(&out))[name];
    let s = &p["source"];
    assert_eq!(s["kind"], "unproven", "{p}");
    assert_eq!(s["sdist"]["filename"], env.sdist.0.as_str(), "{p}");
    assert_eq!(s["sdist"]["sha256"], env.sdist.2.as_str(), "{p}");
}

/// `--allow-sdist`: the lock names the index's sdist; pip (pylock.toml, and requirements.txt
/// with `--require-hashes`) and uv install that very sdist and build the same files.
fn allow_sdist_reinstalls(env: &SdistEnv, name: &str, version: &str) {
    let (sdist_name, sdist_url, sdist_sha) = &env.sdist;
    let scratch = tempdir();
    let s = scratch.path();
    let pylock = s.join("pylock.toml");
    let req = s.join("requirements.txt");
    for target in [&pylock, &req] {
        let out = lock_to(&env.venv.root, target, &["--allow-sdist"]);
        assert_exit(&out, 0, "lock --allow-sdist");
        assert_stderr_has(
            &out,
            &[
                &format!("{name} {version}: locked as its sdist {sdist_name} (--allow-sdist)"),
                "not byte-reproducible",
            ],
            "the warning",
        );
    }
    validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    let p = &pkgs[name];
    assert_eq!(p["version"], version, "{p}");
    assert!(p.get("wheels").is_none(), "{p}");
    assert!(p["index"].as_str().is_some_and(|i| !i.is_empty()), "{p}");
    let sd = &p["sdist"];
    assert_eq!(sd["name"], sdist_name.as_str(), "{p}");
    assert_eq!(sd["hashes"]["sha256"], sdist_sha.as_str(), "{p}");
    assert_eq!(
        basename(sd["url"].as_str().unwrap_or_default()),
        basename(sdist_url),
        "{p}"
    );
    assert!(sd["size"].as_u64().is_some_and(|n| n > 0), "{p}");
    assert_eq!(p["tool"]["icelock"]["proof"], "index-sdist", "{p}");
    let text = fs::read_to_string(&req).unwrap();
    assert!(
        text.contains(&format!(
            "{name}=={version} \\\n    --hash=sha256:{sdist_sha}\n"
        )),
        "{text}"
    );

    // Installed again: pip fetches exactly that sdist (its report says so) and builds it.
    let original = built_files(&env.venv.dist_info(name));
    let versions = env.venv.pip_list();
    let check = |v: &Venv, report: Option<&Value>, what: &str| {
        assert_eq!(v.pip_list(), versions, "{what}: pip list");
        assert_eq!(
            built_files(&v.dist_info(name)),
            original,
            "{what}: {name}'s files"
        );
        if let Some(report) = report {
            let files = report_files(report);
            let (_, url, sha) = &files[name];
            assert_eq!(basename(url), sdist_name.as_str(), "{what}: {files:?}");
            assert_eq!(sha, sdist_sha, "{what}");
        }
    };
    let by_pip = Venv::create(&s.join("by-pip"), Installer::Pip);
    let report = pip_install_in(&by_pip, s, &[OsStr::new("-r"), pylock.as_os_str()]);
    check(&by_pip, Some(&report), "pip -r pylock.toml");
    let by_req = Venv::create(&s.join("by-req"), Installer::Pip);
    let report = pip_install_in(
        &by_req,
        s,
        &[
            OsStr::new("--require-hashes"),
            OsStr::new("--no-deps"),
            OsStr::new("-r"),
            req.as_os_str(),
        ],
    );
    check(
        &by_req,
        Some(&report),
        "pip --require-hashes -r requirements.txt",
    );
    let by_uv = Venv::create(&s.join("by-uv"), Installer::Uv);
    let mut cmd = uv_pip(&by_uv, "sync");
    cmd.arg(&pylock);
    run_ok(&mut cmd);
    check(&by_uv, None, "uv pip sync pylock.toml");
}

/// `--wheelhouse`: byte-identical wheels run to run, locked by a relative path, installed
/// again offline by pip and uv to the same RECORD rows, and proven again by icelock. Returns
/// the lock's folder (its `wheelhouse/` and `pylock.toml`).
fn wheelhouse_reinstalls(env: &SdistEnv, name: &str, wheel: &str, scratch: &Path) -> PathBuf {
    let (first, second) = (scratch.join("first"), scratch.join("second"));
    for d in [&first, &second] {
        fs::create_dir_all(d).unwrap();
        let out = lock_to(
            &env.venv.root,
            &d.join("pylock.toml"),
            &["--wheelhouse", d.join("wheelhouse").to_str().unwrap()],
        );
        assert_exit(&out, 0, "lock --wheelhouse");
    }
    assert_eq!(wheel_files(&first.join("wheelhouse")), [wheel]);
    let path = first.join("wheelhouse").join(wheel);
    assert_eq!(
        fs::read(&path).unwrap(),
        fs::read(second.join("wheelhouse").join(wheel)).unwrap(),
        "{wheel} differs between two runs"
    );
    let mut in_wheel = zip_record_rows(&path);
    in_wheel.retain(|(p, _, _)| !p.ends_with(".dist-info/RECORD"));
    assert_eq!(
        in_wheel,
        wheel_record_rows(&env.venv.dist_info(name)),
        "the rebuilt wheel holds exactly the installed files"
    );

    let pylock = first.join("pylock.toml");
    validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    let p = &pkgs[name];
    let w = &p["wheels"][0];
    assert_eq!(w["name"], wheel, "{p}");
    assert_eq!(w["path"], format!("wheelhouse/{wheel}"), "{p}");
    let sha = sha256_hex(&path);
    assert_eq!(w["hashes"]["sha256"], sha.as_str(), "{p}");
    assert_eq!(
        p["tool"]["icelock"]["proof"], "repacked-installed-files",
        "{p}"
    );
    assert!(p.get("sdist").is_none(), "{p}");

    // Offline: everything the lock needs is in the wheelhouse.
    let by_pip = Venv::create(&scratch.join("by-pip"), Installer::Pip);
    let mut cmd = by_pip.pip_command();
    cmd.current_dir(scratch)
        .args(["install", "--no-index", "-r"])
        .arg(&pylock);
    run_ok(&mut cmd);
    let by_uv = Venv::create(&scratch.join("by-uv"), Installer::Uv);
    let mut cmd = by_uv.uv_pip_command("sync");
    cmd.current_dir(scratch).arg(&pylock);
    run_ok(&mut cmd);
    for (v, what) in [(&by_pip, "pip -r pylock.toml"), (&by_uv, "uv pip sync")] {
        assert_eq!(v.pip_list(), env.venv.pip_list(), "{what}: pip list");
        assert_eq!(
            wheel_record_rows(&v.dist_info(name)),
            wheel_record_rows(&env.venv.dist_info(name)),
            "{what}: RECORD rows of {name}"
        );
        let pkgs = proven_from(&v.root, &first.join("wheelhouse"));
        let s = &pkgs[name]["source"];
        assert_eq!(s["filename"], wheel, "{what}: {s}");
        assert_eq!(s["sha256"], sha.as_str(), "{what}: {s}");
    }
    first
}

// ---------------------------------------------------------------------------------------------
// docopt 0.6.2: an sdist only

#[test]
fn online_docopt_without_a_way_out_writes_nothing() {
    if skip_if_offline() {
        return;
    }
    refused_without_a_way_out(
        docopt_env(),
        "docopt",
        &["docopt 0.6.2: not lockable", "no wheel of docopt 0.6.2"],
    );
}

#[test]
fn online_docopt_allow_sdist_locks_and_reinstalls_the_index_sdist() {
    if skip_if_offline() {
        return;
    }
    allow_sdist_reinstalls(docopt_env(), "docopt", "0.6.2");
}

#[test]
fn online_docopt_wheelhouse_is_reproducible_and_reinstalls_offline() {
    if skip_if_offline() {
        return;
    }
    let env = docopt_env();
    let scratch = tempdir();
    let started = std::time::Instant::now();
    wheelhouse_reinstalls(env, "docopt", DOCOPT_WHEEL, scratch.path());
    eprintln!("docopt --wheelhouse round trip: {:?}", started.elapsed());
}

#[test]
fn online_docopt_exclude_and_pyodide_lock() {
    if skip_if_offline() {
        return;
    }
    let env = docopt_env();
    let scratch = tempdir();
    let s = scratch.path();

    // --exclude: said in the lock (pylock [tool.icelock], requirements comment).
    let pylock = s.join("pylock.toml");
    let req = s.join("requirements.txt");
    for target in [&pylock, &req] {
        let out = lock_to(&env.venv.root, target, &["--exclude", "docopt"]);
        assert_exit(&out, 0, "lock --exclude docopt");
        assert_stderr_has(&out, &["docopt 0.6.2: excluded (--exclude)"], "--exclude");
    }
    let doc = toml_as_json(&pylock);
    assert_eq!(
        doc["tool"]["icelock"]["excluded"],
        serde_json::json!(["docopt"])
    );
    let text = fs::read_to_string(&req).unwrap();
    assert!(text.contains("# Left out on purpose: docopt"), "{text}");
    assert!(!text.contains("docopt=="), "{text}");

    // pyodide-lock.json: the sdist cannot be loaded; the refusal names --wheelhouse.
    let base = pyodide_runtime().join("pyodide-lock.json");
    let target = s.join("pyodide-lock.json");
    let out = lock_to(
        &env.venv.root,
        &target,
        &["--allow-sdist", "--base-lock", base.to_str().unwrap()],
    );
    assert_ne!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!target.exists());
    assert_stderr_has(
        &out,
        &["docopt 0.6.2", "only load wheels", "--wheelhouse"],
        "pyodide-lock.json --allow-sdist",
    );
    // With it, the rebuilt wheel is loadable.
    let wh = s.join("wheelhouse");
    let out = lock_to(
        &env.venv.root,
        &target,
        &[
            "--wheelhouse",
            wh.to_str().unwrap(),
            "--base-lock",
            base.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 0, "pyodide-lock.json --wheelhouse");
    validate_pyodide_lock(&target);
    let lock: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    let e = &lock["packages"]["docopt"];
    assert_eq!(e["file_name"], format!("wheelhouse/{DOCOPT_WHEEL}"), "{e}");
    assert_eq!(
        e["sha256"],
        sha256_hex(&wh.join(DOCOPT_WHEEL)).as_str(),
        "{e}"
    );
    assert_eq!(e["version"], "0.6.2", "{e}");
    assert_eq!(e["imports"], serde_json::json!(["docopt"]), "{e}");
}

// ---------------------------------------------------------------------------------------------
// termcolor 2.4.0 with --no-binary: a wheel on the index, a local build installed

#[test]
fn online_termcolor_built_here_without_a_way_out_writes_nothing() {
    if skip_if_offline() {
        return;
    }
    refused_without_a_way_out(
        termcolor_env(),
        "termcolor",
        &[
            "termcolor 2.4.0: not lockable",
            TERMCOLOR_WHEEL,
            "METADATA differs",
            "--force-reinstall",
        ],
    );
}

/// The lock pins the sdist's hash, so pip takes the sdist although the index has a wheel.
#[test]
fn online_termcolor_allow_sdist_locks_the_sdist_not_the_wheel() {
    if skip_if_offline() {
        return;
    }
    allow_sdist_reinstalls(termcolor_env(), "termcolor", "2.4.0");
}

/// The rebuilt wheel has the name of the index's wheel but other bytes; with both the index
/// and the wheelhouse searched, icelock proves the rebuilt environment by the wheelhouse's.
#[test]
fn online_termcolor_wheelhouse_is_told_apart_from_the_index_wheel() {
    if skip_if_offline() {
        return;
    }
    let env = termcolor_env();
    let scratch = tempdir();
    let s = scratch.path();
    let started = std::time::Instant::now();
    let first = wheelhouse_reinstalls(env, "termcolor", TERMCOLOR_WHEEL, s);
    let ours = first.join("wheelhouse").join(TERMCOLOR_WHEEL);

    // The index's wheel of that name.
    let download = s.join("index-wheel");
    let mut cmd = with_index_settings(tools().pip_command());
    cmd.args([
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "termcolor==2.4.0",
        "-d",
    ])
    .arg(&download);
    run_ok(&mut cmd);
    let theirs = download.join(TERMCOLOR_WHEEL);
    assert_ne!(sha256_hex(&theirs), sha256_hex(&ours), "the same bytes?");

    // An environment installed from the lock, proven against the index and the wheelhouse.
    let rebuilt = Venv::create(&s.join("again"), Installer::Pip);
    let mut cmd = rebuilt.pip_command();
    cmd.args(["install", "--no-index", "-r"])
        .arg(first.join("pylock.toml"));
    run_ok(&mut cmd);
    let out = lock(
        &rebuilt.root,
        &[
            OsStr::new("--format"),
            OsStr::new("json"),
            OsStr::new("--find-links"),
            first.join("wheelhouse").as_os_str(),
        ],
    );
    assert_exit(&out, 0, "lock --format json, index + wheelhouse");
    let pkgs = packages_by_name(&json_stdout(&out));
    let src = &pkgs["termcolor"]["source"];
    assert_eq!(src["sha256"], sha256_hex(&ours).as_str(), "{src}");
    assert!(
        src["url"].as_str().is_some_and(|u| u.starts_with("file:")),
        "proven by the wheelhouse's file: {src}"
    );
    eprintln!("termcolor --wheelhouse round trip: {:?}", started.elapsed());
}

/// uv built termcolor from the sdist (it left uv_build.json): the wheelhouse rebuilds it too,
/// and uv installs it again offline to the same RECORD rows.
#[test]
fn online_termcolor_built_by_uv_wheelhouse() {
    if skip_if_offline() {
        return;
    }
    let scratch = tempdir();
    let s = scratch.path();
    let venv = Venv::create(&s.join("venv"), Installer::Uv);
    let mut cmd = uv_pip(&venv, "install");
    cmd.args(["--no-binary", "termcolor", "termcolor==2.4.0"]);
    run_ok(&mut cmd);
    assert!(venv.dist_info("termcolor").join("uv_build.json").exists());

    let d = s.join("lock");
    fs::create_dir_all(&d).unwrap();
    let pylock = d.join("pylock.toml");
    let out = lock_to(&venv.root, &pylock, &[]);
    assert_exit(&out, 1, "no way out");
    assert_stderr_has(
        &out,
        &["termcolor 2.4.0: not lockable", "uv built it"],
        "uv",
    );
    let out = lock_to(
        &venv.root,
        &pylock,
        &["--wheelhouse", d.join("wheelhouse").to_str().unwrap()],
    );
    assert_exit(&out, 0, "lock --wheelhouse");
    let wheel = d.join("wheelhouse").join(TERMCOLOR_WHEEL);
    let members: BTreeSet<String> = zip_member_hashes(&wheel).into_keys().collect();
    assert!(
        !members
            .iter()
            .any(|m| m.ends_with("uv_build.json") || m.ends_with("INSTALLER")),
        "installer files in the wheel: {members:?}"
    );
    let again = Venv::create(&s.join("again"), Installer::Uv);
    let mut cmd = again.uv_pip_command("sync");
    cmd.arg(&pylock);
    run_ok(&mut cmd);
    assert_eq!(again.pip_list(), venv.pip_list());
    assert_eq!(
        wheel_record_rows(&again.dist_info("termcolor")),
        wheel_record_rows(&venv.dist_info("termcolor")),
        "RECORD rows"
    );
    let pkgs = proven_from(&again.root, &d.join("wheelhouse"));
    assert_eq!(
        pkgs["termcolor"]["source"]["sha256"],
        sha256_hex(&wheel).as_str()
    );
}
