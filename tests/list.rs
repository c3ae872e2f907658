//! `icelock list` against real environments built offline by pip and by uv from the fixture
//! wheels (tests/fixtures/make_wheels.py), checked against what the installers themselves say
//! (`pip list`, `uv pip list`, `pip inspect`) and against the files on disk.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use serde_json::Value;
use support::*;

/// Import names each fixture dist provides (the editables included).
const EXPECTED_IMPORTS: &[(&str, &[&str])] = &[
    ("backdemo-tarfile", &["backdemo.tarfile"]), // pkgutil-style namespace
    ("demo-app", &["demo_app"]),
    ("demo-core", &["demo_core"]),
    ("demo-editable", &["demo_editable"]), // editable, src layout (.pth path)
    ("demo-extra", &["demo_extra"]),
    ("demo-flat", &["demo_flat"]), // editable, setuptools finder MAPPING
    ("demo-importname", &["_demo_in_speedups", "demo_in"]), // PEP 794 Import-Name, one "; private"
    ("demo-meta", &[]),            // metapackage
    ("demo-native", &["_demo_native", "demo_native"]), // extension module + .py
    ("demo-quirks", &["demo_quirks"]),
    ("demo-scripts", &["demo_scripts"]),
    ("demo-single", &["singlemod"]),
    ("nsdemo-alpha", &["nsdemo.alpha"]), // PEP 420 namespace
    ("nsdemo-beta", &["nsdemo.beta", "nsdemo.betamod"]), // + a module directly in the namespace
];

/// Installed dists each one requires here (fancy is active: demo-meta asks for it).
const EXPECTED_DEPENDS: &[(&str, &[&str])] = &[
    ("backdemo-tarfile", &[]),
    ("demo-app", &["demo-core", "demo-extra"]),
    ("demo-core", &[]),
    ("demo-editable", &["demo-core"]),
    ("demo-extra", &[]),
    ("demo-flat", &[]),
    ("demo-importname", &[]),
    ("demo-meta", &["demo-app", "demo-core"]),
    ("demo-native", &[]),
    ("demo-quirks", &["demo-core"]),
    ("demo-scripts", &[]),
    ("demo-single", &[]),
    ("nsdemo-alpha", &[]),
    ("nsdemo-beta", &[]),
];

const FULL_NAMES: &[&str] = &[
    "backdemo-tarfile",
    "demo-app",
    "demo-core",
    "demo-editable",
    "demo-extra",
    "demo-flat",
    "demo-importname",
    "demo-meta",
    "demo-native",
    "demo-quirks",
    "demo-scripts",
    "demo-single",
    "nsdemo-alpha",
    "nsdemo-beta",
    "setuptools",
];

fn report(installer: Installer) -> &'static Value {
    use std::sync::OnceLock;
    static PIP: OnceLock<Value> = OnceLock::new();
    static UV: OnceLock<Value> = OnceLock::new();
    let cell = match installer {
        Installer::Pip => &PIP,
        Installer::Uv => &UV,
    };
    cell.get_or_init(|| list_json(&shared_full_env(installer).venv.root))
}

fn name_versions(report: &Value) -> BTreeMap<String, String> {
    packages_by_name(report)
        .into_iter()
        .map(|(n, p)| (n, p["version"].as_str().expect("version").to_owned()))
        .collect()
}

