//! What sits in a distribution's folders that no RECORD lists.
//!
//! Checking RECORD's rows finds every listed file changed or gone, but not a file added beside
//! them, and an added file can change what the listed ones do without touching a byte of them:
//! a folder `pkg/util/` is imported in place of the listed `pkg/util.py`, an extension module
//! `util.cpython-311-x86_64-linux-gnu.so` before it too, and a `six/` folder at the top of
//! site-packages in place of the listed `six.py`. A rebuild from a lock would have none of them.
//!
//! So every folder below a site folder that holds a listed file is listed itself, and what is
//! in it must be listed by some RECORD of that site folder; at the top of the site folder,
//! where other tools keep files of their own (virtualenv's `_virtualenv.py`, `.pth` files), only
//! what would be imported in place of a listed module is.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::InstalledDist;
use crate::integrity::{FileProblem, locate};

/// Per dist (in the order of `dists`), what its folders hold that no RECORD lists.
pub(crate) fn find(dists: &[InstalledDist]) -> Vec<Vec<FileProblem>> {
    let mut found = vec![Vec::new(); dists.len()];
    let mut by_site: BTreeMap<&Path, Vec<usize>> = BTreeMap::new();
    for (i, dist) in dists.iter().enumerate() {
        by_site.entry(dist.site_dir.as_path()).or_default().push(i);
    }
    for (site, members) in by_site {
        for (i, problem) in in_site(site, dists, &members) {
            found[i].push(problem);
        }
    }
    found
}

/// What one site folder's dists (`members`, indexes into `dists`) own, and what is unlisted.
fn in_site(site: &Path, dists: &[InstalledDist], members: &[usize]) -> Vec<(usize, FileProblem)> {
    let mut listed: HashSet<PathBuf> = HashSet::new();
    // A folder holding listed files, and the dists listing them.
    let mut folders: HashMap<PathBuf, BTreeSet<usize>> = HashMap::new();
    // Folders some listed file lies below (namespace levels included).
    let mut above: HashSet<PathBuf> = HashSet::new();
    // A name at the top of the site folder, as imported, and the dists with files under it.
    let mut top: HashMap<String, BTreeSet<usize>> = HashMap::new();
    // Top-level names of dists without a RECORD (legacy egg-info installs): nothing is known
    // of their files, so their folders are left alone rather than called unlisted.
    let mut unknown_owner: HashSet<String> = HashSet::new();
    for &i in members {
        let dist = &dists[i];
        let Some(record) = &dist.record else {
            for import in &dist.imports {
                let first = import.split('.').next().unwrap_or(import);
                unknown_owner.insert(first.to_string());
            }
            continue;
        };
        for row in record {
            let Ok(path) = locate(dist, &row.path) else {
                continue;
            };
            let Ok(below) = path.strip_prefix(site) else {
                continue;
            };
            let Some(first) = below.components().next() else {
                continue;
            };
            let first = first.as_os_str();
            if !is_metadata_folder(first) {
                top.entry(module_name(first)).or_default().insert(i);
            }
            let mut folder = path.parent();
            if let Some(parent) = folder
                && parent != site
            {
                folders.entry(parent.to_path_buf()).or_default().insert(i);
            }
            while let Some(f) = folder
                && f != site
                && f.starts_with(site)
            {
                above.insert(f.to_path_buf());
                folder = f.parent();
            }
            listed.insert(path);
        }
    }
    let relative = |path: &Path| -> String {
        path.strip_prefix(site)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let mut out: Vec<(usize, FileProblem)> = folders
        .par_iter()
        .filter(|(folder, _)| {
            let below = folder.strip_prefix(site).unwrap_or(folder);
            let first = below.components().next().map(|c| c.as_os_str());
            // Metadata folders are compared with the artifact's RECORD where it matters, and
            // hold files installers add (micropip's PYODIDE_*, uv's uv_build.json).
            !first.is_some_and(is_metadata_folder)
                && !first.is_some_and(|f| unknown_owner.contains(&module_name(f)))
                && !is_bytecode_folder(folder)
        })
        .flat_map_iter(|(folder, owners)| {
            let mut here = Vec::new();
            for (path, is_folder) in entries(folder) {
                if listed.contains(&path) || (is_folder && above.contains(&path)) {
                    continue;
                }
                if is_bytecode_folder(&path) {
                    continue;
                }
                let shown = relative(&path) + if is_folder { "/" } else { "" };
                for &i in owners {
                    here.push((
                        i,
                        FileProblem::Unlisted {
                            path: shown.clone(),
                            shadows: None,
                        },
                    ));
                }
            }
            here
        })
        .collect();
    // The top of the site folder: only what is imported in place of a listed module.
    for (path, is_folder) in entries(site) {
        let Some(name) = path.file_name() else {
            continue;
        };
        if listed.contains(&path)
            || (is_folder && above.contains(&path))
            || is_metadata_folder(name)
            || !(is_folder || is_module_file(name))
        {
            continue;
        }
        let module = module_name(name);
        let Some(owners) = top.get(&module) else {
            continue;
        };
        let shown = relative(&path) + if is_folder { "/" } else { "" };
        for &i in owners {
            out.push((
                i,
                FileProblem::Unlisted {
                    path: shown.clone(),
                    shadows: Some(module.clone()),
                },
            ));
        }
    }
    out
}

/// The entries of `folder`, each with whether it is a folder (a symlink is judged by what it
/// is itself, never followed); none when it cannot be read (its RECORD rows report that).
fn entries(folder: &Path) -> Vec<(PathBuf, bool)> {
    let Ok(read) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, bool)> = read
        .flatten()
        .map(|e| {
            let is_folder = e.file_type().is_ok_and(|t| t.is_dir());
            (e.path(), is_folder)
        })
        .collect();
    out.sort();
    out
}

/// Python writes bytecode into `__pycache__` at import time (for each version and optimisation
/// level run), and imports a file there only for a source file beside the folder, which is
/// itself checked: what it holds is never unlisted.
fn is_bytecode_folder(path: &Path) -> bool {
    path.file_name() == Some(OsStr::new("__pycache__"))
}

fn is_metadata_folder(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.ends_with(".dist-info") || name.ends_with(".egg-info") || name.ends_with(".data")
}

/// What `import` would call a top-level entry: a folder by its name, a module by what is
/// before its first dot (`six.py`, `_speedups.cpython-311-x86_64-linux-gnu.so`).
fn module_name(name: &OsStr) -> String {
    let name = name.to_string_lossy();
    name.split('.').next().unwrap_or(&name).to_string()
}

/// A file the import system loads as a module: source, bytecode beside it (sourceless), or an
/// extension module.
fn is_module_file(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    [".py", ".pyc", ".pyw", ".so", ".pyd"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}
