//! The whole environment is what a proof binds: what else this environment's Python can import
//! or run (a `.pth` file that runs code, `sitecustomize`, a module at the top of
//! site-packages, a file in a namespace folder or a `.dist-info`, a metadata folder spelled in
//! capitals, an executable in the scripts folder, a copied venv's activation scripts) is found,
//! named, and refused by `lock`, reported by `check` and given its own row by `verify`, while
//! the genuine distributions beside it stay proven. Each planted file is checked to really run
//! first, with the environment's own Python.

mod support;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::*;

/// `icelock ARGS` with `home` as its HOME (its cache there) and `vars` set; with
/// `from_wheelhouse`, `--no-index --find-links WHEELHOUSE` added.
fn icelock_at(
    home: &Path,
    args: &[&OsStr],
    from_wheelhouse: bool,
    vars: &[(&str, &Path)],
) -> Output {
    let wh = wheelhouse();
    let mut all: Vec<&OsStr> = args.to_vec();
    if from_wheelhouse {
        all.extend([
            "--no-index".as_ref(),
            "--find-links".as_ref(),
            wh.dir.as_os_str(),
        ]);
    }
    let mut cmd = icelock_command(&all);
    cmd.env("HOME", home)
        .env("XDG_CACHE_HOME", home.join(".cache"));
    for (name, value) in vars {
        cmd.env(name, value);
    }
    run_icelock(&mut cmd)
}

