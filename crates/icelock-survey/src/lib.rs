//! Everything an environment's Python can import or run, and who owns each entry of it.
//!
//! A proof that every distribution is the artifact it came from says nothing of what sits
//! beside the distributions: a `.pth` file whose `import` line runs at every start-up, a
//! `sitecustomize.py`, a module at the top of site-packages that an installed package imports
//! when it is there (requests tries `simplejson`), an executable dropped into the scripts
//! folder. A rebuild from the lock would have none of them, so the lock would not rebuild what
//! runs here.
//!
//! This crate surveys what the interpreter can reach: the top of every site folder (the ones
//! the environment was found with, and those their `.pth` files add), the `.pth` files
//! themselves, and a virtual environment's scripts folder. Every entry there is owned by a
//! RECORD row of a distribution on the path (its own, or a shadowed copy's), by one of the
//! environment's own rules ([`rules`]: the interpreter links, the activation scripts,
//! virtualenv's start-up patch, bytecode Python writes, a legacy install's modules), or by no
//! one ([`Unowned`]). A folder a source tree installed in development mode puts on the path is
//! [`Outside`] every proof, and named as such.
//!
//! What lies *inside* a distribution's folders (a module added beside a listed one, a file in
//! a namespace folder or in a `.dist-info`) is the distribution's integrity check's, in
//! `icelock_dist::integrity`: it fails that distribution's proof. The interpreter's standard
//! library is the interpreter's, outside any lock.
//!
//! Nothing here touches the network or hashes an installed distribution's files; the survey
//! reads folder listings, `.pth` files, `pyvenv.cfg` and the few files a rule has to see.

pub mod rules;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use icelock_dist::{InstalledDist, Inventory, Source};
use icelock_env::pth::{PthFile, pth_files};
use icelock_env::{EnvKind, Environment, SiteRole};
use serde::Serialize;

pub use rules::Rule;

/// What the survey found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Survey {
    /// Entries that can change what runs, owned by no distribution and no rule.
    pub unowned: Vec<Unowned>,
    /// Entries the environment's own rules account for.
    pub by_rule: Vec<ByRule>,
    /// Folders on the path that are a source tree's, outside every proof.
    pub outside: Vec<Outside>,
    /// The folders surveyed, in path order.
    pub folders: Vec<Surveyed>,
    /// The base interpreter a virtual environment runs (`pyvenv.cfg`'s `home`): it and its
    /// standard library are outside every lock.
    #[serde(skip)]
    pub base_interpreter: Option<PathBuf>,
}

/// A folder the survey listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Surveyed {
    #[serde(serialize_with = "lossy")]
    pub path: PathBuf,
    pub role: FolderRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FolderRole {
    /// A site folder: its `.pth` files are read at start-up.
    Site,
    /// A folder a `.pth` file puts on the path.
    Added,
    /// A virtual environment's `bin` (or `Scripts`).
    Scripts,
}

/// An entry nobody owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unowned {
    #[serde(serialize_with = "lossy")]
    pub path: PathBuf,
    #[serde(flatten)]
    pub kind: UnownedKind,
}

