//! `lock --wheelhouse`: wheels rebuilt from installed files for dists no index proves.
//!
//! The environment is installed from the fixture wheelhouse, then locked against *no* index, so
//! nothing can be proven from one: every dist must be rebuilt. The rebuilt wheels must be
//! byte-identical run to run, install with pip to the same RECORD rows as the originals, and be
//! provable again when the wheelhouse is used as a find-links source.

mod support;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use support::*;

const DISTS: &[&str] = &["demo-app", "demo-scripts", "nsdemo.alpha", "demo-native"];

/// RECORD rows, without those installers write themselves; scripts in `bin/` embed the
/// installing environment's interpreter path, so they are compared separately.
fn record_rows(dist_info: &Path) -> BTreeSet<(String, String, String)> {
    let text = fs::read_to_string(dist_info.join("RECORD")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.trim_end_matches('\r').rsplitn(3, ',').collect();
            (
                parts[2].to_string(),
                parts[1].to_string(),
                parts[0].to_string(),
            )
        })
        .filter(|(path, _, _)| {
            let name = path.rsplit('/').next().unwrap();
            !path.ends_with(".pyc")
                && !path.starts_with("../../../bin/")
                && !["INSTALLER", "REQUESTED", "direct_url.json", "RECORD"].contains(&name)
        })
        .collect()
}

fn lock_with_wheelhouse(env: &Path, out_dir: &Path) -> std::process::Output {
    fs::create_dir_all(out_dir).unwrap();
    let home = tempdir();
    let mut cmd = icelock_command(&[
        OsStr::new("lock"),
        env.as_os_str(),
        OsStr::new("--no-index"),
        OsStr::new("--no-cache"),
        OsStr::new("--wheelhouse"),
        out_dir.join("wheelhouse").as_os_str(),
        OsStr::new("-o"),
        out_dir.join("pylock.toml").as_os_str(),
    ]);
    cmd.env("HOME", home.path()).env_remove("PIP_FIND_LINKS");
    run_icelock(&mut cmd)
}

#[test]
fn rebuilt_wheels_are_reproducible_installable_and_provable() {
    let scratch = tempdir();
    let env = Venv::create(&scratch.path().join("env"), Installer::Pip);
    let out = env.install(DISTS);
    assert!(out.status.success(), "{}", show(&out));

    // Without a way out, no index proves anything and no lock is written.
    let home = tempdir();
    let mut cmd = icelock_command(&[
        OsStr::new("lock"),
        env.root.as_os_str(),
        OsStr::new("--no-index"),
        OsStr::new("--no-cache"),
        OsStr::new("-o"),
        scratch.path().join("nolock.toml").as_os_str(),
    ]);
    cmd.env("HOME", home.path()).env_remove("PIP_FIND_LINKS");
    let refused = run_icelock(&mut cmd);
    assert_eq!(refused.status.code(), Some(1), "{}", show(&refused));
    assert!(!scratch.path().join("nolock.toml").exists());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--wheelhouse"),
        "the way out is named\n{}",
        show(&refused)
    );

    // With --wheelhouse, twice: byte-identical wheels.
    let first = scratch.path().join("first");
    let second = scratch.path().join("second");
    for dir in [&first, &second] {
        let out = lock_with_wheelhouse(&env.root, dir);
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    }
    let names = |dir: &Path| -> BTreeSet<String> {
        fs::read_dir(dir.join("wheelhouse"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let built = names(&first);
    assert_eq!(built, names(&second));
    let installed = list_json(&env.root);
    let installed_count = packages_by_name(&installed).len();
    assert_eq!(
        built.len(),
        installed_count,
        "one wheel per dist: {built:?}"
    );
    for name in &built {
        assert_eq!(
            fs::read(first.join("wheelhouse").join(name)).unwrap(),
            fs::read(second.join("wheelhouse").join(name)).unwrap(),
            "{name} differs between two runs"
        );
    }

    // The lock points at the rebuilt wheels by path relative to it, with their hashes.
    let lock = fs::read_to_string(first.join("pylock.toml")).unwrap();
    for name in &built {
        assert!(
            lock.contains(&format!("path = \"wheelhouse/{name}\"")),
            "{name} in\n{lock}"
        );
        let digest = sha256_hex(&first.join("wheelhouse").join(name));
        assert!(lock.contains(&digest), "{name}'s sha256 in the lock");
    }
    assert!(lock.contains("proof = \"repacked-installed-files\""));

    // pip installs them (from the lock itself) to the same RECORD rows as the originals.
    let rebuilt = Venv::create(&scratch.path().join("rebuilt"), Installer::Pip);
    let mut pip = rebuilt.pip_command();
    pip.current_dir(&first)
        .args(["install", "--no-index", "-r", "pylock.toml"]);
    let out = output_with_timeout(&mut pip, std::time::Duration::from_secs(300)).unwrap();
    assert!(out.status.success(), "{}", show(&out));
    for dist in DISTS {
        let original = record_rows(&env.dist_info(dist));
        let again = record_rows(&rebuilt.dist_info(dist));
        assert_eq!(original, again, "RECORD rows of {dist}");
    }
    // The `#!python` script and the console-script launcher come back, differing only by the
    // interpreter path each installer wrote into them.
    for script in ["demo-hello", "demo-scripts"] {
        let original = fs::read_to_string(env.root.join("bin").join(script)).unwrap();
        let again = fs::read_to_string(rebuilt.root.join("bin").join(script)).unwrap();
        assert_eq!(
            original.replace(&env.root.display().to_string(), "ENV"),
            again.replace(&rebuilt.root.display().to_string(), "ENV"),
            "bin/{script}"
        );
    }

    // And icelock proves the rebuilt environment against the wheelhouse as find-links.
    let mut cmd = icelock_command(&[
        OsStr::new("lock"),
        rebuilt.root.as_os_str(),
        OsStr::new("--no-index"),
        OsStr::new("--no-cache"),
        OsStr::new("--find-links"),
        first.join("wheelhouse").as_os_str(),
        OsStr::new("--format"),
        OsStr::new("json"),
    ]);
    cmd.env("HOME", home.path()).env_remove("PIP_FIND_LINKS");
    let out = run_icelock(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report = json_stdout(&out);
    for (name, pkg) in packages_by_name(&report) {
        assert_eq!(pkg["source"]["kind"], "index", "{name}: {}", pkg["source"]);
        let file = first
            .join("wheelhouse")
            .join(pkg["source"]["filename"].as_str().unwrap());
        assert_eq!(pkg["source"]["sha256"].as_str().unwrap(), sha256_hex(&file));
    }
}
