//! `icelock check` against real environments built offline by pip and by uv from the fixture
//! wheels, then damaged on purpose; compared with `pip check` where the two overlap.

mod support;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::*;

fn problems(report: &Value) -> Vec<Value> {
    report["problems"]
        .as_array()
        .expect("problems array")
        .clone()
}

fn of_kind<'a>(ps: &'a [Value], kind: &str) -> Vec<&'a Value> {
    ps.iter().filter(|p| p["kind"] == kind).collect()
}

fn files_checked(report: &Value) -> u64 {
    report["files_checked"]
        .as_u64()
        .unwrap_or_else(|| panic!("files_checked: {report}"))
}

/// Package names pip check complains about (first word of each line), normalised.
fn pip_check_packages(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|l| normalize(l.split_whitespace().next().unwrap()))
        .collect()
}

fn check_text(env: &Path) -> (i32, String) {
    let out = icelock(&[OsStr::new("check"), env.as_os_str()]);
    (out.status.code().unwrap(), stdout_str(&out))
}

fn assert_clean(env: &FullEnv) {
    let (code, r) = check_json(&env.venv.root);
    assert_eq!(
        problems(&r),
        Vec::<Value>::new(),
        "clean {} env",
        env.venv.installer.name()
    );
    assert_eq!(code, 0, "{r}");
    // Every fixture file, the dist-info files, the rewritten script, the launcher, the data
    // file: well over 40 hashed RECORD rows.
    assert!(
        files_checked(&r) > 40,
        "files_checked {} in {r}",
        files_checked(&r)
    );
    let (code, _) = check_text(&env.venv.root);
    assert_eq!(code, 0);
    let (ok, lines) = env.venv.pip_check();
    assert!(ok, "pip check on the clean env: {lines:?}");
}

#[test]
fn clean_pip_env_passes() {
    let tmp = tempdir();
    let env = build_full_env(tmp.path(), Installer::Pip);
    assert_clean(&env);
}

#[test]
fn clean_uv_env_passes() {
    let tmp = tempdir();
    let env = build_full_env(tmp.path(), Installer::Uv);
    assert_clean(&env);
}

/// Overwrite one byte of a file, keeping its size.
fn flip_byte(path: &Path) {
    let mut data = fs::read(path).unwrap();
    assert!(!data.is_empty(), "{} is empty", path.display());
    data[0] = if data[0] == b'#' { b'%' } else { b'#' };
    fs::write(path, data).unwrap();
}

fn assert_modified_and_missing(installer: Installer) {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), installer);
    venv.install(&["demo-app", "demo-scripts"]);
    let sp = venv.site_packages();
    let (code, before) = check_json(&venv.root);
    assert_eq!((code, problems(&before)), (0, vec![]), "before damage");

    flip_byte(&sp.join("demo_core/util.py"));
    fs::remove_file(sp.join("demo_app/cli.py")).unwrap();
    flip_byte(&venv.root.join("bin/demo-hello")); // a script installed from .data/scripts
    let mut data = fs::read(sp.join("demo_scripts/__init__.py")).unwrap();
    data.extend_from_slice(b"# appended\n");
    fs::write(sp.join("demo_scripts/__init__.py"), data).unwrap();

    let (code, r) = check_json(&venv.root);
    let ps = problems(&r);
    assert_eq!(code, 1, "{r:#}");
    let find = |kind: &str, package: &str, path_end: &str| {
        ps.iter().any(|p| {
            p["kind"] == kind
                && p["package"] == package
                && p["path"].as_str().is_some_and(|s| s.ends_with(path_end))
        })
    };
    assert!(
        find("file-modified", "demo-core", "demo_core/util.py"),
        "{r:#}"
    );
    assert!(find("file-missing", "demo-app", "demo_app/cli.py"), "{r:#}");
    assert!(
        find("file-modified", "demo-scripts", "bin/demo-hello"),
        "{r:#}"
    );
    assert!(
        find("size-mismatch", "demo-scripts", "demo_scripts/__init__.py")
            || find("file-modified", "demo-scripts", "demo_scripts/__init__.py"),
        "appended-to file not reported: {r:#}"
    );
    assert_eq!(ps.len(), 4, "exactly the four damaged files: {r:#}");
    for p in &ps {
        assert!(p["version"].is_string() && p["message"].is_string(), "{p}");
    }

    // Text mode: one line per problem naming the dist and the file.
    let (code, text) = check_text(&venv.root);
    assert_eq!(code, 1);
    for (dist, file) in [
        ("demo-core", "demo_core/util.py"),
        ("demo-app", "demo_app/cli.py"),
        ("demo-scripts", "demo-hello"),
    ] {
        assert!(
            text.lines().any(|l| l.contains(dist) && l.contains(file)),
            "no text line names {dist} and {file}:\n{text}"
        );
    }
}

