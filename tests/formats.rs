//! `icelock lock` output formats, hermetic: real pip environments built offline from the fixture
//! wheels, locked with `--find-links <wheelhouse> --no-index` (icelock proves local find-links
//! wheels from their METADATA), and each lock handed to the tools that consume it:
//!
//! - pylock.toml: read by `packaging.pylock` (the reference validator), installed by
//!   `pip install -r pylock.toml` and by `uv pip sync pylock.toml` into fresh environments,
//!   which icelock then locks again to the very same files;
//! - requirements.txt: installed by `pip install --require-hashes --no-deps`, same round trip;
//! - the format chosen from the output's name, `-o -`, `--format` over the name;
//! - nothing written (and an existing lock left alone) when a dist cannot be proven;
//! - editable installs as PEP 751 `[packages.directory]` entries.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;
use support::*;

/// Every dist of the wheels-only environment: FULL_REQUIREMENTS with what they pull in, and
/// demo-single installed from its wheel's path.
const WHEEL_ENV_NAMES: &[&str] = &[
    "backdemo-tarfile",
    "demo-app",
    "demo-core",
    "demo-extra",
    "demo-importname",
    "demo-meta",
    "demo-native",
    "demo-quirks",
    "demo-scripts",
    "demo-single",
    "nsdemo-alpha",
    "nsdemo-beta",
];

/// The environment the round trips start from: every fixture wheel (a platform wheel, a build
/// tag, namespaces, scripts and data, a metapackage, a URL install), installed by pip. Shared by
/// the tests of this file, which never modify it.
fn wheels_env() -> &'static Venv {
    static ENV: OnceLock<Venv> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = process_scratch().join("formats-wheels");
        fs::create_dir_all(&dir).unwrap();
        let venv = Venv::create(&dir.join("venv"), Installer::Pip);
        let single = wheelhouse().wheel("demo-single", "1.0").path.clone();
        let mut args: Vec<&OsStr> = FULL_REQUIREMENTS.iter().map(OsStr::new).collect();
        args.push(single.as_os_str());
        venv.install(&args);
        let names: BTreeSet<String> = venv.pip_list().into_keys().collect();
        assert_eq!(names, set(WHEEL_ENV_NAMES), "what pip installed");
        venv
    })
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `icelock lock ENV ARGS…` against the fixture wheelhouse and the tools wheels only, with no
/// cache, a fresh HOME, run in `cwd`.
fn lock_in<S: AsRef<OsStr>>(cwd: &Path, env: &Path, args: &[S]) -> Output {
    let home = tempdir();
    let mut all: Vec<OsString> = vec!["lock".into(), env.into()];
    all.extend(args.iter().map(|a| a.as_ref().to_owned()));
    all.extend([
        OsString::from("--find-links"),
        wheelhouse().dir.clone().into(),
        OsString::from("--find-links"),
        tools().wheels.clone().into(),
        OsString::from("--no-index"),
        OsString::from("--no-cache"),
    ]);
    let mut cmd = hermetic_icelock_command(home.path(), &all);
    cmd.current_dir(cwd);
    run_icelock(&mut cmd)
}

fn lock<S: AsRef<OsStr>>(env: &Path, args: &[S]) -> Output {
    let cwd = tempdir();
    lock_in(cwd.path(), env, args)
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", show(out));
}

/// (name, wheel file name, sha256) of every dist, from `icelock lock --format json`, asserting
/// that every one is proven.
fn locked_files(env: &Path) -> BTreeSet<(String, String, String)> {
    let out = lock(env, &["--format", "json"]);
    assert_exit(&out, 0, "lock --format json");
    let report = json_stdout(&out);
    let mut files = BTreeSet::new();
    for p in report["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().unwrap().to_owned();
        let source = &p["source"];
        assert_ne!(source["kind"], "unproven", "{name} is unproven: {source}");
        let filename = source["filename"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no filename in {source}"))
            .to_owned();
        let sha = source["sha256"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no sha256 in {source}"))
            .to_owned();
        files.insert((name, filename, sha));
    }
    files
}

fn original_files() -> &'static BTreeSet<(String, String, String)> {
    static FILES: OnceLock<BTreeSet<(String, String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let files = locked_files(&wheels_env().root);
        let names: BTreeSet<String> = files.iter().map(|(n, _, _)| n.clone()).collect();
        assert_eq!(names, set(WHEEL_ENV_NAMES));
        // Each is the fixture wheel itself.
        let wh = wheelhouse();
        for (name, filename, sha) in &files {
            let path = wh.dir.join(filename);
            assert!(path.is_file(), "{name}: {filename} is not a fixture wheel");
            assert_eq!(&sha256_hex(&path), sha, "{name}: sha256 of {filename}");
        }
        files
    })
}

