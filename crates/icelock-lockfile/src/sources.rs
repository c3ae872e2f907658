//! Where a lock says its files come from, for the formats that name files without URLs: a
//! `requirements.txt`'s `--index-url`, `--extra-index-url` and `--find-links` lines, a
//! `poetry.lock` package's `[package.source]`, and for `pdm.lock` the `[[tool.pdm.source]]` of
//! the `pyproject.toml` beside it. The caller searches them beside its configured indexes.

use std::path::Path;

use serde::Deserialize;

use crate::LockKind;

/// Index URLs and find-links locations a lock names (as written; relative find-links paths
/// resolved against the lock's folder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub indexes: Vec<String>,
    pub find_links: Vec<String>,
}

impl Sources {
    fn add_index(&mut self, url: &str) {
        let url = url.trim().to_string();
        if !url.is_empty() && !self.indexes.contains(&url) {
            self.indexes.push(url);
        }
    }
}

pub(crate) fn of(kind: LockKind, text: &str, path: &Path) -> Sources {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut sources = Sources::default();
    match kind {
        LockKind::Requirements => {
            for line in text.lines() {
                let line = line.trim();
                let mut words = line.split_whitespace();
                let (Some(option), value) = (words.next(), words.next()) else {
                    continue;
                };
                let (option, value) = match option.split_once('=') {
                    Some((o, v)) => (o, Some(v)),
                    None => (option, value),
                };
                let Some(value) = value else { continue };
                match option {
                    "-i" | "--index-url" | "--extra-index-url" => sources.add_index(value),
                    "-f" | "--find-links" => {
                        let location = if value.contains("://") {
                            value.to_string()
                        } else {
                            folder.join(value).display().to_string()
                        };
                        if !sources.find_links.contains(&location) {
                            sources.find_links.push(location);
                        }
                    }
                    _ => {}
                }
            }
        }
        LockKind::PoetryLock => {
            #[derive(Deserialize)]
            struct Document {
                #[serde(default, rename = "package")]
                packages: Vec<Package>,
            }
            #[derive(Deserialize)]
            struct Package {
                source: Option<Source>,
            }
            #[derive(Deserialize)]
            struct Source {
                #[serde(rename = "type")]
                kind: Option<String>,
                url: Option<String>,
            }
            if let Ok(document) = toml::from_str::<Document>(text) {
                for source in document.packages.into_iter().filter_map(|p| p.source) {
                    // `legacy` is poetry's word for a simple repository; other kinds (a file,
                    // a directory, git) name no index.
                    if source.kind.as_deref() == Some("legacy")
                        && let Some(url) = &source.url
                    {
                        sources.add_index(url);
                    }
                }
            }
        }
        LockKind::PdmLock => {
            #[derive(Deserialize)]
            struct Pyproject {
                tool: Option<Tool>,
            }
            #[derive(Deserialize)]
            struct Tool {
                pdm: Option<Pdm>,
            }
            #[derive(Deserialize)]
            struct Pdm {
                #[serde(default)]
                source: Vec<Source>,
            }
            #[derive(Deserialize)]
            struct Source {
                url: String,
                #[serde(rename = "type")]
                kind: Option<String>,
            }
            let pyproject = std::fs::read_to_string(folder.join("pyproject.toml")).ok();
            if let Some(pdm) = pyproject
                .and_then(|t| toml::from_str::<Pyproject>(&t).ok())
                .and_then(|p| p.tool?.pdm)
            {
                for source in pdm.source {
                    match source.kind.as_deref() {
                        Some("find_links") => sources.find_links.push(source.url),
                        _ => sources.add_index(&source.url),
                    }
                }
            }
        }
        LockKind::Pylock | LockKind::PyodideLock | LockKind::UvLock => {}
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_options() {
        let text = "-i https://a/simple\n--extra-index-url=https://b/simple\n-f wheels\nx==1\n";
        let got = of(
            LockKind::Requirements,
            text,
            Path::new("/p/requirements.txt"),
        );
        assert_eq!(got.indexes, ["https://a/simple", "https://b/simple"]);
        assert_eq!(got.find_links, ["/p/wheels"]);
    }

    #[test]
    fn poetry_sources() {
        let text = "[[package]]\nname = \"a\"\nversion = \"1\"\n[package.source]\ntype = \"legacy\"\nurl = \"https://h/simple\"\nreference = \"h\"\n";
        let got = of(LockKind::PoetryLock, text, Path::new("poetry.lock"));
        assert_eq!(got.indexes, ["https://h/simple"]);
    }
}
