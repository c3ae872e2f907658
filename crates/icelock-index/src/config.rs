//! Which indexes to search, taken from where pip and uv users already configure them.
//!
//! Sources, strongest first for the primary index: command-line flags; `PIP_INDEX_URL`;
//! `UV_DEFAULT_INDEX` / `UV_INDEX_URL`; pip configuration files (the environment's own
//! `pip.conf`, then the user's, then the global ones; `[install]` over `[global]`); else PyPI.
//! Extra indexes and find-links from every source are all searched: attribution proves a match
//! by its METADATA hash, so searching one more index can only find more evidence, never a wrong
//! answer.

use std::path::{Path, PathBuf};

use url::Url;

/// PyPI's simple API, the default of pip and uv.
pub const PYPI: &str = "https://pypi.org/simple/";

/// Index options given on the command line.
#[derive(Debug, Clone, Default)]
pub struct IndexArgs {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    pub no_index: bool,
    pub trusted_hosts: Vec<String>,
    pub cert: Option<PathBuf>,
}

/// Where a setting came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    CommandLine,
    EnvVar(&'static str),
    File(PathBuf),
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CommandLine => f.write_str("the command line"),
            Self::EnvVar(name) => write!(f, "${name}"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Default => f.write_str("the default"),
        }
    }
}

/// One configured location: an index (a simple API root) or a find-links page or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// May carry credentials: never print it, use [`Location::redacted`].
    pub url: Url,
    pub origin: Origin,
}

impl Location {
    /// The URL without user name or password, for output of any kind.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }
}

/// A URL without its credentials.
pub fn redact(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_password(None);
    let _ = clean.set_username("");
    clean.to_string()
}

/// The resolved configuration.
#[derive(Debug, Clone, Default)]
pub struct IndexConfig {
    /// Simple API roots, primary first, without duplicates.
    pub indexes: Vec<Location>,
    pub find_links: Vec<Location>,
    pub trusted_hosts: Vec<String>,
    /// Extra CA bundle (pip's `cert`, `PIP_CERT`).
    pub cert: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{value:?} from {origin} is neither a URL nor an existing path")]
    BadLocation { value: String, origin: Origin },
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
}

/// The process state that configuration depends on, so that tests can supply their own.
pub struct Context<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
    pub cwd: PathBuf,
    /// The environment's root: its own `pip.conf` is read (a Pyodide venv's adds its index).
    pub env_root: Option<PathBuf>,
}

impl Context<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|v| !v.trim().is_empty())
    }
}

/// pip's settings from one configuration file.
#[derive(Debug, Default)]
struct PipFile {
    index_url: Option<String>,
    extra_index_urls: Vec<String>,
    find_links: Vec<String>,
    trusted_hosts: Vec<String>,
    cert: Option<String>,
    no_index: bool,
}

fn read_pip_file(path: &Path) -> Result<Option<PipFile>, ConfigError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let mut ini = configparser::ini::Ini::new();
    ini.set_multiline(true);
    ini.read(text).map_err(|message| ConfigError::BadFile {
        path: path.to_path_buf(),
        message,
    })?;
    // `[install]` applies to `pip install` and overrides `[global]`, as pip reads it.
    let get = |key: &str| {
        ini.get("install", key)
            .or_else(|| ini.get("global", key))
            .filter(|v| !v.trim().is_empty())
    };
    Ok(Some(PipFile {
        index_url: get("index-url"),
        extra_index_urls: get("extra-index-url")
            .map(|v| words(&v))
            .unwrap_or_default(),
        find_links: get("find-links").map(|v| words(&v)).unwrap_or_default(),
        trusted_hosts: get("trusted-host").map(|v| words(&v)).unwrap_or_default(),
        cert: get("cert"),
        no_index: get("no-index").is_some_and(|v| truthy(&v)),
    }))
}

fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(String::from).collect()
}

fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// pip's configuration files, weakest first: global, user, then the environment's own.
fn pip_files(ctx: &Context) -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("/etc/pip.conf")];
    let xdg_dirs = ctx
        .get("XDG_CONFIG_DIRS")
        .unwrap_or_else(|| "/etc/xdg".to_string());
    for dir in xdg_dirs.split(':').rev() {
        files.push(Path::new(dir).join("pip/pip.conf"));
    }
    if let Some(home) = &ctx.home {
        files.push(home.join(".pip/pip.conf"));
        let config_home = ctx
            .get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"));
        files.push(config_home.join("pip/pip.conf"));
    }
    if let Some(root) = &ctx.env_root {
        files.push(root.join("pip.conf"));
    }
    if let Some(file) = ctx.get("PIP_CONFIG_FILE")
        && file != "os.devnull"
        && file != "/dev/null"
    {
        files.push(PathBuf::from(file));
    }
    files
}

