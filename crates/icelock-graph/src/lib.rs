//! The dependency graph of an installed environment.
//!
//! Each distribution's `Requires-Dist` is evaluated against the environment's marker environment
//! and resolved to the installed distributions it names. What is missing or installed at a
//! version outside the specifier is a [`DependencyProblem`] (what `pip check` reports).
//!
//! # Extras
//!
//! No installer records which extras were asked for (`pip install requests[socks]` leaves only
//! `Provides-Extra: socks`), so they are inferred. An extra of a distribution counts as active
//! when either
//!
//! 1. an installed distribution's active requirement asks for it (`x[socks]`), transitively and
//!    including a distribution's requirements on its own extras (`x[all]` → `x[socks]`); or
//! 2. every requirement that the extra adds in this environment is installed at a version its
//!    specifier allows, and there is at least one.
//!
//! Rule 2 may call an extra active that nobody asked for, when its dependencies happen to be
//! installed for other reasons; that only adds edges to dists that are there anyway, whereas
//! leaving out a requested extra would drop real edges.

use std::collections::{BTreeSet, HashMap};

use icelock_dist::{InstalledDist, Requirement};
use uv_normalize::{ExtraName, PackageName};
use uv_pep440::Version;
use uv_pep508::{MarkerEnvironment, VersionOrUrl};
use uv_pypi_types::VerbatimParsedUrl;

/// Edges and inferred extras of one distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// Sorted, de-duplicated names of installed distributions this one requires here.
    pub depends: Vec<PackageName>,
    /// Sorted extras inferred as active.
    pub extras: Vec<ExtraName>,
}

/// A requirement that the environment does not meet. `Display` leaves out the dependent
/// distribution, which the caller names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyProblem {
    #[error("requires {requirement}{}, which is not installed", for_extra(.extra))]
    Missing {
        dist: PackageName,
        version: Version,
        requirement: String,
        /// The extra of `dist` that adds this requirement, when one does.
        extra: Option<ExtraName>,
    },
    #[error("requires {requirement}{}, but {installed_name} {installed} is installed", for_extra(.extra))]
    VersionMismatch {
        dist: PackageName,
        version: Version,
        requirement: String,
        extra: Option<ExtraName>,
        installed_name: PackageName,
        installed: Version,
    },
}

fn for_extra(extra: &Option<ExtraName>) -> String {
    extra
        .as_ref()
        .map(|e| format!(" (through its extra `{e}`)"))
        .unwrap_or_default()
}

impl DependencyProblem {
    pub fn dist(&self) -> &PackageName {
        match self {
            Self::Missing { dist, .. } | Self::VersionMismatch { dist, .. } => dist,
        }
    }
}

/// The graph, with one node per distribution in the order given.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub problems: Vec<DependencyProblem>,
}