/// Why an unowned entry matters: what it can make run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UnownedKind {
    /// A `.pth` file with a line Python executes at every start-up.
    #[error("a .pth file in no RECORD whose line `{line}` Python runs at every start-up")]
    StartupPth { line: String },
    /// A `.pth` file that could not be read, so what it runs is unknown.
    #[error(
        "a .pth file in no RECORD that could not be read ({why}); Python may run it at start-up"
    )]
    UnreadablePth { why: String },
    /// `sitecustomize` or `usercustomize`, imported at every start-up.
    #[error("`{module}` in no RECORD, which Python imports at every start-up")]
    Customize { module: String },
    /// A module or package at the top of a folder on the path.
    #[error(
        "a module `{module}` in no RECORD, at the top of a folder on the import path: `import {module}` (or a package that tries it) runs it"
    )]
    Module { module: String },
    /// An executable in the scripts folder, which activation puts first on `PATH`.
    #[error(
        "an executable in the scripts folder that no RECORD lists (activating the environment puts it first on PATH)"
    )]
    Script,
    /// The interpreter the environment runs is not the base Python its `pyvenv.cfg` names.
    #[error(
        "an interpreter that is not the Python pyvenv.cfg names (home = {home}): it is {found}"
    )]
    Interpreter {
        #[serde(serialize_with = "lossy")]
        home: PathBuf,
        found: String,
    },
    /// An activation script that sets up another environment (the venv was copied or moved).
    #[error(
        "an activation script for another environment ({names}): the environment was copied or moved"
    )]
    ForeignActivate { names: String },
    /// A file the interpreter reads at start-up to set itself up: a `pyvenv.cfg` or `._pth`
    /// beside the executable, which come before the environment's own `pyvenv.cfg`.
    #[error(
        "a file the interpreter reads at start-up beside its executable ({what}), in no RECORD and not the environment's own"
    )]
    StartupConfig { what: String },
    /// A metadata folder `importlib.metadata` finds but that cannot be read as a
    /// distribution: its entry points still load.
    #[error(
        "a metadata folder importlib.metadata finds, which is no readable distribution ({why})"
    )]
    UnreadableMetadata { why: String },
    /// An archive a `.pth` file puts on the path (zipimport reads modules out of it) that no
    /// RECORD lists.
    #[error(
        "an archive on the import path (put there by {added_by}) that no RECORD lists: its modules are importable"
    )]
    PathArchive {
        #[serde(serialize_with = "lossy")]
        added_by: PathBuf,
    },
    /// A file a rule knows by name whose content is not what the rule knows.
    #[error("{why}")]
    NotAsKnown { why: String },
    /// In a top-level `__pycache__`, what Python did not write there (it writes only
    /// `NAME.TAG.pyc`): `import __pycache__.NAME` imports it.
    #[error("in __pycache__, but not bytecode Python writes there: `import __pycache__.…` runs it")]
    InBytecodeFolder,
}

impl Unowned {
    /// What to do about it, for people.
    pub fn way_out(&self) -> String {
        let path = shell_quote(&self.path.display().to_string());
        match &self.kind {
            UnownedKind::Interpreter { .. } | UnownedKind::ForeignActivate { .. } => {
                "recreate the environment where it is (a copied or moved virtual environment still runs the original's Python), then reinstall into it".to_string()
            }
            _ => format!(
                "remove it (`rm -r {path}`) if nothing here needs it; if something does, install it as a package so a RECORD binds it"
            ),
        }
    }
}

/// An entry one of the environment's rules owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ByRule {
    #[serde(serialize_with = "lossy")]
    pub path: PathBuf,
    pub rule: Rule,
    /// The distribution it is a module of, for [`Rule::LegacyInstall`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

/// A folder on the path that is a source tree, outside every proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outside {
    #[serde(serialize_with = "lossy")]
    pub folder: PathBuf,
    /// The distribution installed from it.
    pub dist: String,
    /// The `.pth` file that adds it.
    #[serde(serialize_with = "lossy")]
    pub added_by: PathBuf,
}

/// A path as text for the report, with U+FFFD where it is not UTF-8 (such names are what an
/// attacker picks; the report must still be written).
fn lossy<S: serde::Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

