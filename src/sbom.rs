//! The facts of an SBOM, gathered from the inspection and the attribution: what the
//! `icelock-sbom` writers are given. An SBOM describes what is installed, so every dist is in
//! it, proven or not.

use icelock_attribute::{Attributed, Attribution};
use icelock_dist::InstalledDist;
use icelock_sbom::{Artifact, Component, Embedded, Environment, License, Sbom};

use crate::inspect::Inspection;

pub fn build(inspection: &Inspection, attributed: &[Attributed]) -> Sbom {
    let env = &inspection.env;
    let markers = &env.markers;
    let components = inspection
        .dists()
        .iter()
        .zip(attributed)
        .zip(&inspection.graph.nodes)
        .map(|((dist, attributed), node)| component(dist, attributed, node))
        .collect();
    Sbom {
        environment: Environment {
            path: env.root.display().to_string(),
            python_version: env.python_version.clone(),
            platform: format!("{} {}", markers.sys_platform(), markers.platform_machine()),
            implementation: markers.implementation_name().to_string(),
        },
        components,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created: created(),
    }
}

fn component(
    dist: &InstalledDist,
    attributed: &Attributed,
    node: &icelock_graph::Node,
) -> Component {
    let name = dist.name.to_string();
    let version = dist.version.to_string();
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    let (artifact, proof, unproven) = match &attributed.attribution {
        Attribution::Unproven { reasons, .. } => (None, None, Some(reasons.join("; "))),
        Attribution::Vcs {
            url,
            vcs,
            commit_id,
            ..
        } => {
            qualifiers.push((
                "vcs_url",
                icelock_sbom::vcs_url(vcs, url, commit_id.as_deref()),
            ));
            (
                None,
                None,
                Some("installed from a VCS checkout: a source tree, no artifact".into()),
            )
        }
        Attribution::Directory { url, .. } | Attribution::Editable { url, .. } => (
            None,
            None,
            Some(format!("installed from the source tree {url}: no artifact")),
        ),
        other => {
            let (a, proof) = other
                .artifact()
                .expect("the remaining kinds carry an artifact");
            match other {
                Attribution::Index { .. } => {
                    // PyPI is the PURL default, so only another index is named.
                    let pypi = icelock_index::config::PYPI.trim_end_matches('/');
                    if let Some(index) = &a.index
                        && index.trim_end_matches('/') != pypi
                    {
                        qualifiers.push(("repository_url", index.clone()));
                    }
                }
                _ => qualifiers.push(("download_url", a.url.clone())),
            }
            (
                Some(Artifact {
                    filename: a.filename.clone(),
                    url: a.url.clone(),
                    sha256: a.sha256.clone(),
                }),
                Some(proof.name().to_string()),
                None,
            )
        }
    };
    let qualifiers: Vec<(&str, &str)> = qualifiers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let license = dist.metadata.as_ref().map_or(License::None, |m| {
        License::from_metadata(
            m.license_expression.as_deref(),
            m.license.as_deref(),
            &m.license_classifiers,
        )
    });
    Component {
        purl: icelock_sbom::purl(&name, &version, &qualifiers),
        name,
        version,
        artifact,
        proof,
        unproven,
        license,
        depends: node.depends.iter().map(ToString::to_string).collect(),
        embedded: embedded(dist),
    }
}

/// PEP 770: SBOMs under `.dist-info/sboms/`, as RECORD lists them (with their hashes).
fn embedded(dist: &InstalledDist) -> Vec<Embedded> {
    let Some(rows) = &dist.record else {
        return Vec::new();
    };
    let folder = dist
        .location
        .file_name()
        .map(|n| format!("{}/sboms/", n.to_string_lossy()))
        .unwrap_or_default();
    rows.iter()
        .filter(|r| r.path.starts_with(&folder))
        .filter_map(|r| {
            let hash = r.hash.as_ref().filter(|h| h.algorithm == "sha256")?;
            Some(Embedded {
                path: dist.site_dir.join(&r.path).display().to_string(),
                sha256: hex::encode(&hash.digest),
            })
        })
        .collect()
}

/// Now, or `SOURCE_DATE_EPOCH` where set (reproducible builds), as RFC 3339 UTC.
fn created() -> String {
    let time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .unwrap_or_else(std::time::SystemTime::now);
    humantime::format_rfc3339_seconds(time).to_string()
}
