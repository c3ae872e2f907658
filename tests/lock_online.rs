//! The online tier of `icelock lock`: real packages installed from the package index by pip
//! and by uv, locked with the machine's own index configuration, and checked against pip's
//! installation report (`pip install --report`: the URL and sha256 of every file pip
//! installed). Skipped (with a message saying so) when the index cannot be reached.

mod support;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use support::*;

const REQUIREMENTS: &[&str] = &[
    "requests[socks]",
    "attrs",
    "jaraco.functools",
    "idna==3.10",
    "six==1.16.0",
];

use support::online::*;

// ---------------------------------------------------------------------------------------------
// Installing

/// `pip install` (the tools pip, run against the venv) from the index as this machine reaches
/// it; returns pip's `--report`.
fn pip_install(venv: &Venv, args: &[&str], scratch: &Path) -> Value {
    let report = scratch.join(format!("pip-report-{}.json", std::process::id()));
    let mut cmd = with_index_settings(venv.pip_command());
    cmd.args(["install", "--quiet", "--report"])
        .arg(&report)
        .args(args);
    run_ok(&mut cmd);
    let v: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).expect("pip report");
    let _ = std::fs::remove_file(&report);
    v
}

/// `uv pip install` into the venv from the index as this machine reaches it.
fn uv_install(venv: &Venv, args: &[&str], cache: &Path) {
    let mut cmd = with_index_settings(tools().uv_command());
    cmd.env("UV_CACHE_DIR", cache)
        .args(["pip", "install", "--python"])
        .arg(venv.python())
        .args(args);
    run_ok(&mut cmd);
}

struct OnlineEnv {
    venv: Venv,
    /// pip's report (for the pip env); for the uv env, the pip env's.
    report: Value,
}

/// The pip env: REQUIREMENTS installed by pip, with its report.
fn pip_env() -> &'static OnlineEnv {
    static E: OnceLock<OnlineEnv> = OnceLock::new();
    E.get_or_init(|| {
        let dir = process_scratch().join("lock-online-pip");
        std::fs::create_dir_all(&dir).unwrap();
        let venv = Venv::create(&dir.join("venv"), Installer::Pip);
        let report = pip_install(&venv, REQUIREMENTS, &dir);
        OnlineEnv { venv, report }
    })
}

