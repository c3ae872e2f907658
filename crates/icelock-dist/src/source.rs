//! Where a distribution came from, as far as the environment itself says.
//!
//! The evidence is PEP 610's `direct_url.json` (pip and uv, for URL, path, VCS and editable
//! installs), the `PYODIDE_*` files micropip and `pyodide.loadPackage` write, and the lack of
//! both, which means an index install (or a local sdist build, which leaves no mark with pip).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the environment says about a distribution's origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// Nothing says otherwise: an index install (or an sdist built locally by pip).
    Index,
    /// An archive by URL or local path (`pip install ./x.whl`, `pip install https://…/x.whl`).
    Url {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
        /// `sha256=<hex>` when the installer recorded one (pip does, uv does not).
        #[serde(skip_serializing_if = "Option::is_none")]
        hash: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        subdirectory: Option<String>,
    },
    Vcs {
        url: String,
        vcs: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        commit_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        requested_revision: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        subdirectory: Option<String>,
    },
    /// A source tree installed (not editable).
    Directory {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
        #[serde(skip_serializing_if = "Option::is_none")]
        subdirectory: Option<String>,
    },
    Editable {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
    },
    /// Installed by micropip, which records the wheel's URL and sha256.
    Micropip {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        /// `PYODIDE_SOURCE`: `pypi` or the index URL.
        #[serde(skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
    },
    /// Loaded by `pyodide.loadPackage` (`PYODIDE_SOURCE` is `pyodide` for the runtime's own
    /// packages, else the URL).
    Pyodide { channel: String },
    /// A legacy `.egg-info` install: no RECORD, no hashes, nothing to prove.
    EggInfo,
}

impl Source {
    /// What a `direct_url.json` (PEP 610) says, with credentials removed from its URL.
    pub fn from_direct_url(bytes: &[u8]) -> Result<Source, String> {
        DirectUrl::parse(bytes)
    }
}

/// PEP 610, read with serde: the shape is JSON, and uv's own type hides the hash fields.
#[derive(Debug, Deserialize)]
pub(crate) struct DirectUrl {
    url: String,
    #[serde(default)]
    subdirectory: Option<String>,
    #[serde(default)]
    archive_info: Option<ArchiveInfo>,
    #[serde(default)]
    dir_info: Option<DirInfo>,
    #[serde(default)]
    vcs_info: Option<VcsInfo>,
}

#[derive(Debug, Deserialize)]
struct ArchiveInfo {
    #[serde(default)]
    hash: Option<String>,
    #[serde(default)]
    hashes: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct DirInfo {
    #[serde(default)]
    editable: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct VcsInfo {
    vcs: String,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    requested_revision: Option<String>,
}

impl DirectUrl {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Source, String> {
        let direct: DirectUrl = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        direct.into_source()
    }

    fn into_source(self) -> Result<Source, String> {
        let url = redact(&self.url);
        let path = file_path(&self.url);
        let subdirectory = self.subdirectory;
        match (self.vcs_info, self.dir_info, self.archive_info) {
            (Some(vcs), _, _) => Ok(Source::Vcs {
                url,
                vcs: vcs.vcs,
                commit_id: vcs.commit_id,
                requested_revision: vcs.requested_revision,
                subdirectory,
            }),
            (None, Some(dir), _) if dir.editable == Some(true) => {
                Ok(Source::Editable { url, path })
            }
            (None, Some(_), _) => Ok(Source::Directory {
                url,
                path,
                subdirectory,
            }),
            (None, None, Some(archive)) => {
                // PEP 610: `hashes` supersedes the older single `hash`; prefer the strongest.
                let from_hashes = archive.hashes.as_ref().and_then(|h| {
                    ["sha512", "sha384", "sha256"]
                        .iter()
                        .find_map(|alg| h.get(*alg).map(|hex| format!("{alg}={hex}")))
                });
                Ok(Source::Url {
                    url,
                    path,
                    hash: from_hashes.or(archive.hash),
                    subdirectory,
                })
            }
            (None, None, None) => Err("has none of archive_info, dir_info or vcs_info".to_string()),
        }
    }
}

/// PEP 610 forbids credentials in `url`, but nothing enforces it: never pass them on.
pub(crate) fn redact(raw: &str) -> String {
    // Removing a login can make the parser read part of a strange path as a new login
    // (`https://u@@/@x@y`), so redact until nothing changes.
    let mut current = raw.to_string();
    for _ in 0..4 {
        let next = redact_once(&current);
        if next == current {
            return next;
        }
        current = next;
    }
    "<a URL that kept showing credentials, removed>".to_string()
}

fn redact_once(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // `git@host` style users are not secrets (PEP 610 keeps them).
            let keep_user = parsed.password().is_none() && parsed.username() == "git";
            if keep_user {
                return raw.to_string();
            }
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("");
            parsed.to_string()
        }
        Ok(_) => raw.to_string(),
        // Not a URL the parser takes, yet it may still hold `scheme://user:token@host`: drop
        // whatever sits between `://` and an `@` in the authority.
        Err(_) => match raw.split_once("://") {
            Some((scheme, rest)) => {
                let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                match rest[..authority_end].rfind('@') {
                    Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                    None => raw.to_string(),
                }
            }
            None => raw.to_string(),
        },
    }
}

