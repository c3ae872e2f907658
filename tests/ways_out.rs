//! The ways out for distributions no index can prove, hermetic: a project with a local version
//! (`1.0+local.build5`) built from a local folder, an editable project, a git checkout, and an
//! sdist served by a local index (tests/index/server.py) that pip built, each installed by pip, locked with the way out that fits it, installed from the lock into
//! a fresh environment, and compared with the original:
//!
//! - unproven dists block a lock file (exit 1, nothing written, the way out named per dist);
//! - `--wheelhouse DIR` rebuilds a reproducible wheel from the installed files (not of an
//!   editable, not of a modified dist) and locks it by a path relative to the lock
//!   (`proof = "repacked-installed-files"`);
//! - `--allow-local` locks directory and editable installs as `[packages.directory]`;
//! - a VCS install is locked by its commit (`[packages.vcs]`), no flag needed;
//! - `--exclude NAME` leaves one out, and the lock says so;
//! - `--allow-sdist` locks a dist built here from the index's sdist as that sdist;
//! - pyodide-lock.json loads wheels only: a source tree or an sdist is refused, naming
//!   `--wheelhouse`, and taking that advice gives a loadable lock.
//!
//! Locks are made against the fixture wheelhouse and the tools wheels as find-links (and the
//! local index where there is one), with no cache and nothing from the network. Rebuilt environments are compared by name and version, by RECORD rows
//! (without installer rows and `bin/` launchers), and by `icelock lock --format json` proving
//! the very files the lock names.
//!
//! pip 26.3 reads a pylock.toml with hashes in hash-checking mode, where it refuses any source
//! tree ("no single file to hash", "no way to hash version control repositories"); so the
//! editable and git locks are installed with `uv pip sync`, and pip only where the lock holds
//! nothing but files.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;
use support::*;

const LOCAL_VERSION: &str = "1.0+local.build5";
const LOCAL_WHEEL: &str = "proj_local-1.0+local.build5-py3-none-any.whl";

// ---------------------------------------------------------------------------------------------
// Projects and environments

/// Writes a setuptools project `name` (module `name` with `_`) at `parent/name`: a package with a
/// data file, a console script, and a dependency on demo-core (a fixture wheel).
fn write_project(parent: &Path, name: &str, version: &str) -> PathBuf {
    let module = name.replace('-', "_");
    let root = parent.join(name);
    fs::create_dir_all(root.join(&module)).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        format!(
            r#"[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "icelock test project: a way out"
requires-python = ">=3.8"
dependencies = ["demo-core>=1.0"]

[project.scripts]
{name} = "{module}:main"

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools.package-data]
{module} = ["data.txt"]
"#
        ),
    )
    .unwrap();
    fs::write(
        root.join(&module).join("__init__.py"),
        format!(
            r#"from importlib import metadata, resources


def main():
    data = resources.files(__name__).joinpath("data.txt").read_text().strip()
    print("{name}", metadata.version("{name}"), data)
"#
        ),
    )
    .unwrap();
    fs::write(
        root.join(&module).join("data.txt"),
        format!("data of {name}\n"),
    )
    .unwrap();
    root
}

/// A pip venv at `dir/name` with setuptools (for `--no-build-isolation`) and demo-core.
fn pip_venv_for_builds(dir: &Path, name: &str) -> Venv {
    let venv = Venv::create(&dir.join(name), Installer::Pip);
    venv.install(&["setuptools", "demo-core"]);
    venv
}

struct LocalEnv {
    venv: Venv,
    project: PathBuf,
}

/// proj-local 1.0+local.build5, installed by pip from its folder (a directory install: no
/// index has it, and direct_url.json says `dir_info`). Shared; never modified.
fn local_dir_env() -> &'static LocalEnv {
    static E: OnceLock<LocalEnv> = OnceLock::new();
    E.get_or_init(|| {
        let dir = process_scratch().join("ways-out-local-dir");
        fs::create_dir_all(&dir).unwrap();
        let project = write_project(&dir.join("src"), "proj-local", LOCAL_VERSION);
        let venv = pip_venv_for_builds(&dir, "venv");
        venv.install(&[OsStr::new("--no-build-isolation"), project.as_os_str()]);
        assert_eq!(
            venv.pip_list().get("proj-local").map(String::as_str),
            Some(LOCAL_VERSION)
        );
        let listed = packages_by_name(&list_json(&venv.root));
        assert_eq!(
            listed["proj-local"]["source"]["kind"], "directory",
            "{}",
            listed["proj-local"]
        );
        LocalEnv { venv, project }
    })
}

/// demo-editable (tests/fixtures/editable-proj) installed editable by pip, with demo-core.
fn editable_env() -> &'static LocalEnv {
    static E: OnceLock<LocalEnv> = OnceLock::new();
    E.get_or_init(|| {
        let dir = process_scratch().join("ways-out-editable");
        fs::create_dir_all(&dir).unwrap();
        let venv = Venv::create(&dir.join("venv"), Installer::Pip);
        let project = venv
            .install_editables(&["editable-proj"], &dir.join("src"))
            .remove(0);
        let listed = packages_by_name(&list_json(&venv.root));
        assert_eq!(listed["demo-editable"]["source"]["kind"], "editable");
        assert_eq!(listed["demo-core"]["version"], "1.2");
        LocalEnv { venv, project }
    })
}

struct GitEnv {
    venv: Venv,
    repo: PathBuf,
    /// The commit tag v0.3.0 points at (not the repository's HEAD, which is one later).
    commit: String,
}

