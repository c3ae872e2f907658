//! `icelock lock --format cyclonedx|spdx` on a real environment (pip, from the local test
//! index): every installed dist is a component, the proven ones with their served wheel's URL
//! and sha256, the unproven one (a file edited after install) marked and
//! without a hash, the graph as icelock's own `list` has it, a PEP 770 SBOM the wheel ships
//! referenced with its hash. The CycloneDX document passes cyclonedx-python-lib's strict 1.6
//! validator and has the components `cyclonedx-py environment` finds; the SPDX document passes
//! spdx-tools' validator but for its refusal of the test index's loopback URLs as download
//! locations (it wants a domain name; the online tier validates real index URLs in full).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::Value;
use support::*;

const SHIPPED_SBOM: &str = "demo_importname-1.0.dist-info/sboms/demo.cdx.json";

#[test]
fn sboms_of_an_environment_with_an_unproven_dist() {
    let tmp = tempdir();
    // The index: the fixture wheels, demo-importname's with an SBOM inside (PEP 770).
    let served = tmp.path().join("served");
    fs::create_dir_all(&served).unwrap();
    let with_sbom = forge(
        &wheelhouse().wheel("demo-importname", "1.0").path,
        &tmp.path().join("with-sbom"),
        &format!("add:{SHIPPED_SBOM}"),
    );
    for w in &wheelhouse().wheels {
        let file = w.path.file_name().unwrap();
        if file != with_sbom.file_name().unwrap() {
            std::os::unix::fs::symlink(&w.path, served.join(file)).unwrap();
        }
    }
    fs::copy(&with_sbom, served.join(with_sbom.file_name().unwrap())).unwrap();
    let server = IndexServer::start(&served, &[] as &[&str]);
    let index = server.simple_url();

    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    let mut pip = venv.pip_command();
    pip.args(["install", "--no-index", "--find-links"])
        .arg(&served)
        .args(["demo-app", "demo-native", "nsdemo-alpha", "demo-importname"]);
    run_ok(&mut pip);
    // demo-single, edited after install: unproven.
    let mut pip = venv.pip_command();
    pip.args(["install", "--no-index", "--find-links"])
        .arg(&served)
        .arg("demo-single");
    run_ok(&mut pip);
    let edited = venv.site_packages().join("singlemod.py");
    let mut text = fs::read_to_string(&edited).unwrap();
    text.push_str("\nEDITED = True\n");
    fs::write(&edited, text).unwrap();

    let home = tmp.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let write = |file: &str| {
        let path = tmp.path().join(file);
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
        // Reproducible builds name the creation time.
        cmd.env("SOURCE_DATE_EPOCH", "1700000000");
        let out = run_icelock(&mut cmd);
        assert_eq!(
            out.status.code(),
            Some(0),
            "an SBOM is written unproven dists and all\n{}",
            show(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("demo-single 1.0 is in the SBOM without an artifact hash"),
            "{}\n{}",
            show(&out),
            fs::read_to_string(&path).unwrap_or_default()
        );
        path
    };

    let listed = list_json(&venv.root);
    let installed: BTreeMap<String, Value> = packages_by_name(&listed);
    let cdx = validate_cyclonedx(&write("env.cdx.json"));
    assert_eq!(cdx["specVersion"], "1.6");
    assert_eq!(cdx["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(cdx["metadata"]["tools"]["components"][0]["name"], "icelock");
    assert_eq!(cdx["metadata"]["component"]["bom-ref"], "environment");
    let components: BTreeMap<String, &Value> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c))
        .collect();
    assert_eq!(
        components.keys().cloned().collect::<BTreeSet<_>>(),
        installed.keys().cloned().collect::<BTreeSet<_>>()
    );
    let property = |c: &Value, name: &str| -> Option<String> {
        c["properties"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)?["value"]
            .as_str()
            .map(String::from)
    };
    let distribution = |c: &Value| -> Option<Value> {
        c["externalReferences"]
            .as_array()?
            .iter()
            .find(|r| r["type"] == "distribution")
            .cloned()
    };
    for (name, c) in &components {
        let version = c["version"].as_str().unwrap();
        assert_eq!(installed[name]["version"], version);
        if name == "demo-single" {
            assert!(distribution(c).is_none(), "{c:#}");
            assert!(property(c, "icelock:proof").is_none());
            let why = property(c, "icelock:unproven").expect("marked unproven");
            assert!(why.contains("singlemod.py"), "{why}");
            continue;
        }
        let wheel = if name == "demo-importname" {
            with_sbom.clone()
        } else {
            wheelhouse().wheel(name, version).path.clone()
        };
        let reference = distribution(c).unwrap_or_else(|| panic!("{name}: {c:#}"));
        assert_eq!(reference["hashes"][0]["alg"], "SHA-256");
        assert_eq!(
            reference["hashes"][0]["content"],
            sha256_hex(&wheel),
            "{name}"
        );
        assert!(
            reference["url"]
                .as_str()
                .unwrap()
                .ends_with(&*wheel.file_name().unwrap().to_string_lossy()),
            "{name}"
        );
        assert_eq!(
            property(c, "icelock:proof").as_deref(),
            Some("wheel-record")
        );
        let purl = c["purl"].as_str().unwrap();
        assert!(
            purl.starts_with(&format!("pkg:pypi/{name}@{version}?repository_url=")),
            "{purl}"
        );
    }
    // The graph: icelock's own, by reference.
    let refs: BTreeMap<&str, &str> = components
        .iter()
        .map(|(n, c)| (c["bom-ref"].as_str().unwrap(), n.as_str()))
        .collect();
    for dependency in cdx["dependencies"].as_array().unwrap() {
        let Some(name) = refs.get(dependency["ref"].as_str().unwrap()) else {
            assert_eq!(dependency["ref"], "environment");
            assert_eq!(
                dependency["dependsOn"].as_array().unwrap().len(),
                components.len()
            );
            continue;
        };
        let depends: BTreeSet<String> = dependency["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| refs[r.as_str().unwrap()].to_string())
            .collect();
        assert_eq!(depends, str_set(&installed[*name]["depends"]), "{name}");
    }
    assert!(
        !str_set(&installed["demo-app"]["depends"]).is_empty(),
        "the fixture has edges to check"
    );
    // The SBOM the wheel ships, referenced with its hash.
    let shipped = venv.site_packages().join(SHIPPED_SBOM);
    let bom_ref = components["demo-importname"]["externalReferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "bom")
        .expect("the shipped SBOM is referenced")
        .clone();
    assert_eq!(bom_ref["hashes"][0]["content"], sha256_hex(&shipped));
    assert!(bom_ref["url"].as_str().unwrap().ends_with(SHIPPED_SBOM));

    // What cyclonedx-py finds in the same environment.
    assert_eq!(
        cyclonedx_components(&cdx),
        cyclonedx_py_components(&venv.python()),
        "the components cyclonedx-py finds"
    );

    // SPDX: the same facts.
    let spdx = validate_spdx_local(&write("env.spdx.json"));
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(spdx["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let packages: BTreeMap<String, &Value> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] != "python-environment")
        .map(|p| (p["name"].as_str().unwrap().to_string(), p))
        .collect();
    assert_eq!(
        packages.keys().cloned().collect::<BTreeSet<_>>(),
        installed.keys().cloned().collect::<BTreeSet<_>>()
    );
    for (name, p) in &packages {
        let cdx_hash = distribution(components[name]).map(|r| r["hashes"][0]["content"].clone());
        let spdx_hash = p["checksums"]
            .as_array()
            .and_then(|c| c.first())
            .map(|c| c["checksumValue"].clone());
        assert_eq!(cdx_hash, spdx_hash, "{name}");
        if name == "demo-single" {
            assert_eq!(p["downloadLocation"], "NOASSERTION");
        }
    }
    let depends_on = spdx["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["relationshipType"] == "DEPENDS_ON")
        .count();
    let edges: usize = installed
        .values()
        .map(|p| str_set(&p["depends"]).len())
        .sum();
    assert_eq!(depends_on, edges);
}
