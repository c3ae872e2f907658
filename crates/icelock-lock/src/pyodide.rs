//! `pyodide-lock.json`: the runtime's own lock plus every distribution installed in the
//! environment (by pip, micropip or `loadPackage`), the installed version replacing the
//! runtime's entry. This is what `micropip.freeze()` should return, with pip installs included.
//!
//! Entries keep exactly the keys pyodide-lock's validator accepts. Runtime entries keep their
//! fields, with a relative `file_name` made absolute under the runtime's base so that it still
//! resolves wherever the new lock is served.

use serde_json::{Map, Value, json};

use crate::{FormatError, LockModel, PackageSource};

fn is_absolute(file_name: &str) -> bool {
    file_name.contains("://") || file_name.starts_with('/')
}

pub fn write(model: &LockModel) -> Result<String, FormatError> {
    let target = model
        .environment
        .pyodide
        .as_ref()
        .ok_or(FormatError::NoPyodideRuntime)?;
    let mut packages: Map<String, Value> = Map::new();
    for (name, entry) in &target.runtime_packages {
        let mut entry = entry.clone();
        if let Some(Value::String(file_name)) = entry.get("file_name")
            && !is_absolute(file_name)
        {
            let joined = format!("{}{}", target.runtime_base, file_name);
            entry.insert("file_name".into(), Value::String(joined));
        }
        packages.insert(name.clone(), Value::Object(entry));
    }
    for package in &model.packages {
        let artifact = match &package.source {
            PackageSource::PyodideRuntime => continue,
            PackageSource::Wheel { artifact, .. } => artifact,
            PackageSource::Archive { .. } | PackageSource::Sdist { .. } => {
                return Err(FormatError::NotAWheel {
                    name: package.name.clone(),
                    version: package.version.clone(),
                    what: "a source archive",
                });
            }
            PackageSource::Vcs { .. } => {
                return Err(FormatError::NotAWheel {
                    name: package.name.clone(),
                    version: package.version.clone(),
                    what: "a VCS checkout",
                });
            }
            PackageSource::Directory { .. } => {
                return Err(FormatError::NotAWheel {
                    name: package.name.clone(),
                    version: package.version.clone(),
                    what: "a local source tree",
                });
            }
        };
        let file_name = match artifact.local_path() {
            Some(path) => path.display().to_string(),
            None => artifact.url.clone(),
        };
        packages.insert(
            package.name.clone(),
            json!({
                "name": package.display_name,
                "version": package.version,
                "file_name": file_name,
                "install_dir": "site",
                "sha256": artifact.sha256,
                "package_type": "package",
                "imports": package.imports,
                "depends": package.dependencies,
                "unvendored_tests": false,
            }),
        );
    }
    let lock = json!({ "info": target.info, "packages": packages });
    let mut text = serde_json::to_string_pretty(&lock).expect("the lock is plain data");
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::model;
    use crate::{LockModel, PyodideTarget};

    fn pyodide_model() -> LockModel {
        let mut model = model();
        model
            .packages
            .retain(|p| matches!(p.source, PackageSource::Wheel { .. }));
        let mut runtime = std::collections::BTreeMap::new();
        let mut entry = Map::new();
        entry.insert("name".into(), json!("micropip"));
        entry.insert("file_name".into(), json!("micropip-0.9.0-py3-none-any.whl"));
        runtime.insert("micropip".to_string(), entry);
        let mut idna = Map::new();
        idna.insert("name".into(), json!("idna"));
        idna.insert("version".into(), json!("3.7"));
        idna.insert(
            "file_name".into(),
            json!("https://cdn.test/idna-3.7-py3-none-any.whl"),
        );
        runtime.insert("idna".to_string(), idna);
        model.environment.pyodide = Some(PyodideTarget {
            info: json!({"arch": "wasm32", "platform": "emscripten_5_0_3", "python": "3.14.2", "abi_version": "2026_0"}),
            runtime_packages: runtime,
            runtime_base: "https://cdn.test/full/".into(),
        });
        model
    }

    #[test]
    fn runtime_plus_environment() {
        let text = write(&pyodide_model()).unwrap();
        let lock: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(lock["info"]["abi_version"], "2026_0");
        assert_eq!(
            lock["packages"]["micropip"]["file_name"],
            "https://cdn.test/full/micropip-0.9.0-py3-none-any.whl"
        );
        // The installed idna replaces the runtime's.
        assert_eq!(lock["packages"]["idna"]["version"], "3.10");
        assert_eq!(lock["packages"]["idna"]["install_dir"], "site");
        let keys: Vec<&String> = lock["packages"]["idna"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys.len(), 9);
    }

    #[test]
    fn source_trees_cannot_be_loaded() {
        let mut model = pyodide_model();
        model.packages = crate::tests::model().packages;
        assert!(matches!(write(&model), Err(FormatError::NotAWheel { .. })));
    }
}
