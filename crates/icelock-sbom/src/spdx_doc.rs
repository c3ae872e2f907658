//! SPDX 2.3 JSON: one package per distribution (`downloadLocation` the proven artifact's URL,
//! its `SHA256` checksum, the PURL as a package-manager reference, the proof as a comment), the
//! environment as the described package, and `DEPENDS_ON` relationships for the graph.
//! Named licenses that are not SPDX ids become `LicenseRef-` entries with their text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Component, License, Sbom};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo<'a>,
    document_describes: Vec<String>,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<Extracted>,
}

#[derive(Serialize)]
struct CreationInfo<'a> {
    created: &'a str,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Extracted {
    license_id: String,
    name: String,
    extracted_text: String,
}

const ROOT_ID: &str = "SPDXRef-environment";

/// `SPDXRef-` ids allow letters, digits, `.` and `-`.
fn package_id(c: &Component) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '.' {
                    ch
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("SPDXRef-pypi-{}-{}", clean(&c.name), clean(&c.version))
}

/// The SPDX 2.3 JSON document of `sbom`.
pub fn spdx(sbom: &Sbom) -> String {
    let env = &sbom.environment;
    let mut extracted: BTreeMap<String, Extracted> = BTreeMap::new();
    let mut declared = |license: &License| -> String {
        match license {
            License::Expression(e) => e.clone(),
            License::None => "NOASSERTION".into(),
            License::Named(names) => names
                .iter()
                .map(|name| {
                    let id = license_ref(name);
                    extracted.entry(id.clone()).or_insert_with(|| Extracted {
                        license_id: id.clone(),
                        name: name.clone(),
                        extracted_text: name.clone(),
                    });
                    id
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        }
    };
    let mut packages = vec![Package {
        spdx_id: ROOT_ID.into(),
        name: "python-environment".into(),
        version_info: env.python_version.clone(),
        download_location: "NOASSERTION".into(),
        files_analyzed: false,
        checksums: Vec::new(),
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION".into(),
        copyright_text: "NOASSERTION",
        comment: Some(format!(
            "The Python environment at {} ({} on {})",
            env.path, env.implementation, env.platform
        )),
        external_refs: Vec::new(),
        primary_package_purpose: Some("OTHER"),
    }];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".into(),
        relationship_type: "DESCRIBES",
        related_spdx_element: ROOT_ID.into(),
    }];
    let by_name: BTreeMap<&str, &Component> = sbom
        .components
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    for c in &sbom.components {
        let comment = match (&c.proof, &c.unproven) {
            (Some(proof), _) => format!("icelock proof: {proof}"),
            (None, Some(why)) => format!("icelock: unproven: {why}"),
            (None, None) => "icelock: unproven".to_string(),
        };
        packages.push(Package {
            spdx_id: package_id(c),
            name: c.name.clone(),
            version_info: Some(c.version.clone()),
            download_location: c
                .artifact
                .as_ref()
                .map_or("NOASSERTION".to_string(), |a| a.url.clone()),
            files_analyzed: false,
            checksums: c
                .artifact
                .iter()
                .map(|a| Checksum {
                    algorithm: "SHA256",
                    checksum_value: a.sha256.clone(),
                })
                .collect(),
            license_concluded: "NOASSERTION",
            license_declared: declared(&c.license),
            copyright_text: "NOASSERTION",
            comment: Some(comment),
            external_refs: vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: c.purl.clone(),
            }],
            primary_package_purpose: Some("LIBRARY"),
        });
        relationships.push(Relationship {
            spdx_element_id: ROOT_ID.into(),
            relationship_type: "CONTAINS",
            related_spdx_element: package_id(c),
        });
        for d in &c.depends {
            if let Some(d) = by_name.get(d.as_str()) {
                relationships.push(Relationship {
                    spdx_element_id: package_id(c),
                    relationship_type: "DEPENDS_ON",
                    related_spdx_element: package_id(d),
                });
            }
        }
    }
    let id = sbom.content_id();
    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: format!("python-environment {}", env.path),
        document_namespace: format!("https://icelock.invalid/spdx/{id}"),
        creation_info: CreationInfo {
            created: &sbom.created,
            creators: vec![format!("Tool: icelock-{}", sbom.tool_version)],
        },
        document_describes: vec![ROOT_ID.into()],
        packages,
        relationships,
        has_extracted_licensing_infos: extracted.into_values().collect(),
    };
    let mut out = serde_json::to_string_pretty(&document).expect("the document serializes");
    out.push('\n');
    out
}

/// `LicenseRef-` and the name, with what SPDX ids may not hold replaced.
fn license_ref(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '.' {
                ch
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{id}")
}
