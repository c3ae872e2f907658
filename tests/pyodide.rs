//! A Pyodide environment, hermetic: a venv laid out as `pyodide venv` lays it out, whose
//! `pyvenv.cfg` `home` is the Pyodide runtime of the npm package `pyodide` (installed by
//! `.ci/install-test-tools`), filled by pip for the Pyodide platform from the pure fixture
//! wheels, plus one dist laid out as micropip leaves it. Then:
//!
//! - `icelock list` sees a Pyodide environment (emscripten/wasm32 markers, the runtime's Python);
//! - `icelock lock` writes a pyodide-lock.json that pyodide-lock's validator accepts: the
//!   runtime's own lock plus every installed dist, with `--download` copies beside it;
//! - the Pyodide runtime itself, under Node and offline, loads that lock, loads every installed
//!   package from it and imports every import name it gives.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;
use support::*;

/// What pip installs by name (their dependencies come along: demo-app, demo-core 1.2 and,
/// through demo-meta's `demo-app[fancy]`, demo-extra). Pure `py3-none-any` wheels only.
/// demo-scripts too: under `--target` pip writes its scripts and data into site-packages/bin
/// and site-packages/share while RECORD says `../../bin/…`, pip's `--target` layout, read so
/// in a Pyodide venv's site-packages too.
const PIP_REQUIREMENTS: &[&str] = &[
    "demo-meta",
    "demo-scripts",
    "nsdemo.alpha",
    "nsdemo.beta",
    "backdemo.tarfile",
    "demo-importname",
    "Demo_Quirks",
];

/// Every dist pip installs (normalised names).
const PIP_NAMES: &[&str] = &[
    "backdemo-tarfile",
    "demo-app",
    "demo-core",
    "demo-extra",
    "demo-importname",
    "demo-meta",
    "demo-quirks",
    "demo-scripts",
    "nsdemo-alpha",
    "nsdemo-beta",
];

/// The dist laid out as micropip installs it (INSTALLER `micropip`, `PYODIDE_*` files).
const MICROPIP_NAME: &str = "demo-single";

/// The Python of Pyodide 314.0.x, as its `pyvenv.cfg` says.
const PYODIDE_PYTHON: &str = "3.14.2";

struct PyodideEnv {
    venv: PathBuf,
    site_packages: PathBuf,
    runtime: PathBuf,
    /// The fixture wheel the micropip-style dist came from.
    micropip_wheel: PathBuf,
    micropip_sha256: String,
}

fn all_names() -> BTreeSet<String> {
    PIP_NAMES
        .iter()
        .chain([&MICROPIP_NAME])
        .map(|s| s.to_string())
        .collect()
}

