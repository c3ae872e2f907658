//! Core metadata (`METADATA`, `PKG-INFO`) of every version from 1.0 to 2.6.
//!
//! The file is an RFC 822 message: fields may come in any order, values may be folded over
//! several lines and may hold RFC 2047 encoded words, and `Requires-Dist` is written in every
//! spelling the PEP 508 grammar and older tools allowed. One bad `Requires-Dist` line is a
//! problem of that line, not of the file.

use std::str::FromStr;

use uv_normalize::PackageName;
use uv_pep440::Version;
use uv_pypi_types::{LenientRequirement, VerbatimParsedUrl};

/// A parsed requirement, as `Requires-Dist` states it.
pub type Requirement = uv_pep508::Requirement<VerbatimParsedUrl>;

/// The fields icelock reads from core metadata.
#[derive(Debug, Clone)]
pub struct CoreMetadata {
    pub metadata_version: Option<String>,
    /// `Name:` as written (not normalised: `PyYAML`, `jaraco.functools`).
    pub name: String,
    pub normalized_name: PackageName,
    pub version: Version,
    pub requires_dist: Vec<Requirement>,
    pub provides_extra: Vec<String>,
    pub requires_python: Option<String>,
    /// PEP 794 `Import-Name` values, `; private` stripped. `None` when the field is absent; an
    /// empty list when the file says "no import names" with an empty field.
    pub import_names: Option<Vec<String>>,
    pub import_namespaces: Vec<String>,
    /// PEP 639 `License-Expression`, as written (validated by whoever needs it as SPDX).
    pub license_expression: Option<String>,
    /// The older free-text `License` field.
    pub license: Option<String>,
    /// `License :: …` trove classifiers.
    pub license_classifiers: Vec<String>,
}

/// Why core metadata could not be read, or what in it was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("is not an RFC 822 header block: {0}")]
    Headers(String),
    #[error("has no `{0}` field")]
    MissingField(&'static str),
    #[error("has an invalid Name {0:?}: {1}")]
    InvalidName(String, String),
    #[error("has an invalid Version {0:?}: {1}")]
    InvalidVersion(String, String),
}

/// Something in an otherwise readable file that the user should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataWarning {
    NotUtf8 { offset: usize },
    BadRequirement { line: String, error: String },
    ImportNameInBoth(String),
}

impl std::fmt::Display for MetadataWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotUtf8 { offset } => write!(
                f,
                "is not valid UTF-8 (byte {offset}); read as Latin-1, which is what old tools wrote"
            ),
            Self::BadRequirement { line, error } => {
                write!(
                    f,
                    "has a Requires-Dist that is not PEP 508: {line:?} ({error})"
                )
            }
            Self::ImportNameInBoth(name) => write!(
                f,
                "names {name:?} in both Import-Name and Import-Namespace, which PEP 794 forbids"
            ),
        }
    }
}

impl CoreMetadata {
    /// Parses `bytes`; the warnings say what was skipped or guessed.
    pub fn parse(bytes: &[u8]) -> Result<(Self, Vec<MetadataWarning>), MetadataError> {
        let mut warnings = Vec::new();
        let utf8 = match std::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(err) => {
                warnings.push(MetadataWarning::NotUtf8 {
                    offset: err.valid_up_to(),
                });
                false
            }
        };
        let (headers, _body) =
            mailparse::parse_headers(bytes).map_err(|e| MetadataError::Headers(e.to_string()))?;
        let value = |h: &mailparse::MailHeader| -> String {
            if utf8 {
                h.get_value_utf8().unwrap_or_else(|_| h.get_value())
            } else {
                h.get_value()
            }
        };
        let all = |key: &str| -> Vec<String> {
            headers
                .iter()
                .filter(|h| h.get_key_ref().eq_ignore_ascii_case(key))
                .map(value)
                .collect()
        };
        let first = |key: &str| all(key).into_iter().next();

        let name = first("Name")
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .ok_or(MetadataError::MissingField("Name"))?;
        let normalized_name = PackageName::from_str(&name)
            .map_err(|e| MetadataError::InvalidName(name.clone(), e.to_string()))?;
        let version_text = first("Version")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or(MetadataError::MissingField("Version"))?;
        let version = Version::from_str(&version_text)
            .map_err(|e| MetadataError::InvalidVersion(version_text.clone(), e.to_string()))?;

        let mut requires_dist = Vec::new();
        for line in all("Requires-Dist") {
            // The lenient parser accepts what real wheels carry but PEP 508 forbids
            // (`>=1.0.*`, missing commas), as pip's own parser historically did.
            match LenientRequirement::<VerbatimParsedUrl>::from_str(line.trim()) {
                Ok(req) => requires_dist.push(Requirement::from(req)),
                Err(err) => warnings.push(MetadataWarning::BadRequirement {
                    line: line.trim().to_string(),
                    error: err.to_string(),
                }),
            }
        }

