//! The online tier: real packages from the package index, installed by pip and by uv, listed by
//! icelock and compared with `pip inspect` and `uv pip list`. Skipped (with a message saying
//! so) when the index cannot be reached.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;
use support::*;

const REQUIREMENTS: &[&str] = &[
    "requests[socks]",
    "numpy",
    "jaraco.functools",
    "attrs",
    "protobuf",
    "zope.interface",
    "typer-slim",
];

use support::online::*;

struct OnlineEnv {
    venv: Venv,
    report: Value,
}

fn online_env(installer: Installer) -> &'static OnlineEnv {
    static PIP: OnceLock<OnlineEnv> = OnceLock::new();
    static UV: OnceLock<OnlineEnv> = OnceLock::new();
    let cell = match installer {
        Installer::Pip => &PIP,
        Installer::Uv => &UV,
    };
    cell.get_or_init(|| {
        let dir = process_scratch().join(format!("online-{}", installer.name()));
        std::fs::create_dir_all(&dir).unwrap();
        let venv = Venv::create(&dir.join("venv"), installer);
        let mut cmd = match installer {
            Installer::Pip => {
                let mut c = with_index_settings(venv.pip_command());
                c.arg("install");
                c
            }
            Installer::Uv => {
                let mut c = with_index_settings(tools().uv_command());
                c.env("UV_CACHE_DIR", dir.join("uv-cache"))
                    .args(["pip", "install", "--python"])
                    .arg(venv.python());
                c
            }
        };
        cmd.args(REQUIREMENTS);
        run_ok(&mut cmd);
        let report = list_json(&venv.root);
        OnlineEnv { venv, report }
    })
}

fn by_name(report: &Value) -> BTreeMap<String, Value> {
    packages_by_name(report)
}

fn assert_imports_and_extras(installer: Installer) {
    let env = online_env(installer);
    let pkgs = by_name(&env.report);
    let imports = |name: &str| -> Vec<String> {
        str_vec(
            &pkgs
                .get(name)
                .unwrap_or_else(|| panic!("{name} not listed"))["imports"],
        )
    };
    let mut wrong = Vec::new();
    for (name, want) in [
        ("jaraco-functools", &["jaraco.functools"][..]),
        ("attrs", &["attr", "attrs"][..]),
        ("pysocks", &["socks", "sockshandler"][..]),
        ("typer-slim", &[][..]),
        ("requests", &["requests"][..]),
        ("numpy", &["numpy"][..]),
    ] {
        if imports(name) != strs(want) {
            wrong.push(format!("{name}: got {:?}, want {want:?}", imports(name)));
        }
    }
    if !imports("protobuf").contains(&"google.protobuf".to_owned()) {
        wrong.push(format!(
            "protobuf: {:?} lacks google.protobuf",
            imports("protobuf")
        ));
    }
    if !imports("zope-interface").contains(&"zope.interface".to_owned()) {
        wrong.push(format!(
            "zope-interface: {:?} lacks zope.interface",
            imports("zope-interface")
        ));
    }
    assert!(
        wrong.is_empty(),
        "imports ({} env):\n{}",
        installer.name(),
        wrong.join("\n")
    );

    let requests = &pkgs["requests"];
    let depends = str_set(&requests["depends"]);
    assert!(depends.contains("pysocks"), "requests depends {depends:?}");
    for d in ["urllib3", "idna", "certifi", "charset-normalizer"] {
        assert!(
            depends.contains(d),
            "requests depends {depends:?} lacks {d}"
        );
    }
    assert!(
        str_set(&requests["extras"]).contains("socks"),
        "requests extras: {requests}"
    );
    let installed: BTreeSet<String> = pkgs.keys().cloned().collect();
    for (name, p) in &pkgs {
        for d in str_vec(&p["depends"]) {
            assert!(
                installed.contains(&d),
                "{name} depends on {d}, which is not installed"
            );
        }
        assert_eq!(p["source"]["kind"], "index", "{name}: {p}");
        assert_eq!(
            p["installer"].as_str(),
            Some(installer.name()),
            "{name}: {p}"
        );
        assert_eq!(
            p["problems"].as_array().map(Vec::len),
            Some(0),
            "{name}: {p}"
        );
    }
    let typer = str_set(&pkgs["typer-slim"]["depends"]);
    assert!(typer.contains("typer"), "typer-slim depends {typer:?}");
}

#[test]
fn online_pip_env_matches_pip_inspect() {
    if skip_if_offline() {
        return;
    }
    let env = online_env(Installer::Pip);
    let pkgs = by_name(&env.report);
    let inspect = env.venv.pip_inspect();
    let theirs: BTreeMap<String, &Value> = inspect
        .iter()
        .map(|d| (normalize(d["metadata"]["name"].as_str().unwrap()), d))
        .collect();
    assert_eq!(
        pkgs.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "icelock vs pip inspect: names"
    );
    for (name, d) in &theirs {
        let p = &pkgs[name];
        assert_eq!(p["version"], d["metadata"]["version"], "{name} version");
        assert_eq!(
            p["display_name"], d["metadata"]["name"],
            "{name} display_name"
        );
        assert_eq!(p["installer"], d["installer"], "{name} installer");
        assert_eq!(p["requested"], d["requested"], "{name} requested");
    }
    let ours: BTreeMap<String, String> = pkgs
        .iter()
        .map(|(n, p)| (n.clone(), p["version"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(ours, env.venv.uv_pip_list(), "icelock vs uv pip list");
    assert_imports_and_extras(Installer::Pip);
}

#[test]
fn online_uv_env_matches_uv_pip_list() {
    if skip_if_offline() {
        return;
    }
    let env = online_env(Installer::Uv);
    let pkgs = by_name(&env.report);
    let ours: BTreeMap<String, String> = pkgs
        .iter()
        .map(|(n, p)| (n.clone(), p["version"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(ours, env.venv.uv_pip_list(), "icelock vs uv pip list");
    assert_eq!(ours, env.venv.pip_list(), "icelock vs pip list");
    let inspect = env.venv.pip_inspect();
    for d in &inspect {
        let name = normalize(d["metadata"]["name"].as_str().unwrap());
        assert_eq!(pkgs[&name]["installer"], d["installer"], "{name} installer");
        assert_eq!(
            pkgs[&name]["display_name"], d["metadata"]["name"],
            "{name} display_name"
        );
    }
    assert_imports_and_extras(Installer::Uv);
}

#[test]
fn online_envs_check_clean() {
    if skip_if_offline() {
        return;
    }
    for installer in [Installer::Pip, Installer::Uv] {
        let env = online_env(installer);
        let (code, r) = check_json(&env.venv.root);
        assert_eq!(
            r["problems"],
            Value::Array(vec![]),
            "{} env: {r:#}",
            installer.name()
        );
        assert_eq!(code, 0);
        assert!(
            r["files_checked"].as_u64().unwrap() > 1000,
            "numpy alone has >1000 files: {r}"
        );
    }
}