/// Builds the Pyodide venv once per test process.
fn pyodide_env() -> &'static PyodideEnv {
    static ENV: OnceLock<PyodideEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        let runtime = pyodide_runtime();
        let dir = process_scratch().join("pyodide-env");
        let _ = fs::remove_dir_all(&dir);
        let venv = dir.join("venv");
        let site_packages = venv.join("lib").join("python3.14").join("site-packages");
        fs::create_dir_all(&site_packages).unwrap();
        fs::write(
            venv.join("pyvenv.cfg"),
            format!(
                "home = {}\nimplementation = CPython\nversion_info = {PYODIDE_PYTHON}.final.0\n\
                 include-system-site-packages = false\n",
                runtime.display()
            ),
        )
        .unwrap();

        // pip, for the Pyodide platform, into the venv's site-packages.
        let wh = wheelhouse();
        let mut cmd = tools().pip_command();
        cmd.args([
            "install",
            "--platform",
            "pyemscripten_2026_0_wasm32",
            "--platform",
            "pyodide_2026_0_wasm32",
            "--python-version",
            "3.14",
            "--only-binary=:all:",
            "--no-index",
            "--target",
        ])
        .arg(&site_packages)
        .arg("--find-links")
        .arg(&wh.dir)
        .args(PIP_REQUIREMENTS);
        run_ok(&mut cmd);

        // What pip left: one .dist-info per dist, INSTALLER `pip`, a RECORD, and nothing
        // outside site-packages.
        let mut dist_infos = BTreeMap::new();
        for e in fs::read_dir(&site_packages).unwrap() {
            let p = e.unwrap().path();
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(stem) = f.strip_suffix(".dist-info") {
                let (name, version) = stem.rsplit_once('-').unwrap();
                dist_infos.insert(normalize(name), version.to_owned());
                assert_eq!(fs::read(p.join("INSTALLER")).unwrap(), b"pip\n", "{f}");
                assert!(p.join("RECORD").is_file(), "{f} has no RECORD");
            }
        }
        assert_eq!(
            dist_infos.keys().cloned().collect::<BTreeSet<_>>(),
            PIP_NAMES.iter().map(|s| s.to_string()).collect(),
            "what pip installed into {}",
            site_packages.display()
        );
        assert_eq!(dist_infos["demo-core"], "1.2");
        let mut top: Vec<String> = fs::read_dir(&venv)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        top.sort();
        assert_eq!(top, ["lib", "pyvenv.cfg"], "the venv's root");

        // demo-single as micropip leaves it: the wheel unpacked (its own RECORD), INSTALLER
        // `micropip`, and the URL and sha256 it was fetched with.
        let micropip_wheel = wh.wheel(MICROPIP_NAME, "1.0").path.clone();
        let micropip_sha256 = sha256_hex(&micropip_wheel);
        const UNPACK: &str = r#"
import hashlib, pathlib, sys, zipfile
wheel, site = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as z:
    z.extractall(site)
    [dist_info] = {n.split("/")[0] for n in z.namelist() if n.split("/")[0].endswith(".dist-info")}
d = site / dist_info
url = wheel.as_uri()
(d / "INSTALLER").write_text("micropip")
(d / "PYODIDE_SOURCE").write_text(url)
(d / "PYODIDE_URL").write_text(url)
(d / "PYODIDE_SHA256").write_text(hashlib.sha256(wheel.read_bytes()).hexdigest())
print(dist_info)
"#;
        let dist_info = tools().python_eval(
            UNPACK,
            &[micropip_wheel.as_os_str(), site_packages.as_os_str()],
        );
        assert_eq!(dist_info.trim(), "demo_single-1.0.dist-info");

        PyodideEnv {
            venv,
            site_packages,
            runtime,
            micropip_wheel,
            micropip_sha256,
        }
    })
}

/// `icelock list --format json` of the Pyodide venv, once.
fn listed() -> &'static Value {
    static LIST: OnceLock<Value> = OnceLock::new();
    LIST.get_or_init(|| list_json(&pyodide_env().venv))
}

/// `icelock lock <venv> ARGS… --find-links <wheelhouse> --no-index --no-cache`, HOME a fresh
/// temp dir, run in `cwd`.
fn lock_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Output {
    let home = tempdir();
    let mut all: Vec<OsString> = vec!["lock".into(), pyodide_env().venv.clone().into()];
    all.extend(args.iter().map(|a| a.as_ref().to_owned()));
    all.extend([
        OsString::from("--find-links"),
        wheelhouse().dir.clone().into(),
        OsString::from("--no-index"),
        OsString::from("--no-cache"),
    ]);
    let mut cmd = hermetic_icelock_command(home.path(), &all);
    cmd.current_dir(cwd);
    run_icelock(&mut cmd)
}

struct Locked {
    dir: PathBuf,
    path: PathBuf,
    lock: Value,
}

