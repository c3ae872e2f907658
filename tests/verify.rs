//! `icelock verify` and `icelock lock --check` against real environments (pip and uv) and locks
//! written by the real producers: icelock itself, `pip lock`, `uv pip compile --format
//! pylock.toml`, `uv lock` (uv.lock) and `uv export` (pylock.toml and requirements.txt),
//! `poetry lock` and `pdm lock`, all resolving against the local test index that serves the
//! fixture wheels the environments are installed from.
//!
//! The oracles: the wheels' own sha256 (what every `ok` must name), and the drift the test
//! makes itself: a downgrade, an extra, a removal, an edited file, a module added beside the
//! listed ones, and a local rebuild of a wheel with the same file name and METADATA swapped
//! in. Every producer's lock must see exactly those six, each with its status and, where
//! there is one, the file.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::*;

/// What the project needs: every one installed, every one locked.
const DEPS: &[&str] = &[
    "demo-core",
    "demo-native",
    "demo-scripts",
    "demo-single",
    "nsdemo-alpha",
];

/// A project naming `DEPS`, laid out for uv, poetry and pdm at once, each pointed at `index`.
fn project(dir: &Path, index: &str) -> PathBuf {
    let proj = dir.join("proj");
    fs::create_dir_all(&proj).unwrap();
    let deps: Vec<String> = DEPS.iter().map(|d| format!("\"{d}\"")).collect();
    fs::write(
        proj.join("pyproject.toml"),
        format!(
            r#"[project]
name = "proj"
version = "0.1"
requires-python = ">=3.11"
dependencies = [{deps}]

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "local"
url = "{index}"
priority = "primary"

[tool.pdm]
distribution = false

[[tool.pdm.source]]
name = "pypi"
url = "{index}"
verify_ssl = false
"#,
            deps = deps.join(", ")
        ),
    )
    .unwrap();
    fs::write(proj.join("requirements.in"), DEPS.join("\n") + "\n").unwrap();
    proj
}

/// A producer's command with its caches and configuration inside `dir`.
fn producer(program: &Path, dir: &Path, cwd: &Path) -> Command {
    let mut cmd = clean_command(program);
    cmd.current_dir(cwd)
        .env("HOME", dir.join("home"))
        .env("UV_CACHE_DIR", dir.join("uv-cache"))
        .env("POETRY_CACHE_DIR", dir.join("poetry-cache"))
        .env("POETRY_CONFIG_DIR", dir.join("poetry-config"))
        .env("PDM_CACHE_DIR", dir.join("pdm-cache"))
        .env("PDM_CHECK_UPDATE", "false")
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_CACHE_HOME", dir.join("xdg-cache"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("XDG_STATE_HOME", dir.join("xdg-state"));
    cmd
}