/// Builds the graph of `dists` under `markers`.
pub fn build(dists: &[InstalledDist], markers: &MarkerEnvironment) -> Graph {
    let index: HashMap<&PackageName, usize> = dists
        .iter()
        .enumerate()
        .map(|(i, d)| (&d.name, i))
        .collect();
    let applies = |req: &Requirement, extras: &BTreeSet<ExtraName>| {
        let extras: Vec<ExtraName> = extras.iter().cloned().collect();
        req.marker.evaluate(markers, &extras)
    };
    // Rule 2: extras whose every added requirement is installed and satisfied, where a
    // requirement with extras (`x[crt]`) is satisfied only once those extras of `x` are too.
    // Growing the sets until nothing changes reaches the same answer in any order.
    let candidates: Vec<Vec<(ExtraName, Vec<&Requirement>)>> = dists
        .iter()
        .map(|dist| {
            let none = BTreeSet::new();
            declared_extras(dist)
                .into_iter()
                .map(|extra| {
                    let with = BTreeSet::from([extra.clone()]);
                    let added: Vec<&Requirement> = dist
                        .requirements()
                        .iter()
                        .filter(|r| applies(r, &with) && !applies(r, &none))
                        .collect();
                    (extra, added)
                })
                .filter(|(_, added)| !added.is_empty())
                .collect()
        })
        .collect();
    let mut active: Vec<BTreeSet<ExtraName>> = vec![BTreeSet::new(); dists.len()];
    loop {
        let mut changed = false;
        for (i, extras) in candidates.iter().enumerate() {
            for (extra, added) in extras {
                if active[i].contains(extra) {
                    continue;
                }
                let all_met = added.iter().all(|r| {
                    index.get(&r.name).is_some_and(|&j| {
                        version_matches(r, &dists[j].version)
                            && r.extras.iter().all(|e| active[j].contains(e))
                    })
                });
                if all_met {
                    active[i].insert(extra.clone());
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }

    // Rule 1: extras asked for by active requirements, until nothing changes.
    loop {
        let mut changed = false;
        for i in 0..dists.len() {
            let asked: Vec<(usize, ExtraName)> = dists[i]
                .requirements()
                .iter()
                .filter(|r| applies(r, &active[i]))
                .filter_map(|r| index.get(&r.name).map(|&j| (j, r)))
                .flat_map(|(j, r)| r.extras.iter().map(move |e| (j, e.clone())))
                .collect();
            for (j, extra) in asked {
                changed |= active[j].insert(extra);
            }
        }
        if !changed {
            break;
        }
    }

    let mut graph = Graph::default();
    for (i, dist) in dists.iter().enumerate() {
        let mut depends = BTreeSet::new();
        for req in dist.requirements() {
            if !applies(req, &active[i]) || req.name == dist.name {
                continue;
            }
            let extra = (!applies(req, &BTreeSet::new()))
                .then(|| req.marker.top_level_extra_name().map(|e| e.into_owned()))
                .flatten();
            match index.get(&req.name) {
                None => graph.problems.push(DependencyProblem::Missing {
                    dist: dist.name.clone(),
                    version: dist.version.clone(),
                    requirement: display_requirement(req),
                    extra,
                }),
                Some(&j) => {
                    depends.insert(req.name.clone());
                    if !version_matches(req, &dists[j].version) {
                        graph.problems.push(DependencyProblem::VersionMismatch {
                            dist: dist.name.clone(),
                            version: dist.version.clone(),
                            requirement: display_requirement(req),
                            extra,
                            installed_name: dists[j].name.clone(),
                            installed: dists[j].version.clone(),
                        });
                    }
                }
            }
        }
        graph.nodes.push(Node {
            depends: depends.into_iter().collect(),
            extras: active[i].iter().cloned().collect(),
        });
    }
    graph
}

/// Extras named by `Provides-Extra` or by a requirement's marker (old metadata omits the former).
fn declared_extras(dist: &InstalledDist) -> BTreeSet<ExtraName> {
    let mut extras: BTreeSet<ExtraName> = dist
        .metadata
        .iter()
        .flat_map(|m| m.provides_extra.iter())
        .filter_map(|e| ExtraName::from_owned(e.clone()).ok())
        .collect();
    for req in dist.requirements() {
        if let Some(extra) = req.marker.top_level_extra_name() {
            extras.insert(extra.into_owned());
        }
    }
    extras
}

/// pip check's rule: pre-releases count as inside a specifier.
fn version_matches(req: &Requirement, version: &Version) -> bool {
    match &req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => specifiers.contains(version),
        Some(VersionOrUrl::Url(_)) | None => true,
    }
}

/// The requirement without its marker, which has served its purpose once it applies.
fn display_requirement(req: &uv_pep508::Requirement<VerbatimParsedUrl>) -> String {
    let mut text = req.name.to_string();
    if !req.extras.is_empty() {
        let extras: Vec<String> = req.extras.iter().map(ToString::to_string).collect();
        text.push_str(&format!("[{}]", extras.join(",")));
    }
    match &req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(s)) => text.push_str(&s.to_string()),
        Some(VersionOrUrl::Url(url)) => text.push_str(&format!(" @ {url}")),
        None => {}
    }
    text
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use icelock_dist::{CoreMetadata, DistFormat, PyodideFiles, Source};
    use std::path::PathBuf;

    pub fn dist(metadata: &str) -> InstalledDist {
        let (meta, warnings) = CoreMetadata::parse(metadata.as_bytes()).unwrap();
        assert!(warnings.is_empty());
        InstalledDist {
            name: meta.normalized_name.clone(),
            display_name: meta.name.clone(),
            version: meta.version.clone(),
            format: DistFormat::DistInfo,
            location: PathBuf::new(),
            site_dir: PathBuf::new(),
            prefix: PathBuf::new(),
            metadata: Some(meta),
            metadata_sha256: None,
            wheel: None,
            record: Some(vec![]),
            record_sha256: None,
            entry_points: None,
            installer: None,
            requested: false,
            source: Source::Index,
            pyodide_files: PyodideFiles::default(),
            built_by_uv: false,
            provenance: None,
            imports: vec![],
            problems: vec![],
        }
    }

    pub fn linux() -> MarkerEnvironment {
        MarkerEnvironment::try_from(uv_pep508::MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.11.7",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: "3.11.7",
            python_version: "3.11",
            sys_platform: "linux",
        })
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;

    fn names(node: &Node) -> Vec<String> {
        node.depends.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn markers_extras_and_problems() {
        let dists = vec![
            dist(
                "Name: app\nVersion: 1.0\nRequires-Dist: core>=1.0\nRequires-Dist: win-only; sys_platform == 'win32'\nRequires-Dist: fancy-dep; extra == 'fancy'\nRequires-Dist: missing-dep; extra == 'never'\nRequires-Dist: web[socks]\nProvides-Extra: fancy\nProvides-Extra: never\n\n",
            ),
            dist("Name: core\nVersion: 0.9\n\n"),
            dist("Name: fancy_dep\nVersion: 2\n\n"),
            dist(
                "Name: web\nVersion: 2\nRequires-Dist: pysocks; extra == 'socks'\nRequires-Dist: absent; extra == 'socks'\nProvides-Extra: socks\n\n",
            ),
            dist("Name: PySocks\nVersion: 1.7.1\n\n"),
        ];
        let graph = build(&dists, &linux());
        // `fancy` is active by rule 2 (its one requirement is installed), `never` is not.
        assert_eq!(names(&graph.nodes[0]), vec!["core", "fancy-dep", "web"]);
        assert_eq!(
            graph.nodes[0]
                .extras
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec!["fancy"]
        );
        // `socks` is active by rule 1 (app asks for web[socks]) though `absent` is missing.
        assert_eq!(names(&graph.nodes[3]), vec!["pysocks"]);
        let messages: Vec<String> = graph.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "requires core>=1.0, but core 0.9 is installed".to_string(),
                "requires absent (through its extra `socks`), which is not installed".to_string(),
            ]
        );
    }

    #[test]
    fn self_extras_propagate() {
        let dists = vec![
            dist(
                "Name: lib\nVersion: 1\nRequires-Dist: lib[a]; extra == 'all'\nRequires-Dist: dep-a; extra == 'a'\nProvides-Extra: all\nProvides-Extra: a\n\n",
            ),
            dist("Name: user\nVersion: 1\nRequires-Dist: lib[all]\n\n"),
            dist("Name: dep-a\nVersion: 1\n\n"),
        ];
        let graph = build(&dists, &linux());
        assert_eq!(names(&graph.nodes[0]), vec!["dep-a"]);
        assert!(graph.problems.is_empty());
    }
}

#[cfg(test)]
mod rule_two {
    use super::tests_support::*;
    use super::*;

    /// boto3's `crt` extra adds `botocore[crt]`; botocore is installed but its own `crt`
    /// extra's requirement (awscrt) is not, so neither extra is active and nothing is missing.
    #[test]
    fn an_extra_needing_an_unmet_extra_is_not_active() {
        let dists = vec![
            dist(
                "Name: boto3\nVersion: 1\nRequires-Dist: botocore>=1\nRequires-Dist: botocore[crt]>=1; extra == 'crt'\nProvides-Extra: crt\n\n",
            ),
            dist(
                "Name: botocore\nVersion: 1\nRequires-Dist: awscrt==0.3; extra == 'crt'\nProvides-Extra: crt\n\n",
            ),
        ];
        let graph = build(&dists, &linux());
        assert!(graph.problems.is_empty(), "{:?}", graph.problems);
        assert!(graph.nodes[0].extras.is_empty());
    }
}