/// Surveys `env`, whose distributions are `inventory`'s.
pub fn survey(env: &Environment, inventory: &Inventory) -> Survey {
    let mut survey = Survey::default();
    let mut folders: Vec<Surveyed> = env
        .site_packages
        .iter()
        .filter(|s| matches!(s.role, SiteRole::Site | SiteRole::System))
        .map(|s| Surveyed {
            path: s.path.clone(),
            role: FolderRole::Site,
        })
        .collect();
    let mut pth: Vec<(PathBuf, Vec<PthFile>)> = Vec::new();
    for site in &folders {
        pth.push((site.path.clone(), pth_files(&site.path)));
    }
    let scripts = (env.kind == EnvKind::Venv)
        .then(|| scripts_folder(&env.root))
        .flatten();

    // Every folder a `.pth` file adds, with the file: a source tree's is outside the proof,
    // any other is surveyed like a site folder (its own `.pth` files are never read).
    for (_, files) in &pth {
        for file in files {
            for folder in &file.folders {
                if folders.iter().any(|f| &f.path == folder) {
                    continue;
                }
                match source_tree_of(folder, &inventory.dists) {
                    Some(dist) => survey.outside.push(Outside {
                        folder: folder.clone(),
                        dist,
                        added_by: file.path.clone(),
                    }),
                    None => folders.push(Surveyed {
                        path: folder.clone(),
                        role: FolderRole::Added,
                    }),
                }
            }
        }
    }
    if let Some(scripts) = &scripts {
        folders.push(Surveyed {
            path: scripts.clone(),
            role: FolderRole::Scripts,
        });
    }

    let owned = Owned::of(inventory, &folders);
    // Archives `.pth` files put on the path: a RECORD's (in a surveyed folder), or no one's.
    for (_, files) in &pth {
        for file in files {
            for archive in &file.archives {
                let listed = folders.iter().any(|f| {
                    archive.parent() == Some(f.path.as_path())
                        && archive
                            .file_name()
                            .is_some_and(|n| owned.owns(&f.path, &n.to_string_lossy()))
                });
                if !listed {
                    survey.unowned.push(Unowned {
                        path: archive.clone(),
                        kind: UnownedKind::PathArchive {
                            added_by: file.path.clone(),
                        },
                    });
                }
            }
        }
    }
    let legacy = legacy_modules(&inventory.dists);
    for folder in &folders {
        match folder.role {
            FolderRole::Site | FolderRole::Added => {
                let pth = pth
                    .iter()
                    .find(|(site, _)| site == &folder.path)
                    .map(|(_, files)| files.as_slice())
                    .unwrap_or_default();
                top_of_path_folder(&folder.path, &owned, &legacy, pth, &mut survey);
            }
            FolderRole::Scripts => rules::scripts(env, &folder.path, &owned, &mut survey),
        }
    }
    // A metadata folder the inventory could not read is still found by importlib.metadata.
    for problem in &inventory.problems {
        let name = problem
            .location
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        if is_metadata(&name) {
            survey.unowned.push(Unowned {
                path: problem.location.clone(),
                kind: UnownedKind::UnreadableMetadata {
                    why: problem.message.clone(),
                },
            });
        }
    }
    if env.kind == EnvKind::Venv {
        survey.base_interpreter = icelock_env::PyvenvCfg::read(&env.root.join("pyvenv.cfg"))
            .ok()
            .and_then(|cfg| cfg.home);
    }
    survey.folders = folders;
    survey.unowned.sort_by(|a, b| a.path.cmp(&b.path));
    survey.by_rule.sort_by(|a, b| a.path.cmp(&b.path));
    survey
}

/// A venv's scripts folder.
fn scripts_folder(root: &Path) -> Option<PathBuf> {
    ["bin", "Scripts"]
        .iter()
        .map(|name| root.join(name))
        .find(|p| p.is_dir())
}

/// What RECORD rows own, by surveyed folder: the names at its top that some row lies in or
/// below.
pub(crate) struct Owned {
    by_folder: HashMap<PathBuf, HashSet<String>>,
}