/// Every producer's lock of the project, by label.
fn produce_all(dir: &Path, index: &str) -> BTreeMap<&'static str, PathBuf> {
    let t = tools();
    let proj = project(dir, index);
    let mut locks = BTreeMap::new();
    let out = |name: &str, file: &str| {
        let folder = dir.join(name);
        fs::create_dir_all(&folder).unwrap();
        folder.join(file)
    };

    run_ok(producer(&t.uv, dir, &proj).args(["lock", "--quiet", "--index-url", index]));
    locks.insert("uv.lock", proj.join("uv.lock"));
    let exported = out("uv-export", "pylock.toml");
    run_ok(
        producer(&t.uv, dir, &proj)
            .args([
                "export",
                "--quiet",
                "--index-url",
                index,
                "--format",
                "pylock.toml",
                "-o",
            ])
            .arg(&exported),
    );
    locks.insert("uv export pylock.toml", exported);
    let exported = out("uv-export", "requirements.txt");
    run_ok(
        producer(&t.uv, dir, &proj)
            .args([
                "export",
                "--quiet",
                "--index-url",
                index,
                "--format",
                "requirements-txt",
                "-o",
            ])
            .arg(&exported),
    );
    locks.insert("uv export requirements.txt", exported);
    let compiled = out("uv-compile", "pylock.toml");
    run_ok(
        producer(&t.uv, dir, &proj)
            .args([
                "pip",
                "compile",
                "--quiet",
                "--index-url",
                index,
                "requirements.in",
                "--format",
                "pylock.toml",
                "-o",
            ])
            .arg(&compiled),
    );
    locks.insert("uv pip compile", compiled);
    let pip_locked = out("pip-lock", "pylock.toml");
    run_ok(
        producer(&t.python, dir, &proj)
            .args([
                "-m",
                "pip",
                "lock",
                "--quiet",
                "--index-url",
                index,
                "-r",
                "requirements.in",
                "-o",
            ])
            .arg(&pip_locked),
    );
    locks.insert("pip lock", pip_locked);
    run_ok(producer(&t.poetry, dir, &proj).args(["lock", "--no-interaction"]));
    locks.insert("poetry.lock", proj.join("poetry.lock"));
    run_ok(producer(&t.pdm, dir, &proj).args(["lock", "--quiet"]));
    locks.insert("pdm.lock", proj.join("pdm.lock"));
    for (label, path) in &locks {
        assert!(
            path.is_file(),
            "{label}: {} was not written",
            path.display()
        );
    }
    locks
}

fn verify_cmd(home: &Path, lock: &Path, env: &Path, index: &str, flags: &[&str]) -> Command {
    let mut args: Vec<std::ffi::OsString> = vec!["verify".into(), "--lock".into(), lock.into()];
    args.extend(["--index-url", index].map(Into::into));
    args.extend(flags.iter().map(Into::into));
    args.push(env.into());
    hermetic_icelock_command(home, &args)
}

/// `verify --format json`: the exit code and the report.
fn verify_json(home: &Path, lock: &Path, env: &Path, index: &str, flags: &[&str]) -> (i32, Value) {
    let mut flags = flags.to_vec();
    flags.extend(["--format", "json"]);
    let out = run_icelock(&mut verify_cmd(home, lock, env, index, &flags));
    let code = out.status.code().expect("an exit code");
    assert!(
        code == 0 || code == 1,
        "verify exits 0 or 1\n{}",
        show(&out)
    );
    (code, json_stdout(&out))
}

fn statuses(report: &Value) -> BTreeMap<String, String> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn package<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report: {report:#}"))
}

/// Installs `name` with the venv's installer from `folder` only, replacing what is there.
fn reinstall_from(venv: &Venv, folder: &Path, name: &str) {
    let mut cmd = match venv.installer {
        Installer::Pip => {
            let mut c = venv.pip_command();
            c.args(["install", "--force-reinstall"]);
            c
        }
        Installer::Uv => {
            let mut c = venv.uv_pip_command("install");
            c.args(["--reinstall-package", name]);
            c
        }
    };
    cmd.args(["--no-index", "--no-deps", "--find-links"])
        .arg(folder)
        .arg(name);
    run_ok(&mut cmd);
}

