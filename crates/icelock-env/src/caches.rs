//! Installers' caches that installed files may be links into, located as each installer
//! locates its own.
//!
//! `uv pip install --link-mode symlink` leaves every installed file a symlink into uv's cache
//! (`<cache>/archive-v0/<id>/…`), and pdm's `install.cache_method` `symlink` and
//! `symlink_individual` into its own (`<cache>/packages/<wheel>.cache/…`). Such a file is
//! read where it points, and hashed like any other; a symlink anywhere else out of the
//! environment is not followed. The cache is the one the installer itself would use here, from
//! its own settings, never a folder that merely looks like one: a marker file anyone can write
//! would let a link to any folder pass.
//!
//! uv: `UV_CACHE_DIR`, else `cache-dir` in the `uv.toml` (or `pyproject.toml`'s `[tool.uv]`)
//! of the working directory or a folder above it, then the user's `uv.toml`, then the
//! system's, else `$XDG_CACHE_HOME/uv` (`~/.cache/uv`). pdm: `PDM_CACHE_DIR`, else
//! `cache_dir` in pdm's user configuration, else `$XDG_CACHE_HOME/pdm` (`~/.cache/pdm`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A folder inside an installer's cache that installed files may link into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedCache {
    /// Which installer's (`uv`, `pdm`).
    pub tool: &'static str,
    /// Resolved.
    pub folder: PathBuf,
}

/// The caches of this process's environment and working directory, found once.
pub fn linked_caches() -> &'static [LinkedCache] {
    static CACHES: OnceLock<Vec<LinkedCache>> = OnceLock::new();
    CACHES.get_or_init(|| {
        let vars = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let cwd = std::env::current_dir().ok();
        resolve(&vars, cwd.as_deref())
    })
}

/// The caches as `vars` (the environment variables) and the configuration files found from
/// `cwd` say.
pub fn resolve(
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    cwd: Option<&Path>,
) -> Vec<LinkedCache> {
    let home = vars("HOME").map(PathBuf::from);
    let xdg = |var: &str, fallback: &str| {
        vars(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home.as_ref().map(|h| h.join(fallback)))
    };
    let config_home = xdg("XDG_CONFIG_HOME", ".config");
    let cache_home = xdg("XDG_CACHE_HOME", ".cache");
    let absolute = |p: PathBuf| match (p.is_absolute(), cwd) {
        (false, Some(cwd)) => cwd.join(p),
        _ => p,
    };

    let uv = vars("UV_CACHE_DIR")
        .map(|v| absolute(PathBuf::from(v)))
        .or_else(|| {
            let project = cwd.into_iter().flat_map(Path::ancestors).find_map(|dir| {
                uv_setting(&dir.join("uv.toml"), false)
                    .or_else(|| uv_setting(&dir.join("pyproject.toml"), true))
                    .map(|p| if p.is_absolute() { p } else { dir.join(p) })
            });
            let user = config_home
                .as_ref()
                .and_then(|c| uv_setting(&c.join("uv/uv.toml"), false));
            let system = uv_setting(Path::new("/etc/uv/uv.toml"), false);
            project.or(user).or(system)
        })
        .or_else(|| cache_home.as_ref().map(|c| c.join("uv")));
    let pdm = vars("PDM_CACHE_DIR")
        .map(|v| absolute(PathBuf::from(v)))
        .or_else(|| {
            config_home
                .as_ref()
                .and_then(|c| toml_string(&c.join("pdm/config.toml"), &["cache_dir"]))
                .map(PathBuf::from)
        })
        .or_else(|| cache_home.as_ref().map(|c| c.join("pdm")));

    let mut out = Vec::new();
    for (tool, root, linked) in [("uv", uv, "archive-v0"), ("pdm", pdm, "packages")] {
        if let Some(root) = root {
            let folder = root.join(linked);
            let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
            out.push(LinkedCache { tool, folder });
        }
    }
    out
}

/// `cache-dir` from a uv configuration file (`[tool.uv]` in a `pyproject.toml`).
fn uv_setting(file: &Path, in_pyproject: bool) -> Option<PathBuf> {
    let keys: &[&str] = if in_pyproject {
        &["tool", "uv", "cache-dir"]
    } else {
        &["cache-dir"]
    };
    toml_string(file, keys).map(PathBuf::from)
}

/// The string at `keys` in a TOML file, where it is one.
fn toml_string(file: &Path, keys: &[&str]) -> Option<String> {
    use std::io::Read;
    // The user's own configuration, not the environment's: read where it is (dotfiles are
    // often links), only bounded.
    const MAX_CONFIG: u64 = 1024 * 1024;
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(MAX_CONFIG)
        .read_to_end(&mut bytes)
        .ok()?;
    let table: toml::Table = std::str::from_utf8(&bytes).ok()?.parse().ok()?;
    let mut value = table.get(keys[0])?;
    for key in &keys[1..] {
        value = value.get(key)?;
    }
    value.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)], cwd: Option<&Path>) -> Vec<(String, PathBuf)> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(&|name| vars.get(name).map(Into::into), cwd)
            .into_iter()
            .map(|c| (c.tool.to_string(), c.folder))
            .collect()
    }

    #[test]
    fn each_installer_finds_its_cache_as_it_does() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let home = root.join("home");
        let h = home.to_str().unwrap();
        // Defaults.
        assert_eq!(
            with(&[("HOME", h)], None),
            [
                ("uv".to_string(), home.join(".cache/uv/archive-v0")),
                ("pdm".to_string(), home.join(".cache/pdm/packages")),
            ]
        );
        // The variables win; a relative one is the working directory's.
        let project = root.join("project");
        std::fs::create_dir_all(project.join("sub")).unwrap();
        assert_eq!(
            with(
                &[("HOME", h), ("UV_CACHE_DIR", "c"), ("PDM_CACHE_DIR", "/p")],
                Some(&project)
            ),
            [
                ("uv".to_string(), project.join("c/archive-v0")),
                ("pdm".to_string(), PathBuf::from("/p/packages")),
            ]
        );
        // A project's uv.toml (from a folder below it), before the user's configuration.
        std::fs::create_dir_all(home.join(".config/uv")).unwrap();
        std::fs::write(
            home.join(".config/uv/uv.toml"),
            "cache-dir = \"/user-cache\"\n",
        )
        .unwrap();
        assert_eq!(
            with(&[("HOME", h)], Some(&project))[0].1,
            PathBuf::from("/user-cache/archive-v0")
        );
        std::fs::write(
            project.join("pyproject.toml"),
            "[tool.uv]\ncache-dir = \".uv-cache\"\n",
        )
        .unwrap();
        assert_eq!(
            with(&[("HOME", h)], Some(&project.join("sub")))[0].1,
            project.join(".uv-cache/archive-v0")
        );
        // pdm's own configuration.
        std::fs::create_dir_all(home.join(".config/pdm")).unwrap();
        std::fs::write(
            home.join(".config/pdm/config.toml"),
            "cache_dir = \"/pdm-cache\"\n",
        )
        .unwrap();
        assert_eq!(
            with(&[("HOME", h)], None)[1].1,
            PathBuf::from("/pdm-cache/packages")
        );
    }
}
