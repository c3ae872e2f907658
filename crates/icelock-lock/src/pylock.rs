//! PEP 751 `pylock.toml`.
//!
//! One `[[packages]]` entry per distribution, holding exactly the installed wheel (not every
//! wheel of the version: the lock says what *is* installed); `vcs`, `directory` or `archive`
//! for what was not installed from a wheel. The proof goes in `[packages.tool.icelock]`.

use std::str::FromStr;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::{Artifact, LockModel, PackageSource};

fn hashes(sha256: &str) -> InlineTable {
    let mut table = InlineTable::new();
    table.insert("sha256", sha256.into());
    table
}

/// `url` for remote files, `path` for local ones (PEP 751 wants one of the two).
fn locate(table: &mut Table, artifact: &Artifact) {
    match artifact.local_path() {
        Some(path) => table.insert("path", toml_edit::value(path.display().to_string())),
        None if artifact.url.contains("://") => {
            table.insert("url", toml_edit::value(&artifact.url))
        }
        // Relative to the lock, after --download.
        None => table.insert("path", toml_edit::value(&artifact.url)),
    };
}

fn file_table(artifact: &Artifact, with_name: bool) -> Table {
    let mut table = Table::new();
    if with_name {
        table.insert("name", toml_edit::value(&artifact.filename));
    }
    locate(&mut table, artifact);
    if let Some(size) = artifact.size {
        table.insert("size", toml_edit::value(size as i64));
    }
    if let Some(time) = artifact
        .upload_time
        .as_deref()
        .and_then(|t| toml_edit::Datetime::from_str(t).ok())
    {
        table.insert("upload-time", toml_edit::value(time));
    }
    table.insert(
        "hashes",
        Item::Value(Value::InlineTable(hashes(&artifact.sha256))),
    );
    table
}

pub fn write(model: &LockModel) -> String {
    let mut doc = DocumentMut::new();
    doc.insert("lock-version", toml_edit::value("1.0"));
    let mut environments = Array::new();
    environments.push(model.environment.marker.as_str());
    doc.insert("environments", toml_edit::value(environments));
    let mut parts = model.environment.python_full_version.split('.');
    if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
        doc.insert(
            "requires-python",
            toml_edit::value(format!("=={major}.{minor}.*")),
        );
    }
    doc.insert("created-by", toml_edit::value(&model.created_by));
    if !model.excluded.is_empty() {
        // PEP 751 leaves `[tool]` to tools; a consumer ignores it, a reader sees the gap.
        let mut tool = Table::new();
        let mut ours = Table::new();
        let mut names = Array::new();
        for name in &model.excluded {
            names.push(name.as_str());
        }
        ours.insert("excluded", toml_edit::value(names));
        tool.insert("icelock", Item::Table(ours));
        tool.set_implicit(true);
        doc.insert("tool", Item::Table(tool));
    }

    let mut packages = ArrayOfTables::new();
    for package in &model.packages {
        let mut table = Table::new();
        table.insert("name", toml_edit::value(&package.name));
        let is_tree = matches!(
            package.source,
            PackageSource::Vcs { .. } | PackageSource::Directory { .. }
        );
        // PEP 751: no version for source trees, where it cannot be guaranteed.
        if !is_tree {
            table.insert("version", toml_edit::value(&package.version));
        }
        if let Some(rp) = &package.requires_python {
            table.insert("requires-python", toml_edit::value(rp));
        }
        if let PackageSource::Wheel {
            index: Some(index), ..
        }
        | PackageSource::Sdist {
            index: Some(index), ..
        } = &package.source
        {
            table.insert("index", toml_edit::value(index));
        }
        if !package.dependencies.is_empty() {
            let mut deps = Array::new();
            for dep in &package.dependencies {
                let mut d = InlineTable::new();
                d.insert("name", dep.as_str().into());
                deps.push(d);
            }
            table.insert("dependencies", toml_edit::value(deps));
        }
        match &package.source {
            PackageSource::Wheel { artifact, .. } => {
                let mut wheels = ArrayOfTables::new();
                wheels.push(file_table(artifact, true));
                table.insert("wheels", Item::ArrayOfTables(wheels));
            }
            PackageSource::Archive { artifact } => {
                table.insert("archive", Item::Table(file_table(artifact, false)));
            }
            PackageSource::Sdist { artifact, .. } => {
                table.insert("sdist", Item::Table(file_table(artifact, true)));
            }
            PackageSource::Vcs {
                vcs,
                url,
                commit_id,
                requested_revision,
                subdirectory,
            } => {
                let mut t = Table::new();
                t.insert("type", toml_edit::value(vcs));
                match url::Url::parse(url).ok().filter(|u| u.scheme() == "file") {
                    Some(u) => t.insert(
                        "path",
                        toml_edit::value(
                            u.to_file_path()
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|_| url.clone()),
                        ),
                    ),
                    None => t.insert("url", toml_edit::value(url)),
                };
                if let Some(rev) = requested_revision {
                    t.insert("requested-revision", toml_edit::value(rev));
                }
                t.insert("commit-id", toml_edit::value(commit_id));
                if let Some(sub) = subdirectory {
                    t.insert("subdirectory", toml_edit::value(sub));
                }
                table.insert("vcs", Item::Table(t));
            }
            PackageSource::Directory {
                path,
                editable,
                subdirectory,
            } => {
                let mut t = Table::new();
                t.insert("path", toml_edit::value(path.display().to_string()));
                t.insert("editable", toml_edit::value(*editable));
                if let Some(sub) = subdirectory {
                    t.insert("subdirectory", toml_edit::value(sub));
                }
                table.insert("directory", Item::Table(t));
            }
            PackageSource::PyodideRuntime => {}
        }
        let mut tool = Table::new();
        let mut ours = Table::new();
        ours.insert("proof", toml_edit::value(&package.proof));
        tool.insert("icelock", Item::Table(ours));
        tool.set_implicit(true);
        table.insert("tool", Item::Table(tool));
        packages.push(table);
    }
    if packages.is_empty() {
        // An empty array of tables would vanish from the text; PEP 751 requires the key.
        doc.insert("packages", toml_edit::value(Array::new()));
    } else {
        doc.insert("packages", Item::ArrayOfTables(packages));
    }
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::model;

    #[test]
    fn wheels_trees_and_tool_table() {
        let text = write(&model());
        let doc: toml_edit::DocumentMut = text.parse().unwrap();
        assert_eq!(doc["lock-version"].as_str(), Some("1.0"));
        assert_eq!(doc["requires-python"].as_str(), Some("==3.11.*"));
        let packages = doc["packages"].as_array_of_tables().unwrap();
        let idna = packages.get(0).unwrap();
        assert_eq!(idna["name"].as_str(), Some("idna"));
        assert_eq!(idna["index"].as_str(), Some("https://index.test/simple/"));
        let wheel = idna["wheels"].as_array_of_tables().unwrap().get(0).unwrap();
        assert_eq!(wheel["name"].as_str(), Some("idna-3.10-py3-none-any.whl"));
        assert_eq!(wheel["hashes"]["sha256"].as_str(), Some(&*"a".repeat(64)));
        assert!(wheel["upload-time"].as_datetime().is_some());
        assert_eq!(
            idna["tool"]["icelock"]["proof"].as_str(),
            Some("core-metadata-hash")
        );
        let tree = packages.get(1).unwrap();
        assert!(tree.get("version").is_none());
        assert_eq!(tree["directory"]["editable"].as_bool(), Some(true));
    }
}