#[test]
fn modified_and_missing_files_pip_env() {
    assert_modified_and_missing(Installer::Pip);
}

#[test]
fn modified_and_missing_files_uv_env() {
    assert_modified_and_missing(Installer::Uv);
}

/// RECORD rows that point outside the environment are reported and never opened: one points at
/// /etc/passwd with its correct hash, one is absolute, and one is a FIFO that would block
/// whoever opened it for reading.
#[test]
fn record_rows_outside_the_environment() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-core"]);
    let sp = venv.site_packages();
    let depth = canon(&sp).components().count() - 1; // ".."s from site-packages to /
    let up = "../".repeat(depth + 2);
    let passwd = Path::new("/etc/passwd");
    let size = fs::metadata(passwd).unwrap().len();
    let fifo = tmp.path().join("outside.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    // site-packages -> python3.X -> lib -> venv -> tmp
    let fifo_row = "../../../../outside.fifo,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0";
    venv.append_record_rows(
        "demo-core",
        &[
            format!("{up}etc/passwd,{},{size}", record_digest(passwd)),
            format!("/etc/passwd,{},{size}", record_digest(passwd)),
            fifo_row.to_owned(),
        ],
    );

    // run_icelock fails the test if icelock hangs on the FIFO.
    let (code, r) = check_json(&venv.root);
    let ps = problems(&r);
    assert_eq!(code, 1, "{r:#}");
    let outside = of_kind(&ps, "outside-environment");
    assert_eq!(
        outside.len(),
        3,
        "three rows outside the environment: {r:#}"
    );
    for p in &outside {
        assert_eq!(p["package"], "demo-core", "{p}");
    }
    let named = |needle: &str| {
        outside.iter().any(|p| {
            p["path"].as_str().is_some_and(|s| s.contains(needle))
                || p["message"].as_str().is_some_and(|s| s.contains(needle))
        })
    };
    assert!(named("etc/passwd"), "{r:#}");
    assert!(named("outside.fifo"), "{r:#}");
    assert_eq!(ps.len(), 3, "nothing else is wrong: {r:#}");
}

/// A dependency uninstalled: icelock and pip check both report it.
#[test]
fn missing_requirement() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-app", "Demo_Quirks", "demo-single"]);
    venv.uninstall(&["demo-core"]);

    let (ok, pip_lines) = venv.pip_check();
    assert!(!ok);
    let (code, r) = check_json(&venv.root);
    assert_eq!(code, 1, "{r:#}");
    let ps = problems(&r);
    let missing = of_kind(&ps, "requirement-missing");
    let ours: BTreeSet<String> = missing
        .iter()
        .map(|p| p["package"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ours,
        pip_check_packages(&pip_lines),
        "icelock {r:#}\npip check {pip_lines:?}"
    );
    assert_eq!(
        ours,
        BTreeSet::from(["demo-app".to_owned(), "demo-quirks".to_owned()])
    );
    for p in &missing {
        assert!(p["message"].as_str().unwrap().contains("demo-core"), "{p}");
    }
    assert_eq!(
        missing.len(),
        ps.len(),
        "only the missing requirement: {r:#}"
    );
}

/// An installed version outside the specifier.
#[test]
fn version_mismatch() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    venv.install(&["--no-deps", "demo-app", "demo-core==0.9", "Demo_Quirks"]);

    let (ok, pip_lines) = venv.pip_check();
    assert!(!ok);
    let (code, r) = check_json(&venv.root);
    assert_eq!(code, 1, "{r:#}");
    let ps = problems(&r);
    let mism = of_kind(&ps, "version-mismatch");
    let ours: BTreeSet<String> = mism
        .iter()
        .map(|p| p["package"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ours,
        pip_check_packages(&pip_lines),
        "icelock {r:#}\npip check {pip_lines:?}"
    );
    assert_eq!(
        ours,
        BTreeSet::from(["demo-app".to_owned(), "demo-quirks".to_owned()])
    );
    for p in &mism {
        let m = p["message"].as_str().unwrap();
        assert!(m.contains("demo-core") && m.contains("0.9"), "{p}");
    }
    assert_eq!(mism.len(), ps.len(), "only the mismatches: {r:#}");
}

/// demo-meta asks for demo-app[fancy]; with demo-extra gone that requirement is missing. pip
/// check does not look at extras and says nothing; icelock does.
#[test]
fn missing_requirement_of_an_asked_for_extra() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-meta"]);
    venv.uninstall(&["demo-extra"]);
    let (code, r) = check_json(&venv.root);
    assert_eq!(code, 1, "{r:#}");
    let ps = problems(&r);
    let missing = of_kind(&ps, "requirement-missing");
    assert_eq!(missing.len(), 1, "{r:#}");
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap()
            .contains("demo-extra"),
        "{r:#}"
    );
    assert!(
        ["demo-app", "demo-meta"].contains(&missing[0]["package"].as_str().unwrap()),
        "{r:#}"
    );
    let (ok, lines) = venv.pip_check();
    assert!(ok, "pip check ignores extras: {lines:?}");
}

