//! `pyodide-lock.json`: the packages a Pyodide runtime may load, each one wheel with its
//! sha256. It is a repository, not an install set, so nothing in it is required; what is
//! installed must be the file it names. A relative `file_name` is relative to the lock.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{
    ArtifactKind, Context, Expected, FormatError, LockedArtifact, LockedPackage, parse_name,
    parse_version, resolve,
};

#[derive(Deserialize)]
struct Document {
    packages: BTreeMap<String, Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    file_name: String,
    sha256: String,
}

pub(crate) fn read(text: &str, context: &Context<'_>) -> Result<Vec<LockedPackage>, FormatError> {
    let document: Document =
        serde_json::from_str(text).map_err(|e| FormatError::at(Some(e.line()), e.to_string()))?;
    let mut packages = Vec::new();
    for (key, package) in document.packages {
        let line = text
            .find(&format!("\"{key}\""))
            .map(|at| crate::line_of(text, at));
        let name = parse_name(&package.name, line)?;
        let version = parse_version(&package.version, line)?;
        let sha256 = package.sha256.to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FormatError::at(
                line,
                format!("{key}: sha256 {:?} is not a sha256", package.sha256),
            ));
        }
        let (url, path) = resolve(context, &package.file_name);
        let mut artifact = LockedArtifact::file(url, path, Some(sha256));
        if package.file_name.ends_with(".whl") {
            artifact.kind = ArtifactKind::Wheel;
        }
        packages.push(LockedPackage {
            name,
            version: Some(version),
            expected: Expected::Allowed,
            artifacts: vec![artifact],
            line,
        });
    }
    Ok(packages)
}
