//! `pdm.lock`: each package with its groups, a `marker` and its files by name (or URL, under
//! the `static_urls` strategy) and hash. A package is expected where its marker holds here.

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
    marker: Option<String>,
    #[serde(default)]
    files: Vec<crate::NamedFile>,
}

pub(crate) fn read(text: &str, context: &Context<'_>) -> Result<Vec<LockedPackage>, FormatError> {
    let document: Document = toml::from_str(text).map_err(|e| FormatError::toml(text, &e))?;
    let mut out = Vec::new();
    for package in document.packages {
        let line = Some(line_of(text, package.name.span().start));
        if let Some(marker) = &package.marker
            && !parse_marker(marker, line)?.evaluate(context.markers, &[])
        {
            continue;
        }
        out.push(LockedPackage {
            name: parse_name(package.name.get_ref(), line)?,
            version: Some(parse_version(&package.version, line)?),
            expected: Expected::Required,
            artifacts: named_files(context, &package.files),
            line,
        });
    }
    Ok(out)
}
