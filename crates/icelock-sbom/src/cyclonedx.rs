//! CycloneDX 1.6 JSON: the environment as `metadata.component`, icelock in `metadata.tools`,
//! each distribution a `library` component whose proven artifact is its `distribution`
//! external reference (URL and SHA-256), the proof and any reason it is unproven as
//! properties, and the dependency graph in `dependencies`.

use serde::Serialize;

use crate::{Component, License, Sbom};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<CdxComponent<'a>>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    timestamp: &'a str,
    tools: Tools<'a>,
    component: CdxComponent<'a>,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: Vec<CdxComponent<'a>>,
}

#[derive(Serialize, Default)]
struct CdxComponent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    Expression { expression: String },
    License { license: NamedLicense },
}

#[derive(Serialize)]
struct NamedLicense {
    name: String,
}

#[derive(Serialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

const ROOT_REF: &str = "environment";

fn component_ref(c: &Component) -> String {
    c.purl.clone()
}

/// The CycloneDX 1.6 JSON document of `sbom`.
pub fn cyclonedx(sbom: &Sbom) -> String {
    let env = &sbom.environment;
    let mut root_properties = vec![
        Property {
            name: "icelock:environment:path",
            value: env.path.clone(),
        },
        Property {
            name: "icelock:environment:platform",
            value: env.platform.clone(),
        },
        Property {
            name: "icelock:environment:implementation",
            value: env.implementation.clone(),
        },
    ];
    if let Some(v) = &env.python_version {
        root_properties.push(Property {
            name: "icelock:environment:python-version",
            value: v.clone(),
        });
    }
    let by_name: std::collections::BTreeMap<&str, &Component> = sbom
        .components
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let components: Vec<CdxComponent> = sbom.components.iter().map(component).collect();
    let mut dependencies = vec![Dependency {
        reference: ROOT_REF.into(),
        depends_on: sbom.components.iter().map(component_ref).collect(),
    }];
    for c in &sbom.components {
        dependencies.push(Dependency {
            reference: component_ref(c),
            depends_on: c
                .depends
                .iter()
                .filter_map(|d| by_name.get(d.as_str()).map(|d| component_ref(d)))
                .collect(),
        });
    }
    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", sbom.content_id()),
        version: 1,
        metadata: Metadata {
            timestamp: &sbom.created,
            tools: Tools {
                components: vec![CdxComponent {
                    kind: "application",
                    name: "icelock",
                    version: Some(&sbom.tool_version),
                    ..CdxComponent::default()
                }],
            },
            component: CdxComponent {
                kind: "platform",
                bom_ref: Some(ROOT_REF.into()),
                name: "python-environment",
                version: env.python_version.as_deref(),
                properties: root_properties,
                ..CdxComponent::default()
            },
        },
        components,
        dependencies,
    };
    let mut out = serde_json::to_string_pretty(&bom).expect("the document serializes");
    out.push('\n');
    out
}

fn component(c: &Component) -> CdxComponent<'_> {
    let mut external_references = Vec::new();
    if let Some(a) = &c.artifact {
        external_references.push(ExternalReference {
            kind: "distribution",
            url: a.url.clone(),
            comment: None,
            hashes: vec![Hash {
                alg: "SHA-256",
                content: a.sha256.clone(),
            }],
        });
    }
    for e in &c.embedded {
        external_references.push(ExternalReference {
            kind: "bom",
            url: file_url(&e.path),
            comment: Some("shipped in the wheel's .dist-info/sboms (PEP 770)"),
            hashes: vec![Hash {
                alg: "SHA-256",
                content: e.sha256.clone(),
            }],
        });
    }
    let licenses = match &c.license {
        License::Expression(e) => vec![LicenseChoice::Expression {
            expression: e.clone(),
        }],
        License::Named(names) => names
            .iter()
            .map(|n| LicenseChoice::License {
                license: NamedLicense { name: n.clone() },
            })
            .collect(),
        License::None => Vec::new(),
    };
    let mut properties = Vec::new();
    if let Some(proof) = &c.proof {
        properties.push(Property {
            name: "icelock:proof",
            value: proof.clone(),
        });
    }
    if let Some(why) = &c.unproven {
        properties.push(Property {
            name: "icelock:unproven",
            value: why.clone(),
        });
    }
    CdxComponent {
        kind: "library",
        bom_ref: Some(component_ref(c)),
        name: &c.name,
        version: Some(&c.version),
        purl: Some(&c.purl),
        licenses,
        external_references,
        properties,
    }
}

fn file_url(path: &str) -> String {
    url::Url::from_file_path(path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.to_string())
}