/// The fixture wheel of each dist in the wheels-only environment: normalised name -> (file
/// name, sha256), from the wheelhouse manifest and the files themselves.
fn fixture_wheels() -> BTreeMap<String, (String, String)> {
    let wh = wheelhouse();
    let env = wheels_env().pip_list();
    let wanted: Vec<&FixtureWheel> = wh
        .wheels
        .iter()
        .filter(|w| env.get(&normalize(&w.name)) == Some(&w.version))
        .collect();
    let paths: Vec<&Path> = wanted.iter().map(|w| w.path.as_path()).collect();
    let hashes = sha256_hex_many(&paths);
    wanted
        .iter()
        .zip(hashes)
        .map(|(w, h)| {
            (
                normalize(&w.name),
                (
                    w.path.file_name().unwrap().to_string_lossy().into_owned(),
                    h,
                ),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. pylock.toml

#[test]
fn pylock_is_valid_and_installs_the_same_files_with_pip_and_uv() {
    let env = wheels_env();
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let out = lock(&env.root, &[OsStr::new("-o"), pylock.as_os_str()]);
    assert_exit(&out, 0, "lock -o pylock.toml");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout with -o: {}",
        show(&out)
    );

    // The reference validator accepts it, and it says what is installed.
    let parsed = validate_pylock(&pylock);
    assert_eq!(parsed["lock_version"], "1.0");
    assert!(
        parsed["created_by"]
            .as_str()
            .is_some_and(|c| c.starts_with("icelock")),
        "created-by: {}",
        parsed["created_by"]
    );
    let fixtures = fixture_wheels();
    let versions = env.pip_list();
    let mut names = BTreeSet::new();
    for p in parsed["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        names.insert(name.to_owned());
        assert_eq!(name, normalize(name), "pylock names are normalised");
        assert_eq!(
            p["version"].as_str(),
            versions.get(name).map(String::as_str),
            "{name}: version"
        );
        let wheels = p["wheels"].as_array().unwrap();
        assert_eq!(wheels.len(), 1, "{name}: exactly the installed wheel: {p}");
        let w = &wheels[0];
        let (file, sha) = &fixtures[name];
        assert_eq!(
            w["name"].as_str(),
            Some(file.as_str()),
            "{name}: wheel name"
        );
        assert_eq!(
            w["hashes"]["sha256"].as_str(),
            Some(sha.as_str()),
            "{name}: wheel sha256"
        );
        let local = w["path"]
            .as_str()
            .or_else(|| w["url"].as_str().and_then(|u| u.strip_prefix("file://")))
            .unwrap_or_else(|| panic!("{name}: neither path nor file URL: {w}"));
        assert_eq!(
            canon(local),
            canon(wheelhouse().dir.join(file)),
            "{name}: the wheel's location"
        );
        assert!(p["directory"].is_null(), "{name}: {p}");
    }
    assert_eq!(names, set(WHEEL_ENV_NAMES));
    // `dependencies` (informational) names what each one requires here.
    let deps_of = |name: &str| -> BTreeSet<String> {
        let p = parsed["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap();
        p["dependencies"]
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|x| x["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(deps_of("demo-app"), set(&["demo-core", "demo-extra"]));
    assert_eq!(deps_of("demo-meta"), set(&["demo-app", "demo-core"]));
    assert_eq!(deps_of("demo-core"), BTreeSet::new());

    // pip installs it into a fresh environment (no index: every URL is a local path).
    let scratch = tempdir();
    let by_pip = Venv::create(&scratch.path().join("by-pip"), Installer::Pip);
    let mut cmd = by_pip.pip_command();
    cmd.args(["install", "--no-index", "-r"]).arg(&pylock);
    run_ok(&mut cmd);

    // uv syncs a fresh environment to it, offline.
    let by_uv = Venv::create(&scratch.path().join("by-uv"), Installer::Uv);
    let mut cmd = by_uv.uv_pip_command("sync");
    cmd.arg(&pylock);
    run_ok(&mut cmd);

    // Both hold exactly the files the original does, as icelock proves them.
    let original = original_files();
    assert_eq!(&locked_files(&by_pip.root), original, "pip -r pylock.toml");
    assert_eq!(
        &locked_files(&by_uv.root),
        original,
        "uv pip sync pylock.toml"
    );
    assert_eq!(
        by_pip.pip_list(),
        versions,
        "pip list after pip -r pylock.toml"
    );
    assert_eq!(by_uv.pip_list(), versions, "pip list after uv pip sync");
}

// ---------------------------------------------------------------------------------------------
// 2. requirements.txt

#[test]
fn requirements_txt_installs_the_same_files_with_require_hashes() {
    let env = wheels_env();
    let dir = tempdir();
    let req = dir.path().join("requirements.txt");
    let out = lock(&env.root, &[OsStr::new("-o"), req.as_os_str()]);
    assert_exit(&out, 0, "lock -o requirements.txt");
    let text = fs::read_to_string(&req).unwrap();

    // One requirement per dist, each pinned and hash-checked with its wheel's sha256.
    let fixtures = fixture_wheels();
    let joined = text.replace("\\\n", " ");
    let reqs: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('-'))
        .collect();
    assert_eq!(reqs.len(), WHEEL_ENV_NAMES.len(), "requirements:\n{text}");
    for line in &reqs {
        let spec = line.split_whitespace().next().unwrap();
        let name = normalize(spec.split(['=', '@', ' ']).next().unwrap());
        let (file, sha) = fixtures
            .get(&name)
            .unwrap_or_else(|| panic!("unexpected requirement {line:?}"));
        let hashes: Vec<&str> = line
            .split_whitespace()
            .filter_map(|t| t.strip_prefix("--hash="))
            .collect();
        assert_eq!(
            hashes,
            [format!("sha256:{sha}").as_str()],
            "{name}: hashes in {line:?}"
        );
        assert!(
            line.contains("==") || line.contains(file.as_str()),
            "{name}: pinned or a URL: {line:?}"
        );
    }

    let scratch = tempdir();
    let fresh = Venv::create(&scratch.path().join("by-req"), Installer::Pip);
    let mut cmd = fresh.pip_command();
    cmd.args(["install", "--require-hashes", "--no-deps", "--no-index"])
        .arg("--find-links")
        .arg(&wheelhouse().dir)
        .arg("-r")
        .arg(&req);
    run_ok(&mut cmd);
    assert_eq!(&locked_files(&fresh.root), original_files());
    assert_eq!(fresh.pip_list(), env.pip_list());
}

// ---------------------------------------------------------------------------------------------
// 3. The format from the output's name

#[test]
fn output_name_selects_the_format() {
    let env = wheels_env();
    let stdout_of = |format: &str| -> String {
        let out = lock(&env.root, &["--format", format]);
        assert_exit(&out, 0, &format!("lock --format {format}"));
        stdout_str(&out)
    };
    let pylock = stdout_of("pylock");
    let requirements = stdout_of("requirements");
    let report: Value = serde_json::from_str(&stdout_of("json")).unwrap();
    assert!(pylock.starts_with("lock-version = \"1.0\""), "{pylock}");
    assert!(requirements.contains("--hash=sha256:"), "{requirements}");
    assert_eq!(
        report["packages"].as_array().unwrap().len(),
        WHEEL_ENV_NAMES.len()
    );

    let dir = tempdir();
    let d = dir.path();
    let write = |name: &str, extra: &[&str]| -> Vec<u8> {
        let path = d.join(name);
        let mut args: Vec<&OsStr> = vec![OsStr::new("-o"), path.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        let out = lock_in(d, &env.root, &args);
        assert_exit(&out, 0, &format!("lock -o {name} {extra:?}"));
        assert!(
            out.stdout.is_empty(),
            "-o {name}: nothing on stdout\n{}",
            show(&out)
        );
        fs::read(&path).unwrap_or_else(|e| panic!("{name} not written: {e}"))
    };

    // pylock.<name>.toml is a pylock (and a valid one).
    assert_eq!(
        String::from_utf8(write("pylock.dev.toml", &[])).unwrap(),
        pylock
    );
    validate_pylock(&d.join("pylock.dev.toml"));
    // requirements*.txt is a requirements file.
    assert_eq!(
        String::from_utf8(write("requirements-dev.txt", &[])).unwrap(),
        requirements
    );
    // Any other *.json is the JSON report.
    let written: Value = serde_json::from_slice(&write("report.json", &[])).unwrap();
    assert_eq!(
        written, report,
        "-o report.json is the --format json report"
    );
    // --format wins over the name.
    let forced: Value =
        serde_json::from_slice(&write("pylock.toml", &["--format", "json"])).unwrap();
    assert_eq!(forced, report, "--format json -o pylock.toml");
    // A name that says nothing: the default, pylock.toml for a non-Pyodide environment.
    assert_eq!(String::from_utf8(write("env.lock", &[])).unwrap(), pylock);

    // `-o -` is standard output (the default format), and no file named `-` appears.
    let sub = d.join("dash");
    fs::create_dir(&sub).unwrap();
    let out = lock_in(&sub, &env.root, &["-o", "-"]);
    assert_exit(&out, 0, "lock -o -");
    assert_eq!(stdout_str(&out), pylock, "-o - prints the pylock");
    assert_eq!(fs::read_dir(&sub).unwrap().count(), 0, "-o - wrote a file");
    // No -o at all: standard output too.
    let out = lock_in(&sub, &env.root, &[] as &[&str]);
    assert_exit(&out, 0, "lock");
    assert_eq!(stdout_str(&out), pylock);
    assert_eq!(
        fs::read_dir(&sub).unwrap().count(),
        0,
        "lock without -o wrote a file"
    );

    // What was written in `d`: exactly the files asked for (no temp files left behind).
    let mut files: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "dash",
            "env.lock",
            "pylock.dev.toml",
            "pylock.toml",
            "report.json",
            "requirements-dev.txt"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Nothing written unless every dist is proven

#[test]
fn unproven_dist_writes_no_lock_and_keeps_the_old_one() {
    let scratch = tempdir();
    let venv = Venv::create(&scratch.path().join("venv"), Installer::Pip);
    venv.install(&["demo-app"]);
    let cli = venv.site_packages().join("demo_app").join("cli.py");
    let mut text = fs::read_to_string(&cli).unwrap();
    text.push_str("# edited after install\n");
    fs::write(&cli, text).unwrap();

    // No lock file is created.
    let out_dir = scratch.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    for name in ["pylock.toml", "requirements.txt", "pyodide-lock.json"] {
        let target = out_dir.join(name);
        let out = lock(&venv.root, &[OsStr::new("-o"), target.as_os_str()]);
        assert_exit(&out, 1, &format!("lock -o {name} with demo-app edited"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("demo-app") && stderr.contains("demo_app/cli.py"),
            "the reason names the dist and the file:\n{}",
            show(&out)
        );
        assert!(out.stdout.is_empty(), "{}", show(&out));
        assert!(!target.exists(), "{name} was written: {}", show(&out));
    }
    assert_eq!(
        fs::read_dir(&out_dir).unwrap().count(),
        0,
        "nothing (not even a temp file) left in the output folder"
    );

    // To standard output: nothing either.
    let out = lock(&venv.root, &["--format", "pylock"]);
    assert_exit(&out, 1, "lock --format pylock (stdout)");
    assert!(out.stdout.is_empty(), "{}", show(&out));

    // An existing lock is left byte for byte.
    let existing = out_dir.join("pylock.toml");
    let old: &[u8] = b"# the lock from yesterday\r\nlock-version = \"1.0\"\n\xef\xbb\xbf";
    fs::write(&existing, old).unwrap();
    let before = fs::metadata(&existing).unwrap().modified().unwrap();
    let out = lock(&venv.root, &[OsStr::new("-o"), existing.as_os_str()]);
    assert_exit(&out, 1, "lock -o <existing pylock.toml>");
    assert_eq!(
        fs::read(&existing).unwrap(),
        old,
        "the existing lock changed"
    );
    assert_eq!(fs::metadata(&existing).unwrap().modified().unwrap(), before);
    assert_eq!(fs::read_dir(&out_dir).unwrap().count(), 1);

    // The JSON report is still written, and says why.
    let report_path = out_dir.join("report.json");
    let out = lock(&venv.root, &[OsStr::new("-o"), report_path.as_os_str()]);
    assert_exit(&out, 1, "lock -o report.json");
    let report: Value = serde_json::from_slice(&fs::read(&report_path).unwrap()).unwrap();
    let by_name = packages_by_name(&report);
    assert_eq!(by_name["demo-app"]["source"]["kind"], "unproven");
    assert!(
        by_name["demo-app"]["source"]["reasons"]
            .to_string()
            .contains("demo_app/cli.py"),
        "{}",
        by_name["demo-app"]
    );
    assert_eq!(by_name["demo-core"]["source"]["kind"], "index");
}

// ---------------------------------------------------------------------------------------------
// 5. Editable installs

#[test]
fn editable_installs_are_directory_entries() {
    let full = shared_full_env(Installer::Pip);
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let lock_full = |extra: &[&str]| -> Output {
        let mut args: Vec<&OsStr> = vec![OsStr::new("-o"), pylock.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        lock(&full.venv.root, &args)
    };

    // A source tree on this machine is not locked unless asked for.
    let out = lock_full(&[]);
    assert_exit(
        &out,
        1,
        "lock of an environment with editables, no --allow-local",
    );
    assert!(!pylock.exists(), "written without --allow-local");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in ["demo-editable", "demo-flat", "--allow-local"] {
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            show(&out)
        );
    }

    // --exclude leaves them out, and the lock says so.
    let out = lock_full(&["--exclude", "demo-editable", "--exclude", "demo-flat"]);
    assert_exit(&out, 0, "lock --exclude demo-editable --exclude demo-flat");
    let parsed = validate_pylock(&pylock);
    let names: BTreeSet<String> = parsed["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    let versions = full.venv.pip_list();
    let mut expected: BTreeSet<String> = versions.keys().cloned().collect();
    expected.remove("demo-editable");
    expected.remove("demo-flat");
    assert_eq!(names, expected, "--exclude");
    assert_eq!(
        parsed["tool"]["icelock"]["excluded"]
            .as_array()
            .map(|a| str_set(&Value::Array(a.clone()))),
        Some(set(&["demo-editable", "demo-flat"])),
        "[tool.icelock] excluded: {}",
        parsed["tool"]
    );

    // --allow-local: PEP 751 `[packages.directory]` entries, no version.
    let out = lock_full(&["--allow-local"]);
    assert_exit(&out, 0, "lock --allow-local of the full environment");
    let parsed = validate_pylock(&pylock);
    let packages: BTreeMap<String, &Value> = parsed["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p))
        .collect();
    assert_eq!(
        packages.keys().cloned().collect::<BTreeSet<_>>(),
        versions.keys().cloned().collect::<BTreeSet<_>>(),
        "every installed dist is locked"
    );
    for (name, project) in [("demo-editable", &full.editable), ("demo-flat", &full.flat)] {
        let p = packages[name];
        assert!(
            p["version"].is_null(),
            "{name}: PEP 751 forbids a version: {p}"
        );
        assert_eq!(p["wheels"], Value::Array(vec![]), "{name}: {p}");
        let d = &p["directory"];
        assert_eq!(d["editable"], true, "{name}: {p}");
        let path = d["path"].as_str().unwrap();
        let path = if Path::new(path).is_absolute() {
            PathBuf::from(path)
        } else {
            dir.path().join(path)
        };
        assert_eq!(canon(&path), canon(project), "{name}: the project folder");
    }
    assert_eq!(
        packages["demo-editable"]["dependencies"][0]["name"], "demo-core",
        "{}",
        packages["demo-editable"]
    );
    // Everything else is a wheel, with its version.
    for (name, p) in &packages {
        if name == "demo-editable" || name == "demo-flat" {
            continue;
        }
        assert_eq!(
            p["version"].as_str(),
            Some(versions[name].as_str()),
            "{name}"
        );
        assert_eq!(p["wheels"].as_array().unwrap().len(), 1, "{name}: {p}");
        assert!(p["directory"].is_null(), "{name}: {p}");
    }
}