/// (exit code, JSON on stdout, stderr).
fn json_run(out: &Output) -> (i32, Value, String) {
    (
        out.status.code().unwrap_or(-1),
        json_stdout(out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `icelock lock ENV --format json EXTRA` from the wheelhouse, in `home`.
fn lock_json_with(env: &Path, home: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args: Vec<&OsStr> = vec![
        "lock".as_ref(),
        env.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    json_run(&icelock_at(home, &args, true, &[]))
}

/// `icelock lock ENV --format json` from the wheelhouse, in `home`.
fn lock_json(env: &Path, home: &Path) -> (i32, Value, String) {
    lock_json_with(env, home, &[])
}

/// `lock -o pylock.toml`: (exit code, stderr, whether the file was written).
fn lock_file(env: &Path, home: &Path, out_dir: &Path) -> (i32, String, bool) {
    let target = out_dir.join("pylock.toml");
    let _ = fs::remove_file(&target);
    let out = icelock_at(
        home,
        &[
            "lock".as_ref(),
            env.as_os_str(),
            "-o".as_ref(),
            target.as_os_str(),
        ],
        true,
        &[],
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        target.exists(),
    )
}

/// `icelock verify ENV --lock LOCK --format json EXTRA` from the wheelhouse, in `home`.
fn verify_json_with(env: &Path, home: &Path, lock: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<&OsStr> = vec![
        "verify".as_ref(),
        env.as_os_str(),
        "--lock".as_ref(),
        lock.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let (code, report, _) = json_run(&icelock_at(home, &args, true, &[]));
    (code, report)
}

fn verify_json(env: &Path, home: &Path, lock: &Path) -> (i32, Value) {
    verify_json_with(env, home, lock, &[])
}

/// The paths the survey calls unowned, relative to `root`.
fn unowned(report: &Value, root: &Path) -> Vec<String> {
    let root = canon(root);
    report["environment"]["survey"]["unowned"]
        .as_array()
        .unwrap_or_else(|| panic!("no survey in {report:#}"))
        .iter()
        .map(|u| {
            let p = Path::new(u["path"].as_str().unwrap());
            p.strip_prefix(&root)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn kinds_of(report: &Value) -> std::collections::BTreeMap<String, String> {
    packages_by_name(report)
        .into_iter()
        .map(|(n, p)| (n, p["source"]["kind"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn python_says(venv: &Venv, code: &str) -> String {
    let mut python = clean_command(venv.python());
    python.args(["-c", code]);
    String::from_utf8(run_ok(&mut python).stdout)
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn what_no_record_owns_is_refused_and_named() {
    for installer in [Installer::Pip, Installer::Uv] {
        let what = installer.name();
        let tmp = tempdir();
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        venv.install(&["demo-app", "nsdemo-alpha", "nsdemo-beta", "demo-scripts"]);
        let site = venv.site_packages();
        let home = tempdir();

        // Honest: nothing unowned, everything proven, and the lock verifies.
        let (code, report, stderr) = lock_json(&venv.root, home.path());
        assert_eq!(code, 0, "{what}: {stderr}\n{report:#}");
        // What the proof does not bind yet is said.
        assert!(stderr.contains("bytecode not checked"), "{stderr}");
        assert_eq!(report["environment"]["survey"]["bytecode_checked"], false);
        assert!(
            unowned(&report, &venv.root).is_empty(),
            "{what}: {report:#}"
        );
        let rules: Vec<String> = report["environment"]["survey"]["owned_by_rule"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rule"].as_str().unwrap().to_string())
            .collect();
        assert!(
            rules.contains(&"interpreter-link".to_string())
                && rules.contains(&"activate".to_string()),
            "{what}: the venv's own files are owned by rule: {rules:?}"
        );
        let (code, _, written) = lock_file(&venv.root, home.path(), tmp.path());
        assert!(code == 0 && written, "{what}");
        let lock = tmp.path().join("pylock.toml");
        let (code, verified) = verify_json(&venv.root, home.path(), &lock);
        assert_eq!(code, 0, "{what}: {verified:#}");

        // The plants, each shown to run first.
        fs::write(
            site.join("zz_evil.pth"),
            "import os; os.environ['ICELOCK_PLANTED'] = 'pth'\n",
        )
        .unwrap();
        fs::write(
            site.join("sitecustomize.py"),
            "import builtins; builtins.PLANTED = 'sitecustomize'\n",
        )
        .unwrap();
        fs::write(site.join("simplejson.py"), "PLANTED = 'module'\n").unwrap();
        fs::write(site.join("nsdemo/__init__.py"), "PLANTED = 'namespace'\n").unwrap();
        let core_info = venv.dist_info("demo-core");
        fs::write(
            core_info.join("entry_points.txt"),
            "[console_scripts]\nplanted = demo_core:double\n",
        )
        .unwrap();
        let scripts = venv.root.join("bin");
        fs::write(scripts.join("ls"), "#!/bin/sh\necho planted\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(scripts.join("ls"), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let caps = site.join("PLANTED-1.0.DIST-INFO");
        fs::create_dir(&caps).unwrap();
        fs::write(
            caps.join("METADATA"),
            "Metadata-Version: 2.1\nName: planted\nVersion: 1.0\n",
        )
        .unwrap();
        fs::write(
            caps.join("entry_points.txt"),
            "[pytest11]\nplanted = simplejson\n",
        )
        .unwrap();
        assert_eq!(
            python_says(
                &venv,
                "import os, builtins, simplejson, nsdemo, importlib.metadata as m; \
                 print(os.environ.get('ICELOCK_PLANTED'), builtins.PLANTED, simplejson.PLANTED, nsdemo.PLANTED, \
                 sorted(e.name for e in m.entry_points(group='pytest11')), \
                 sorted(e.name for e in m.distribution('demo-core').entry_points))"
            ),
            "pth sitecustomize module namespace ['planted'] ['planted']",
            "{what}: Python runs every plant"
        );

        let (code, report, stderr) = lock_json(&venv.root, home.path());
        assert_eq!(code, 1, "{what}: {stderr}");
        let mut found = unowned(&report, &venv.root);
        found.sort();
        let site_rel = site
            .strip_prefix(canon(&venv.root))
            .unwrap_or(&site)
            .to_string_lossy()
            .into_owned();
        let mut want: Vec<String> = ["simplejson.py", "sitecustomize.py", "zz_evil.pth"]
            .iter()
            .map(|n| format!("{site_rel}/{n}"))
            .collect();
        want.push("bin/ls".into());
        want.sort();
        assert_eq!(found, want, "{what}: {report:#}");
        let by_path: std::collections::BTreeMap<String, String> =
            report["environment"]["survey"]["unowned"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    (
                        Path::new(u["path"].as_str().unwrap())
                            .file_name()
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                        u["kind"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
        assert_eq!(by_path["zz_evil.pth"], "startup-pth");
        assert_eq!(by_path["sitecustomize.py"], "customize");
        assert_eq!(by_path["simplejson.py"], "module");
        assert_eq!(by_path["ls"], "script");

        // Inside the dists' own folders: their proofs fail, with the file named; the metadata
        // folder in capitals is read as a distribution (nothing proves it); the others stay
        // proven.
        let kinds = kinds_of(&report);
        for name in ["nsdemo-alpha", "nsdemo-beta", "demo-core", "planted"] {
            assert_eq!(kinds[name], "unproven", "{what}: {name}: {report:#}");
        }
        for name in ["demo-app", "demo-scripts"] {
            assert_ne!(kinds[name], "unproven", "{what}: {name} stays proven");
        }
        let reasons = |name: &str| packages_by_name(&report)[name]["source"]["reasons"].to_string();
        assert!(
            reasons("nsdemo-alpha").contains("nsdemo/__init__.py"),
            "{}",
            reasons("nsdemo-alpha")
        );
        assert!(
            reasons("demo-core").contains("entry_points.txt"),
            "{}",
            reasons("demo-core")
        );

        // lock refuses, naming each with its way out; nothing is written.
        let refused = tmp.path().join("refused");
        fs::create_dir(&refused).unwrap();
        let (code, stderr, written) = lock_file(&venv.root, home.path(), &refused);
        assert!(code == 1 && !written, "{what}: {stderr}");
        for plant in ["zz_evil.pth", "sitecustomize.py", "simplejson.py", "bin/ls"] {
            assert!(stderr.contains(plant), "{what}: {plant} named: {stderr}");
        }
        assert!(stderr.contains("way out: remove it (`rm -r "), "{stderr}");

        // check lists every one; verify gives each its own row.
        let (code, check) = check_json(&venv.root);
        assert_eq!(code, 1);
        let checked: Vec<String> = check["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "unowned")
            .map(|p| p["path"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(checked.len(), 4, "{what}: {check:#}");
        let (code, verified) = verify_json(&venv.root, home.path(), &lock);
        assert_eq!(code, 1, "{what}: {verified:#}");
        let entries = verified["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 4, "{what}: {verified:#}");
        assert!(entries.iter().all(|e| e["status"] == "unowned"));
        assert_eq!(verified["summary"]["unowned"], 4);
        let statuses: std::collections::BTreeMap<String, String> = verified["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(statuses["demo-core"], "modified", "{verified:#}");
        assert_eq!(statuses["nsdemo-alpha"], "modified", "{verified:#}");
        assert_eq!(statuses["demo-app"], "ok", "{verified:#}");

        // Removed again, all is proven again.
        for path in [
            site.join("zz_evil.pth"),
            site.join("sitecustomize.py"),
            site.join("simplejson.py"),
            site.join("nsdemo/__init__.py"),
            core_info.join("entry_points.txt"),
            scripts.join("ls"),
        ] {
            fs::remove_file(path).unwrap();
        }
        fs::remove_dir_all(&caps).unwrap();
        let (code, report, stderr) = lock_json(&venv.root, home.path());
        assert_eq!(code, 0, "{what}: {stderr}\n{report:#}");
    }
}

/// A venv copied with `cp -a` still runs the original's Python from its launchers and sets up
/// the original from its activation scripts: it is not the environment it says it is.
#[test]
fn a_copied_venv_is_said_to_be_one() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-scripts"]);
    let copy = tmp.path().join("copy");
    run_ok(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(&venv.root)
            .arg(&copy),
    );
    let (code, check) = check_json(&copy);
    assert_eq!(code, 1, "{check:#}");
    let foreign: Vec<&Value> = check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "unowned")
        .collect();
    assert!(
        foreign
            .iter()
            .any(|p| p["path"].as_str().unwrap().ends_with("bin/activate")
                && p["message"]
                    .as_str()
                    .unwrap()
                    .contains("another environment")),
        "{check:#}"
    );
    let (code, _) = check_json(&venv.root);
    assert_eq!(code, 0, "the original is fine");
}

/// What the environment's own tools write is theirs, by rule: a stdlib venv, uv's and
/// virtualenv's (the seeder poetry uses) have nothing unowned.
#[test]
fn honest_venvs_have_nothing_unowned() {
    let t = tools();
    let tmp = tempdir();
    let mut made = vec![];
    let std_venv = tmp.path().join("std");
    run_ok(clean_command(&t.python).args(["-m", "venv"]).arg(&std_venv));
    made.push(std_venv);
    let uv_venv = Venv::create(&tmp.path().join("uv"), Installer::Uv);
    made.push(uv_venv.root.clone());
    let lockers = &t.lockers_python;
    let ve = tmp.path().join("virtualenv");
    run_ok(
        clean_command(lockers)
            .args(["-m", "virtualenv", "--no-periodic-update"])
            .arg(&ve),
    );
    made.push(ve);
    for root in made {
        let report = list_json(&root);
        assert_eq!(
            report["environment"]["survey"]["unowned"],
            Value::Array(vec![]),
            "{}: {report:#}",
            root.display()
        );
    }
}

/// A launcher is byte for byte what an installer writes for its entry point, run by this
/// environment's Python: one that also runs other code, or another interpreter, with its
/// RECORD row rewritten to match, is refused with the launcher named; the copy of a venv,
/// whose launchers run the original's Python, is not proven as itself.
#[test]
fn launchers_are_exactly_an_installers() {
    for installer in [Installer::Pip, Installer::Uv] {
        let what = installer.name();
        let tmp = tempdir();
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        venv.install(&["demo-scripts"]);
        let home = tempdir();
        let (code, report, stderr) = lock_json(&venv.root, home.path());
        assert_eq!(code, 0, "{what}: {stderr}\n{report:#}");

        let copy = tmp.path().join("copy");
        run_ok(
            std::process::Command::new("cp")
                .arg("-a")
                .arg(&venv.root)
                .arg(&copy),
        );
        let (code, report, _) = lock_json(&copy, home.path());
        assert_eq!(code, 1, "{what}: the copy");
        let reasons = packages_by_name(&report)["demo-scripts"]["source"]["reasons"].to_string();
        assert!(reasons.contains("bin/demo-scripts"), "{what}: {reasons}");

        let launcher = venv.root.join("bin/demo-scripts");
        let genuine = fs::read(&launcher).unwrap();
        let row = "../../../bin/demo-scripts";
        let text = String::from_utf8(genuine.clone()).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        for forged in [
            // Another statement beside the call.
            format!("{first}\nimport os; os.environ['PLANTED'] = '1'\n{rest}"),
            // Another interpreter.
            format!("#!/usr/bin/python3\n{rest}"),
            // A trampoline that runs more shell first.
            format!(
                "#!/bin/sh\n'''exec' '{}' \"$0\" \"$@\"; curl x\n' '''\n{rest}",
                first.trim_start_matches("#!")
            ),
        ] {
            fs::write(&launcher, &forged).unwrap();
            rewrite_record_row(&venv.dist_info("demo-scripts"), row, forged.as_bytes());
            let (code, report, _) = lock_json(&venv.root, home.path());
            assert_eq!(code, 1, "{what}: {forged}");
            let reasons =
                packages_by_name(&report)["demo-scripts"]["source"]["reasons"].to_string();
            assert!(reasons.contains("bin/demo-scripts"), "{what}: {reasons}");
        }
        fs::write(&launcher, &genuine).unwrap();
        rewrite_record_row(&venv.dist_info("demo-scripts"), row, &genuine);
        let (code, _, stderr) = lock_json(&venv.root, home.path());
        assert_eq!(code, 0, "{what}: genuine again: {stderr}");
    }
}

/// Writes a timestamp pyc of `code` for `source` (its mtime and size in the header), or an
/// unchecked hash-based one, as a forger would.
fn plant_pyc(source: &Path, code: &str, unchecked_hash: bool) {
    plant_pyc_at(source, code, unchecked_hash, "")
}

/// [`plant_pyc`] at an optimisation level (`""`, `"1"`, `"2"`: the pyc `python -O` loads).
fn plant_pyc_at(source: &Path, code: &str, unchecked_hash: bool, level: &str) {
    let t = tools();
    let script = r#"
import sys, os, importlib.util, marshal, struct, _imp
from importlib import _bootstrap_external as ext
src, code, unchecked, level = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
pyc = importlib.util.cache_from_source(src, optimization=level)
os.makedirs(os.path.dirname(pyc), exist_ok=True)
body = marshal.dumps(compile(code, src, "exec"))
if unchecked:
    header = importlib.util.MAGIC_NUMBER + struct.pack("<I", 1) + _imp.source_hash(ext._RAW_MAGIC_NUMBER, open(src, "rb").read())
else:
    st = os.stat(src)
    header = importlib.util.MAGIC_NUMBER + struct.pack("<III", 0, int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
open(pyc, "wb").write(header + body)
"#;
    run_ok(
        clean_command(&t.python)
            .args(["-c", script])
            .arg(source)
            .arg(code)
            .arg(if unchecked_hash { "1" } else { "0" })
            .arg(level),
    );
}

/// Bytecode Python would run in place of a listed source must be that source compiled:
/// `check` and `verify` compare every such pyc with its source by the environment's own
/// interpreter, `lock --bytecode` too (plain `lock` says it did not); a forged timestamp pyc
/// and an unchecked hash-based one are named, Python's own bytecode (every optimisation level)
/// is not, and a verdict is remembered until the pyc or its source changes.
#[test]
fn bytecode_is_its_source_compiled() {
    for installer in [Installer::Pip, Installer::Uv] {
        let what = installer.name();
        let tmp = tempdir();
        let venv = Venv::create(&tmp.path().join("venv"), installer);
        venv.install(&["demo-app", "demo-single"]);
        let site = venv.site_packages();
        for flags in [&[][..], &["-O"][..], &["-OO"][..]] {
            let mut python = clean_command(venv.python());
            python
                .env_remove("PYTHONDONTWRITEBYTECODE")
                .args(flags)
                .args(["-c", "import demo_app, demo_core.util, singlemod"]);
            run_ok(&mut python);
        }
        let home = tempdir();
        let (code, check) = check_json(&venv.root);
        assert_eq!(code, 0, "{what}: {check:#}");
        let compared = check["bytecode"]["compared"].as_u64().unwrap();
        assert!(
            compared >= 9,
            "{what}: Python's own bytecode, three levels: {check:#}"
        );
        let (code, _, written) = lock_file(&venv.root, home.path(), tmp.path());
        assert!(code == 0 && written, "{what}");
        let lock = tmp.path().join("pylock.toml");
        let (code, verified) = verify_json(&venv.root, home.path(), &lock);
        assert_eq!(code, 0, "{what}: {verified:#}");
        assert_eq!(verified["bytecode"]["compared"], compared, "{verified:#}");

        for (source, unchecked) in [
            (site.join("demo_core/util.py"), false),
            (site.join("singlemod.py"), true),
        ] {
            plant_pyc(
                &source,
                "import builtins; builtins.PLANTED = 'pyc'\ndef double(x): return 2 * x\nWHO = 'x'\n",
                unchecked,
            );
        }
        assert_eq!(
            python_says(
                &venv,
                "import builtins, demo_core.util; print(builtins.PLANTED)"
            ),
            "pyc",
            "{what}: Python runs the planted bytecode"
        );
        let (code, check) = check_json(&venv.root);
        assert_eq!(code, 1, "{what}: {check:#}");
        let flagged: Vec<String> = check["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "bytecode-differs")
            .map(|p| p["path"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            flagged,
            [
                "demo_core/__pycache__/util.cpython-311.pyc",
                "__pycache__/singlemod.cpython-311.pyc"
            ],
            "{what}: {check:#}"
        );
        let (code, verified) = verify_json(&venv.root, home.path(), &lock);
        assert_eq!(code, 1, "{what}: {verified:#}");
        let statuses = packages_by_name(&serde_json::json!({"packages": verified["packages"]}));
        assert_eq!(statuses["demo-core"]["status"], "modified", "{verified:#}");
        assert_eq!(
            statuses["demo-single"]["status"], "modified",
            "{verified:#}"
        );
        assert_eq!(statuses["demo-app"]["status"], "ok", "{verified:#}");
        // verify --no-bytecode does not look, and says so.
        let (code, verified) = verify_json_with(&venv.root, home.path(), &lock, &["--no-bytecode"]);
        assert_eq!(code, 0, "{verified:#}");
        assert_eq!(verified["bytecode"]["unchecked"], "--no-bytecode");
        // Plain lock does not look, and says so; --bytecode does.
        let (code, _, stderr) = lock_json(&venv.root, home.path());
        assert_eq!(code, 0, "{what}: {stderr}");
        assert!(stderr.contains("bytecode not checked"), "{stderr}");
        let (code, report, stderr) = lock_json_with(&venv.root, home.path(), &["--bytecode"]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(report["environment"]["survey"]["bytecode_checked"], true);
        let reasons = packages_by_name(&report)["demo-core"]["source"]["reasons"].to_string();
        assert!(
            reasons.contains("util.cpython-311.pyc") && reasons.contains("rm -r"),
            "{what}: named, with the way out: {reasons}"
        );

        // Removed, Python writes it anew, and all is well again.
        fs::remove_file(site.join("demo_core/__pycache__/util.cpython-311.pyc")).unwrap();
        fs::remove_file(site.join("__pycache__/singlemod.cpython-311.pyc")).unwrap();
        run_ok(
            clean_command(venv.python())
                .env_remove("PYTHONDONTWRITEBYTECODE")
                .args(["-c", "import demo_core.util, singlemod"]),
        );
        let (code, verified) = verify_json(&venv.root, home.path(), &lock);
        assert_eq!(code, 0, "{what}: {verified:#}");

        // A `__pycache__` without -O bytecode is remembered so (once its times are two
        // seconds old), and only plain pycs are looked for there; one planted then changes
        // the folder, so it is seen.
        for entry in fs::read_dir(site.join("demo_core/__pycache__"))
            .unwrap()
            .flatten()
        {
            if entry.file_name().to_string_lossy().contains(".opt-") {
                fs::remove_file(entry.path()).unwrap();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(2200));
        let (code, _) = verify_json(&venv.root, home.path(), &lock);
        assert_eq!(code, 0, "{what}");
        plant_pyc_at(
            &site.join("demo_core/util.py"),
            "def double(x): return 3 * x\n",
            false,
            "1",
        );
        let (code, verified) = verify_json(&venv.root, home.path(), &lock);
        assert_eq!(code, 1, "{what}: the forged -O pyc: {verified:#}");
    }
}

/// What the red team found beside the distributions: files the interpreter reads beside its
/// executable (`._pth`, `pyvenv.cfg`), a module in `bin` (first on `sys.path` when a launcher
/// runs), a metadata folder no distribution can be read from (its entry points still load).
/// And the base interpreter is named as outside the lock.
#[test]
fn what_the_interpreter_reads_beside_itself_is_surveyed() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-scripts"]);
    let home = tempdir();
    let (code, _, stderr) = lock_json(&venv.root, home.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("outside the lock: the base interpreter"),
        "{stderr}"
    );
    let bin = venv.root.join("bin");
    fs::write(
        bin.join("demo_scripts.py"),
        "print('planted')\ndef main(): print('planted main')\n",
    )
    .unwrap();
    let out = run_ok(&mut clean_command(bin.join("demo-scripts")));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("planted"),
        "a module in bin is imported by the launcher"
    );
    fs::write(bin.join("python._pth"), "import site\n").unwrap();
    fs::write(
        bin.join("pyvenv.cfg"),
        "include-system-site-packages = true\n",
    )
    .unwrap();
    let egg = venv.site_packages().join("zz.egg-info");
    fs::create_dir(&egg).unwrap();
    fs::write(egg.join("entry_points.txt"), "[myplugins]\nevil = this\n").unwrap();
    let (code, report, stderr) = lock_json(&venv.root, home.path());
    assert_eq!(code, 1, "{stderr}");
    let mut found = unowned(&report, &venv.root);
    found.sort();
    let site_rel = venv
        .site_packages()
        .strip_prefix(canon(&venv.root))
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        found,
        [
            "bin/demo_scripts.py".to_string(),
            "bin/python._pth".into(),
            "bin/pyvenv.cfg".into(),
            format!("{site_rel}/zz.egg-info"),
        ],
        "{report:#}"
    );
}

/// pdm with its install cache, in every `install.cache_method`: files linked (or hard-linked)
/// from pdm's cache, RECORD rows with an empty digest, pdm's own `REFER_TO`. Each dist is the
/// wheel the index serves, each file hashed against the wheel's RECORD, said so; and a file
/// changed in pdm's cache is what the environment now runs, so it is refused.
#[test]
fn pdm_install_cache_methods_prove() {
    let t = tools();
    let wh = wheelhouse();
    let server = IndexServer::start(&wh.dir, &[] as &[&str]);
    let url = server.simple_url();
    for method in ["symlink", "symlink_individual", "hardlink", "pth"] {
        let tmp = tempdir();
        let proj = tmp.path().join("proj");
        fs::create_dir_all(&proj).unwrap();
        fs::write(
            proj.join("pyproject.toml"),
            format!(
                "[project]\nname = \"proj\"\nversion = \"0.1\"\nrequires-python = \">=3.11\"\n\
                 dependencies = [\"demo-core\", \"demo-scripts\", \"nsdemo-alpha\"]\n\n\
                 [tool.pdm]\ndistribution = false\n\n\
                 [[tool.pdm.source]]\nname = \"local\"\nurl = \"{url}\"\nverify_ssl = false\n"
            ),
        )
        .unwrap();
        let cache = tmp.path().join("pdm-cache");
        let pdm = |args: &[&str]| {
            let mut cmd = clean_command(&t.pdm);
            cmd.current_dir(&proj)
                .env("HOME", tmp.path().join("home"))
                .env("PDM_CACHE_DIR", &cache)
                .env("PDM_CHECK_UPDATE", "false")
                .env("XDG_CONFIG_HOME", tmp.path().join("xdg-config"))
                .env("XDG_STATE_HOME", tmp.path().join("xdg-state"))
                .args(args);
            run_ok(&mut cmd);
        };
        pdm(&["config", "-l", "pypi.url", &url]);
        pdm(&["config", "-l", "install.cache", "true"]);
        pdm(&["config", "-l", "install.cache_method", method]);
        let base = t.python.canonicalize().unwrap();
        pdm(&["venv", "create", "-w", "venv", base.to_str().unwrap()]);
        pdm(&["use", "-f", ".venv"]);
        pdm(&["install", "--quiet"]);
        let env = proj.join(".venv");
        let record = fs::read_to_string(
            fs::read_dir(
                fs::read_dir(env.join("lib"))
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path()
                    .join("site-packages"),
            )
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("demo_core-"))
            .unwrap()
            .path()
            .join("RECORD"),
        )
        .unwrap();
        // The linking methods leave empty digests; `pth` (which links nothing here) does not.
        let linked = method != "pth";
        assert_eq!(
            record.contains("sha256=,"),
            linked,
            "{method}: pdm's empty digests: {record}"
        );

        // icelock as the user runs it: with pdm's cache where pdm finds it.
        let lock = |home: &Path| {
            let args: [&OsStr; 6] = [
                "lock".as_ref(),
                env.as_os_str(),
                "--index-url".as_ref(),
                url.as_ref(),
                "--format".as_ref(),
                "json".as_ref(),
            ];
            json_run(&icelock_at(
                home,
                &args,
                false,
                &[("PDM_CACHE_DIR", &cache)],
            ))
        };
        let home = tempdir();
        let (code, report, stderr) = lock(home.path());
        assert_eq!(code, 0, "{method}: {stderr}\n{report:#}");
        for (name, p) in packages_by_name(&report) {
            assert_eq!(p["source"]["kind"], "index", "{method}: {name}: {p:#}");
        }
        assert_eq!(
            stderr.contains("had no digest (pdm wrote them so"),
            linked,
            "{method}: pdm's rows are said to be pdm's: {stderr}"
        );
        assert!(!stderr.contains("own RECORD is wrong"), "{stderr}");

        // What the environment runs, changed where pdm keeps it.
        let cached = walk(&cache)
            .into_iter()
            .find(|p| p.ends_with("demo_core/util.py"))
            .unwrap_or_else(|| panic!("{method}: no cached util.py"));
        if fs::symlink_metadata(&cached).is_ok_and(|m| m.is_file()) {
            let text = fs::read_to_string(&cached).unwrap();
            // Written in place, as a cache edit would be: links and hard links see it.
            let mut file = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&cached)
                .unwrap();
            use std::io::Write;
            file.write_all(format!("{text}# edited\n").as_bytes())
                .unwrap();
            drop(file);
            let runs_it = fs::read_to_string(
                walk(&env)
                    .into_iter()
                    .find(|p| p.ends_with("demo_core/util.py"))
                    .unwrap(),
            )
            .unwrap()
            .contains("# edited");
            assert_eq!(
                runs_it, linked,
                "{method}: the environment runs the cache's file"
            );
            if runs_it {
                let (code, report, _) = lock(home.path());
                assert_eq!(code, 1, "{method}: {report:#}");
                let kind = &packages_by_name(&report)["demo-core"]["source"]["kind"];
                assert_eq!(kind, "unproven", "{method}");
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// pipx appends ` -E` to the first line of its apps' scripts after install, telling RECORD
/// nothing: that mark, and only it, is pipx's. The uv backend needs no index here (the pip
/// backend's shared pip does: it is in the online tier).
#[test]
fn pipx_apps_prove() {
    let tmp = tempdir();
    let wh = wheelhouse();
    let pip_args = format!("--no-index --find-links {}", wh.dir.display());
    let venvs = pipx_install(
        tmp.path(),
        "uv",
        &[
            "--pip-args".as_ref(),
            pip_args.as_ref(),
            "demo-scripts".as_ref(),
        ],
    );
    let app = venvs.join("demo-scripts");
    let launcher = app.join("bin/demo-scripts");
    let text = fs::read_to_string(&launcher).unwrap();
    assert!(
        text.lines().next().unwrap().ends_with(" -E"),
        "pipx's mark: {text}"
    );
    let home = tempdir();
    let (code, report, stderr) = lock_json(&app, home.path());
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    let (code, check) = check_json(&app);
    assert_eq!(code, 0, "{check:#}");

    // Any other change to the first line is not pipx's.
    let other = text.replacen(" -E\n", " -I\n", 1);
    fs::write(&launcher, &other).unwrap();
    let (code, report, _) = lock_json(&app, home.path());
    assert_eq!(code, 1, "{report:#}");
    let reasons = packages_by_name(&report)["demo-scripts"]["source"]["reasons"].to_string();
    assert!(reasons.contains("bin/demo-scripts"), "{reasons}");
}

/// poetry: its environment made by virtualenv (with virtualenv's start-up patch, which must be
/// byte for byte a release's), its packages installed by poetry's installer from the local
/// index: all proven, nothing unowned; and `check` agrees.
#[test]
fn poetry_environments_prove() {
    let t = tools();
    let wh = wheelhouse();
    let server = IndexServer::start(&wh.dir, &[] as &[&str]);
    let url = server.simple_url();
    let tmp = tempdir();
    let proj = tmp.path().join("proj");
    fs::create_dir_all(&proj).unwrap();
    fs::write(
        proj.join("pyproject.toml"),
        format!(
            "[project]\nname = \"proj\"\nversion = \"0.1\"\nrequires-python = \">=3.11,<4\"\n\
             dependencies = [\"demo-core\", \"demo-scripts\", \"nsdemo-alpha\"]\n\n\
             [tool.poetry]\npackage-mode = false\n\n\
             [[tool.poetry.source]]\nname = \"local\"\nurl = \"{url}\"\npriority = \"primary\"\n"
        ),
    )
    .unwrap();
    let poetry = |args: &[&str]| {
        let mut cmd = clean_command(&t.poetry);
        cmd.current_dir(&proj)
            .env("HOME", tmp.path().join("home"))
            .env("POETRY_CACHE_DIR", tmp.path().join("poetry-cache"))
            .env("POETRY_CONFIG_DIR", tmp.path().join("poetry-config"))
            .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
            // No seeded pip: every dist then comes from the local index.
            .env("POETRY_VIRTUALENVS_OPTIONS_NO_PIP", "true")
            .env("VIRTUALENV_OVERRIDE_APP_DATA", tmp.path().join("app-data"))
            .args(args);
        run_ok(&mut cmd);
    };
    let base = fs::canonicalize(&t.python).unwrap();
    poetry(&["env", "use", base.to_str().unwrap()]);
    poetry(&["install", "--no-interaction"]);
    let env = proj.join(".venv");
    let home = tempdir();
    let args: [&OsStr; 6] = [
        "lock".as_ref(),
        env.as_os_str(),
        "--index-url".as_ref(),
        url.as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ];
    let (code, report, stderr) = json_run(&icelock_at(home.path(), &args, false, &[]));
    assert_eq!(code, 0, "{stderr}");
    let names: Vec<String> = packages_by_name(&report).into_keys().collect();
    assert_eq!(
        names,
        ["demo-core", "demo-scripts", "nsdemo-alpha"],
        "{report:#}"
    );
    assert_eq!(unowned(&report, &env), Vec::<String>::new());
    let (code, check) = check_json(&env);
    assert_eq!(code, 0, "{check:#}");
}

/// Found by a second attack: a `.pth` whose name is not UTF-8 still runs; an archive a `.pth`
/// puts on the path is imported from (zipimport); a pyc whose code compares equal to its
/// source's (`==` turns specialised opcodes back into generic ones) but holds a specialised
/// opcode doing another operation. Each is named.
#[test]
fn what_a_second_attack_found_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-core"]);
    let site = venv.site_packages();
    let odd = std::ffi::OsStr::from_bytes(b"\xffodd.pth");
    fs::write(site.join(odd), "import os; os.environ['PLANTED'] = 'odd'\n").unwrap();
    let zipped = tmp.path().join("extra.zip");
    run_ok(clean_command(&tools().python).args([
        "-c",
        "import sys, zipfile; zipfile.ZipFile(sys.argv[1], 'w').writestr('zipmod.py', 'WHO = \"zip\"\\n')",
        zipped.to_str().unwrap(),
    ]));
    fs::write(site.join("extra.pth"), format!("{}\n", zipped.display())).unwrap();
    assert_eq!(
        python_says(
            &venv,
            "import os, zipmod; print(os.environ.get('PLANTED'), zipmod.WHO)"
        ),
        "odd zip"
    );
    let (code, report, stderr) = lock_json(&venv.root, tmp.path());
    assert_eq!(code, 1, "{stderr}");
    let kinds: Vec<String> = report["environment"]["survey"]["unowned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["path-archive", "startup-pth"], "{report:#}");

    // A pyc with a specialised opcode: `double` adds where its source multiplies.
    fs::remove_file(site.join(odd)).unwrap();
    fs::remove_file(site.join("extra.pth")).unwrap();
    let util = site.join("demo_core/util.py");
    run_ok(clean_command(venv.python()).args([
        "-c",
        r#"
import sys, marshal, opcode, dis, importlib.util, py_compile
src = sys.argv[1]
pyc = importlib.util.cache_from_source(src)
py_compile.compile(src, cfile=pyc, doraise=True)
data = bytearray(open(pyc, 'rb').read())
mod = marshal.loads(bytes(data[16:]))
def codes(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, 'co_code'):
            yield from codes(c)
for co in codes(mod):
    raw = co.co_code
    at = data.find(raw, 16)
    for i in range(0, len(raw), 2):
        if raw[i] == opcode.opmap['BINARY_OP']:
            data[at + i] = dis._all_opmap['BINARY_OP_ADD_INT']
open(pyc, 'wb').write(bytes(data))
forged = marshal.loads(bytes(data[16:]))
assert forged == compile(open(src, 'rb').read(), src, 'exec', dont_inherit=True)
"#,
        util.to_str().unwrap(),
    ]));
    assert_eq!(
        python_says(&venv, "from demo_core import util; print(util.double(3))"),
        "5",
        "the forged bytecode runs"
    );
    let (code, check) = check_json(&venv.root);
    assert_eq!(code, 1, "{check:#}");
    assert!(
        check["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "bytecode-differs"
                && p["path"] == "demo_core/__pycache__/util.cpython-311.pyc"),
        "{check:#}"
    );
}

/// Found by a third attack: `__pycache__` is a namespace package like any other folder, so a
/// module put in one (a dist's, or the top one) is imported by `import pkg.__pycache__.evil`;
/// only what Python writes there (`NAME.TAG.pyc`) is left alone. And a `_virtualenv.py` that no
/// release wrote is reported in the JSON report (it failed to serialise).
#[test]
fn what_a_third_attack_found_is_named() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-app"]);
    let site = venv.site_packages();
    run_ok(
        clean_command(venv.python())
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .args(["-c", "import demo_core.util"]),
    );
    fs::write(
        site.join("demo_core/__pycache__/evil.py"),
        "WHO = 'pycache'\n",
    )
    .unwrap();
    fs::create_dir_all(site.join("__pycache__")).unwrap();
    fs::write(site.join("__pycache__/evil2.py"), "WHO = 'top'\n").unwrap();
    fs::write(site.join("_virtualenv.py"), "import os\n").unwrap();
    assert_eq!(
        python_says(
            &venv,
            "import demo_core.__pycache__.evil as a, __pycache__.evil2 as b; print(a.WHO, b.WHO)"
        ),
        "pycache top"
    );
    let (code, report, stderr) = lock_json(&venv.root, tmp.path());
    assert_eq!(code, 1, "{stderr}");
    let reasons = packages_by_name(&report)["demo-core"]["source"]["reasons"].to_string();
    assert!(
        reasons.contains("demo_core/__pycache__/evil.py"),
        "{reasons}"
    );
    let mut found = unowned(&report, &venv.root);
    found.sort();
    let site_rel = site
        .strip_prefix(canon(&venv.root))
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        found,
        [
            format!("{site_rel}/__pycache__/evil2.py"),
            format!("{site_rel}/_virtualenv.py"),
        ],
        "{report:#}"
    );
    // Python's own bytecode there is not counted.
    fs::remove_file(site.join("demo_core/__pycache__/evil.py")).unwrap();
    fs::remove_file(site.join("__pycache__/evil2.py")).unwrap();
    fs::remove_file(site.join("_virtualenv.py")).unwrap();
    let (code, _, stderr) = lock_json(&venv.root, tmp.path());
    assert_eq!(code, 0, "{stderr}");
}