/// demo-git 0.3.0 installed by pip from `git+file://<repo>@v0.3.0`, the tag one commit behind
/// the branch.
fn git_env() -> &'static GitEnv {
    static E: OnceLock<GitEnv> = OnceLock::new();
    E.get_or_init(|| {
        let dir = process_scratch().join("ways-out-git");
        fs::create_dir_all(&dir).unwrap();
        let repo = write_project(&dir, "demo-git", "0.3.0");
        git_in(&repo, &["init", "-q"]);
        git_in(&repo, &["add", "-A"]);
        git_in(&repo, &["commit", "-q", "-m", "0.3.0"]);
        git_in(&repo, &["tag", "v0.3.0"]);
        let commit = git_in(&repo, &["rev-parse", "v0.3.0^{commit}"]);
        let init = repo.join("demo_git").join("__init__.py");
        let mut text = fs::read_to_string(&init).unwrap();
        text.push_str("\nLATER = True  # after the tag\n");
        fs::write(&init, text).unwrap();
        git_in(&repo, &["commit", "-q", "-a", "-m", "after the tag"]);
        assert_ne!(git_in(&repo, &["rev-parse", "HEAD"]), commit);

        let venv = pip_venv_for_builds(&dir, "venv");
        let url = format!("git+file://{}@v0.3.0", repo.display());
        venv.install(&["--no-build-isolation", url.as_str()]);
        let listed = packages_by_name(&list_json(&venv.root));
        let s = &listed["demo-git"]["source"];
        assert_eq!(s["kind"], "vcs", "{s}");
        assert_eq!(s["commit_id"].as_str(), Some(commit.as_str()), "{s}");
        GitEnv { venv, repo, commit }
    })
}

// ---------------------------------------------------------------------------------------------
// Running icelock and the installers

/// `icelock lock ENV ARGS…` against the fixture wheelhouse and the tools wheels as find-links
/// (plus `extra_links`), no index, no cache, a fresh HOME, run in a fresh folder.
fn lock_with_links<S: AsRef<OsStr>>(env: &Path, args: &[S], extra_links: &[&Path]) -> Output {
    let home = tempdir();
    let cwd = tempdir();
    let mut all: Vec<OsString> = vec!["lock".into(), env.into()];
    all.extend(args.iter().map(|a| a.as_ref().to_owned()));
    for link in [wheelhouse().dir.as_path(), tools().wheels.as_path()]
        .into_iter()
        .chain(extra_links.iter().copied())
    {
        all.push("--find-links".into());
        all.push(link.into());
    }
    all.extend(["--no-index".into(), "--no-cache".into()]);
    let mut cmd = hermetic_icelock_command(home.path(), &all);
    cmd.current_dir(cwd.path());
    run_icelock(&mut cmd)
}

