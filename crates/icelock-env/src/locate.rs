//! Turning what the user named (or did not name) into an [`Environment`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::markers;
use crate::probe;
use crate::pyodide::PyodideRuntime;
use crate::pyvenv::PyvenvCfg;
use crate::{EnvError, EnvKind, Environment, MarkersSource, SiteDir, SiteRole, layout_prefix};

/// What the user asked for, with the process state that the default depends on.
#[derive(Debug, Clone, Default)]
pub struct EnvRequest {
    /// The `ENV` argument: a venv root, a site-packages folder or an interpreter.
    pub path: Option<PathBuf>,
    /// `$VIRTUAL_ENV`.
    pub virtual_env: Option<PathBuf>,
    /// The folder where `./.venv` is looked for.
    pub cwd: PathBuf,
    /// `$PATH`, searched for `python3`.
    pub search_path: Option<OsString>,
}

impl EnvRequest {
    /// The request as this process's arguments and environment variables make it.
    pub fn from_process(path: Option<PathBuf>) -> Self {
        Self {
            path,
            virtual_env: std::env::var_os("VIRTUAL_ENV")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            search_path: std::env::var_os("PATH"),
        }
    }
}

/// Locates the environment: `ENV` if given, else `$VIRTUAL_ENV`, else `./.venv`, else the
/// `python3` on `PATH` (as `pip` and `uv pip` pick their target).
pub fn locate(request: &EnvRequest) -> Result<Environment, EnvError> {
    if let Some(path) = &request.path {
        return from_path(&absolute(&request.cwd, path));
    }
    if let Some(venv) = &request.virtual_env {
        return from_path(&absolute(&request.cwd, venv));
    }
    let dot_venv = request.cwd.join(".venv");
    if dot_venv.join("pyvenv.cfg").is_file() {
        return from_venv(&dot_venv);
    }
    let python = request
        .search_path
        .as_ref()
        .and_then(|p| find_on_path(p, PYTHON3))
        .ok_or(EnvError::NothingToLock)?;
    from_interpreter(&python)
}

#[cfg(windows)]
const PYTHON3: &str = "python.exe";
#[cfg(not(windows))]
const PYTHON3: &str = "python3";

fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

fn find_on_path(search_path: &OsString, name: &str) -> Option<PathBuf> {
    std::env::split_paths(search_path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

fn from_path(path: &Path) -> Result<Environment, EnvError> {
    let meta = std::fs::metadata(path).map_err(|_| EnvError::NotFound {
        path: path.to_path_buf(),
    })?;
    if meta.is_file() {
        return from_interpreter(path);
    }
    if path.join("pyvenv.cfg").is_file() {
        return from_venv(path);
    }
    if holds_distributions(path) || layout_prefix(path).is_some() {
        return from_site_packages(path);
    }
    // A prefix filled by `pip install --prefix DIR` (or `--root`, `PYTHONUSERBASE`): no
    // interpreter and no pyvenv.cfg, one `lib/pythonX.Y/site-packages` (lib64 beside it), or
    // with Debian's pip, whose scheme for `/usr/local` says `dist-packages`, that.
    if !is_executable(&path.join("bin/python3"))
        && let sites = prefix_site_packages(path)
        && let [site, ..] = sites.as_slice()
        && holds_distributions(site)
    {
        let mut env = from_site_packages(site)?;
        env.site_packages = with_pth_paths(
            sites
                .into_iter()
                .map(|path| SiteDir {
                    path,
                    role: SiteRole::Site,
                })
                .collect(),
        );
        return Ok(env);
    }
    // A base installation's prefix (no pyvenv.cfg): ask its interpreter.
    for candidate in ["bin/python3", "python.exe"] {
        let python = path.join(candidate);
        if is_executable(&python) {
            return from_interpreter(&python);
        }
    }
    Err(EnvError::NotAnEnvironment {
        path: path.to_path_buf(),
    })
}

fn holds_distributions(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".dist-info") || name.ends_with(".egg-info")
        })
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn from_venv(root: &Path) -> Result<Environment, EnvError> {
    let root = canonical(root);
    let cfg = PyvenvCfg::read(&root.join("pyvenv.cfg"))?;
    let pyodide = match &cfg.home {
        Some(home) => PyodideRuntime::detect(home)?,
        None => None,
    };
    let python_version = cfg
        .python_version
        .clone()
        .or_else(|| pyodide.as_ref().map(|p| p.python.clone()));

    let own = venv_site_packages(&root, python_version.as_deref());
    if own.is_empty() {
        return Err(EnvError::NoSitePackages { path: root });
    }
    let mut dirs: Vec<SiteDir> = own
        .into_iter()
        .map(|path| SiteDir {
            path,
            role: SiteRole::Site,
        })
        .collect();
    if cfg.include_system_site_packages
        && pyodide.is_none()
        && let Some(home) = &cfg.home
    {
        for path in base_site_packages(home, python_version.as_deref()) {
            dirs.push(SiteDir {
                path,
                role: SiteRole::System,
            });
        }
    }
    let site_packages = with_pth_paths(dirs);

    let (markers, markers_source) = match (&pyodide, &python_version) {
        (Some(runtime), version) => {
            let version = version.as_deref().unwrap_or(&runtime.python);
            (markers::pyodide(runtime, version)?, MarkersSource::Pyodide)
        }
        (None, Some(version)) => (
            markers::host(version, cfg.implementation.as_deref())?,
            MarkersSource::PyvenvAndHost,
        ),
        (None, None) => {
            return Err(EnvError::PyvenvCfg {
                path: root.join("pyvenv.cfg"),
                message: "records no Python version (`version` or `version_info`)".into(),
            });
        }
    };
    let interpreter = ["bin/python", "bin/python3", "Scripts/python.exe"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.exists());
    Ok(Environment {
        kind: EnvKind::Venv,
        root,
        python_version,
        markers,
        markers_source,
        site_packages,
        interpreter,
        pyodide,
    })
}