fn file_path(raw: &str) -> Option<PathBuf> {
    url::Url::parse(raw)
        .ok()
        .filter(|u| u.scheme() == "file")
        .and_then(|u| u.to_file_path().ok())
}

/// The files micropip and `pyodide.loadPackage` leave in `.dist-info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PyodideFiles {
    pub source: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
    /// `PYODIDE_REQUIRES`: the dependency names micropip resolved (JSON list).
    pub requires: Option<Vec<String>>,
}

impl PyodideFiles {
    pub fn is_empty(&self) -> bool {
        self.source.is_none() && self.url.is_none() && self.sha256.is_none()
    }

    /// The origin these files state, given the `INSTALLER` that wrote them.
    pub(crate) fn source_for(&self, installer: Option<&str>) -> Option<Source> {
        if let Some(url) = &self.url {
            return Some(Source::Micropip {
                url: redact(url),
                sha256: self.sha256.clone(),
                channel: self.source.clone(),
            });
        }
        let loaded = installer.is_some_and(|i| i.starts_with("pyodide."));
        match &self.source {
            Some(channel) if loaded || channel == "pyodide" => Some(Source::Pyodide {
                channel: redact(channel),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_wheel_url_with_hash() {
        let source = DirectUrl::parse(br#"{"archive_info": {"hash": "sha256=aa", "hashes": {"sha256": "aa"}}, "url": "https://h/x-1.0-py3-none-any.whl"}"#).unwrap();
        assert_eq!(
            source,
            Source::Url {
                url: "https://h/x-1.0-py3-none-any.whl".into(),
                path: None,
                hash: Some("sha256=aa".into()),
                subdirectory: None
            }
        );
    }

    #[test]
    fn uv_wheel_url_without_hash_and_editable_and_vcs() {
        let uv =
            DirectUrl::parse(br#"{"url":"file:///w/x-1.0-py3-none-any.whl","archive_info":{}}"#)
                .unwrap();
        assert!(matches!(
            uv,
            Source::Url {
                hash: None,
                path: Some(_),
                ..
            }
        ));
        let editable =
            DirectUrl::parse(br#"{"dir_info": {"editable": true}, "url": "file:///src/proj"}"#)
                .unwrap();
        assert_eq!(
            editable,
            Source::Editable {
                url: "file:///src/proj".into(),
                path: Some(PathBuf::from("/src/proj"))
            }
        );
        let vcs = DirectUrl::parse(br#"{"url": "https://h/r", "vcs_info": {"commit_id": "f234", "requested_revision": "v0.3.0", "vcs": "git"}}"#).unwrap();
        assert!(matches!(vcs, Source::Vcs { commit_id: Some(c), .. } if c == "f234"));
    }

    #[test]
    fn provenance_url() {
        let p = Provenance::parse(br#"{"url": "https://u:p@h/x-1.0-py3-none-any.whl", "archive_info": {"hashes": {"sha256": "AB"}}}"#).unwrap();
        assert_eq!(p.url, "https://h/x-1.0-py3-none-any.whl");
        assert_eq!(p.sha256.as_deref(), Some("ab"));
    }

    #[test]
    fn credentials_are_removed_even_from_urls_that_do_not_parse() {
        assert_eq!(
            redact("https://user:tok@[not-an-ip/x.whl"),
            "https://[not-an-ip/x.whl"
        );
        assert_eq!(redact("h:pts/to:ken@x"), "h:pts/to:ken@x");
    }

    #[test]
    fn credentials_are_removed() {
        assert_eq!(redact("https://user:tok@h/x.whl"), "https://h/x.whl");
        assert_eq!(redact("ssh://git@h/r"), "ssh://git@h/r");
        assert_eq!(redact("https://tokenonly@h/x"), "https://h/x");
    }

    #[test]
    fn micropip_and_load_package() {
        let micropip = PyodideFiles {
            source: Some("pypi".into()),
            url: Some("https://h/x.whl".into()),
            sha256: Some("ab".into()),
            requires: None,
        };
        assert!(matches!(
            micropip.source_for(Some("micropip")),
            Some(Source::Micropip { .. })
        ));
        let loaded = PyodideFiles {
            source: Some("pyodide".into()),
            ..PyodideFiles::default()
        };
        assert_eq!(
            loaded.source_for(Some("pyodide.loadPackage")),
            Some(Source::Pyodide {
                channel: "pyodide".into()
            })
        );
    }
}

/// PEP 710's `provenance_url.json` (a draft no installer writes yet): the index file an index
/// install came from. Evidence to check against the index, never a proof by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub url: String,
    pub sha256: Option<String>,
}

#[derive(Deserialize)]
struct ProvenanceJson {
    url: String,
    #[serde(default)]
    archive_info: Option<ArchiveInfo>,
}

impl Provenance {
    /// Reads a `provenance_url.json`, with credentials removed from its URL.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let raw: ProvenanceJson = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let sha256 = raw
            .archive_info
            .and_then(|a| a.hashes)
            .and_then(|h| h.get("sha256").cloned())
            .map(|h| h.to_ascii_lowercase());
        Ok(Self {
            url: redact(&raw.url),
            sha256,
        })
    }
}