fn lock<S: AsRef<OsStr>>(env: &Path, args: &[S]) -> Output {
    lock_with_links(env, args, &[])
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

/// Exit 1, nothing on stdout, `target` not written, and stderr holding every needle.
fn assert_refused(out: &Output, target: &Path, needles: &[&str], what: &str) {
    assert_exit(out, 1, what);
    assert!(out.stdout.is_empty(), "{what}: stdout\n{}", show(out));
    assert!(!target.exists(), "{what}: {} written", target.display());
    let err = stderr(out);
    for needle in needles.iter().chain(&["no lock written"]) {
        assert!(
            err.contains(needle),
            "{what}: stderr lacks {needle:?}\n{}",
            show(out)
        );
    }
}

/// `--base-lock` for pyodide-lock.json of a CPython environment: the runtime's own lock.
fn base_lock() -> PathBuf {
    pyodide_runtime().join("pyodide-lock.json")
}

/// The wheels a pylock.toml (as `packaging.pylock` read it) names: (name, file, sha256).
fn pylock_wheels(parsed: &Value) -> BTreeSet<(String, String, String)> {
    parsed["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["wheels"].as_array().unwrap().iter().map(move |w| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    w["name"].as_str().unwrap().to_owned(),
                    w["hashes"]["sha256"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect()
}

/// `[[packages]]` of a pylock.toml read as TOML, by name.
fn pylock_packages(path: &Path) -> BTreeMap<String, Value> {
    toml_as_json(path)["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p.clone()))
        .collect()
}

/// (name, file, sha256) of wheels.
type Files = BTreeSet<(String, String, String)>;

/// `icelock lock --format json` of `env` (with `extra_links` as find-links too): every dist
/// proven; (name, file, sha256) of those proven by a file, and the report by name.
fn proven_files(env: &Path, extra_links: &[&Path]) -> (Files, BTreeMap<String, Value>) {
    let out = lock_with_links(env, &["--format", "json"], extra_links);
    assert_exit(&out, 0, "lock --format json of a rebuilt environment");
    let pkgs = packages_by_name(&json_stdout(&out));
    let mut files = BTreeSet::new();
    for (name, p) in &pkgs {
        let s = &p["source"];
        assert_ne!(s["kind"], "unproven", "{name}: {s}");
        if let (Some(f), Some(sha)) = (s["filename"].as_str(), s["sha256"].as_str()) {
            files.insert((name.clone(), f.to_owned(), sha.to_owned()));
        }
    }
    (files, pkgs)
}

/// `pip install --no-index -r LOCK` into a fresh pip venv at `dir/name`, run from `dir` (so
/// the lock's relative paths must resolve against the lock, not the working folder).
fn pip_from_pylock(dir: &Path, name: &str, pylock: &Path) -> Venv {
    let venv = Venv::create(&dir.join(name), Installer::Pip);
    let mut cmd = venv.pip_command();
    cmd.current_dir(dir)
        .args(["install", "--no-index", "-r"])
        .arg(pylock);
    run_ok(&mut cmd);
    venv
}

/// `uv pip sync LOCK` into a fresh uv venv at `dir/name`, offline (source trees are built in
/// isolation with setuptools from the tools wheels).
fn uv_sync(dir: &Path, name: &str, pylock: &Path) -> Venv {
    let venv = Venv::create(&dir.join(name), Installer::Uv);
    let mut cmd = venv.uv_pip_command("sync");
    cmd.current_dir(dir)
        .arg("--no-index")
        .arg("--find-links")
        .arg(&tools().wheels)
        .arg(pylock);
    run_ok(&mut cmd);
    venv
}

/// The same names and versions, and for each of `dists` the same RECORD rows.
fn assert_same_env(original: &Venv, rebuilt: &Venv, dists: &[&str], what: &str) {
    assert_eq!(rebuilt.pip_list(), original.pip_list(), "{what}: pip list");
    for dist in dists {
        assert_eq!(
            wheel_record_rows(&rebuilt.dist_info(dist)),
            wheel_record_rows(&original.dist_info(dist)),
            "{what}: RECORD rows of {dist}"
        );
    }
}

/// Runs a venv's console script; its stdout.
fn run_script(venv: &Venv, script: &str) -> String {
    let mut cmd = clean_command(venv.root.join("bin").join(script));
    stdout_str(&run_ok(&mut cmd)).trim().to_owned()
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

// ---------------------------------------------------------------------------------------------
// A local version built from a local folder

#[test]
fn local_folder_install_blocks_every_lock_file_until_a_way_out() {
    let env = local_dir_env();
    let dir = tempdir();
    for (name, extra) in [
        ("pylock.toml", vec![]),
        ("requirements.txt", vec![]),
        (
            "pyodide-lock.json",
            vec!["--base-lock".to_owned(), base_lock().display().to_string()],
        ),
    ] {
        let target = dir.path().join(name);
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let out = lock_to(&env.venv.root, &target, &extra);
        assert_refused(
            &out,
            &target,
            &[
                "proj-local 1.0+local.build5: not lockable",
                "local source tree",
                "--allow-local",
                "--exclude proj-local",
            ],
            &format!("-o {name} without a way out"),
        );
        // demo-core and setuptools are proven: only proj-local is explained.
        let err = stderr(&out);
        assert!(!err.contains("demo-core 1.2: not lockable"), "{err}");
    }
    assert_eq!(
        wheel_files(dir.path()),
        Vec::<String>::new(),
        "no temp files"
    );
}

#[test]
fn local_folder_install_allow_local_is_a_directory_entry() {
    let env = local_dir_env();
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let out = lock_to(&env.venv.root, &pylock, &["--allow-local"]);
    assert_exit(&out, 0, "lock --allow-local");
    validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    let p = &pkgs["proj-local"];
    assert!(p.get("version").is_none(), "no version for a tree: {p}");
    assert!(p.get("wheels").is_none(), "{p}");
    let d = &p["directory"];
    assert_eq!(d["editable"], false, "{p}");
    assert_eq!(
        canon(d["path"].as_str().unwrap()),
        canon(&env.project),
        "{p}"
    );

    // uv builds it again from the folder: the same files as the original build.
    let rebuilt = uv_sync(dir.path(), "by-uv", &pylock);
    assert_same_env(
        &env.venv,
        &rebuilt,
        &["proj-local", "demo-core", "setuptools"],
        "uv pip sync of the --allow-local lock",
    );
    assert_eq!(
        run_script(&rebuilt, "proj-local"),
        "proj-local 1.0+local.build5 data of proj-local"
    );
}

#[test]
fn local_folder_install_wheelhouse_is_reproducible_and_reinstalls() {
    let env = local_dir_env();
    let scratch = tempdir();
    let started = std::time::Instant::now();
    let (first, second) = (scratch.path().join("first"), scratch.path().join("second"));
    for d in [&first, &second] {
        fs::create_dir_all(d).unwrap();
        let out = lock_to(
            &env.venv.root,
            &d.join("pylock.toml"),
            &["--wheelhouse", d.join("wheelhouse").to_str().unwrap()],
        );
        assert_exit(&out, 0, "lock --wheelhouse");
    }
    let took = started.elapsed();
    // One wheel, for proj-local only (the others are proven), byte for byte the same twice.
    assert_eq!(wheel_files(&first.join("wheelhouse")), [LOCAL_WHEEL]);
    assert_eq!(wheel_files(&second.join("wheelhouse")), [LOCAL_WHEEL]);
    let wheel = first.join("wheelhouse").join(LOCAL_WHEEL);
    assert_eq!(
        fs::read(&wheel).unwrap(),
        fs::read(second.join("wheelhouse").join(LOCAL_WHEEL)).unwrap(),
        "the rebuilt wheel differs between two runs"
    );
    assert_eq!(
        fs::read(first.join("pylock.toml")).unwrap(),
        fs::read(second.join("pylock.toml")).unwrap(),
        "the lock differs between two runs"
    );

    // The wheel holds exactly the installed files: its RECORD is the installed one, minus
    // what the installer added.
    let mut in_wheel = zip_record_rows(&wheel);
    in_wheel.retain(|(p, _, _)| !p.ends_with(".dist-info/RECORD"));
    assert_eq!(
        in_wheel,
        wheel_record_rows(&env.venv.dist_info("proj-local")),
        "the rebuilt wheel's RECORD"
    );
    let members: BTreeSet<String> = zip_member_hashes(&wheel).into_keys().collect();
    assert!(
        members.contains("proj_local/data.txt") && members.contains("proj_local/__init__.py"),
        "{members:?}"
    );

    // The lock: the wheel by a path relative to the lock, its sha256 and size, the proof.
    let pylock = first.join("pylock.toml");
    let parsed = validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    let p = &pkgs["proj-local"];
    assert_eq!(p["version"], LOCAL_VERSION, "{p}");
    let w = &p["wheels"][0];
    assert_eq!(w["name"], LOCAL_WHEEL, "{p}");
    assert_eq!(w["path"], format!("wheelhouse/{LOCAL_WHEEL}"), "{p}");
    assert_eq!(w["hashes"]["sha256"], sha256_hex(&wheel).as_str(), "{p}");
    assert_eq!(w["size"], fs::metadata(&wheel).unwrap().len(), "{p}");
    assert_eq!(
        p["tool"]["icelock"]["proof"], "repacked-installed-files",
        "{p}"
    );
    for name in ["demo-core", "setuptools"] {
        assert_ne!(
            pkgs[name]["tool"]["icelock"]["proof"], "repacked-installed-files",
            "{name} is proven, not rebuilt"
        );
    }
    let locked = pylock_wheels(&parsed);

    // pip (run from elsewhere) and uv install it into fresh environments: the same
    // environment, the same files, and icelock proves the same wheels.
    let by_pip = pip_from_pylock(scratch.path(), "by-pip", &pylock);
    let by_uv = uv_sync(scratch.path(), "by-uv", &pylock);
    let all = ["proj-local", "demo-core", "setuptools"];
    assert_same_env(&env.venv, &by_pip, &all, "pip -r pylock.toml");
    assert_same_env(&env.venv, &by_uv, &all, "uv pip sync pylock.toml");
    // pip writes the same launcher (but for the interpreter path), and it runs.
    let launcher = |v: &Venv| {
        fs::read_to_string(v.root.join("bin").join("proj-local"))
            .unwrap()
            .replace(&v.root.display().to_string(), "ENV")
    };
    assert_eq!(launcher(&by_pip), launcher(&env.venv), "bin/proj-local");
    for v in [&by_pip, &by_uv] {
        assert_eq!(
            run_script(v, "proj-local"),
            "proj-local 1.0+local.build5 data of proj-local"
        );
    }
    let links = first.join("wheelhouse");
    for (v, what) in [(&by_pip, "pip"), (&by_uv, "uv")] {
        let (files, _) = proven_files(&v.root, &[&links]);
        assert_eq!(files, locked, "{what}: icelock proves the locked wheels");
    }
    eprintln!("two `lock --wheelhouse` runs took {took:?}");
}

/// pip reads relative paths in a requirements file against its working folder, so this runs
/// pip in the lock's folder.
#[test]
fn local_folder_install_wheelhouse_requirements_install_with_require_hashes() {
    let env = local_dir_env();
    let scratch = tempdir();
    let d = scratch.path().join("lock");
    fs::create_dir_all(&d).unwrap();
    let req = d.join("requirements.txt");
    let out = lock_to(
        &env.venv.root,
        &req,
        &["--wheelhouse", d.join("wheelhouse").to_str().unwrap()],
    );
    assert_exit(&out, 0, "lock --wheelhouse -o requirements.txt");
    let wheel = d.join("wheelhouse").join(LOCAL_WHEEL);
    let text = fs::read_to_string(&req).unwrap();
    let joined = text.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.starts_with("proj-local") || l.contains(LOCAL_WHEEL))
        .unwrap_or_else(|| panic!("no proj-local requirement in\n{text}"));
    assert!(
        line.contains(&format!("wheelhouse/{LOCAL_WHEEL}")),
        "{line}"
    );
    assert!(
        line.contains(&format!("--hash=sha256:{}", sha256_hex(&wheel))),
        "{line}"
    );

    let fresh = Venv::create(&scratch.path().join("by-req"), Installer::Pip);
    let mut cmd = fresh.pip_command();
    cmd.current_dir(&d)
        .args([
            "install",
            "--require-hashes",
            "--no-deps",
            "--no-index",
            "-r",
        ])
        .arg("requirements.txt");
    let what = describe(&cmd);
    let out = output_with_timeout(&mut cmd, CHILD_TIMEOUT).expect("pip timed out");
    assert!(
        out.status.success(),
        "pip cannot install the requirements.txt icelock wrote with --wheelhouse: {what}\n{}\n--- requirements.txt ---\n{text}",
        show(&out)
    );
    assert_same_env(
        &env.venv,
        &fresh,
        &["proj-local", "demo-core", "setuptools"],
        "pip --require-hashes -r requirements.txt",
    );
}

/// The same project built into a wheel (`pip wheel`), installed from that wheel by find-links,
/// and the wheel gone: an index install no index can prove. The rebuilt wheel has the very
/// members of the one pip built.
#[test]
fn local_version_installed_from_a_vanished_wheel_is_rebuilt_member_for_member() {
    let scratch = tempdir();
    let s = scratch.path();
    let project = write_project(&s.join("src"), "proj-local", LOCAL_VERSION);
    let venv = pip_venv_for_builds(s, "venv");
    let built = s.join("built");
    let mut cmd = venv.pip_command();
    cmd.args([
        "wheel",
        "--no-deps",
        "--no-index",
        "--no-build-isolation",
        "-w",
    ])
    .arg(&built)
    .arg(&project);
    run_ok(&mut cmd);
    let original = built.join(LOCAL_WHEEL);
    assert!(
        original.is_file(),
        "pip wheel built {:?}",
        wheel_files(&built)
    );
    venv.install(&[
        OsStr::new("--find-links"),
        built.as_os_str(),
        OsStr::new("proj-local"),
    ]);
    assert!(
        !venv
            .dist_info("proj-local")
            .join("direct_url.json")
            .exists(),
        "an index install"
    );

    let d = s.join("lock");
    fs::create_dir_all(&d).unwrap();
    let pylock = d.join("pylock.toml");
    let out = lock_to(&venv.root, &pylock, &[]);
    assert_refused(
        &out,
        &pylock,
        &[
            "proj-local 1.0+local.build5: not lockable",
            "no wheel of proj-local 1.0+local.build5",
            "--wheelhouse",
        ],
        "a local version no index has",
    );

    let out = lock_to(
        &venv.root,
        &pylock,
        &["--wheelhouse", d.join("wheelhouse").to_str().unwrap()],
    );
    assert_exit(&out, 0, "lock --wheelhouse");
    let rebuilt = d.join("wheelhouse").join(LOCAL_WHEEL);
    assert_eq!(wheel_files(&d.join("wheelhouse")), [LOCAL_WHEEL]);
    let record = format!("proj_local-{LOCAL_VERSION}.dist-info/RECORD");
    let mut ours = zip_member_hashes(&rebuilt);
    let mut theirs = zip_member_hashes(&original);
    ours.remove(&record);
    theirs.remove(&record);
    assert_eq!(ours, theirs, "the rebuilt wheel's members vs pip wheel's");
    assert_eq!(
        zip_record_rows(&rebuilt),
        zip_record_rows(&original),
        "RECORD rows"
    );

    // Reinstalled from the lock: the same environment.
    let by_pip = pip_from_pylock(s, "by-pip", &pylock);
    assert_same_env(
        &venv,
        &by_pip,
        &["proj-local", "demo-core", "setuptools"],
        "pip -r pylock.toml",
    );
    // With pip's wheel as find-links, icelock proves the original install by that wheel.
    let (_, pkgs) = proven_files(&venv.root, &[&built]);
    let src = &pkgs["proj-local"]["source"];
    assert_eq!(src["filename"], LOCAL_WHEEL, "{src}");
    assert_eq!(src["sha256"], sha256_hex(&original).as_str(), "{src}");
}

#[test]
fn a_modified_dist_is_not_rebuilt() {
    let scratch = tempdir();
    let s = scratch.path();
    let project = write_project(&s.join("src"), "proj-local", LOCAL_VERSION);
    let venv = pip_venv_for_builds(s, "venv");
    venv.install(&[OsStr::new("--no-build-isolation"), project.as_os_str()]);
    let init = venv.site_packages().join("proj_local").join("__init__.py");
    let mut text = fs::read_to_string(&init).unwrap();
    text.push_str("# edited after install\n");
    fs::write(&init, text).unwrap();

    let pylock = s.join("pylock.toml");
    let wh = s.join("wheelhouse");
    let out = lock_to(&venv.root, &pylock, &["--wheelhouse", wh.to_str().unwrap()]);
    assert_refused(
        &out,
        &pylock,
        &["proj-local 1.0+local.build5", "proj_local/__init__.py"],
        "lock --wheelhouse of a modified dist",
    );
    assert_eq!(wheel_files(&wh), Vec::<String>::new(), "nothing rebuilt");
}

// ---------------------------------------------------------------------------------------------
// An editable project

#[test]
fn editable_blocks_the_lock_and_the_wheelhouse_cannot_rebuild_it() {
    let env = editable_env();
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let needles = [
        "demo-editable 0.1: not lockable",
        "(editable)",
        "--allow-local",
        "--exclude demo-editable",
    ];
    let out = lock_to(&env.venv.root, &pylock, &[]);
    assert_refused(&out, &pylock, &needles, "an editable, no way out");
    let wh = dir.path().join("wheelhouse");
    let out = lock_to(
        &env.venv.root,
        &pylock,
        &["--wheelhouse", wh.to_str().unwrap()],
    );
    assert_refused(&out, &pylock, &needles, "an editable, --wheelhouse");
    assert!(
        !wheel_files(&wh)
            .iter()
            .any(|f| f.starts_with("demo_editable")),
        "an editable was rebuilt: {:?}",
        wheel_files(&wh)
    );
}

#[test]
fn editable_allow_local_is_an_editable_directory_entry_uv_syncs() {
    let env = editable_env();
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let out = lock_to(&env.venv.root, &pylock, &["--allow-local"]);
    assert_exit(&out, 0, "lock --allow-local");
    let parsed = validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    let p = &pkgs["demo-editable"];
    assert!(p.get("version").is_none(), "{p}");
    assert_eq!(p["directory"]["editable"], true, "{p}");
    assert_eq!(
        canon(p["directory"]["path"].as_str().unwrap()),
        canon(&env.project),
        "{p}"
    );
    assert_eq!(p["dependencies"][0]["name"], "demo-core", "{p}");
    let locked = pylock_wheels(&parsed);
    assert_eq!(
        locked
            .iter()
            .map(|(n, _, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["demo-core", "setuptools"]
    );

    let rebuilt = uv_sync(dir.path(), "by-uv", &pylock);
    assert_same_env(
        &env.venv,
        &rebuilt,
        &["demo-core", "setuptools"],
        "uv pip sync pylock.toml",
    );
    // Editable again, on the same folder.
    let (files, report) = proven_files(&rebuilt.root, &[]);
    assert_eq!(files, locked, "icelock proves the locked wheels");
    let s = &report["demo-editable"]["source"];
    assert_eq!(s["kind"], "editable", "{s}");
    let listed = packages_by_name(&list_json(&rebuilt.root));
    let s = &listed["demo-editable"]["source"];
    assert_eq!(
        canon(s["path"].as_str().unwrap()),
        canon(&env.project),
        "{s}"
    );
    let file = python_in(
        &rebuilt,
        "import demo_editable; print(demo_editable.__file__)",
    );
    assert!(
        canon(file.trim()).starts_with(canon(&env.project)),
        "demo_editable imported from {file}"
    );
}

/// `python -c CODE` in a venv.
fn python_in(venv: &Venv, code: &str) -> String {
    let mut cmd = clean_command(venv.python());
    cmd.arg("-c").arg(code);
    stdout_str(&run_ok(&mut cmd))
}

#[test]
fn editable_exclude_is_said_in_the_lock_and_the_rest_installs() {
    let env = editable_env();
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let req = dir.path().join("requirements.txt");
    for target in [&pylock, &req] {
        let out = lock_to(&env.venv.root, target, &["--exclude", "demo-editable"]);
        assert_exit(&out, 0, "lock --exclude demo-editable");
        assert!(
            stderr(&out).contains("demo-editable 0.1: excluded (--exclude)"),
            "{}",
            show(&out)
        );
    }
    let doc = toml_as_json(&pylock);
    assert_eq!(
        doc["tool"]["icelock"]["excluded"],
        serde_json::json!(["demo-editable"]),
        "{doc}"
    );
    validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    assert_eq!(
        pkgs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["demo-core", "setuptools"]
    );
    let text = fs::read_to_string(&req).unwrap();
    assert!(
        text.contains("# Left out on purpose: demo-editable"),
        "{text}"
    );
    assert!(!text.contains("-e "), "{text}");

    let mut expected = env.venv.pip_list();
    expected.remove("demo-editable");
    let by_pip = pip_from_pylock(dir.path(), "by-pip", &pylock);
    assert_eq!(by_pip.pip_list(), expected, "pip -r pylock.toml");
    let by_req = Venv::create(&dir.path().join("by-req"), Installer::Pip);
    let mut cmd = by_req.pip_command();
    cmd.args([
        "install",
        "--require-hashes",
        "--no-deps",
        "--no-index",
        "-r",
    ])
    .arg(&req);
    run_ok(&mut cmd);
    assert_eq!(by_req.pip_list(), expected, "pip --require-hashes");
    for v in [&by_pip, &by_req] {
        for dist in ["demo-core", "setuptools"] {
            assert_eq!(
                wheel_record_rows(&v.dist_info(dist)),
                wheel_record_rows(&env.venv.dist_info(dist)),
                "{dist}"
            );
        }
    }
}

#[test]
fn editable_pyodide_lock_is_refused() {
    let env = editable_env();
    let dir = tempdir();
    let target = dir.path().join("pyodide-lock.json");
    let bl = base_lock();
    let out = lock_to(
        &env.venv.root,
        &target,
        &["--allow-local", "--base-lock", bl.to_str().unwrap()],
    );
    assert_ne!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!target.exists(), "written: {}", show(&out));
    let err = stderr(&out);
    // (Not asserted: the advice names --wheelhouse, which never rebuilds an editable.)
    for needle in ["demo-editable", "local source tree", "only load wheels"] {
        assert!(
            err.contains(needle),
            "stderr lacks {needle:?}\n{}",
            show(&out)
        );
    }
    // Without it, the rest is a valid pyodide-lock.json.
    let out = lock_to(
        &env.venv.root,
        &target,
        &[
            "--exclude",
            "demo-editable",
            "--base-lock",
            bl.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 0, "pyodide-lock.json --exclude demo-editable");
    validate_pyodide_lock(&target);
    let lock: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    assert!(lock["packages"].get("demo-editable").is_none());
    assert_eq!(lock["packages"]["demo-core"]["version"], "1.2");
}

// ---------------------------------------------------------------------------------------------
// A git checkout

#[test]
fn git_checkout_is_locked_by_commit_and_uv_syncs_it() {
    let env = git_env();
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let out = lock_to(&env.venv.root, &pylock, &[]);
    assert_exit(&out, 0, "lock of a git install, no flag");
    let parsed = validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    let p = &pkgs["demo-git"];
    assert!(p.get("version").is_none(), "{p}");
    let v = &p["vcs"];
    assert_eq!(v["type"], "git", "{p}");
    assert_eq!(v["commit-id"], env.commit.as_str(), "{p}");
    assert_eq!(v["requested-revision"], "v0.3.0", "{p}");
    let location = v["path"]
        .as_str()
        .map(PathBuf::from)
        .or_else(|| {
            v["url"]
                .as_str()
                .and_then(|u| u.strip_prefix("file://"))
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| panic!("no path or file URL: {p}"));
    assert_eq!(canon(location), canon(&env.repo), "{p}");
    assert_eq!(p["tool"]["icelock"]["proof"], "direct-url", "{p}");

    // --wheelhouse changes nothing: a commit is a way to rebuild it already.
    let with_wh = dir.path().join("with-wheelhouse.pylock.toml");
    let wh = dir.path().join("wheelhouse");
    let out = lock_to(
        &env.venv.root,
        &with_wh,
        &["--wheelhouse", wh.to_str().unwrap()],
    );
    assert_exit(&out, 0, "lock --wheelhouse of a git install");
    assert_eq!(
        fs::read_to_string(&with_wh).unwrap(),
        fs::read_to_string(&pylock).unwrap()
    );
    assert_eq!(wheel_files(&wh), Vec::<String>::new(), "nothing rebuilt");

    // requirements.txt: the commit, never the tag (which can move).
    let req = dir.path().join("requirements.txt");
    let out = lock_to(&env.venv.root, &req, &[]);
    assert_exit(&out, 0, "lock -o requirements.txt");
    let text = fs::read_to_string(&req).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("demo-git @ git+file://")
                && l.ends_with(&format!("@{}", env.commit))),
        "{text}"
    );

    // uv installs it from the lock: the tagged commit, built to the very same files.
    let rebuilt = uv_sync(dir.path(), "by-uv", &pylock);
    assert_same_env(
        &env.venv,
        &rebuilt,
        &["demo-git", "demo-core", "setuptools"],
        "uv pip sync pylock.toml",
    );
    let direct: Value = serde_json::from_slice(
        &fs::read(rebuilt.dist_info("demo-git").join("direct_url.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        direct["vcs_info"]["commit_id"],
        env.commit.as_str(),
        "{direct}"
    );
    let installed =
        fs::read_to_string(rebuilt.site_packages().join("demo_git").join("__init__.py")).unwrap();
    assert!(
        !installed.contains("LATER"),
        "the commit after the tag got installed"
    );
    assert_eq!(
        run_script(&rebuilt, "demo-git"),
        "demo-git 0.3.0 data of demo-git"
    );
    let (files, report) = proven_files(&rebuilt.root, &[]);
    assert_eq!(files, pylock_wheels(&parsed));
    let s = &report["demo-git"]["source"];
    assert_eq!(s["kind"], "vcs", "{s}");
    assert_eq!(s["commit_id"], env.commit.as_str(), "{s}");
}

#[test]
fn git_checkout_pyodide_lock_is_refused_naming_the_wheelhouse() {
    let env = git_env();
    let dir = tempdir();
    let target = dir.path().join("pyodide-lock.json");
    let out = lock_to(
        &env.venv.root,
        &target,
        &["--base-lock", base_lock().to_str().unwrap()],
    );
    assert_ne!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!target.exists());
    let err = stderr(&out);
    for needle in ["demo-git 0.3.0", "VCS", "only load wheels", "--wheelhouse"] {
        assert!(
            err.contains(needle),
            "stderr lacks {needle:?}\n{}",
            show(&out)
        );
    }
}

/// The refusal above names `--wheelhouse`; taking that advice must give a pyodide-lock.json
/// whose demo-git entry is a wheel rebuilt from the installed files.
#[test]
fn git_checkout_pyodide_lock_with_the_wheelhouse_it_names() {
    let env = git_env();
    let dir = tempdir();
    let target = dir.path().join("pyodide-lock.json");
    let wh = dir.path().join("wheelhouse");
    let out = lock_to(
        &env.venv.root,
        &target,
        &[
            "--wheelhouse",
            wh.to_str().unwrap(),
            "--base-lock",
            base_lock().to_str().unwrap(),
        ],
    );
    assert_exit(
        &out,
        0,
        "pyodide-lock.json with --wheelhouse, as the refusal without it advises",
    );
    assert_eq!(wheel_files(&wh), ["demo_git-0.3.0-py3-none-any.whl"]);
    validate_pyodide_lock(&target);
    let lock: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    let e = &lock["packages"]["demo-git"];
    assert_eq!(
        e["file_name"], "wheelhouse/demo_git-0.3.0-py3-none-any.whl",
        "{e}"
    );
    assert_eq!(
        e["sha256"],
        sha256_hex(&wh.join("demo_git-0.3.0-py3-none-any.whl")).as_str()
    );
}

#[test]
fn local_folder_install_pyodide_lock_with_the_wheelhouse() {
    let env = local_dir_env();
    let dir = tempdir();
    let target = dir.path().join("pyodide-lock.json");
    let wh = dir.path().join("wheelhouse");
    let out = lock_to(
        &env.venv.root,
        &target,
        &[
            "--wheelhouse",
            wh.to_str().unwrap(),
            "--base-lock",
            base_lock().to_str().unwrap(),
        ],
    );
    assert_exit(&out, 0, "pyodide-lock.json --wheelhouse");
    assert!(validate_pyodide_lock(&target) > 3);
    let lock: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    let e = &lock["packages"]["proj-local"];
    assert_eq!(e["file_name"], format!("wheelhouse/{LOCAL_WHEEL}"), "{e}");
    assert_eq!(e["version"], LOCAL_VERSION, "{e}");
    assert_eq!(
        e["sha256"],
        sha256_hex(&wh.join(LOCAL_WHEEL)).as_str(),
        "{e}"
    );
    assert_eq!(e["depends"], serde_json::json!(["demo-core"]), "{e}");
}

// ---------------------------------------------------------------------------------------------
// An sdist on a (local) index, built by pip: --allow-sdist without PyPI

/// `icelock lock ENV ARGS…` against `index` (as `--index-url`) and the fixture find-links.
fn lock_against_index<S: AsRef<OsStr>>(env: &Path, index: &str, args: &[S]) -> Output {
    let home = tempdir();
    let cwd = tempdir();
    let mut all: Vec<OsString> = vec!["lock".into(), env.into()];
    all.extend(args.iter().map(|a| a.as_ref().to_owned()));
    all.extend([
        "--index-url".into(),
        index.into(),
        "--find-links".into(),
        wheelhouse().dir.clone().into(),
        "--find-links".into(),
        tools().wheels.clone().into(),
        "--no-cache".into(),
    ]);
    let mut cmd = hermetic_icelock_command(home.path(), &all);
    cmd.current_dir(cwd.path());
    run_icelock(&mut cmd)
}

/// pip from the tools venv against `venv`, reading no pip configuration file.
fn pip_no_config(venv: &Venv) -> std::process::Command {
    let mut cmd = venv.pip_command();
    cmd.env("PIP_CONFIG_FILE", "/dev/null");
    cmd
}

#[test]
fn sdist_from_a_local_index_allow_sdist() {
    let scratch = tempdir();
    let s = scratch.path();
    // demo-sdist 2.0: only an sdist on the index.
    let project = write_project(&s.join("src"), "demo-sdist", "2.0");
    let served = s.join("served");
    fs::create_dir_all(&served).unwrap();
    let mut cmd = clean_command(&tools().python);
    cmd.current_dir(&project)
        .arg("-c")
        .arg("import sys\nfrom setuptools import build_meta\nprint(build_meta.build_sdist(sys.argv[1]))")
        .arg(&served);
    // setuptools talks on stdout too: the name is the last line.
    let sdist_name = stdout_str(&run_ok(&mut cmd))
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert_eq!(sdist_name, "demo_sdist-2.0.tar.gz");
    let sdist = served.join(&sdist_name);
    let sdist_sha = sha256_hex(&sdist);
    let server = IndexServer::start(&served, &[] as &[&str]);
    let index = server.simple_url();

    // pip builds it from the sdist (no build isolation: setuptools is in the venv).
    let venv = pip_venv_for_builds(s, "venv");
    let mut cmd = pip_no_config(&venv);
    cmd.args(["install", "--no-build-isolation", "--index-url", &index])
        .arg("--find-links")
        .arg(&wheelhouse().dir)
        .arg("demo-sdist");
    run_ok(&mut cmd);
    assert_eq!(
        venv.pip_list().get("demo-sdist").map(String::as_str),
        Some("2.0")
    );

    let d = s.join("lock");
    fs::create_dir_all(&d).unwrap();
    let pylock = d.join("pylock.toml");
    let req = d.join("requirements.txt");
    let out = lock_against_index(&venv.root, &index, &[OsStr::new("-o"), pylock.as_os_str()]);
    assert_refused(
        &out,
        &pylock,
        &[
            "demo-sdist 2.0: not lockable",
            "no wheel of demo-sdist 2.0",
            "demo_sdist-2.0.tar.gz",
            "--wheelhouse",
        ],
        "an sdist-built dist, no way out",
    );

    // --allow-sdist: the index's sdist, with a warning.
    for target in [&pylock, &req] {
        let out = lock_against_index(
            &venv.root,
            &index,
            &[
                OsStr::new("--allow-sdist"),
                OsStr::new("-o"),
                target.as_os_str(),
            ],
        );
        assert_exit(&out, 0, "lock --allow-sdist");
        let err = stderr(&out);
        assert!(
            err.contains(
                "demo-sdist 2.0: locked as its sdist demo_sdist-2.0.tar.gz (--allow-sdist)"
            ) && err.contains("not byte-reproducible"),
            "the warning\n{}",
            show(&out)
        );
    }
    validate_pylock(&pylock);
    let pkgs = pylock_packages(&pylock);
    let p = &pkgs["demo-sdist"];
    assert_eq!(p["version"], "2.0", "{p}");
    assert!(p.get("wheels").is_none(), "{p}");
    assert_eq!(p["index"], index.as_str(), "{p}");
    assert_eq!(p["sdist"]["name"], sdist_name.as_str(), "{p}");
    assert_eq!(p["sdist"]["hashes"]["sha256"], sdist_sha.as_str(), "{p}");
    assert_eq!(
        p["sdist"]["size"],
        fs::metadata(&sdist).unwrap().len(),
        "{p}"
    );
    assert!(
        p["sdist"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&server.origin()) && u.ends_with(&sdist_name)),
        "{p}"
    );
    assert_eq!(p["tool"]["icelock"]["proof"], "index-sdist", "{p}");

    // pip -r pylock.toml fetches the sdist from the index and builds it to the same files.
    let by_pip = Venv::create(&s.join("by-pip"), Installer::Pip);
    by_pip.install(&["setuptools"]);
    let mut cmd = pip_no_config(&by_pip);
    cmd.args(["install", "--no-build-isolation", "-r"])
        .arg(&pylock);
    run_ok(&mut cmd);
    let all = ["demo-sdist", "demo-core", "setuptools"];
    assert_same_env(&venv, &by_pip, &all, "pip -r pylock.toml (sdist)");

    // uv likewise (building in isolation with setuptools from the tools wheels).
    let by_uv = Venv::create(&s.join("by-uv"), Installer::Uv);
    let mut cmd = tools().uv_command();
    cmd.env("UV_CACHE_DIR", s.join("uv-cache"))
        .args(["pip", "sync", "--python"])
        .arg(by_uv.python())
        .arg("--no-index")
        .arg("--find-links")
        .arg(&tools().wheels)
        .arg(&pylock);
    run_ok(&mut cmd);
    assert_same_env(&venv, &by_uv, &all, "uv pip sync pylock.toml (sdist)");

    // requirements.txt: pinned to the sdist's hash, on the index it came from.
    let text = fs::read_to_string(&req).unwrap();
    assert!(
        text.contains(&format!(
            "demo-sdist==2.0 \\\n    --hash=sha256:{sdist_sha}\n"
        )),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim() == format!("--index-url {index}")
                || l.trim() == format!("--extra-index-url {index}")),
        "requirements.txt does not name the index its sdist is locked from ({index}), so pip \
         would look for demo-sdist on its default index:\n{text}"
    );
    let by_req = Venv::create(&s.join("by-req"), Installer::Pip);
    by_req.install(&["setuptools"]);
    let mut cmd = pip_no_config(&by_req);
    cmd.args([
        "install",
        "--require-hashes",
        "--no-deps",
        "--no-build-isolation",
        "-r",
    ])
    .arg(&req);
    run_ok(&mut cmd);
    assert_same_env(
        &venv,
        &by_req,
        &all,
        "pip --require-hashes -r requirements.txt",
    );
}

#[test]
fn sdist_from_a_local_index_wheelhouse_and_pyodide() {
    let scratch = tempdir();
    let s = scratch.path();
    let project = write_project(&s.join("src"), "demo-sdist", "2.0");
    let served = s.join("served");
    fs::create_dir_all(&served).unwrap();
    let mut cmd = clean_command(&tools().python);
    cmd.current_dir(&project)
        .arg("-c")
        .arg("import sys\nfrom setuptools import build_meta\nbuild_meta.build_sdist(sys.argv[1])")
        .arg(&served);
    run_ok(&mut cmd);
    let server = IndexServer::start(&served, &[] as &[&str]);
    let index = server.simple_url();
    let venv = pip_venv_for_builds(s, "venv");
    let mut cmd = pip_no_config(&venv);
    cmd.args(["install", "--no-build-isolation", "--index-url", &index])
        .arg("--find-links")
        .arg(&wheelhouse().dir)
        .arg("demo-sdist");
    run_ok(&mut cmd);

    // pyodide-lock.json cannot load an sdist: refused, naming --wheelhouse.
    let bl = base_lock();
    let target = s.join("out").join("pyodide-lock.json");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    let out = lock_against_index(
        &venv.root,
        &index,
        &[
            OsStr::new("--allow-sdist"),
            OsStr::new("--base-lock"),
            bl.as_os_str(),
            OsStr::new("-o"),
            target.as_os_str(),
        ],
    );
    assert_ne!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!target.exists());
    let err = stderr(&out);
    for needle in ["demo-sdist 2.0", "only load wheels", "--wheelhouse"] {
        assert!(
            err.contains(needle),
            "stderr lacks {needle:?}\n{}",
            show(&out)
        );
    }
    // With --wheelhouse: a wheel rebuilt from the installed files, loadable.
    let wh = s.join("out").join("wheelhouse");
    let out = lock_against_index(
        &venv.root,
        &index,
        &[
            OsStr::new("--wheelhouse"),
            wh.as_os_str(),
            OsStr::new("--base-lock"),
            bl.as_os_str(),
            OsStr::new("-o"),
            target.as_os_str(),
        ],
    );
    assert_exit(&out, 0, "pyodide-lock.json --wheelhouse");
    validate_pyodide_lock(&target);
    assert_eq!(wheel_files(&wh), ["demo_sdist-2.0-py3-none-any.whl"]);
    let lock: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    let e = &lock["packages"]["demo-sdist"];
    assert_eq!(
        e["file_name"], "wheelhouse/demo_sdist-2.0-py3-none-any.whl",
        "{e}"
    );

    // And a pylock with the rebuilt wheel reinstalls, offline, to the same files.
    let pylock = s.join("out").join("pylock.toml");
    let out = lock_against_index(
        &venv.root,
        &index,
        &[
            OsStr::new("--wheelhouse"),
            wh.as_os_str(),
            OsStr::new("-o"),
            pylock.as_os_str(),
        ],
    );
    assert_exit(&out, 0, "pylock --wheelhouse");
    drop(server);
    let by_pip = pip_from_pylock(s, "by-pip", &pylock);
    assert_same_env(
        &venv,
        &by_pip,
        &["demo-sdist", "demo-core", "setuptools"],
        "pip -r pylock.toml (rebuilt wheel)",
    );
}

// ---------------------------------------------------------------------------------------------
// --exclude of everything

/// `packages` is required by PEP 751 even when it is empty: a lock of an environment whose
/// every dist is left out (or of an empty one) must still be a valid pylock.toml.
#[test]
fn excluding_every_dist_still_writes_a_valid_pylock() {
    let env = editable_env();
    let dir = tempdir();
    let pylock = dir.path().join("pylock.toml");
    let out = lock_to(
        &env.venv.root,
        &pylock,
        &[
            "--exclude",
            "demo-editable",
            "--exclude",
            "demo-core",
            "--exclude",
            "setuptools",
        ],
    );
    assert_exit(&out, 0, "lock --exclude (everything)");
    let doc = toml_as_json(&pylock);
    assert_eq!(
        str_set(&doc["tool"]["icelock"]["excluded"]),
        ["demo-core", "demo-editable", "setuptools"]
            .map(String::from)
            .into(),
        "{doc}"
    );
    let parsed = validate_pylock(&pylock);
    assert_eq!(parsed["packages"], serde_json::json!([]));
}