fn from_site_packages(dir: &Path) -> Result<Environment, EnvError> {
    let dir = canonical(dir);
    let prefix = layout_prefix(&dir);
    // A site-packages folder inside a venv takes the venv's Python and platform.
    if let Some(prefix) = &prefix
        && prefix.join("pyvenv.cfg").is_file()
    {
        let venv = from_venv(prefix)?;
        return Ok(Environment {
            kind: EnvKind::SitePackages,
            site_packages: with_pth_paths(vec![SiteDir {
                path: dir,
                role: SiteRole::Site,
            }]),
            ..venv
        });
    }
    let python_version =
        python_version_from_path(&dir).or_else(|| python_version_from_contents(&dir));
    let Some(version) = python_version.clone() else {
        return Err(EnvError::UnknownPython { path: dir });
    };
    let markers = markers::host(&version, None)?;
    Ok(Environment {
        kind: EnvKind::SitePackages,
        root: prefix.unwrap_or_else(|| dir.clone()),
        python_version,
        markers,
        markers_source: MarkersSource::PyvenvAndHost,
        site_packages: with_pth_paths(vec![SiteDir {
            path: dir,
            role: SiteRole::Site,
        }]),
        interpreter: None,
        pyodide: None,
    })
}

/// `lib/python3.11/site-packages` says 3.11; the micro version is unknowable from the path, so
/// `.0` stands in (markers on `python_full_version` are rare and compare as `3.11.0`).
fn python_version_from_path(site: &Path) -> Option<String> {
    let parent = site.parent()?.file_name()?.to_str()?;
    let digits = parent.strip_prefix("python")?.trim_end_matches('t');
    let (major, minor) = digits.split_once('.')?;
    major.parse::<u32>().ok()?;
    minor.parse::<u32>().ok()?;
    Some(format!("{major}.{minor}.0"))
}

/// A bare folder (`pip install --target`) says its Python only through what was compiled for
/// it: the cache tag of its `.pyc` files (`__pycache__/m.cpython-311.pyc`) or of its extension
/// modules (`m.cpython-311-x86_64-linux-gnu.so`), one level deep. Several versions at once say
/// nothing.
fn python_version_from_contents(dir: &Path) -> Option<String> {
    fn tag_of(name: &str) -> Option<(u32, u32)> {
        let at = name.find(".cpython-3")?;
        let digits: String = name[at + ".cpython-3".len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some((3, digits.parse().ok()?))
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut look = |folder: &Path| {
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if let Some(tag) = entry.file_name().to_str().and_then(tag_of) {
                seen.insert(tag);
            }
        }
    };
    look(dir);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            look(&path);
            look(&path.join("__pycache__"));
        }
    }
    let mut tags = seen.into_iter();
    let (major, minor) = tags.next()?;
    tags.next().is_none().then(|| format!("{major}.{minor}.0"))
}