/// A URL, or a local path turned into a `file://` URL.
fn location(value: &str, origin: Origin, ctx: &Context) -> Result<Location, ConfigError> {
    let bad = || ConfigError::BadLocation {
        value: redact_text(value),
        origin: origin.clone(),
    };
    if let Ok(url) = Url::parse(value) {
        // A single letter "scheme" is a Windows drive, not a URL.
        if url.scheme().len() > 1 {
            return Ok(Location { url, origin });
        }
    }
    let path = ctx.cwd.join(value);
    // A path that does not exist stays as written: the lookup then says it does not exist.
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let url = if path.is_dir() {
        Url::from_directory_path(&path)
    } else {
        Url::from_file_path(&path)
    }
    .map_err(|_| bad())?;
    Ok(Location { url, origin })
}

/// Removes `user:password@` from text that may or may not be a URL, for error messages.
fn redact_text(value: &str) -> String {
    Url::parse(value)
        .map(|u| redact(&u))
        .unwrap_or_else(|_| value.to_string())
}

fn push_unique(list: &mut Vec<Location>, loc: Location) {
    let key = |u: &Url| u.as_str().trim_end_matches('/').to_string();
    if !list.iter().any(|l| key(&l.url) == key(&loc.url)) {
        list.push(loc);
    }
}