/// The uv env: the very versions pip installed (and the extra), installed by uv.
fn uv_env() -> &'static OnlineEnv {
    static E: OnceLock<OnlineEnv> = OnceLock::new();
    E.get_or_init(|| {
        let pip = pip_env();
        let dir = process_scratch().join("lock-online-uv");
        std::fs::create_dir_all(&dir).unwrap();
        let venv = Venv::create(&dir.join("venv"), Installer::Uv);
        let pins: Vec<String> = report_files(&pip.report)
            .iter()
            .map(|(name, (version, _, _))| {
                if name == "requests" {
                    format!("requests[socks]=={version}")
                } else {
                    format!("{name}=={version}")
                }
            })
            .collect();
        let pins: Vec<&str> = pins.iter().map(String::as_str).collect();
        uv_install(&venv, &pins, &dir.join("uv-cache"));
        OnlineEnv {
            venv,
            report: pip.report.clone(),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Locking

struct Run {
    code: i32,
    report: Value,
    out: Output,
}

impl Run {
    fn pkgs(&self) -> BTreeMap<String, Value> {
        packages_by_name(&self.report)
    }
}

/// `icelock lock --format json FLAGS ENV` with this machine's index configuration (its pip
/// configuration files and index variables; no find-links) and a cache of its own.
fn lock(env: &Path, flags: &[&str]) -> Run {
    let cache = tempdir();
    let mut args: Vec<OsString> = ["lock", "--format", "json"].map(OsString::from).to_vec();
    args.extend(flags.iter().map(OsString::from));
    args.push(env.as_os_str().to_owned());
    let mut cmd = with_index_settings(clean_command(icelock_exe()));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ICELOCK_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("XDG_CACHE_HOME", cache.path()).args(&args);
    let out = run_icelock_within(&mut cmd, Duration::from_secs(240));
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}", show(&out));
    let report = json_stdout(&out);
    Run { code, report, out }
}

/// Every dist pip installed is attributed to the index, to the very file pip installed.
fn assert_matches_pip_report(run: &Run, report: &Value, proofs: &[&str], what: &str) {
    let pkgs = run.pkgs();
    let want = report_files(report);
    assert_eq!(
        pkgs.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: the lock lists what pip installed\n{}",
        show(&run.out)
    );
    let mut wrong = Vec::new();
    for (name, (version, url, sha256)) in &want {
        let p = &pkgs[name];
        let s = &p["source"];
        if p["version"] != version.as_str() {
            wrong.push(format!(
                "{name}: version {} vs pip's {version}",
                p["version"]
            ));
        }
        if s["kind"] != "index" {
            wrong.push(format!("{name}: not attributed to the index: {s}"));
            continue;
        }
        let ours = s["url"].as_str().unwrap_or_default();
        if basename(ours) != basename(url) || s["filename"] != basename(url) {
            wrong.push(format!("{name}: file {ours} vs pip's {url}"));
        }
        if s["sha256"] != sha256.as_str() {
            wrong.push(format!("{name}: sha256 {} vs pip's {sha256}", s["sha256"]));
        }
        if !proofs.iter().any(|p| s["proof"] == *p) {
            wrong.push(format!(
                "{name}: proof {} not one of {proofs:?}",
                s["proof"]
            ));
        }
        if s["size"].as_u64().unwrap_or(0) == 0 {
            wrong.push(format!("{name}: no size: {s}"));
        }
        if p["problems"] != Value::Array(vec![]) {
            wrong.push(format!("{name}: problems {}", p["problems"]));
        }
    }
    assert!(
        wrong.is_empty(),
        "{what}:\n{}\n{}",
        wrong.join("\n"),
        show(&run.out)
    );
    assert_eq!(run.code, 0, "{what}\n{}", show(&run.out));
}

/// The default proof: each wheel's own RECORD, read through ranges.
const DEFAULT_PROOFS: &[&str] = &["wheel-record"];

#[test]
fn online_pip_env_lock_matches_pip_report() {
    if skip_if_offline() {
        return;
    }
    let env = pip_env();
    let run = lock(&env.venv.root, &[]);
    assert_matches_pip_report(&run, &env.report, DEFAULT_PROOFS, "pip env");
    // The report covers what was asked for and what came with it.
    let pkgs = run.pkgs();
    for name in [
        "requests",
        "pysocks",
        "attrs",
        "jaraco-functools",
        "idna",
        "six",
        "urllib3",
        "certifi",
    ] {
        assert!(pkgs.contains_key(name), "{name} missing from the lock");
    }
    assert_eq!(pkgs["idna"]["version"], "3.10");
    assert_eq!(pkgs["six"]["version"], "1.16.0");
}

#[test]
fn online_pip_env_verify_metadata_and_hash() {
    if skip_if_offline() {
        return;
    }
    let env = pip_env();
    let run = lock(&env.venv.root, &["--verify", "metadata"]);
    assert_matches_pip_report(
        &run,
        &env.report,
        &["metadata-only"],
        "pip env, --verify metadata",
    );
    let run = lock(&env.venv.root, &["--verify", "hash"]);
    assert_matches_pip_report(&run, &env.report, &["wheel-hash"], "pip env, --verify hash");
}

#[test]
fn online_uv_env_has_the_same_artifacts() {
    if skip_if_offline() {
        return;
    }
    let env = uv_env();
    let run = lock(&env.venv.root, &[]);
    assert_matches_pip_report(&run, &env.report, DEFAULT_PROOFS, "uv env");
    let pkgs = run.pkgs();
    for (name, p) in &pkgs {
        assert_eq!(p["installer"], "uv", "{name}");
    }
    let run = lock(&env.venv.root, &["--verify", "hash"]);
    assert_matches_pip_report(&run, &env.report, &["wheel-hash"], "uv env, --verify hash");
}

/// termcolor 2.4.0 built here from its sdist: same name, version and tags as the index's wheel,
/// other METADATA. Never attributed to the index's wheel.
fn built_from_sdist(installer: Installer) {
    let dir = process_scratch().join(format!("lock-online-termcolor-{}", installer.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let venv = Venv::create(&dir.join("venv"), installer);
    let args = ["--no-binary", "termcolor", "termcolor==2.4.0"];
    match installer {
        Installer::Pip => {
            let report = pip_install(&venv, &args, &dir);
            let files = report_files(&report);
            assert!(
                files["termcolor"].1.ends_with("termcolor-2.4.0.tar.gz"),
                "pip built termcolor from the sdist: {files:?}"
            );
        }
        Installer::Uv => uv_install(&venv, &args, &dir.join("uv-cache")),
    }
    let run = lock(&venv.root, &[]);
    let what = format!("{} env", installer.name());
    assert_eq!(run.code, 1, "{what}\n{}", show(&run.out));
    let p = &run.pkgs()["termcolor"];
    assert_eq!(p["source"]["kind"], "unproven", "{what}: {p:#}");
    let reasons = str_vec(&p["source"]["reasons"]).join("\n");
    assert!(
        reasons.contains("termcolor-2.4.0.tar.gz"),
        "{what}: the reason names the sdist it was built from: {reasons}"
    );
    assert!(
        reasons.contains("METADATA"),
        "{what}: the reason says the METADATA differs from the index wheel's: {reasons}"
    );
    if installer == Installer::Uv {
        assert!(
            reasons.contains("uv"),
            "{what}: the reason says uv built it: {reasons}"
        );
    }
    for r in str_vec(&p["source"]["reasons"]) {
        assert!(
            str_vec(&p["problems"]).contains(&r),
            "{what}: reasons are problems too: {p:#}"
        );
    }
}

#[test]
fn online_sdist_built_dist_is_unproven_pip() {
    if skip_if_offline() {
        return;
    }
    built_from_sdist(Installer::Pip);
}

#[test]
fn online_sdist_built_dist_is_unproven_uv() {
    if skip_if_offline() {
        return;
    }
    built_from_sdist(Installer::Uv);
}

/// `lock --format cyclonedx|spdx` of the pip env: each document passes its real validator
/// (cyclonedx-python-lib's strict 1.6 schema, spdx-tools), every component's artifact hash is
/// the one pip's `--report` says it installed, and the component set is the one
/// `cyclonedx-py environment` finds in the same env.
#[test]
fn online_sboms_validate_and_carry_pips_hashes() {
    if skip_if_offline() {
        return;
    }
    let env = pip_env();
    let want = report_files(&env.report);
    let dir = tempdir();
    let sbom = |file: &str| {
        let path = dir.path().join(file);
        let cache = tempdir();
        let mut cmd = with_index_settings(clean_command(icelock_exe()));
        cmd.env("XDG_CACHE_HOME", cache.path())
            .arg("lock")
            .arg("-o")
            .arg(&path)
            .arg(&env.venv.root);
        let out = run_icelock_within(&mut cmd, Duration::from_secs(240));
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        path
    };
    let cdx = validate_cyclonedx(&sbom("env.cdx.json"));
    let mut hashes = BTreeMap::new();
    for c in cdx["components"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap().to_string();
        let distribution = c["externalReferences"]
            .as_array()
            .and_then(|refs| refs.iter().find(|r| r["type"] == "distribution"))
            .unwrap_or_else(|| panic!("{name} has no distribution reference: {c:#}"));
        assert_eq!(distribution["hashes"][0]["alg"], "SHA-256");
        hashes.insert(
            name,
            (
                c["version"].as_str().unwrap().to_string(),
                distribution["hashes"][0]["content"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
        );
    }
    let from_pip: BTreeMap<String, (String, String)> = want
        .iter()
        .map(|(name, (version, _, sha))| (name.clone(), (version.clone(), sha.clone())))
        .collect();
    assert_eq!(hashes, from_pip, "the SBOM's artifact hashes are pip's");

    // Licenses as METADATA declares them: a License-Expression as the expression, never an
    // id made up from free text.
    let declared: Value = serde_json::from_str(&tools().python_eval(
        r#"
import email, json, pathlib, sys
out = {}
for m in pathlib.Path(sys.argv[1]).glob("lib/python*/site-packages/*.dist-info/METADATA"):
    msg = email.message_from_bytes(m.read_bytes())
    name = msg["Name"].lower().replace("_", "-").replace(".", "-")
    out[name] = msg.get("License-Expression")
print(json.dumps(out))
"#,
        &[env.venv.root.as_os_str()],
    ))
    .unwrap();
    let mut expressions = 0;
    for c in cdx["components"].as_array().unwrap() {
        let name = normalize(c["name"].as_str().unwrap());
        match declared[&name].as_str() {
            Some(expression) => {
                assert_eq!(c["licenses"][0]["expression"], expression, "{name}");
                expressions += 1;
            }
            None => assert!(
                c["licenses"]
                    .as_array()
                    .is_none_or(|l| l.iter().all(|l| l.get("expression").is_none())),
                "{name}: no License-Expression, so no expression: {c:#}"
            ),
        }
    }
    assert!(expressions > 0, "real wheels declare PEP 639 expressions");

    // The same component set as cyclonedx-py finds in the environment.
    assert_eq!(
        cyclonedx_components(&cdx),
        cyclonedx_py_components(&env.venv.python()),
        "the components cyclonedx-py finds"
    );

    let spdx = validate_spdx(&sbom("env.spdx.json"));
    let mut spdx_hashes = BTreeMap::new();
    for p in spdx["packages"].as_array().unwrap() {
        let Some(checksum) = p["checksums"].as_array().and_then(|c| c.first()) else {
            continue;
        };
        assert_eq!(checksum["algorithm"], "SHA256");
        spdx_hashes.insert(
            p["name"].as_str().unwrap().to_string(),
            (
                p["versionInfo"].as_str().unwrap().to_string(),
                checksum["checksumValue"].as_str().unwrap().to_string(),
            ),
        );
    }
    assert_eq!(spdx_hashes, from_pip, "the SPDX checksums are pip's");
}

/// virtualenv's app-data seeder (what poetry makes its environments with) installs pip and
/// setuptools from the wheels virtualenv embeds, writing a RECORD of its own (a row for every
/// `__pycache__` folder, `.pyc` names beside their sources, a `NAME-VERSION.virtualenv` mark,
/// `pip-3.11` among the launchers): each is the index's wheel, proven, and nothing on the
/// path is unowned (its `_virtualenv` patch included, where it writes one).
#[test]
fn online_virtualenv_seeded_env_proves() {
    if skip_if_offline() {
        return;
    }
    let tmp = tempdir();
    let root = tmp.path().join("seeded");
    let lockers = &tools().lockers_python;
    run_ok(
        clean_command(lockers)
            .env("VIRTUALENV_OVERRIDE_APP_DATA", tmp.path().join("app-data"))
            .args([
                "-m",
                "virtualenv",
                "--no-periodic-update",
                "--seeder",
                "app-data",
            ])
            .arg(&root),
    );
    let site = std::fs::read_dir(root.join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .unwrap();
    let marks: Vec<String> = std::fs::read_dir(&site)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".virtualenv"))
        .collect();
    assert!(!marks.is_empty(), "the seeder's layout: {marks:?}");
    assert!(root.join("bin/pip-3.11").is_file() || root.join("bin/pip-3.12").is_file());
    let run = lock(&root, &[]);
    assert_eq!(run.code, 0, "{}", show(&run.out));
    let pkgs = run.pkgs();
    assert!(pkgs.contains_key("pip"), "{:#}", run.report);
    for (name, p) in &pkgs {
        assert_eq!(p["source"]["kind"], "index", "{name}: {p:#}");
        assert_eq!(p["source"]["proof"], "wheel-record", "{name}: {p:#}");
    }
    assert_eq!(
        run.report["environment"]["survey"]["unowned"],
        Value::Array(vec![]),
        "{:#}",
        run.report
    );
}

/// pipx with its pip backend: the app's venv reaches pipx's shared venv (pip, from the index)
/// through a `.pth`, and its scripts carry pipx's ` -E`: all proven.
#[test]
fn online_pipx_pip_backend_app_proves() {
    if skip_if_offline() {
        return;
    }
    let tmp = tempdir();
    let wh = wheelhouse();
    let pip_args = format!("--find-links {}", wh.dir.display());
    let mut cmd_args: Vec<&std::ffi::OsStr> = vec!["--pip-args".as_ref(), pip_args.as_ref()];
    cmd_args.push("demo-scripts".as_ref());
    // pipx's pip installs the shared pip from the index as this machine's pip is configured.
    let venvs = pipx_install(tmp.path(), "pip", &cmd_args);
    let app = venvs.join("demo-scripts");
    let first = std::fs::read_to_string(app.join("bin/demo-scripts")).unwrap();
    assert!(first.lines().next().unwrap().ends_with(" -E"), "{first}");
    let run = lock(&app, &["--find-links", wh.dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", show(&run.out));
    let pkgs = run.pkgs();
    assert!(
        pkgs.contains_key("pip"),
        "pipx's shared pip is on the path: {:#}",
        run.report
    );
    assert!(pkgs.contains_key("demo-scripts"));
}