fn from_interpreter(python: &Path) -> Result<Environment, EnvError> {
    let probe = probe::run(python)?;
    let prefix = canonical(&probe.prefix);
    let base_prefix = canonical(&probe.base_prefix);
    let mut dirs = Vec::new();
    for entry in &probe.path {
        if entry.as_os_str().is_empty() || !entry.is_dir() {
            continue;
        }
        let path = canonical(entry);
        if dirs.iter().any(|d: &SiteDir| d.path == path) {
            continue;
        }
        let is_site = matches!(
            path.file_name().and_then(|n| n.to_str()),
            Some("site-packages" | "dist-packages")
        );
        let role = if !is_site {
            SiteRole::Path
        } else if prefix != base_prefix
            && path.starts_with(&base_prefix)
            && !path.starts_with(&prefix)
        {
            SiteRole::System
        } else {
            SiteRole::Site
        };
        dirs.push(SiteDir { path, role });
    }
    let cfg = prefix.join("pyvenv.cfg");
    let pyodide = match cfg.is_file().then(|| PyvenvCfg::read(&cfg)).transpose()? {
        Some(PyvenvCfg {
            home: Some(home), ..
        }) => PyodideRuntime::detect(&home)?,
        _ => None,
    };
    let python_version = Some(probe.markers.python_full_version().to_string());
    Ok(Environment {
        kind: EnvKind::Interpreter,
        root: prefix,
        python_version,
        markers: probe.markers,
        markers_source: MarkersSource::Interpreter,
        site_packages: dirs,
        interpreter: Some(probe.executable),
        pyodide,
    })
}

/// A bare prefix's site folders: as a venv's, else Debian's `lib/pythonX.Y/dist-packages`.
fn prefix_site_packages(root: &Path) -> Vec<PathBuf> {
    let found = venv_site_packages(root, None);
    if !found.is_empty() {
        return found;
    }
    let Ok(entries) = std::fs::read_dir(root.join("lib")) else {
        return found;
    };
    let mut sites: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path().join("dist-packages"))
        .filter(|site| site.is_dir())
        .map(|site| canonical(&site))
        .collect();
    sites.sort();
    sites
}

/// The venv's own site-packages: `lib/pythonX.Y/site-packages` (POSIX, macOS), `Lib/site-packages`
/// (Windows); `lib64` is usually a link to `lib` and is folded into it.
fn venv_site_packages(root: &Path, version: Option<&str>) -> Vec<PathBuf> {
    let wanted = version.and_then(|v| {
        let mut parts = v.split('.');
        Some(format!("python{}.{}", parts.next()?, parts.next()?))
    });
    let mut found: Vec<PathBuf> = Vec::new();
    for lib in ["lib", "lib64"] {
        let Ok(entries) = std::fs::read_dir(root.join(lib)) else {
            continue;
        };
        let mut candidates: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let site = e.path().join("site-packages");
                (name.starts_with("python") || name.starts_with("pypy")).then_some((name, site))
            })
            .filter(|(_, site)| site.is_dir())
            .collect();
        candidates.sort();
        // With several pythonX.Y folders (a venv upgraded in place), the recorded version wins.
        if let Some(wanted) = &wanted
            && let Some(pos) = candidates
                .iter()
                .position(|(n, _)| n == wanted || n.trim_end_matches('t') == wanted)
        {
            let chosen = candidates.swap_remove(pos);
            candidates = vec![chosen];
        }
        for (_, site) in candidates {
            let site = canonical(&site);
            if !found.contains(&site) {
                found.push(site);
            }
        }
    }
    let windows = root.join("Lib").join("site-packages");
    if windows.is_dir() {
        let site = canonical(&windows);
        if !found.contains(&site) {
            found.push(site);
        }
    }
    found
}

/// The base interpreter's site folders, from `home` (its `bin` folder, or its prefix on Windows).
fn base_site_packages(home: &Path, version: Option<&str>) -> Vec<PathBuf> {
    let prefix = if home.file_name().is_some_and(|n| n == "bin") {
        home.parent().unwrap_or(home).to_path_buf()
    } else {
        home.to_path_buf()
    };
    let short = version.and_then(|v| {
        let mut parts = v.split('.');
        Some(format!("{}.{}", parts.next()?, parts.next()?))
    });
    let mut candidates = Vec::new();
    if let Some(short) = &short {
        candidates.push(prefix.join(format!("lib/python{short}/site-packages")));
        candidates.push(prefix.join(format!("local/lib/python{short}/dist-packages")));
    }
    candidates.push(prefix.join("lib/python3/dist-packages"));
    candidates.push(prefix.join("Lib/site-packages"));
    let mut found = Vec::new();
    for c in candidates {
        if c.is_dir() {
            let c = canonical(&c);
            if !found.contains(&c) {
                found.push(c);
            }
        }
    }
    found
}

