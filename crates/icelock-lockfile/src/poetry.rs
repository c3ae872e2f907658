//! `poetry.lock`: each package with its groups, its markers (a string, or one per group) and
//! its files by name and hash, no URL. A package is expected where a marker holds here and it
//! is not `optional` (an extra's); an optional one is allowed.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{
    Context, Expected, FormatError, LockedPackage, line_of, named_files, parse_marker, parse_name,
    parse_version,
};

#[derive(Deserialize)]
struct Document {
    #[serde(default, rename = "package")]
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: toml::Spanned<String>,
    version: String,
    #[serde(default)]
    optional: bool,
    markers: Option<Markers>,
    #[serde(default)]
    files: Vec<crate::NamedFile>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Markers {
    One(String),
    ByGroup(BTreeMap<String, String>),
}

pub(crate) fn read(text: &str, context: &Context<'_>) -> Result<Vec<LockedPackage>, FormatError> {
    let document: Document = toml::from_str(text).map_err(|e| FormatError::toml(text, &e))?;
    let mut out = Vec::new();
    for package in document.packages {
        let line = Some(line_of(text, package.name.span().start));
        let markers: Vec<&String> = match &package.markers {
            None => Vec::new(),
            Some(Markers::One(m)) => vec![m],
            Some(Markers::ByGroup(by_group)) => by_group.values().collect(),
        };
        let mut holds = markers.is_empty();
        for marker in markers {
            holds |= parse_marker(marker, line)?.evaluate(context.markers, &[]);
        }
        if !holds {
            continue;
        }
        out.push(LockedPackage {
            name: parse_name(package.name.get_ref(), line)?,
            version: Some(parse_version(&package.version, line)?),
            expected: if package.optional {
                Expected::Allowed
            } else {
                Expected::Required
            },
            artifacts: named_files(context, &package.files),
            line,
        });
    }
    Ok(out)
}
