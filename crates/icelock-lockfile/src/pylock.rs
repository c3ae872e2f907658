//! PEP 751 `pylock.toml`, from any producer: a package is expected where its `marker` is true
//! with the lock's `default-groups` and no extras, as an installer given no choice installs it.

use std::collections::BTreeMap;

use serde::Deserialize;
use uv_normalize::GroupName;

use crate::{
    ArtifactKind, Context, Expected, FormatError, LockedArtifact, LockedPackage, line_of,
    parse_marker, parse_name, parse_version, resolve, sha256_of,
};

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Document {
    lock_version: Option<String>,
    #[serde(default)]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: toml::Spanned<String>,
    version: Option<String>,
    marker: Option<String>,
    vcs: Option<Vcs>,
    directory: Option<Directory>,
    archive: Option<File>,
    sdist: Option<File>,
    #[serde(default)]
    wheels: Vec<File>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct File {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    size: Option<u64>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Vcs {
    url: Option<String>,
    path: Option<String>,
    commit_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Directory {
    path: String,
    #[serde(default)]
    editable: bool,
}

pub(crate) fn read(text: &str, context: &Context<'_>) -> Result<Vec<LockedPackage>, FormatError> {
    let document: Document = toml::from_str(text).map_err(|e| FormatError::toml(text, &e))?;
    match document.lock_version.as_deref() {
        Some(v) if v.split('.').next() == Some("1") => {}
        Some(v) => {
            return Err(FormatError::at(
                Some(1),
                format!("lock-version {v:?}: only version 1 of PEP 751 is known"),
            ));
        }
        None => {
            return Err(FormatError::at(
                Some(1),
                "no lock-version: not a PEP 751 lock",
            ));
        }
    }
    let groups = document
        .default_groups
        .iter()
        .map(|g| g.parse::<GroupName>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FormatError::at(None, format!("default-groups: {e}")))?;
    let mut packages = Vec::new();
    for package in document.packages {
        let line = Some(line_of(text, package.name.span().start));
        let name = parse_name(package.name.get_ref(), line)?;
        let version = package
            .version
            .as_deref()
            .map(|v| parse_version(v, line))
            .transpose()?;
        let expected = match package.marker.as_deref() {
            None => Expected::Required,
            Some(marker) => {
                if parse_marker(marker, line)?.evaluate_pep751(context.markers, &[], &groups) {
                    Expected::Required
                } else {
                    // False here: not for this environment at all, so neither expected nor
                    // allowed in its place.
                    continue;
                }
            }
        };
        let mut artifacts = Vec::new();
        for wheel in &package.wheels {
            artifacts.push(file(context, wheel, Some(ArtifactKind::Wheel)));
        }
        if let Some(sdist) = &package.sdist {
            artifacts.push(file(context, sdist, Some(ArtifactKind::Sdist)));
        }
        if let Some(archive) = &package.archive {
            artifacts.push(file(context, archive, None));
        }
        if let Some(vcs) = &package.vcs {
            let (url, path) = match (&vcs.url, &vcs.path) {
                (Some(url), _) => (Some(url.clone()), None),
                (None, Some(path)) => (None, Some(context.folder.join(path))),
                (None, None) => (None, None),
            };
            artifacts.push(LockedArtifact {
                kind: ArtifactKind::Vcs {
                    commit: vcs.commit_id.clone(),
                },
                filename: None,
                url,
                path,
                sha256: None,
                size: None,
            });
        }
        if let Some(directory) = &package.directory {
            artifacts.push(LockedArtifact {
                kind: ArtifactKind::Directory {
                    editable: directory.editable,
                },
                filename: None,
                url: None,
                path: Some(context.folder.join(&directory.path)),
                sha256: None,
                size: None,
            });
        }
        if artifacts.is_empty() {
            return Err(FormatError::at(
                line,
                format!("package {name} has no wheels, sdist, archive, vcs or directory"),
            ));
        }
        packages.push(LockedPackage {
            name,
            version,
            expected,
            artifacts,
            line,
        });
    }
    Ok(packages)
}

fn file(context: &Context<'_>, file: &File, kind: Option<ArtifactKind>) -> LockedArtifact {
    let (url, path) = match (&file.url, &file.path) {
        (Some(url), _) => resolve(context, url),
        (None, Some(path)) => (None, Some(context.folder.join(path))),
        (None, None) => (None, None),
    };
    let sha256 = file
        .hashes
        .get("sha256")
        .and_then(|h| sha256_of(&format!("sha256:{h}")));
    let mut artifact = LockedArtifact::file(url, path, sha256);
    if let Some(name) = &file.name {
        artifact.filename = Some(name.clone());
        if kind.is_none() {
            artifact.kind = if name.ends_with(".whl") {
                ArtifactKind::Wheel
            } else {
                ArtifactKind::Sdist
            };
        }
    }
    if let Some(kind) = kind {
        artifact.kind = kind;
    }
    artifact.size = file.size;
    artifact
}