fn pkg<'a>(pkgs: &'a BTreeMap<String, Value>, name: &str) -> &'a Value {
    pkgs.get(name).unwrap_or_else(|| {
        panic!(
            "{name} not listed; listed: {:?}",
            pkgs.keys().collect::<Vec<_>>()
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Names, versions, installers: the installers are the oracle

fn assert_matches_installers(installer: Installer) {
    let env = shared_full_env(installer);
    let ours = name_versions(report(installer));
    let pip = env.venv.pip_list();
    let uv = env.venv.uv_pip_list();
    assert_eq!(
        ours,
        pip,
        "icelock list vs pip list ({} env)",
        installer.name()
    );
    assert_eq!(
        ours,
        uv,
        "icelock list vs uv pip list ({} env)",
        installer.name()
    );
    let expected: BTreeSet<String> = FULL_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(ours.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(ours["demo-core"], "1.2");
    assert_eq!(ours["nsdemo-beta"], "2.0");
}

#[test]
fn pip_env_names_and_versions_match_pip_and_uv() {
    assert_matches_installers(Installer::Pip);
}

#[test]
fn uv_env_names_and_versions_match_pip_and_uv() {
    assert_matches_installers(Installer::Uv);
}

#[test]
fn installer_is_what_installed_each_dist() {
    for installer in [Installer::Pip, Installer::Uv] {
        let pkgs = packages_by_name(report(installer));
        for (name, p) in &pkgs {
            assert_eq!(
                p["installer"].as_str(),
                Some(installer.name()),
                "installer of {name} in the {} env: {p}",
                installer.name()
            );
        }
    }
}

/// pip inspect is the oracle for display names and REQUESTED, in both envs (uv writes
/// REQUESTED on every dist, so there everything is "requested").
fn assert_matches_pip_inspect(installer: Installer) {
    let env = shared_full_env(installer);
    let pkgs = packages_by_name(report(installer));
    let inspect = env.venv.pip_inspect();
    assert_eq!(
        inspect.len(),
        pkgs.len(),
        "pip inspect and icelock count different dists"
    );
    for d in &inspect {
        let display = d["metadata"]["name"].as_str().unwrap();
        let p = pkg(&pkgs, &normalize(display));
        assert_eq!(
            p["display_name"].as_str(),
            Some(display),
            "display_name of {display}"
        );
        assert_eq!(
            p["version"], d["metadata"]["version"],
            "version of {display}"
        );
        assert_eq!(p["installer"], d["installer"], "installer of {display}");
        assert_eq!(
            p["requested"].as_bool(),
            d["requested"].as_bool(),
            "requested of {display}: icelock {} vs pip inspect {}",
            p["requested"],
            d["requested"]
        );
    }
    assert_eq!(pkg(&pkgs, "demo-quirks")["display_name"], "Demo_Quirks");
    assert_eq!(pkg(&pkgs, "nsdemo-alpha")["display_name"], "nsdemo.alpha");
}

#[test]
fn display_name_and_requested_match_pip_inspect_pip_env() {
    assert_matches_pip_inspect(Installer::Pip);
    // What the test asked for by name is requested; what came in as a dependency is not.
    let pkgs = packages_by_name(report(Installer::Pip));
    assert_eq!(pkg(&pkgs, "demo-meta")["requested"], true);
    assert_eq!(pkg(&pkgs, "demo-single")["requested"], true);
    assert_eq!(pkg(&pkgs, "demo-core")["requested"], false);
    assert_eq!(pkg(&pkgs, "demo-app")["requested"], false);
}

#[test]
fn display_name_and_requested_match_pip_inspect_uv_env() {
    assert_matches_pip_inspect(Installer::Uv);
}

// ---------------------------------------------------------------------------------------------
// Imports, depends, extras

fn assert_imports(installer: Installer) {
    let pkgs = packages_by_name(report(installer));
    let mut wrong = Vec::new();
    for (name, want) in EXPECTED_IMPORTS {
        let got = str_vec(&pkg(&pkgs, name)["imports"]);
        let want = strs(want);
        if got != want {
            wrong.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports ({} env):\n{}",
        installer.name(),
        wrong.join("\n")
    );
    // setuptools: not a fixture, but its own package must be there.
    let st = str_set(&pkg(&pkgs, "setuptools")["imports"]);
    assert!(st.contains("setuptools"), "setuptools imports: {st:?}");
}

#[test]
fn imports_pip_env() {
    assert_imports(Installer::Pip);
}

#[test]
fn imports_uv_env() {
    assert_imports(Installer::Uv);
}

fn assert_depends_and_extras(installer: Installer) {
    let pkgs = packages_by_name(report(installer));
    let mut wrong = Vec::new();
    for (name, want) in EXPECTED_DEPENDS {
        let got = str_vec(&pkg(&pkgs, name)["depends"]);
        if got != strs(want) {
            wrong.push(format!("{name}: depends {got:?}, want {want:?}"));
        }
        let extras = str_vec(&pkg(&pkgs, name)["extras"]);
        let want_extras: Vec<String> = if *name == "demo-app" {
            strs(&["fancy"])
        } else {
            Vec::new()
        };
        if extras != want_extras {
            wrong.push(format!("{name}: extras {extras:?}, want {want_extras:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} env:\n{}",
        installer.name(),
        wrong.join("\n")
    );
}

#[test]
fn depends_and_extras_pip_env() {
    assert_depends_and_extras(Installer::Pip);
}

#[test]
fn depends_and_extras_uv_env() {
    assert_depends_and_extras(Installer::Uv);
}

/// An extra is active when a dependent asks for it, or when all its requirements are installed.
#[test]
fn extras_are_inferred_from_what_is_installed() {
    let tmp = tempdir();

    // demo-app alone: demo-extra is not there and nobody asks for "fancy".
    let alone = Venv::create(&tmp.path().join("alone"), Installer::Uv);
    alone.install(&["demo-app"]);
    let pkgs = packages_by_name(&list_json(&alone.root));
    let app = pkg(&pkgs, "demo-app");
    assert_eq!(
        str_vec(&app["extras"]),
        Vec::<String>::new(),
        "demo-app alone: {app}"
    );
    assert_eq!(
        str_vec(&app["depends"]),
        strs(&["demo-core"]),
        "demo-app alone: {app}"
    );

    // demo-app and demo-extra, installed side by side: every requirement of "fancy" is there.
    let side = Venv::create(&tmp.path().join("side"), Installer::Uv);
    side.install(&["demo-app", "demo-extra"]);
    let pkgs = packages_by_name(&list_json(&side.root));
    let app = pkg(&pkgs, "demo-app");
    assert_eq!(
        str_vec(&app["extras"]),
        strs(&["fancy"]),
        "demo-app + demo-extra: {app}"
    );
    assert_eq!(
        str_vec(&app["depends"]),
        strs(&["demo-core", "demo-extra"]),
        "{app}"
    );
    // "win"'s requirement (demo-winonly) is never installed, so "win" is never active.

    // demo-meta asks for demo-app[fancy]; demo-extra then removed: fancy is still active (a
    // dependent asks for it), but demo-extra is not installed so it is not a dependency.
    let asked = Venv::create(&tmp.path().join("asked"), Installer::Pip);
    asked.install(&["demo-meta"]);
    asked.uninstall(&["demo-extra"]);
    let pkgs = packages_by_name(&list_json(&asked.root));
    let app = pkg(&pkgs, "demo-app");
    assert_eq!(
        str_vec(&app["extras"]),
        strs(&["fancy"]),
        "asked-for extra: {app}"
    );
    assert_eq!(
        str_vec(&app["depends"]),
        strs(&["demo-core"]),
        "asked-for extra: {app}"
    );
}

// ---------------------------------------------------------------------------------------------
// Sources

#[test]
fn index_installs_have_index_source() {
    for installer in [Installer::Pip, Installer::Uv] {
        let pkgs = packages_by_name(report(installer));
        for name in [
            "demo-app",
            "demo-core",
            "demo-native",
            "nsdemo-beta",
            "demo-quirks",
            "demo-meta",
        ] {
            let p = pkg(&pkgs, name);
            assert_eq!(
                p["source"]["kind"],
                "index",
                "{name} ({} env): {p}",
                installer.name()
            );
        }
    }
}

#[test]
fn editable_installs_have_editable_source_and_imports() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        // The two fixtures exercise setuptools' two editable modes: a .pth holding the src
        // folder, and an import finder whose MAPPING names the package folder.
        let sp = env.venv.site_packages();
        let pth = fs::read_to_string(sp.join("__editable__.demo_editable-0.1.pth")).unwrap();
        assert_eq!(canon(pth.trim()), canon(env.editable.join("src")), "{pth}");
        let finder = fs::read_to_string(sp.join("__editable___demo_flat_0_1_finder.py")).unwrap();
        assert!(
            finder.contains("MAPPING") && finder.contains("'demo_flat'"),
            "{finder}"
        );
        let pkgs = packages_by_name(report(installer));
        for (name, dir) in [("demo-editable", &env.editable), ("demo-flat", &env.flat)] {
            let p = pkg(&pkgs, name);
            let src = &p["source"];
            assert_eq!(
                src["kind"],
                "editable",
                "{name} ({} env): {p}",
                installer.name()
            );
            let path = src["path"]
                .as_str()
                .unwrap_or_else(|| panic!("no source.path: {p}"));
            assert_eq!(canon(path), canon(dir), "{name} source.path");
            let url = src["url"]
                .as_str()
                .unwrap_or_else(|| panic!("no source.url: {p}"));
            assert!(url.starts_with("file://"), "{name} source.url {url}");
            assert!(
                url.trim_end_matches('/')
                    .ends_with(&format!("/{}", dir.file_name().unwrap().to_string_lossy())),
                "{name} source.url {url} vs {}",
                dir.display()
            );
            assert_eq!(p["format"], "dist-info", "{name}: {p}");
        }
        // Listed once, though setuptools may leave an .egg-info in the project too.
        assert_eq!(
            report(installer)["packages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["name"] == "demo-editable")
                .count(),
            1
        );
    }
}

/// pip records the sha256 of a wheel installed by path; icelock reports it.
#[test]
fn path_install_has_url_source_with_wheel_sha256() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let pkgs = packages_by_name(report(installer));
        let p = pkg(&pkgs, "demo-single");
        let src = &p["source"];
        assert_eq!(src["kind"], "url", "{} env: {p}", installer.name());
        let path = src["path"]
            .as_str()
            .unwrap_or_else(|| panic!("no source.path: {p}"));
        assert_eq!(canon(path), canon(&env.single_wheel));
        let url = src["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no source.url: {p}"));
        assert!(
            url.starts_with("file://") && url.ends_with("/demo_single-1.0-py3-none-any.whl"),
            "{url}"
        );
        let want = format!("sha256={}", sha256_hex(&env.single_wheel));
        match installer {
            // pip writes archive_info.hash.
            Installer::Pip => assert_eq!(src["hash"].as_str(), Some(want.as_str()), "{p}"),
            // uv writes `archive_info: {}`: no hash is known; if one is given it must be right.
            Installer::Uv => {
                if let Some(h) = src.get("hash").and_then(Value::as_str) {
                    assert_eq!(h, want, "{p}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wheel, METADATA, location

#[test]
fn wheel_tags_build_and_generator() {
    for installer in [Installer::Pip, Installer::Uv] {
        let pkgs = packages_by_name(report(installer));
        let native = &pkg(&pkgs, "demo-native")["wheel"];
        assert_eq!(
            str_set(&native["tags"]),
            [
                "cp311-cp311-manylinux2014_x86_64",
                "cp311-cp311-manylinux_2_17_x86_64"
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
            "{native}"
        );
        assert!(native["build"].is_null(), "{native}");
        assert_eq!(native["generator"], "icelock-fixtures (1.0)", "{native}");
        let extra = &pkg(&pkgs, "demo-extra")["wheel"];
        assert_eq!(
            extra["build"], "1",
            "demo-extra wheel has build tag 1: {extra}"
        );
        assert_eq!(str_vec(&extra["tags"]), strs(&["py3-none-any"]), "{extra}");
        let meta = &pkg(&pkgs, "demo-meta")["wheel"];
        assert_eq!(str_vec(&meta["tags"]), strs(&["py3-none-any"]), "{meta}");
        let ed = &pkg(&pkgs, "demo-editable")["wheel"];
        assert!(
            ed["generator"]
                .as_str()
                .is_some_and(|g| g.starts_with("setuptools")),
            "editable wheel generator: {ed}"
        );
    }
}

#[test]
fn metadata_sha256_and_location() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let pkgs = packages_by_name(report(installer));
        let sp = canon(env.venv.site_packages());
        for name in FULL_NAMES {
            let p = pkg(&pkgs, name);
            let dist_info = env.venv.dist_info(name);
            let loc = p["location"]
                .as_str()
                .unwrap_or_else(|| panic!("no location: {p}"));
            assert_eq!(canon(loc), canon(&dist_info), "{name} location");
            assert_eq!(
                canon(Path::new(loc).parent().unwrap()),
                sp,
                "{name} not in site-packages"
            );
            assert_eq!(p["format"], "dist-info", "{name}");
            let want = sha256_hex(&dist_info.join("METADATA"));
            assert_eq!(
                p["metadata_sha256"].as_str(),
                Some(want.as_str()),
                "{name} metadata_sha256"
            );
            assert_eq!(
                p["problems"].as_array().map(Vec::len),
                Some(0),
                "{name} problems: {p}"
            );
        }
        let quirks = pkg(&pkgs, "demo-quirks");
        assert!(
            quirks["location"]
                .as_str()
                .unwrap()
                .ends_with("/Demo_Quirks-1.0.dist-info"),
            "{quirks}"
        );
        assert_eq!(quirks["version"], "1.0");
        let problems = &report(installer)["problems"];
        assert_eq!(
            problems.as_array().map(Vec::len),
            Some(0),
            "top-level problems: {problems}"
        );
    }
}

#[test]
fn every_package_has_the_contract_fields() {
    let keys = [
        "name",
        "display_name",
        "version",
        "installer",
        "requested",
        "location",
        "format",
        "source",
        "wheel",
        "metadata_sha256",
        "imports",
        "depends",
        "extras",
        "problems",
    ];
    for installer in [Installer::Pip, Installer::Uv] {
        for p in report(installer)["packages"].as_array().unwrap() {
            for k in keys {
                assert!(p.get(k).is_some(), "package lacks {k}: {p}");
            }
            assert!(p["requested"].is_boolean(), "{p}");
            assert!(p["source"]["kind"].is_string(), "{p}");
            for k in ["imports", "depends", "extras"] {
                let v = str_vec(&p[k]);
                let mut sorted = v.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(v, sorted, "{k} must be sorted and unique: {p}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The environment block and the ways of naming an environment

#[test]
fn environment_block() {
    let env = shared_full_env(Installer::Pip);
    let r = report(Installer::Pip);
    let e = &r["environment"];
    assert_eq!(
        canon(e["root"].as_str().expect("root")),
        canon(&env.venv.root),
        "{e}"
    );
    let sp: Vec<_> = str_vec(&e["site_packages"])
        .into_iter()
        .map(canon)
        .collect();
    assert!(
        sp.contains(&canon(env.venv.site_packages())),
        "site_packages {sp:?}"
    );
    assert!(e["pyodide"].is_null(), "{e}");
    assert!(e.get("interpreter").is_some(), "{e}");

    // The markers the venv's interpreter would evaluate (packaging, in the tools venv, which
    // has the same base interpreter).
    let truth: Value = serde_json::from_str(&tools().python_eval(
        "import json; from packaging.markers import default_environment as d; print(json.dumps(d()))",
        &[],
    ))
    .unwrap();
    let markers = &e["markers"];
    for k in [
        "python_version",
        "python_full_version",
        "sys_platform",
        "os_name",
        "platform_machine",
        "platform_system",
        "implementation_name",
        "platform_python_implementation",
        "implementation_version",
    ] {
        assert_eq!(
            markers[k], truth[k],
            "marker {k}: icelock {markers}, packaging {truth}"
        );
    }
    let py = e["python_version"].as_str().expect("python_version");
    assert!(
        py == truth["python_full_version"].as_str().unwrap()
            || py == truth["python_version"].as_str().unwrap(),
        "python_version {py} vs {truth}"
    );
}

fn identity(report: &Value) -> BTreeMap<String, (String, String)> {
    packages_by_name(report)
        .into_iter()
        .map(|(n, p)| {
            let loc = canon(p["location"].as_str().unwrap())
                .to_string_lossy()
                .into_owned();
            (n, (p["version"].as_str().unwrap().to_owned(), loc))
        })
        .collect()
}

#[test]
fn env_given_as_root_site_packages_or_python_agree() {
    for installer in [Installer::Pip, Installer::Uv] {
        let env = shared_full_env(installer);
        let by_root = identity(report(installer));
        let by_sp = identity(&list_json(&env.venv.site_packages()));
        let by_python = identity(&list_json(&env.venv.python()));
        assert_eq!(
            by_root,
            by_sp,
            "root vs site-packages ({} env)",
            installer.name()
        );
        assert_eq!(
            by_root,
            by_python,
            "root vs bin/python ({} env)",
            installer.name()
        );
    }
}

#[test]
fn default_environment_from_virtual_env_and_dot_venv() {
    let tmp = tempdir();
    // ./.venv in the working directory.
    let proj = tmp.path().join("proj");
    fs::create_dir(&proj).unwrap();
    let dot = Venv::create(&proj.join(".venv"), Installer::Uv);
    dot.install(&["demo-single"]);
    let mut cmd = icelock_command(&["list", "--format", "json"]);
    cmd.current_dir(&proj);
    let out = run_icelock(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json_stdout(&out);
    assert_eq!(
        canon(r["environment"]["root"].as_str().unwrap()),
        canon(&dot.root)
    );
    assert_eq!(
        name_versions(&r),
        BTreeMap::from([("demo-single".to_owned(), "1.0".to_owned())])
    );

    // VIRTUAL_ENV, from a folder with no .venv.
    let full = shared_full_env(Installer::Pip);
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let mut cmd = icelock_command(&["list", "--format", "json"]);
    cmd.current_dir(&empty).env("VIRTUAL_ENV", &full.venv.root);
    let out = run_icelock(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json_stdout(&out);
    assert_eq!(
        canon(r["environment"]["root"].as_str().unwrap()),
        canon(&full.venv.root)
    );
    assert_eq!(identity(&r), identity(report(Installer::Pip)));
}

#[test]
fn table_format_names_every_package() {
    let env = shared_full_env(Installer::Uv);
    let out = icelock(&[OsStr::new("list"), env.venv.root.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout_str(&out);
    // One line per package, naming it (as METADATA spells it, or normalised) and its version.
    for p in report(Installer::Uv)["packages"].as_array().unwrap() {
        let (name, display) = (
            p["name"].as_str().unwrap(),
            p["display_name"].as_str().unwrap(),
        );
        let version = p["version"].as_str().unwrap();
        assert!(
            text.lines()
                .any(|l| (l.contains(name) || l.contains(display)) && l.contains(version)),
            "table has no line with {display} {version}:\n{text}"
        );
    }
    let out2 = icelock(&[
        OsStr::new("list"),
        OsStr::new("--format"),
        OsStr::new("table"),
        env.venv.root.as_os_str(),
    ]);
    assert_eq!(out2.stdout, out.stdout, "table is the default format");
}

// ---------------------------------------------------------------------------------------------
// Damaged and old environments

/// One dist's METADATA is not UTF-8, another's is garbage: both are reported as problems, the
/// rest are listed, and nothing panics (run_icelock fails the test on a panic).
#[test]
fn broken_metadata_is_a_problem_not_a_crash() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-app", "demo-single", "demo-extra"]);
    let single = venv.dist_info("demo-single");
    fs::write(
        single.join("METADATA"),
        b"Metadata-Version: 2.1\nName: demo-single\nVersion: 1.0\nSummary: caf\xe9 \xff\xfe\n",
    )
    .unwrap();
    let extra = venv.dist_info("demo-extra");
    fs::write(extra.join("METADATA"), b"\x00\xff\xfe\x80garbage\n\n\xc3").unwrap();

    let r = list_json(&venv.root);
    let pkgs = packages_by_name(&r);
    for name in ["demo-app", "demo-core"] {
        let p = pkg(&pkgs, name);
        assert_eq!(
            p["problems"].as_array().map(Vec::len),
            Some(0),
            "{name}: {p}"
        );
    }
    assert_eq!(pkg(&pkgs, "demo-core")["version"], "1.2");

    let all_problems = |needle: &str| -> Vec<String> {
        let mut v: Vec<String> = r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.to_string())
            .filter(|s| s.contains(needle))
            .collect();
        for p in r["packages"].as_array().unwrap() {
            let loc = p["location"].as_str().unwrap_or("");
            if loc.contains(needle) || p["name"].as_str() == Some(&normalize(needle)) {
                v.extend(str_vec(&p["problems"]));
            }
        }
        v
    };
    assert!(
        !all_problems("demo_single-1.0.dist-info").is_empty()
            || !all_problems("demo-single").is_empty(),
        "no problem reported for demo-single's non-UTF-8 METADATA:\n{r:#}"
    );
    assert!(
        !all_problems("demo_extra-1.0").is_empty(),
        "no problem reported for demo-extra's garbage METADATA:\n{r:#}"
    );
}

/// An old `.egg-info` install (no RECORD): listed as pip lists it, format egg-info.
#[test]
fn egg_info_dist_is_listed() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["demo-core"]);
    let sp = venv.site_packages();
    let egg = sp.join("olddemo-0.5-py3.11.egg-info");
    fs::create_dir(&egg).unwrap();
    fs::write(
        egg.join("PKG-INFO"),
        "Metadata-Version: 1.0\nName: olddemo\nVersion: 0.5\nSummary: an old egg-info install\n",
    )
    .unwrap();
    fs::write(egg.join("top_level.txt"), "olddemo\n").unwrap();
    fs::write(egg.join("requires.txt"), "demo-core>=1.0\n").unwrap();
    fs::write(sp.join("olddemo.py"), "X = 1\n").unwrap();

    let r = list_json(&venv.root);
    assert_eq!(name_versions(&r), venv.pip_list(), "icelock vs pip list");
    let pkgs = packages_by_name(&r);
    let old = pkg(&pkgs, "olddemo");
    assert_eq!(old["format"], "egg-info", "{old}");
    assert_eq!(old["source"]["kind"], "egg-info", "{old}");
    assert_eq!(old["version"], "0.5");
    assert!(old["installer"].is_null(), "{old}");
    assert_eq!(canon(old["location"].as_str().unwrap()), canon(&egg));
    assert_eq!(str_vec(&old["imports"]), strs(&["olddemo"]), "{old}");
    assert_eq!(str_vec(&old["depends"]), strs(&["demo-core"]), "{old}");
}

// ---------------------------------------------------------------------------------------------
// direct_url.json: a directory install and a VCS install

fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir)
        .args([
            "-c",
            "user.name=icelock-tests",
            "-c",
            "user.email=tests@icelock.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    stdout_str(&run_ok(&mut cmd)).trim().to_owned()
}

#[test]
fn directory_and_vcs_sources() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    venv.install(&["setuptools", "demo-core"]);

    // A plain (non-editable) install of a project folder.
    let flat = copy_fixture_project("editable-flat", tmp.path());
    venv.install(&[OsStr::new("--no-build-isolation"), flat.as_os_str()]);

    // A git repository, installed at a tag.
    let repo = copy_fixture_project("editable-proj", tmp.path());
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "fixture"]);
    git(&repo, &["tag", "v0.1"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    let url = format!("git+file://{}@v0.1", repo.display());
    venv.install(&["--no-build-isolation", url.as_str()]);

    let r = list_json(&venv.root);
    let pkgs = packages_by_name(&r);
    let d = &pkg(&pkgs, "demo-flat")["source"];
    assert_eq!(d["kind"], "directory", "{d}");
    assert_eq!(
        canon(d["path"].as_str().expect("directory path")),
        canon(&flat),
        "{d}"
    );
    assert!(
        d["url"].as_str().is_some_and(|u| u.starts_with("file://")),
        "{d}"
    );
    assert_eq!(
        str_vec(&pkg(&pkgs, "demo-flat")["imports"]),
        strs(&["demo_flat"])
    );

    let v = &pkg(&pkgs, "demo-editable")["source"];
    assert_eq!(v["kind"], "vcs", "{v}");
    assert_eq!(v["vcs"], "git", "{v}");
    assert_eq!(v["commit_id"].as_str(), Some(commit.as_str()), "{v}");
    assert_eq!(v["requested_revision"], "v0.1", "{v}");
    let vurl = v["url"].as_str().expect("vcs url");
    assert!(
        vurl.starts_with("file://") && vurl.trim_end_matches('/').ends_with("/editable-proj"),
        "{v}"
    );
    assert_eq!(
        str_vec(&pkg(&pkgs, "demo-editable")["imports"]),
        strs(&["demo_editable"])
    );
    assert_eq!(
        str_vec(&pkg(&pkgs, "demo-editable")["depends"]),
        strs(&["demo-core"])
    );
    assert_eq!(name_versions(&r), venv.pip_list());
}

/// The table fits `COLUMNS`: long sources (a path install's URL) are shortened in the middle,
/// keeping the file name where it fits; every line is within the width; `--wide` and `--format json` keep the whole URL.
#[test]
fn table_fits_the_terminal() {
    let env = shared_full_env(Installer::Pip);
    let url_tail = env
        .single_wheel
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    for columns in [60usize, 100] {
        let mut cmd = icelock_command(&["list".as_ref(), env.venv.root.as_os_str()]);
        cmd.env("COLUMNS", columns.to_string());
        let out = run_icelock(&mut cmd);
        assert!(out.status.success(), "{}", show(&out));
        let text = stdout_str(&out);
        let table: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        assert!(table.len() > 3, "{text}");
        for line in &table {
            assert!(
                line.chars().count() <= columns,
                "{columns}: {line:?} in\n{text}"
            );
        }
        assert!(
            text.contains('…'),
            "something was shortened at {columns}:\n{text}"
        );
        // The file name is what a reader looks for in a URL: it stays whole once there is room.
        if columns >= 100 {
            assert!(
                text.contains(&format!("/{url_tail}")),
                "{columns}: {url_tail} whole in\n{text}"
            );
        }
    }
    let mut cmd = icelock_command(&[
        "list".as_ref(),
        "--wide".as_ref(),
        env.venv.root.as_os_str(),
    ]);
    cmd.env("COLUMNS", "60");
    let wide = stdout_str(&run_icelock(&mut cmd));
    assert!(wide.contains(&url_tail), "{wide}");
    let json = list_json(&env.venv.root).to_string();
    assert!(json.contains(&url_tail));
}