/// Requirements whose markers are false here (demo-winonly on win32, and through the "win"
/// extra nobody asked for) are not missing.
#[test]
fn requirements_with_false_markers_are_not_missing() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    venv.install(&["demo-app"]);
    let (code, r) = check_json(&venv.root);
    assert_eq!((code, problems(&r)), (0, vec![]), "{r:#}");
}

/// The same dist twice in one site-packages.
#[test]
fn duplicate_dist_info() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-core"]);
    let orig = venv.dist_info("demo-core");
    let copy = orig.with_file_name("Demo.Core-1.2.dist-info");
    fs::create_dir(&copy).unwrap();
    for e in fs::read_dir(&orig).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let (code, r) = check_json(&venv.root);
    assert_eq!(code, 1, "{r:#}");
    let dup = of_kind(&problems(&r), "duplicate").len();
    assert!(dup >= 1, "no duplicate problem: {r:#}");
    assert!(
        of_kind(&problems(&r), "duplicate")
            .iter()
            .all(|p| p["package"] == "demo-core"),
        "{r:#}"
    );
}

/// An .egg-info install has no RECORD: it cannot be verified, and check says so without failing.
#[test]
fn egg_info_is_unverifiable() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-core"]);
    let egg = venv.site_packages().join("olddemo-0.5-py3.11.egg-info");
    fs::create_dir(&egg).unwrap();
    fs::write(
        egg.join("PKG-INFO"),
        "Metadata-Version: 1.0\nName: olddemo\nVersion: 0.5\n",
    )
    .unwrap();
    let (code, r) = check_json(&venv.root);
    let ps = problems(&r);
    let unv = of_kind(&ps, "unverifiable");
    assert_eq!(unv.len(), 1, "{r:#}");
    assert_eq!(unv[0]["package"], "olddemo", "{r:#}");
    assert_eq!(ps.len(), 1, "{r:#}");
    // Reported, but nothing is known to be wrong: it does not fail the check (pip check passes
    // such an environment too).
    assert_eq!(code, 0, "unverifiable alone does not fail the check: {r:#}");
    let (ok, lines) = venv.pip_check();
    assert!(ok, "{lines:?}");
}

/// Broken METADATA is a `metadata` problem; the other dists are still checked.
#[test]
fn broken_metadata_is_a_metadata_problem() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    venv.install(&["demo-app"]);
    let di = venv.dist_info("demo-app");
    fs::write(di.join("METADATA"), b"\x00\xff\xfe\x80garbage\n\n\xc3").unwrap();
    flip_byte(&venv.site_packages().join("demo_core/util.py"));
    let (code, r) = check_json(&venv.root);
    assert_eq!(code, 1, "{r:#}");
    let ps = problems(&r);
    assert!(
        !of_kind(&ps, "metadata").is_empty(),
        "no metadata problem: {r:#}"
    );
    assert!(
        of_kind(&ps, "file-modified")
            .iter()
            .any(|p| p["package"] == "demo-core"
                && p["path"]
                    .as_str()
                    .is_some_and(|s| s.ends_with("demo_core/util.py"))),
        "other dists must still be checked: {r:#}"
    );
}

/// A RECORD path that is not a regular file (a FIFO, a folder) is reported, never opened for
/// reading: opening a FIFO would block forever.
#[test]
fn non_regular_files_are_not_opened() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Uv);
    venv.install(&["demo-app"]);
    let sp = venv.site_packages();
    let fifo = sp.join("demo_core/util.py");
    fs::remove_file(&fifo).unwrap();
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let dir = sp.join("demo_app/cli.py");
    fs::remove_file(&dir).unwrap();
    fs::create_dir(&dir).unwrap();

    let mut cmd = icelock_command(&[
        OsStr::new("check"),
        OsStr::new("--format"),
        OsStr::new("json"),
        venv.root.as_os_str(),
    ]);
    let out = run_icelock_within(&mut cmd, std::time::Duration::from_secs(20));
    let r = json_stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    let ps = problems(&r);
    for (package, path) in [
        ("demo-core", "demo_core/util.py"),
        ("demo-app", "demo_app/cli.py"),
    ] {
        assert!(
            ps.iter().any(|p| p["package"] == package
                && p["path"].as_str().is_some_and(|s| s.ends_with(path))),
            "no problem for {path}: {r:#}"
        );
    }
    assert_eq!(ps.len(), 2, "{r:#}");
}