#[test]
fn every_producers_lock_verifies_and_names_each_drift() {
    let wheels = wheelhouse();
    let server = IndexServer::start(&wheels.dir, &[] as &[&str]);
    let index = server.simple_url();
    let tmp = tempdir();
    let mut locks = produce_all(tmp.path(), &index);
    let sha_of = |name: &str, version: &str| sha256_hex(&wheels.wheel(name, version).path);

    for installer in [Installer::Pip, Installer::Uv] {
        let dir = tmp.path().join(installer.name());
        let venv = Venv::create(&dir.join("venv"), installer);
        venv.install(DEPS);
        // icelock's own locks of the same environment.
        let home = dir.join("home");
        fs::create_dir_all(&home).unwrap();
        for (label, file) in [
            ("icelock pylock.toml", "pylock.toml"),
            ("icelock requirements.txt", "requirements.txt"),
        ] {
            let path = dir.join("icelock").join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut cmd = hermetic_icelock_command(
                &home,
                &[
                    "lock".as_ref(),
                    "--index-url".as_ref(),
                    index.as_ref(),
                    "-o".as_ref(),
                    path.as_os_str(),
                    venv.root.as_os_str(),
                ],
            );
            let out = run_icelock(&mut cmd);
            assert!(out.status.success(), "{label}\n{}", show(&out));
            locks.insert(label, path);
        }

        // As installed: every lock says ok, each package proven to be the served wheel.
        for (label, lock) in &locks {
            let fresh = tempdir();
            let (code, report) = verify_json(fresh.path(), lock, &venv.root, &index, &[]);
            let all = statuses(&report);
            assert_eq!(
                all.keys().cloned().collect::<BTreeSet<_>>(),
                DEPS.iter().map(|d| d.to_string()).collect(),
                "{label}: {report:#}"
            );
            assert!(
                all.values().all(|s| s == "ok"),
                "{label} ({}): {report:#}",
                installer.name()
            );
            assert_eq!(code, 0, "{label}");
            for (name, version) in [
                ("demo-core", "1.2"),
                ("demo-native", "1.0"),
                ("demo-single", "1.0"),
                ("nsdemo-alpha", "1.0"),
            ] {
                let installed = &package(&report, name)["installed"];
                assert_eq!(installed["proof"], "wheel-record", "{label} {name}");
                assert_eq!(
                    installed["artifact"]["sha256"].as_str(),
                    Some(sha_of(name, version).as_str()),
                    "{label} {name}"
                );
            }
        }

        // Drift, six ways: the sixth adds a module beside the listed ones, every listed byte
        // unchanged.
        venv.install(&["demo-core==0.9"]);
        venv.install(&["--no-deps", "demo-importname"]);
        venv.uninstall(&["nsdemo-alpha"]);
        let edited = venv.site_packages().join("singlemod.py");
        let mut text = fs::read_to_string(&edited).unwrap();
        text.push_str("\nEDITED = True\n");
        fs::write(&edited, text).unwrap();
        fs::write(
            venv.site_packages().join("demo_scripts/extra.py"),
            "ADDED = True\n",
        )
        .unwrap();
        let forged_dir = dir.join("forged");
        let so = "_demo_native.cpython-311-x86_64-linux-gnu.so";
        let genuine = &wheels.wheel("demo-native", "1.0").path;
        let forged = forge(genuine, &forged_dir, &format!("change:{so}"));
        assert_eq!(wheel_metadata(&forged), wheel_metadata(genuine));
        reinstall_from(&venv, &forged_dir, "demo-native");

        let expected: BTreeMap<String, String> = [
            ("demo-core", "version"),
            ("demo-importname", "extra"),
            ("nsdemo-alpha", "missing"),
            ("demo-single", "modified"),
            ("demo-scripts", "modified"),
            ("demo-native", "artifact"),
        ]
        .into_iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
        for (label, lock) in &locks {
            let fresh = tempdir();
            let (code, report) = verify_json(fresh.path(), lock, &venv.root, &index, &[]);
            assert_eq!(code, 1, "{label}");
            let drifted: BTreeMap<String, String> = statuses(&report)
                .into_iter()
                .filter(|(_, s)| s != "ok")
                .collect();
            assert_eq!(
                drifted,
                expected,
                "{label} ({}): {report:#}",
                installer.name()
            );
            assert_eq!(package(&report, "demo-core")["installed"]["version"], "0.9");
            assert_eq!(package(&report, "demo-core")["locked"]["version"], "1.2");
            let files = |name: &str| str_vec(&package(&report, name)["files"]);
            assert_eq!(files("demo-single"), ["singlemod.py"], "{label}");
            assert_eq!(files("demo-scripts"), ["demo_scripts/extra.py"], "{label}");
            // Each with the way out that works: a reinstall for an edit, removal for an
            // added file (a reinstall leaves it).
            let reason = |name: &str| package(&report, name)["reason"].to_string();
            assert!(
                reason("demo-single").contains("Restore it with `"),
                "{label}"
            );
            assert!(
                reason("demo-scripts").contains("A reinstall leaves such files in place")
                    && reason("demo-scripts").contains("rm -r demo_scripts/extra.py"),
                "{label}: {}",
                reason("demo-scripts")
            );
            assert!(files("demo-native").contains(&so.to_string()), "{label}");
            assert!(
                package(&report, "nsdemo-alpha")["locked"]["line"]
                    .as_u64()
                    .is_some()
                    || label.contains("requirements"),
                "{label}: a missing entry names its line"
            );
        }
        // The text form: a row per drifted package and the summary line.
        let fresh = tempdir();
        let lock = &locks["uv.lock"];
        let out = run_icelock(&mut verify_cmd(fresh.path(), lock, &venv.root, &index, &[]));
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let text = stdout_str(&out);
        for (name, status) in &expected {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(name.as_str()) && l.contains(status.as_str())),
                "{name} {status} in\n{text}"
            );
        }
        assert!(text.contains(so), "{text}");
        assert!(
            text.contains("drift: 1 artifact, 1 extra, 1 missing, 2 modified, 1 version against"),
            "{text}"
        );
        locks.retain(|label, _| !label.starts_with("icelock"));
    }
}