/// `icelock lock <venv> -o <dir>/pyodide-lock.json --download <dir>/wheels …`, once.
fn locked() -> &'static Locked {
    static LOCKED: OnceLock<Locked> = OnceLock::new();
    LOCKED.get_or_init(|| {
        let dir = process_scratch().join("pyodide-out");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pyodide-lock.json");
        let wheels = dir.join("wheels");
        let out = lock_in(
            &dir,
            &[
                OsStr::new("-o"),
                path.as_os_str(),
                OsStr::new("--download"),
                wheels.as_os_str(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "lock failed\n{}", show(&out));
        assert!(
            out.stdout.is_empty(),
            "nothing on stdout with -o\n{}",
            show(&out)
        );
        let lock: Value = serde_json::from_slice(
            &fs::read(&path).unwrap_or_else(|e| panic!("{} not written: {e}", path.display())),
        )
        .expect("pyodide-lock.json is JSON");
        Locked { dir, path, lock }
    })
}

fn runtime_lock() -> Value {
    let path = pyodide_env().runtime.join("pyodide-lock.json");
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn sorted(v: &Value) -> Vec<String> {
    let mut v = str_vec(v);
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------

#[test]
fn list_sees_a_pyodide_environment() {
    let env = pyodide_env();
    let report = listed();
    let e = &report["environment"];
    let pyodide = &e["pyodide"];
    assert!(pyodide.is_object(), "environment.pyodide not set: {e}");
    assert_eq!(
        canon(pyodide["home"].as_str().unwrap()),
        canon(&env.runtime),
        "{pyodide}"
    );
    assert_eq!(
        canon(pyodide["lock"].as_str().unwrap()),
        canon(env.runtime.join("pyodide-lock.json"))
    );
    let runtime_info = &runtime_lock()["info"];
    for key in ["arch", "platform", "python", "abi_version"] {
        assert_eq!(pyodide[key], runtime_info[key], "pyodide.{key}");
    }
    assert_eq!(e["python_version"], PYODIDE_PYTHON);
    assert_eq!(e["markers_source"], "pyodide");
    let m = &e["markers"];
    assert_eq!(m["sys_platform"], "emscripten", "{m}");
    assert_eq!(m["platform_system"], "Emscripten", "{m}");
    assert_eq!(m["platform_machine"], "wasm32", "{m}");
    assert_eq!(m["python_full_version"], PYODIDE_PYTHON, "{m}");
    assert_eq!(m["python_version"], "3.14", "{m}");
    assert_eq!(m["implementation_name"], "cpython", "{m}");
    assert_eq!(
        str_vec(&e["site_packages"])
            .iter()
            .map(canon)
            .collect::<Vec<_>>(),
        [canon(&env.site_packages)]
    );

    let packages = packages_by_name(report);
    assert_eq!(
        packages.keys().cloned().collect::<BTreeSet<_>>(),
        all_names(),
        "listed dists"
    );
    for name in PIP_NAMES {
        assert_eq!(packages[*name]["installer"], "pip", "{name}");
    }
    let single = &packages[MICROPIP_NAME];
    assert_eq!(single["installer"], "micropip", "{single}");
    assert_eq!(single["source"]["kind"], "micropip", "{single}");
    assert_eq!(single["imports"], serde_json::json!(["singlemod"]));
    // The markers decide what is required: demo-app's `sys_platform == "win32"` dependency is
    // not, its active "fancy" extra is.
    assert_eq!(
        str_set(&packages["demo-app"]["depends"]),
        ["demo-core", "demo-extra"].map(String::from).into()
    );
    assert!(
        packages
            .values()
            .all(|p| p["problems"] == Value::Array(vec![])),
        "problems: {report}"
    );
}

#[test]
fn lock_is_the_runtime_lock_plus_every_installed_dist() {
    let env = pyodide_env();
    let Locked { dir, path, lock } = locked();

    // pyodide-lock's own validator accepts it.
    let runtime = runtime_lock();
    let runtime_packages = runtime["packages"].as_object().unwrap();
    let packages = lock["packages"].as_object().expect("packages object");
    assert_eq!(validate_pyodide_lock(path), packages.len());
    assert_eq!(
        packages.len(),
        runtime_packages.len() + all_names().len(),
        "the runtime's packages plus the installed ones"
    );
    assert_eq!(lock["info"], runtime["info"], "info is the runtime's");

    // The runtime's packages: as in its lock, with file_name made absolute under the runtime's
    // folder (the default --base-url).
    for (key, theirs) in runtime_packages {
        let ours = packages
            .get(key)
            .unwrap_or_else(|| panic!("runtime package {key} missing"));
        let mut expected = theirs.clone();
        let fname = theirs["file_name"].as_str().unwrap();
        let ours_fname = ours["file_name"].as_str().unwrap();
        if fname.contains("://") || fname.starts_with('/') {
            assert_eq!(ours_fname, fname, "{key}");
        } else {
            let p = Path::new(ours_fname);
            assert!(p.is_absolute(), "{key}: {ours_fname} is not absolute");
            assert_eq!(canon(p.parent().unwrap()), canon(&env.runtime), "{key}");
            assert_eq!(p.file_name().unwrap().to_str(), Some(fname), "{key}");
            expected["file_name"] = ours["file_name"].clone();
        }
        assert_eq!(ours, &expected, "runtime package {key}");
    }

    // The installed dists: canonical keys, exactly the spec's fields, the downloaded wheel.
    let listed = packages_by_name(listed());
    let wheels_dir = dir.join("wheels");
    let mut downloaded: Vec<String> = fs::read_dir(&wheels_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    downloaded.sort();
    let mut expected_files = Vec::new();
    for key in all_names() {
        assert!(
            !runtime_packages.contains_key(&key),
            "{key} is also a runtime package: pick another fixture"
        );
        let p = packages
            .get(&key)
            .unwrap_or_else(|| panic!("installed dist {key} missing from the lock"));
        let fields: BTreeSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            BTreeSet::from([
                "name",
                "version",
                "file_name",
                "install_dir",
                "sha256",
                "package_type",
                "imports",
                "depends",
                "unvendored_tests"
            ]),
            "{key}: {p}"
        );
        let l = &listed[&key];
        assert_eq!(normalize(p["name"].as_str().unwrap()), key);
        assert_eq!(p["name"], l["display_name"], "{key}: name is METADATA's");
        assert_eq!(p["version"], l["version"], "{key}");
        assert_eq!(p["install_dir"], "site", "{key}");
        assert_eq!(p["package_type"], "package", "{key}");
        assert_eq!(p["unvendored_tests"], false, "{key}");
        assert_eq!(
            sorted(&p["imports"]),
            sorted(&l["imports"]),
            "{key}: imports"
        );
        assert_eq!(
            sorted(&p["depends"]),
            sorted(&l["depends"]),
            "{key}: depends"
        );

        let version = l["version"].as_str().unwrap();
        let fixture = wheelhouse().wheel(&key, version);
        let fname = fixture
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            p["file_name"],
            format!("wheels/{fname}"),
            "{key}: relative to the lock"
        );
        let copy = wheels_dir.join(&fname);
        let sha = sha256_hex(&copy);
        assert_eq!(p["sha256"], sha, "{key}: sha256 of the downloaded wheel");
        assert_eq!(
            sha,
            sha256_hex(&fixture.path),
            "{key}: the copy is the fixture"
        );
        expected_files.push(fname);
    }
    expected_files.sort();
    assert_eq!(downloaded, expected_files, "what --download wrote");

    // The micropip dist is there with the hash micropip recorded.
    assert_eq!(packages[MICROPIP_NAME]["sha256"], env.micropip_sha256);
    assert_eq!(
        packages[MICROPIP_NAME]["file_name"],
        format!(
            "wheels/{}",
            env.micropip_wheel.file_name().unwrap().to_string_lossy()
        )
    );
}

#[test]
fn micropip_dist_is_attributed_to_its_record() {
    let env = pyodide_env();
    let dir = tempdir();
    let out = lock_in(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report = json_stdout(&out);
    let packages = packages_by_name(&report);
    let single = &packages[MICROPIP_NAME];
    assert_eq!(single["installer"], "micropip", "{single}");
    let source = &single["source"];
    assert_eq!(source["kind"], "micropip", "{single}");
    // micropip's record names a local wheel: read whole, its RECORD compared, its hash taken.
    assert_eq!(source["proof"], "wheel-hash", "{single}");
    assert_eq!(source["evidence"], "micropip-record", "{single}");
    assert_eq!(source["sha256"], env.micropip_sha256, "{single}");
    let url = source["url"].as_str().unwrap();
    let path = url.strip_prefix("file://").unwrap_or(url);
    assert_eq!(canon(path), canon(&env.micropip_wheel), "{single}");
    // The pip-installed ones are proven against the find-links folder.
    for name in PIP_NAMES {
        let s = &packages[*name]["source"];
        assert_eq!(s["kind"], "index", "{name}: {s}");
        assert_eq!(
            s["proof"], "wheel-hash",
            "{name}: a local file is read whole: {s}"
        );
        assert_eq!(s["evidence"], "index-listing", "{name}: {s}");
    }
}

#[test]
fn default_format_is_pyodide_lock_with_base_url() {
    let base = "https://static.example/pyodide/v314.0.7/full/";
    let dir = tempdir();
    let out = lock_in(dir.path(), &["--base-url", base]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no -o: nothing written"
    );
    let lock = json_stdout(&out);
    let packages = lock["packages"].as_object().expect("a pyodide-lock.json");
    let runtime = runtime_lock();
    for (key, theirs) in runtime["packages"].as_object().unwrap() {
        let fname = theirs["file_name"].as_str().unwrap();
        let expected = if fname.contains("://") || fname.starts_with('/') {
            fname.to_owned()
        } else {
            format!("{base}{fname}")
        };
        assert_eq!(packages[key]["file_name"], expected, "{key}");
    }
    // Without --download the installed dists point at the files they were proven against.
    let listed = packages_by_name(listed());
    for key in all_names() {
        let p = &packages[&key];
        let f = p["file_name"].as_str().unwrap();
        let local = f.strip_prefix("file://").unwrap_or(f);
        assert!(Path::new(local).is_absolute(), "{key}: {f}");
        let fixture = wheelhouse().wheel(&key, listed[&key]["version"].as_str().unwrap());
        assert_eq!(canon(local), canon(&fixture.path), "{key}");
    }
    let path = dir.path().join("stdout-pyodide-lock.json");
    fs::write(&path, &out.stdout).unwrap();
    assert_eq!(validate_pyodide_lock(&path), packages.len());
}

#[test]
fn pyodide_under_node_loads_the_lock_and_imports_everything() {
    let env = pyodide_env();
    let node = node_exe();
    let Locked { path, lock, .. } = locked();
    let packages = lock["packages"].as_object().unwrap();

    // Load every installed dist by the name its lock entry gives, and import every import name.
    let mut wanted = serde_json::Map::new();
    for key in all_names() {
        let p = &packages[&key];
        wanted.insert(p["name"].as_str().unwrap().to_owned(), p["imports"].clone());
    }
    let wanted = Value::Object(wanted);
    let imports: BTreeSet<String> = wanted
        .as_object()
        .unwrap()
        .values()
        .flat_map(str_vec)
        .collect();
    assert!(
        imports.len() >= 10,
        "too few imports to be a test: {imports:?}"
    );

    let script = fixtures_dir().join("pyodide").join("load.mjs");
    let home = tempdir();
    let mut cmd = clean_command(&node);
    cmd.arg(&script)
        .arg(&env.runtime)
        .arg(path)
        .arg(wanted.to_string())
        .env("HOME", home.path());
    let out = run_ok(&mut cmd);
    let stdout = stdout_str(&out);
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("load.mjs printed no JSON ({e})\n{}", show(&out)));

    assert_eq!(
        result["network"],
        Value::Array(vec![]),
        "network access: {result}"
    );
    assert!(
        result["load_error"].is_null(),
        "loadPackage failed: {result}"
    );
    let loaded: BTreeSet<String> = str_vec(&result["loaded"])
        .iter()
        .map(|n| normalize(n))
        .collect();
    assert_eq!(loaded, all_names(), "loaded packages: {result}");

    for (name, info) in result["dists"].as_object().unwrap() {
        let key = normalize(name);
        assert_eq!(
            info["version"], packages[&key]["version"],
            "{name}: version seen by importlib.metadata: {result}"
        );
        assert_eq!(info["installer"], "pyodide.loadPackage", "{name}: {info}");
    }
    assert_eq!(
        result["dists"].as_object().unwrap().len(),
        all_names().len()
    );

    let results = result["imports"].as_object().unwrap();
    assert_eq!(
        results.keys().cloned().collect::<BTreeSet<_>>(),
        imports,
        "{result}"
    );
    for (module, r) in results {
        assert_eq!(r["ok"], true, "import {module} failed: {r}");
        let file = r["file"].as_str().unwrap_or_default();
        assert!(
            file.contains("/site-packages/"),
            "import {module} came from {file}, not site-packages"
        );
    }
}

#[test]
fn download_with_relative_paths_is_relative_to_the_lock() {
    let dir = tempdir();
    let sub = dir.path().join("site");
    fs::create_dir(&sub).unwrap();
    // The lock in site/, the wheels in a sibling folder, both given relative to the cwd.
    let out = lock_in(
        dir.path(),
        &["-o", "site/pyodide-lock.json", "--download", "dl/whl"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let path = sub.join("pyodide-lock.json");
    let lock: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    for key in all_names() {
        let p = &lock["packages"][&key];
        let f = p["file_name"].as_str().unwrap();
        assert!(f.starts_with("../dl/whl/"), "{key}: {f}");
        let resolved = sub.join(f);
        assert!(resolved.is_file(), "{key}: {} missing", resolved.display());
        assert_eq!(p["sha256"], sha256_hex(&resolved), "{key}");
    }
    assert_eq!(
        validate_pyodide_lock(&path),
        lock["packages"].as_object().unwrap().len()
    );
}

/// The environment verifies against its own pyodide-lock.json: every installed dist is `ok`,
/// proven to be the wheel the lock names (the copies `--download` made, by relative path), and
/// the runtime's packages that are not installed are not `missing`: such a lock is a
/// repository of what may be loaded.
#[test]
fn verifies_against_its_own_pyodide_lock() {
    let locked = locked();
    let home = tempdir();
    let mut cmd = hermetic_icelock_command(
        home.path(),
        &[
            OsStr::new("verify"),
            OsStr::new("--lock"),
            locked.path.as_os_str(),
            OsStr::new("--format"),
            OsStr::new("json"),
            OsStr::new("--no-index"),
            pyodide_env().venv.as_os_str(),
        ],
    );
    let out = run_icelock(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report = json_stdout(&out);
    let packages = report["packages"].as_array().unwrap();
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, all_names(), "{report:#}");
    for p in packages {
        assert_eq!(p["status"], "ok", "{p:#}");
        let artifact = &p["installed"]["artifact"];
        let file = locked
            .dir
            .join("wheels")
            .join(artifact["filename"].as_str().unwrap());
        assert_eq!(
            artifact["sha256"].as_str(),
            Some(sha256_hex(&file).as_str()),
            "{p:#}"
        );
    }
    assert!(
        runtime_lock()["packages"].as_object().unwrap().len() > names.len(),
        "the runtime lock holds packages that are not installed"
    );
}