        let import_fields = all("Import-Name");
        let import_names = (!import_fields.is_empty()).then(|| {
            import_fields
                .iter()
                .map(|v| strip_private(v))
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
        });
        let import_namespaces: Vec<String> = all("Import-Namespace")
            .iter()
            .map(|v| strip_private(v))
            .filter(|v| !v.is_empty())
            .collect();
        if let Some(names) = &import_names {
            for name in names {
                if import_namespaces.contains(name) {
                    warnings.push(MetadataWarning::ImportNameInBoth(name.clone()));
                }
            }
        }

        Ok((
            Self {
                metadata_version: first("Metadata-Version").map(|v| v.trim().to_string()),
                name,
                normalized_name,
                version,
                requires_dist,
                provides_extra: all("Provides-Extra")
                    .into_iter()
                    .map(|v| v.trim().to_string())
                    .collect(),
                requires_python: first("Requires-Python").map(|v| v.trim().to_string()),
                import_names,
                import_namespaces,
                license_expression: first("License-Expression")
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty()),
                license: first("License")
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("UNKNOWN")),
                license_classifiers: all("Classifier")
                    .into_iter()
                    .map(|v| v.trim().to_string())
                    .filter(|v| v.starts_with("License ::"))
                    .collect(),
            },
            warnings,
        ))
    }
}

/// `Import-Name: foo; private` names `foo`; the suffix only says it is not public API.
fn strip_private(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirky_metadata_is_read() {
        let text = b"Metadata-Version: 2.1\r\nName: Demo_Quirks\r\nRequires-Python: >=3.8\r\nVersion: 1.0.post1\r\nAuthor: =?utf-8?q?Sebasti=C3=A1n?=\r\nSummary: a summary that goes\r\n on and on\r\nRequires-Dist: demo-core (>=1.0,<3)\r\nRequires-Dist: x >=3.5 ; extra == 'docs'\r\nRequires-Dist: colorama ; (os_name == \"nt\") and extra == 'dev'\r\nProvides-Extra: docs\r\n\r\nbody\r\n";
        let (meta, warnings) = CoreMetadata::parse(text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(meta.name, "Demo_Quirks");
        assert_eq!(meta.normalized_name.as_ref(), "demo-quirks");
        assert_eq!(meta.version.to_string(), "1.0.post1");
        assert_eq!(meta.requires_dist.len(), 3);
        assert_eq!(meta.requires_dist[0].name.as_ref(), "demo-core");
        assert_eq!(meta.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(meta.import_names, None);
    }

    #[test]
    fn bad_requirement_is_a_warning_not_a_failure() {
        let text = b"Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: ok-dep\nRequires-Dist: !!nonsense\n\n";
        let (meta, warnings) = CoreMetadata::parse(text).unwrap();
        assert_eq!(meta.requires_dist.len(), 1);
        assert!(matches!(
            warnings[0],
            MetadataWarning::BadRequirement { .. }
        ));
    }

    #[test]
    fn pep794_import_names() {
        let text = b"Metadata-Version: 2.5\nName: a\nVersion: 1\nImport-Name: a\nImport-Name: _a_impl; private\nImport-Namespace: ns\n\n";
        let (meta, _) = CoreMetadata::parse(text).unwrap();
        assert_eq!(
            meta.import_names,
            Some(vec!["a".to_string(), "_a_impl".to_string()])
        );
        assert_eq!(meta.import_namespaces, vec!["ns".to_string()]);
        let empty = b"Metadata-Version: 2.5\nName: a\nVersion: 1\nImport-Name:\n\n";
        assert_eq!(
            CoreMetadata::parse(empty).unwrap().0.import_names,
            Some(vec![])
        );
    }

    #[test]
    fn latin1_metadata_is_read_with_a_warning() {
        let text = b"Metadata-Version: 1.0\nName: old\nVersion: 0.1\nAuthor: Jos\xe9\n\n";
        let (meta, warnings) = CoreMetadata::parse(text).unwrap();
        assert_eq!(meta.name, "old");
        assert!(matches!(
            warnings[0],
            MetadataWarning::NotUtf8 { offset: 56 }
        ));
    }

    #[test]
    fn missing_version_is_an_error() {
        let err = CoreMetadata::parse(b"Name: a\n\n").unwrap_err();
        assert_eq!(err, MetadataError::MissingField("Version"));
    }
}
