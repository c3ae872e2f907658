//! SBOMs of what is installed: CycloneDX 1.6 JSON ([`cyclonedx`]) and SPDX 2.3 JSON ([`spdx`]).
//!
//! Both are written from one [`Sbom`], the facts as attribution found them: each component's
//! proven artifact (or why there is none), its license as METADATA declares it, its edges in
//! the environment's dependency graph. Nothing here looks at an environment: an SBOM lists
//! what the caller says is installed, proven or not, and marks the unproven.

mod cyclonedx;
mod spdx_doc;

pub use cyclonedx::cyclonedx;
pub use spdx_doc::spdx;

/// The environment an SBOM describes, as its root.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Where it is (a folder).
    pub path: String,
    pub python_version: Option<String>,
    /// `sys_platform` and `platform_machine`, e.g. `linux x86_64`, `emscripten wasm32`.
    pub platform: String,
    pub implementation: String,
}

/// One installed distribution.
#[derive(Debug, Clone)]
pub struct Component {
    /// PEP 503-normalised.
    pub name: String,
    pub version: String,
    pub purl: String,
    /// The artifact it was proven to be installed from.
    pub artifact: Option<Artifact>,
    /// How it was proven (`wheel-record`, …), or `None` when it was not.
    pub proof: Option<String>,
    /// Why it is not proven, for people.
    pub unproven: Option<String>,
    pub license: License,
    /// Normalised names of the installed components it requires here.
    pub depends: Vec<String>,
    /// SBOM files the wheel ships in `.dist-info/sboms/` (PEP 770).
    pub embedded: Vec<Embedded>,
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub filename: String,
    pub url: String,
    pub sha256: String,
}

/// An SBOM a distribution carries: where it is installed and its sha256.
#[derive(Debug, Clone)]
pub struct Embedded {
    pub path: String,
    pub sha256: String,
}

/// A license as METADATA declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// A PEP 639 `License-Expression` that is a valid SPDX expression.
    Expression(String),
    /// Names only: the `License` text or the `License ::` classifiers, never turned into ids.
    Named(Vec<String>),
    None,
}

impl License {
    /// The license of a distribution from its METADATA fields: a valid `License-Expression`,
    /// else the `License` text (its first line where it is a whole license text), else the
    /// classifiers' last segments. An expression that is not valid SPDX is kept as a name.
    pub fn from_metadata(
        expression: Option<&str>,
        text: Option<&str>,
        classifiers: &[String],
    ) -> Self {
        if let Some(expression) = expression {
            return match spdx::Expression::parse(expression) {
                Ok(_) => Self::Expression(expression.to_string()),
                Err(_) => Self::Named(vec![expression.to_string()]),
            };
        }
        if let Some(text) = text
            && let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty())
        {
            return Self::Named(vec![first.chars().take(200).collect()]);
        }
        let names: Vec<String> = classifiers
            .iter()
            .filter_map(|c| c.rsplit("::").next())
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty() && n != "OSI Approved")
            .collect();
        if names.is_empty() {
            Self::None
        } else {
            Self::Named(names)
        }
    }
}

/// The whole document's facts.
#[derive(Debug, Clone)]
pub struct Sbom {
    pub environment: Environment,
    pub components: Vec<Component>,
    /// icelock's version.
    pub tool_version: String,
    /// RFC 3339, UTC.
    pub created: String,
}

impl Sbom {
    /// A stable identifier of the document's content (a UUID's shape, from a sha256 of the
    /// components and their artifacts): the same environment gives the same serial number.
    fn content_id(&self) -> String {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(self.environment.path.as_bytes());
        for c in &self.components {
            hasher.update(c.purl.as_bytes());
            if let Some(a) = &c.artifact {
                hasher.update(a.sha256.as_bytes());
            }
        }
        let h = hex::encode(hasher.finalize());
        // Version 8 (custom), RFC 9562 variant.
        format!(
            "{}-{}-8{}-{:x}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            (u8::from_str_radix(&h[16..17], 16).unwrap_or(0) & 0x3) | 0x8,
            &h[17..20],
            &h[20..32]
        )
    }
}

/// `pkg:pypi/<name>@<version>` with qualifiers (RFC 3986 percent-encoded values).
pub fn purl(name: &str, version: &str, qualifiers: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let mut out = format!(
        "pkg:pypi/{}@{}",
        encode(&name.to_ascii_lowercase().replace('_', "-")),
        encode(version)
    );
    let mut qualifiers: Vec<&(&str, &str)> = qualifiers.iter().collect();
    qualifiers.sort();
    for (i, (key, value)) in qualifiers.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

/// A VCS install's `vcs_url` qualifier in the PURL spec's form: `git+https://host/repo@commit`.
pub fn vcs_url(vcs: &str, url: &str, commit: Option<&str>) -> String {
    let prefixed = if url.starts_with(&format!("{vcs}+")) {
        url.to_string()
    } else {
        format!("{vcs}+{url}")
    };
    match commit {
        Some(commit) => format!("{prefixed}@{commit}"),
        None => prefixed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_from_metadata() {
        assert_eq!(
            License::from_metadata(Some("MIT OR Apache-2.0"), Some("ignored"), &[]),
            License::Expression("MIT OR Apache-2.0".into())
        );
        assert_eq!(
            License::from_metadata(Some("Not A License"), None, &[]),
            License::Named(vec!["Not A License".into()])
        );
        assert_eq!(
            License::from_metadata(None, Some("\nBSD 3-Clause\nCopyright…"), &[]),
            License::Named(vec!["BSD 3-Clause".into()])
        );
        assert_eq!(
            License::from_metadata(
                None,
                None,
                &[
                    "License :: OSI Approved :: MIT License".into(),
                    "License :: OSI Approved".into()
                ]
            ),
            License::Named(vec!["MIT License".into()])
        );
        assert_eq!(License::from_metadata(None, None, &[]), License::None);
    }

    #[test]
    fn vcs_urls() {
        assert_eq!(
            vcs_url("git", "https://h/r.git", Some("abc1")),
            "git+https://h/r.git@abc1"
        );
        assert_eq!(vcs_url("git", "git+https://h/r", None), "git+https://h/r");
    }

    #[test]
    fn purls() {
        assert_eq!(purl("Demo_Core", "1.2", &[]), "pkg:pypi/demo-core@1.2");
        assert_eq!(
            purl("x", "1.0+local", &[("repository_url", "https://h/simple/")]),
            "pkg:pypi/x@1.0%2Blocal?repository_url=https%3A%2F%2Fh%2Fsimple%2F"
        );
    }
}