/// A repeat verify of an unchanged environment needs no request: `--offline` gives the same
/// answer from the cache, and the index sees nothing.
#[test]
fn repeat_verify_runs_offline() {
    let wheels = wheelhouse();
    let server = IndexServer::start(&wheels.dir, &[] as &[&str]);
    let index = server.simple_url();
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(DEPS);
    let home = tmp.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let lock = tmp.path().join("pylock.toml");
    let out = run_icelock(&mut hermetic_icelock_command(
        &home,
        &[
            "lock".as_ref(),
            "--index-url".as_ref(),
            index.as_ref(),
            "-o".as_ref(),
            lock.as_os_str(),
            venv.root.as_os_str(),
        ],
    ));
    assert!(out.status.success(), "{}", show(&out));
    // A fresh cache: the lock's own proofs are not reused.
    let verify_home = tmp.path().join("verify-home");
    fs::create_dir_all(&verify_home).unwrap();
    server.clear_log();
    let (code, first) = verify_json(&verify_home, &lock, &venv.root, &index, &[]);
    assert_eq!(code, 0, "{first:#}");
    let log = server.log();
    assert!(
        log.iter()
            .all(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/files/"))),
        "the lock names every file, so no page is asked for: {log:#?}"
    );
    assert_eq!(
        log.len(),
        DEPS.len(),
        "one range read per locked wheel: {log:#?}"
    );
    server.clear_log();
    let (code, again) = verify_json(&verify_home, &lock, &venv.root, &index, &["--offline"]);
    assert_eq!(code, 0, "{again:#}");
    assert_eq!(statuses(&first), statuses(&again));
    assert!(server.log().is_empty(), "{:#?}", server.log());
}

/// A lock that cannot be read exits 2, naming the file and the line.
#[test]
fn unreadable_locks_exit_2_with_the_line() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    let cases: &[(&str, &str, &str)] = &[
        (
            "pylock.toml",
            "lock-version = \"1.0\"\n\n[[packages]]\nname = \"x\"\nversion = = \"1\"\n",
            ":5:",
        ),
        (
            "requirements.txt",
            "idna==3.7 \\\n    --hash=sha256:aa\nfoo>=\n",
            ":3:",
        ),
        (
            "uv.lock",
            "version = 1\n\n[[package]]\nname = \"Not a name!\"\nversion = \"1\"\n",
            ":4:",
        ),
        (
            "pyodide-lock.json",
            "{\"packages\": {\n  \"x\": 3\n}}\n",
            ":2",
        ),
        ("pylock.other.toml", "lock-version = \"2.0\"\n", ":1:"),
    ];
    for (file, text, line) in cases {
        let path = tmp.path().join(file);
        fs::write(&path, text).unwrap();
        let out: Output = run_icelock(&mut hermetic_icelock_command(
            tmp.path(),
            &[
                "verify".as_ref(),
                "--lock".as_ref(),
                path.as_os_str(),
                "--offline".as_ref(),
                venv.root.as_os_str(),
            ],
        ));
        assert_eq!(out.status.code(), Some(2), "{file}\n{}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{}{line}", path.display())),
            "{file}: {stderr}"
        );
    }
}