impl IndexConfig {
    pub fn discover(args: &IndexArgs, ctx: &Context) -> Result<Self, ConfigError> {
        let mut files = Vec::new();
        for path in pip_files(ctx) {
            if let Some(file) = read_pip_file(&path)? {
                files.push((path, file));
            }
        }
        let origin_file = |p: &PathBuf| Origin::File(p.clone());

        // The primary index: the strongest source that names one.
        let mut primary: Option<(String, Origin)> = args
            .index_url
            .clone()
            .map(|u| (u, Origin::CommandLine))
            .or_else(|| {
                ctx.get("PIP_INDEX_URL")
                    .map(|u| (u, Origin::EnvVar("PIP_INDEX_URL")))
            })
            .or_else(|| {
                ctx.get("UV_DEFAULT_INDEX")
                    .map(|u| (u, Origin::EnvVar("UV_DEFAULT_INDEX")))
            })
            .or_else(|| {
                ctx.get("UV_INDEX_URL")
                    .map(|u| (u, Origin::EnvVar("UV_INDEX_URL")))
            });
        if primary.is_none() {
            primary = files
                .iter()
                .rev()
                .find_map(|(p, f)| f.index_url.clone().map(|u| (u, origin_file(p))));
        }
        let no_index = args.no_index
            || ctx.get("PIP_NO_INDEX").is_some_and(|v| truthy(&v))
            || ctx.get("UV_NO_INDEX").is_some_and(|v| truthy(&v))
            || files.iter().any(|(_, f)| f.no_index);

        let mut config = IndexConfig::default();
        if !no_index {
            let (url, origin) = primary.unwrap_or_else(|| (PYPI.to_string(), Origin::Default));
            push_unique(&mut config.indexes, location(&url, origin, ctx)?);
            let mut extras: Vec<(String, Origin)> = Vec::new();
            extras.extend(
                args.extra_index_urls
                    .iter()
                    .map(|u| (u.clone(), Origin::CommandLine)),
            );
            for var in ["PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"] {
                if let Some(v) = ctx.get(var) {
                    extras.extend(words(&v).into_iter().map(|u| (u, Origin::EnvVar(var))));
                }
            }
            if let Some(v) = ctx.get("UV_INDEX") {
                // `UV_INDEX` entries may be named: `name=https://…`.
                for entry in words(&v) {
                    let url = match entry.split_once('=') {
                        Some((name, url)) if !name.contains(':') => url.to_string(),
                        _ => entry,
                    };
                    extras.push((url, Origin::EnvVar("UV_INDEX")));
                }
            }
            for (path, file) in files.iter().rev() {
                extras.extend(
                    file.extra_index_urls
                        .iter()
                        .map(|u| (u.clone(), origin_file(path))),
                );
            }
            for (url, origin) in extras {
                push_unique(&mut config.indexes, location(&url, origin, ctx)?);
            }
        }

        let mut links: Vec<(String, Origin)> = Vec::new();
        links.extend(
            args.find_links
                .iter()
                .map(|u| (u.clone(), Origin::CommandLine)),
        );
        for var in ["PIP_FIND_LINKS", "UV_FIND_LINKS"] {
            if let Some(v) = ctx.get(var) {
                links.extend(
                    words(&v)
                        .into_iter()
                        .flat_map(|w| w.split(',').map(String::from).collect::<Vec<_>>())
                        .filter(|w| !w.is_empty())
                        .map(|u| (u, Origin::EnvVar(var))),
                );
            }
        }
        for (path, file) in files.iter().rev() {
            links.extend(
                file.find_links
                    .iter()
                    .map(|u| (u.clone(), origin_file(path))),
            );
        }
        for (link, origin) in links {
            // A folder that does not exist is kept (pip warns and skips it): the reasons of
            // whatever is not proven then name it, rather than it vanishing unsaid.
            push_unique(&mut config.find_links, location(&link, origin, ctx)?);
        }

        config.trusted_hosts = args.trusted_hosts.clone();
        if let Some(v) = ctx.get("PIP_TRUSTED_HOST") {
            config.trusted_hosts.extend(words(&v));
        }
        if let Some(v) = ctx.get("UV_INSECURE_HOST") {
            config.trusted_hosts.extend(words(&v));
        }
        for (_, file) in &files {
            config
                .trusted_hosts
                .extend(file.trusted_hosts.iter().cloned());
        }
        config.cert = args
            .cert
            .clone()
            .or_else(|| ctx.get("PIP_CERT").map(PathBuf::from))
            .or_else(|| {
                files
                    .iter()
                    .rev()
                    .find_map(|(_, f)| f.cert.clone().map(PathBuf::from))
            });
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn discover(
        args: &IndexArgs,
        vars: &[(&str, &str)],
        root: Option<&Path>,
        home: &Path,
    ) -> IndexConfig {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let var = move |k: &str| map.get(k).cloned();
        let ctx = Context {
            var: &var,
            home: Some(home.to_path_buf()),
            cwd: home.to_path_buf(),
            env_root: root.map(Path::to_path_buf),
        };
        IndexConfig::discover(args, &ctx).unwrap()
    }

    fn urls(list: &[Location]) -> Vec<String> {
        list.iter().map(|l| l.url.to_string()).collect()
    }

    #[test]
    fn defaults_to_pypi() {
        let home = tempfile::tempdir().unwrap();
        let config = discover(
            &IndexArgs::default(),
            &[("XDG_CONFIG_DIRS", "/nonexistent")],
            None,
            home.path(),
        );
        assert_eq!(urls(&config.indexes), vec![PYPI.to_string()]);
    }

    #[test]
    fn precedence_and_union() {
        let home = tempfile::tempdir().unwrap();
        let root = home.path().join("venv");
        std::fs::create_dir_all(home.path().join(".config/pip")).unwrap();
        std::fs::create_dir_all(root.join("package_index")).unwrap();
        std::fs::write(
            home.path().join(".config/pip/pip.conf"),
            "[global]\nindex-url = https://user.test/simple\nextra-index-url =\n    https://a.test/simple\n    https://b.test/simple\n",
        )
        .unwrap();
        // A Pyodide venv's own pip.conf adds its local index.
        std::fs::write(
            root.join("pip.conf"),
            format!(
                "[install]\nonly-binary = :all:\nextra-index-url = file://{}/package_index\n",
                root.display()
            ),
        )
        .unwrap();
        let vars = [
            ("XDG_CONFIG_DIRS", "/nonexistent"),
            ("UV_INDEX", "internal=https://uv.test/simple"),
        ];
        let config = discover(&IndexArgs::default(), &vars, Some(&root), home.path());
        assert_eq!(
            urls(&config.indexes),
            vec![
                "https://user.test/simple".to_string(),
                "https://uv.test/simple".to_string(),
                format!("file://{}/package_index", root.display()),
                "https://a.test/simple".to_string(),
                "https://b.test/simple".to_string(),
            ]
        );

        let args = IndexArgs {
            index_url: Some("https://tok:secret@cli.test/simple/".into()),
            ..IndexArgs::default()
        };
        let vars = [
            ("XDG_CONFIG_DIRS", "/nonexistent"),
            ("PIP_INDEX_URL", "https://env.test/simple/"),
        ];
        let config = discover(&args, &vars, None, home.path());
        assert_eq!(config.indexes[0].origin, Origin::CommandLine);
        assert_eq!(config.indexes[0].redacted(), "https://cli.test/simple/");
        assert!(!format!("{:?}", config.indexes[0].redacted()).contains("secret"));
    }

    #[test]
    fn find_links_paths_and_missing_folders() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("wheels")).unwrap();
        let vars = [
            ("XDG_CONFIG_DIRS", "/nonexistent"),
            ("PIP_FIND_LINKS", "wheels /does/not/exist"),
        ];
        let config = discover(&IndexArgs::default(), &vars, None, home.path());
        assert_eq!(config.find_links.len(), 2);
        assert_eq!(config.find_links[0].url.scheme(), "file");
        assert_eq!(config.find_links[1].url.path(), "/does/not/exist");
    }

    #[test]
    fn no_index_leaves_only_find_links() {
        let home = tempfile::tempdir().unwrap();
        let args = IndexArgs {
            no_index: true,
            ..IndexArgs::default()
        };
        let config = discover(
            &args,
            &[("XDG_CONFIG_DIRS", "/nonexistent")],
            None,
            home.path(),
        );
        assert!(config.indexes.is_empty());
    }
}