impl Owned {
    fn of(inventory: &Inventory, folders: &[Surveyed]) -> Self {
        let mut by_folder: HashMap<PathBuf, HashSet<String>> = folders
            .iter()
            .map(|f| (f.path.clone(), HashSet::new()))
            .collect();
        let mut own = |dist: &InstalledDist, rows: &[icelock_dist::RecordEntry]| {
            // Nearly every row is a plain path below the dist's own site folder: its first
            // component is what it owns there, taken without resolving anything (a large
            // environment has some 60,000 rows, and hashing a path walks its components).
            let mut here = by_folder.remove(&dist.site_dir);
            for row in rows {
                let path = row.path.as_str();
                let first = path.split('/').next().unwrap_or(path);
                let plain = !first.is_empty()
                    && first != "."
                    && first != ".."
                    && !path.contains('\\')
                    && !path.contains("/../")
                    && !path.contains("/./")
                    && !path.ends_with("/..");
                if plain && let Some(names) = here.as_mut() {
                    if !names.contains(first) {
                        names.insert(first.to_string());
                    }
                    continue;
                }
                let Ok(located) = icelock_dist::integrity::locate(dist, path) else {
                    continue;
                };
                let folders = by_folder
                    .iter_mut()
                    .chain(here.as_mut().map(|names| (&dist.site_dir, names)));
                for (folder, names) in folders {
                    if let Ok(rest) = located.strip_prefix(folder)
                        && let Some(first) = rest.components().next()
                    {
                        names.insert(first.as_os_str().to_string_lossy().into_owned());
                    }
                }
            }
            if let Some(names) = here {
                by_folder.insert(dist.site_dir.clone(), names);
            }
        };
        for dist in &inventory.dists {
            own(dist, dist.record.as_deref().unwrap_or_default());
        }
        // A shadowed copy's files are still on disk, and its RECORD owns them.
        for shadowed in &inventory.shadowed {
            let Some(site) = shadowed.location.parent() else {
                continue;
            };
            let Ok(bytes) = std::fs::read(shadowed.location.join("RECORD")) else {
                continue;
            };
            let (rows, _) = icelock_dist::record::parse(&bytes);
            let owner = inventory
                .dists
                .iter()
                .find(|d| d.name == shadowed.name)
                .map(|d| InstalledDist {
                    site_dir: site.to_path_buf(),
                    prefix: env_prefix_of(site, &d.prefix),
                    location: shadowed.location.clone(),
                    ..d.clone()
                });
            if let Some(owner) = owner {
                own(&owner, &rows);
            }
        }
        Self { by_folder }
    }

    pub(crate) fn owns(&self, folder: &Path, name: &str) -> bool {
        self.by_folder
            .get(folder)
            .is_some_and(|names| names.contains(name))
    }
}

/// The prefix a shadowed copy's files live under: the standard layout's, else its folder's.
fn env_prefix_of(site: &Path, fallback: &Path) -> PathBuf {
    icelock_env::layout_prefix(site).unwrap_or_else(|| {
        if site.starts_with(fallback) {
            fallback.to_path_buf()
        } else {
            site.to_path_buf()
        }
    })
}

/// Top-level import names of distributions without a RECORD (legacy `.egg-info` installs,
/// Debian's packages), by the folder holding their metadata: nothing is known of their files,
/// so their modules are theirs, and they are reported as unverifiable themselves.
fn legacy_modules(dists: &[InstalledDist]) -> HashMap<(PathBuf, String), String> {
    let mut out = HashMap::new();
    for dist in dists.iter().filter(|d| d.record.is_none()) {
        for import in &dist.imports {
            let first = import.split('.').next().unwrap_or(import).to_string();
            out.insert((dist.site_dir.clone(), first), dist.name.to_string());
        }
    }
    out
}

