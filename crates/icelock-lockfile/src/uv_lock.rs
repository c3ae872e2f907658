//! `uv.lock`: a universal lock, one resolution for every platform. What this environment must
//! have is what the project's root packages reach through their dependencies, their `dev`
//! group (which `uv sync` installs unless told not to) and the extras a dependency asks for,
//! where each edge's marker is true here. Every other package is allowed, not expected.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;
use uv_normalize::PackageName;

use crate::{
    ArtifactKind, Context, Expected, FormatError, LockedArtifact, LockedPackage, line_of,
    parse_marker, parse_name, parse_version, resolve, sha256_of,
};

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Document {
    version: Option<u32>,
    manifest: Option<Manifest>,
    #[serde(default, rename = "package")]
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: toml::Spanned<String>,
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, String>,
    #[serde(default)]
    resolution_markers: Vec<String>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<Dependency>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<Dependency>>,
    sdist: Option<File>,
    #[serde(default)]
    wheels: Vec<File>,
}

#[derive(Deserialize, Clone)]
struct Dependency {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    extra: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
    size: Option<u64>,
}

/// The group `uv sync` installs by default.
const DEFAULT_GROUP: &str = "dev";

pub(crate) fn read(text: &str, context: &Context<'_>) -> Result<Vec<LockedPackage>, FormatError> {
    let document: Document = toml::from_str(text).map_err(|e| FormatError::toml(text, &e))?;
    if document.version != Some(1) {
        return Err(FormatError::at(
            Some(1),
            format!(
                "version {:?}: only version 1 of uv.lock is known",
                document.version
            ),
        ));
    }
    let packages = &document.packages;
    let mut by_name: BTreeMap<PackageName, Vec<usize>> = BTreeMap::new();
    let mut names = Vec::with_capacity(packages.len());
    for (i, package) in packages.iter().enumerate() {
        let line = Some(line_of(text, package.name.span().start));
        let name = parse_name(package.name.get_ref(), line)?;
        by_name.entry(name.clone()).or_default().push(i);
        names.push(name);
    }
    // The roots: the workspace's members, else the project itself (its source is the lock's
    // own folder).
    let members: BTreeSet<PackageName> = document
        .manifest
        .iter()
        .flat_map(|m| &m.members)
        .filter_map(|m| m.parse().ok())
        .collect();
    let roots: Vec<usize> = (0..packages.len())
        .filter(|&i| {
            members.contains(&names[i])
                || ["editable", "virtual", "directory"]
                    .iter()
                    .any(|k| packages[i].source.get(*k).map(String::as_str) == Some("."))
        })
        .collect();
    // Which package a dependency means: the one of its version, else the only one of its
    // name, else the one whose resolution markers hold here.
    let target = |dep: &Dependency| -> Option<usize> {
        let name: PackageName = dep.name.parse().ok()?;
        let candidates = by_name.get(&name)?;
        if let Some(version) = &dep.version {
            return candidates
                .iter()
                .copied()
                .find(|&i| packages[i].version.as_deref() == Some(version.as_str()));
        }
        if let [only] = candidates[..] {
            return Some(only);
        }
        candidates.iter().copied().find(|&i| {
            packages[i].resolution_markers.iter().any(|m| {
                m.parse::<uv_pep508::MarkerTree>()
                    .is_ok_and(|m| m.evaluate(context.markers, &[]))
            })
        })
    };
    let applies = |dep: &Dependency| {
        dep.marker.as_deref().is_none_or(|m| {
            m.parse::<uv_pep508::MarkerTree>()
                .is_ok_and(|m| m.evaluate(context.markers, &[]))
        })
    };
    // (package, extra) pairs reached; `None` is the package itself.
    let mut reached: BTreeSet<(usize, Option<String>)> = BTreeSet::new();
    let mut queue: VecDeque<(usize, Option<String>)> = roots.iter().map(|&i| (i, None)).collect();
    while let Some((i, extra)) = queue.pop_front() {
        if !reached.insert((i, extra.clone())) {
            continue;
        }
        let package = &packages[i];
        let mut edges: Vec<&Dependency> = match &extra {
            None => package.dependencies.iter().collect(),
            Some(extra) => package
                .optional_dependencies
                .get(extra)
                .into_iter()
                .flatten()
                .collect(),
        };
        if extra.is_none() && roots.contains(&i) {
            edges.extend(
                package
                    .dev_dependencies
                    .get(DEFAULT_GROUP)
                    .into_iter()
                    .flatten(),
            );
        }
        for dep in edges {
            if !applies(dep) {
                continue;
            }
            let Some(j) = target(dep) else {
                continue;
            };
            queue.push_back((j, None));
            for extra in &dep.extra {
                queue.push_back((j, Some(extra.clone())));
            }
        }
    }
    let required: BTreeSet<usize> = reached.iter().map(|(i, _)| *i).collect();
    let mut out = Vec::with_capacity(packages.len());
    for (i, package) in packages.iter().enumerate() {
        let line = Some(line_of(text, package.name.span().start));
        // A virtual project is never installed itself.
        if package.source.contains_key("virtual") {
            continue;
        }
        let version = package
            .version
            .as_deref()
            .map(|v| parse_version(v, line))
            .transpose()?;
        let mut artifacts: Vec<LockedArtifact> = package
            .wheels
            .iter()
            .map(|w| file(context, w, ArtifactKind::Wheel))
            .collect();
        if let Some(sdist) = &package.sdist {
            artifacts.push(file(context, sdist, ArtifactKind::Sdist));
        }
        for (key, value) in &package.source {
            match key.as_str() {
                "editable" | "directory" => artifacts.push(LockedArtifact {
                    kind: ArtifactKind::Directory {
                        editable: key == "editable",
                    },
                    filename: None,
                    url: None,
                    path: Some(context.folder.join(value)),
                    sha256: None,
                    size: None,
                }),
                "git" => artifacts.push(LockedArtifact {
                    kind: ArtifactKind::Vcs {
                        commit: value.rsplit_once('#').map(|(_, c)| c.to_string()),
                    },
                    filename: None,
                    url: Some(value.clone()),
                    path: None,
                    sha256: None,
                    size: None,
                }),
                _ => {}
            }
        }
        out.push(LockedPackage {
            name: names[i].clone(),
            version,
            expected: if required.contains(&i) {
                Expected::Required
            } else {
                Expected::Allowed
            },
            artifacts,
            line,
        });
    }
    // Markers that do not parse are an error of the lock, not a silent "not here".
    for package in packages {
        for dep in package
            .dependencies
            .iter()
            .chain(package.optional_dependencies.values().flatten())
            .chain(package.dev_dependencies.values().flatten())
        {
            if let Some(marker) = &dep.marker {
                parse_marker(marker, Some(line_of(text, package.name.span().start)))?;
            }
        }
    }
    Ok(out)
}

fn file(context: &Context<'_>, file: &File, kind: ArtifactKind) -> LockedArtifact {
    let (url, path) = match (&file.url, &file.path) {
        (Some(url), _) => resolve(context, url),
        (None, Some(path)) => (None, Some(context.folder.join(path))),
        (None, None) => (None, None),
    };
    let mut artifact = LockedArtifact::file(url, path, file.hash.as_deref().and_then(sha256_of));
    if let Some(name) = &file.filename {
        artifact.filename = Some(name.clone());
    }
    artifact.kind = kind;
    artifact.size = file.size;
    artifact
}