/// Adds what `.pth` files put on `sys.path`, right after the folder holding them, as `site.py`
/// does: files in name order, a line per path relative to the folder, `import` lines and
/// comments skipped, folders that do not exist dropped.
fn with_pth_paths(dirs: Vec<SiteDir>) -> Vec<SiteDir> {
    let mut out: Vec<SiteDir> = Vec::new();
    for dir in dirs {
        let added = pth_paths(&dir.path);
        push_unique(&mut out, dir);
        for path in added {
            push_unique(
                &mut out,
                SiteDir {
                    path,
                    role: SiteRole::Path,
                },
            );
        }
    }
    out
}

fn push_unique(out: &mut Vec<SiteDir>, dir: SiteDir) {
    if !out.iter().any(|d| d.path == dir.path) {
        out.push(dir);
    }
}

fn pth_paths(site: &Path) -> Vec<PathBuf> {
    crate::pth::pth_files(site)
        .into_iter()
        .flat_map(|pth| pth.folders)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venv(dir: &Path, cfg: &str) -> PathBuf {
        std::fs::write(dir.join("pyvenv.cfg"), cfg).unwrap();
        let site = dir.join("lib/python3.12/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        site
    }

    #[test]
    fn venv_root_site_packages_and_pth_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let site = venv(tmp.path(), "home = /nowhere/bin\nversion = 3.12.4\n");
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            site.join("__editable__.demo-1.0.pth"),
            format!(
                "{}\nimport sys\n# comment\n/does/not/exist\n",
                src.display()
            ),
        )
        .unwrap();

        let env = locate(&EnvRequest {
            path: Some(tmp.path().to_path_buf()),
            ..EnvRequest::default()
        })
        .unwrap();
        assert_eq!(env.kind, EnvKind::Venv);
        assert_eq!(env.python_version.as_deref(), Some("3.12.4"));
        let roles: Vec<_> = env
            .site_packages
            .iter()
            .map(|s| (s.path.clone(), s.role))
            .collect();
        assert_eq!(
            roles,
            vec![
                (canonical(&site), SiteRole::Site),
                (canonical(&src), SiteRole::Path)
            ]
        );

        let by_site = locate(&EnvRequest {
            path: Some(site.clone()),
            ..EnvRequest::default()
        })
        .unwrap();
        assert_eq!(by_site.kind, EnvKind::SitePackages);
        assert_eq!(by_site.root, env.root);
        assert_eq!(by_site.site_packages, env.site_packages);
    }

    #[test]
    fn virtual_env_then_dot_venv() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(b.join(".venv")).unwrap();
        venv(&a, "version = 3.12.1\n");
        venv(&b.join(".venv"), "version = 3.12.2\n");

        let from_var = locate(&EnvRequest {
            virtual_env: Some(a.clone()),
            cwd: b.clone(),
            ..EnvRequest::default()
        })
        .unwrap();
        assert_eq!(from_var.python_version.as_deref(), Some("3.12.1"));

        let from_cwd = locate(&EnvRequest {
            cwd: b.clone(),
            ..EnvRequest::default()
        })
        .unwrap();
        assert_eq!(from_cwd.python_version.as_deref(), Some("3.12.2"));
    }

    #[test]
    fn pyodide_venv_targets_emscripten() {
        let tmp = tempfile::tempdir().unwrap();
        let runtime = tmp.path().join("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::write(
            runtime.join("pyodide-lock.json"),
            r#"{"info": {"arch": "wasm32", "platform": "emscripten_5_0_3", "python": "3.14.2", "abi_version": "2026_0"}, "packages": {}}"#,
        )
        .unwrap();
        let root = tmp.path().join("venv");
        std::fs::create_dir_all(root.join("lib/python3.14/site-packages")).unwrap();
        std::fs::write(
            root.join("pyvenv.cfg"),
            format!(
                "home = {}\nimplementation = CPython\nversion_info = 3.14.2.final.0\n",
                runtime.display()
            ),
        )
        .unwrap();
        let env = locate(&EnvRequest {
            path: Some(root),
            ..EnvRequest::default()
        })
        .unwrap();
        let pyodide = env.pyodide.expect("a Pyodide runtime");
        assert_eq!(pyodide.abi_version.as_deref(), Some("2026_0"));
        assert_eq!(env.markers.sys_platform(), "emscripten");
        assert_eq!(env.markers.platform_machine(), "wasm32");
        assert_eq!(env.markers.platform_release(), "5.0.3");
        assert_eq!(env.markers.python_full_version().to_string(), "3.14.2");
    }

    #[test]
    fn not_an_environment_is_explained() {
        let tmp = tempfile::tempdir().unwrap();
        let err = locate(&EnvRequest {
            path: Some(tmp.path().to_path_buf()),
            ..EnvRequest::default()
        })
        .unwrap_err();
        assert!(matches!(err, EnvError::NotAnEnvironment { .. }), "{err}");
    }
}