/// The distribution whose source tree `folder` is: an editable or directory install whose
/// project holds it, or a `setup.py develop` install whose `.egg-info` sits in it.
fn source_tree_of(folder: &Path, dists: &[InstalledDist]) -> Option<String> {
    dists.iter().find_map(|dist| {
        let tree = match &dist.source {
            Source::Editable { path: Some(p), .. } | Source::Directory { path: Some(p), .. } => {
                Some(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            }
            _ => None,
        };
        let is_tree = tree.is_some_and(|tree| folder.starts_with(&tree))
            || (dist.record.is_none() && dist.site_dir == folder);
        is_tree.then(|| dist.name.to_string())
    })
}

/// The entries at the top of a folder on the path.
fn top_of_path_folder(
    folder: &Path,
    owned: &Owned,
    legacy: &HashMap<(PathBuf, String), String>,
    pth: &[PthFile],
    survey: &mut Survey,
) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut names: Vec<(String, std::fs::DirEntry)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e))
        .filter(|(name, _)| !owned.owns(folder, name) && !is_metadata(name))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, entry) in names {
        // The import system follows a symlink: its target's kind counts.
        let is_folder = match entry.file_type() {
            Ok(t) if t.is_symlink() => std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()),
            Ok(t) => t.is_dir(),
            Err(_) => false,
        };
        // The entry's own path: a name that is not UTF-8 is shown with U+FFFD, never looked up
        // by it.
        let path = entry.path();
        if is_folder && name == "__pycache__" {
            for stray in icelock_dist::strays_in_bytecode_folder(&path) {
                survey.unowned.push(Unowned {
                    path: path.join(stray),
                    kind: UnownedKind::InBytecodeFolder,
                });
            }
            survey.by_rule.push(ByRule {
                path,
                rule: Rule::Bytecode,
                of: None,
            });
            continue;
        }
        if !is_folder && name.ends_with(".pth") {
            // One in a folder a `.pth` adds is not read at start-up: that is no site folder.
            if let Some(file) = pth.iter().find(|p| p.path == path) {
                rules::pth(file, survey);
            }
            continue;
        }
        let Some(module) = module_name(&name, is_folder) else {
            continue;
        };
        if is_folder && !icelock_dist::holds_files(&path) {
            continue;
        }
        if let Some(dist) = legacy.get(&(folder.to_path_buf(), module.clone())) {
            survey.by_rule.push(ByRule {
                path,
                rule: Rule::LegacyInstall,
                of: Some(dist.clone()),
            });
            continue;
        }
        if rules::virtualenv_patch(&path, &name, survey) {
            continue;
        }
        let kind = if matches!(module.as_str(), "sitecustomize" | "usercustomize") {
            UnownedKind::Customize { module }
        } else {
            UnownedKind::Module { module }
        };
        survey.unowned.push(Unowned { path, kind });
    }
}

/// `.dist-info` and `.egg-info`, whatever the case of the suffix (as `importlib.metadata`
/// finds them): the inventory reads them.
fn is_metadata(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".dist-info") || lower.ends_with(".egg-info")
}

/// The name `import` finds an entry by, `None` for one it never loads: a folder by its name
/// (a package, or a namespace portion), a file by what is before its first dot when its
/// suffix is one the import system loads.
fn module_name(name: &str, is_folder: bool) -> Option<String> {
    let module = if is_folder {
        name
    } else {
        let (stem, _) = name.split_once('.')?;
        let loads = [".py", ".pyc", ".pyw", ".so", ".pyd"]
            .iter()
            .any(|suffix| name.ends_with(suffix));
        if !loads {
            return None;
        }
        stem
    };
    is_identifier(module).then(|| module.to_string())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// A path as a POSIX shell reads it back.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@%,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_import_finds_at_the_top_of_a_folder() {
        for (name, is_folder, module) in [
            ("six.py", false, Some("six")),
            (
                "_yaml.cpython-311-x86_64-linux-gnu.so",
                false,
                Some("_yaml"),
            ),
            ("mod.abi3.so", false, Some("mod")),
            ("old.pyc", false, Some("old")),
            ("pkg", true, Some("pkg")),
            ("numpy.libs", true, None),
            ("README.txt", false, None),
            ("x.egg-link", false, None),
            ("foo-bar.py", false, None),
            ("données", true, Some("données")),
        ] {
            assert_eq!(module_name(name, is_folder).as_deref(), module, "{name}");
        }
    }

    #[test]
    fn shell_quoting_reads_back() {
        assert_eq!(shell_quote("/a/b.pth"), "/a/b.pth");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