/// `lock --check` writes nothing: 0 while the environment matches the file, then 1 with each
/// entry that would change, and the file untouched.
#[test]
fn lock_check_names_the_changes() {
    let wheels = wheelhouse();
    let server = IndexServer::start(&wheels.dir, &[] as &[&str]);
    let index = server.simple_url();
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    venv.install(&["demo-core==1.2", "nsdemo-alpha"]);
    let home = tmp.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let lock = tmp.path().join("pylock.toml");
    let run = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "lock".as_ref(),
            "--index-url".as_ref(),
            index.as_ref(),
            "-o".as_ref(),
            lock.as_os_str(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        args.push(venv.root.as_os_str());
        run_icelock(&mut hermetic_icelock_command(&home, &args))
    };
    let out = run(&[]);
    assert!(out.status.success(), "{}", show(&out));
    let written = fs::read(&lock).unwrap();
    let out = run(&["--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is up to date"));

    venv.install(&["demo-core==0.9", "demo-single"]);
    venv.uninstall(&["nsdemo-alpha"]);
    let out = run(&["--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for change in [
        "~ demo-core 1.2 -> 0.9",
        "+ demo-single 1.0",
        "- nsdemo-alpha 1.0",
    ] {
        assert!(stderr.contains(change), "{change} in\n{stderr}");
    }
    assert_eq!(fs::read(&lock).unwrap(), written, "--check writes nothing");
    assert!(stdout_str(&out).is_empty());
}

/// poetry.lock, pdm.lock and requirements.txt name files without URLs: verify looks for them
/// where the lock (poetry's `[package.source]`, pdm's project sources, a requirements file's
/// `--index-url` line) says, though the index configured here has none of them.
#[test]
fn files_named_without_urls_are_found_where_the_lock_says() {
    let wheels = wheelhouse();
    let server = IndexServer::start(&wheels.dir, &[] as &[&str]);
    let index = server.simple_url();
    let empty = tempdir();
    let elsewhere = IndexServer::start(empty.path(), &[] as &[&str]);
    let tmp = tempdir();
    let t = tools();
    let proj = project(tmp.path(), &index);
    run_ok(producer(&t.poetry, tmp.path(), &proj).args(["lock", "--no-interaction"]));
    run_ok(producer(&t.pdm, tmp.path(), &proj).args(["lock", "--quiet"]));
    let requirements = proj.join("requirements.txt");
    run_ok(
        producer(&t.uv, tmp.path(), &proj)
            .args([
                "export",
                "--quiet",
                "--index-url",
                &index,
                "--emit-index-url",
                "--format",
                "requirements-txt",
                "-o",
            ])
            .arg(&requirements),
    );
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    venv.install(DEPS);
    for lock in [
        proj.join("poetry.lock"),
        proj.join("pdm.lock"),
        requirements,
    ] {
        let home = tempdir();
        let mut cmd = hermetic_icelock_command(
            home.path(),
            &[
                "verify".as_ref(),
                "--lock".as_ref(),
                lock.as_os_str(),
                "--format".as_ref(),
                "json".as_ref(),
                venv.root.as_os_str(),
            ],
        );
        cmd.env("PIP_INDEX_URL", elsewhere.simple_url());
        let out = run_icelock(&mut cmd);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{}",
            lock.display(),
            show(&out)
        );
        let report = json_stdout(&out);
        assert!(
            statuses(&report).values().all(|s| s == "ok"),
            "{}: {report:#}",
            lock.display()
        );
        assert!(
            elsewhere.log().iter().any(|r| r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/simple/"))),
            "the configured index was searched too"
        );
        elsewhere.clear_log();
    }
}

/// A universal uv.lock that forks demo-core by platform: 1.2 here, 0.9 elsewhere. With 1.2
/// installed all is `ok`; with 0.9 installed it is `version`, though 0.9 is a locked file
/// too: the other platform's entry does not excuse it.
#[test]
fn a_universal_locks_other_fork_is_not_this_environments() {
    let wheels = wheelhouse();
    let server = IndexServer::start(&wheels.dir, &[] as &[&str]);
    let tmp = tempdir();
    let entry = |version: &str, marker: &str| {
        let wheel = &wheels.wheel("demo-core", version).path;
        format!(
            "[[package]]\nname = \"demo-core\"\nversion = \"{version}\"\nsource = {{ registry = \"{}\" }}\nresolution-markers = [\"{marker}\"]\nwheels = [{{ url = \"{}/files/{}\", hash = \"sha256:{}\" }}]\n\n",
            server.simple_url(),
            server.origin(),
            wheel.file_name().unwrap().to_string_lossy(),
            sha256_hex(wheel)
        )
    };
    let lock = tmp.path().join("uv.lock");
    fs::write(
        &lock,
        format!(
            "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"proj\"\nversion = \"0.1\"\nsource = {{ virtual = \".\" }}\ndependencies = [\n    {{ name = \"demo-core\", version = \"1.2\", marker = \"sys_platform == 'linux'\" }},\n    {{ name = \"demo-core\", version = \"0.9\", marker = \"sys_platform != 'linux'\" }},\n]\n\n{}{}",
            entry("1.2", "sys_platform == 'linux'"),
            entry("0.9", "sys_platform != 'linux'")
        ),
    )
    .unwrap();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    let index = server.simple_url();
    venv.install(&["demo-core==1.2"]);
    let (code, report) = verify_json(tempdir().path(), &lock, &venv.root, &index, &[]);
    assert_eq!(
        (code, statuses(&report)["demo-core"].as_str()),
        (0, "ok"),
        "{report:#}"
    );
    venv.install(&["demo-core==0.9"]);
    let (code, report) = verify_json(tempdir().path(), &lock, &venv.root, &index, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(statuses(&report)["demo-core"], "version", "{report:#}");
    assert_eq!(package(&report, "demo-core")["locked"]["version"], "1.2");
}

/// `--hash` reads every locked wheel whole and hashes it: the proof says `wheel-hash`.
#[test]
fn verify_hash_reads_the_locked_files_whole() {
    let wheels = wheelhouse();
    let server = IndexServer::start(&wheels.dir, &[] as &[&str]);
    let index = server.simple_url();
    let tmp = tempdir();
    let locks = {
        let proj = project(tmp.path(), &index);
        run_ok(producer(&tools().uv, tmp.path(), &proj).args([
            "lock",
            "--quiet",
            "--index-url",
            &index,
        ]));
        proj.join("uv.lock")
    };
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(DEPS);
    server.clear_log();
    let (code, report) = verify_json(tempdir().path(), &locks, &venv.root, &index, &["--hash"]);
    assert_eq!(code, 0, "{report:#}");
    for name in DEPS {
        assert_eq!(
            package(&report, name)["installed"]["proof"],
            "wheel-hash",
            "{name}"
        );
    }
    assert!(
        server.log().iter().all(|r| r["range"].is_null()),
        "whole files, no ranges: {:#?}",
        server.log()
    );
}
