//! What sits in a distribution's folders that no RECORD lists.
//!
//! Checking RECORD's rows finds every listed file changed or gone, but not a file added beside
//! them, and an added file can change what the listed ones do without touching a byte of them:
//! a folder `pkg/util/` is imported in place of the listed `pkg/util.py`, an extension module
//! `util.cpython-311-x86_64-linux-gnu.so` before it too, and a `six/` folder at the top of
//! site-packages in place of the listed `six.py`. A rebuild from a lock would have none of them.
//!
//! So every folder below a site folder that holds a listed file, at any depth (a namespace
//! level such as `jaraco/`, which holds only other folders, included: an `__init__.py` added
//! there turns the namespace into a package of someone else's), is listed itself, and what is
//! in it must be listed by some RECORD of that site folder. A distribution's own `.dist-info`
//! may hold only what its RECORD lists and the files installers add beside it
//! ([`INSTALLER_FILES`]): an added `entry_points.txt` registers plugins and scripts. At the
//! top of the site folder, where other tools keep files of their own (virtualenv's
//! `_virtualenv.py`, `.pth` files, judged by the environment's survey), only what the import
//! system would take before a listed module of the same name is.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::InstalledDist;
use crate::integrity::{FileProblem, locate};
use crate::known::{Cutoff, KnownFiles, Match, Stat};
use crate::record::RecordHash;

/// What `find` leaves to remember: folders found clean that were already known so (by their
/// key in the known files), and those found clean now.
#[derive(Default)]
pub(crate) struct CleanFolders {
    pub reused: Vec<(u64, u64)>,
    pub fresh: Vec<Match>,
}

/// Per dist (in the order of `dists`), what its folders hold that no RECORD lists.
///
/// With `known`, a folder whose stat (device, inode, size, mtime and ctime: any entry added,
/// removed or renamed in it changes them) is what it was when it was last found clean, with the
/// same names expected in it, is not listed again.
pub(crate) fn find(
    dists: &[InstalledDist],
    known: Option<(&KnownFiles, Cutoff)>,
) -> (Vec<Vec<FileProblem>>, CleanFolders) {
    let mut found = vec![Vec::new(); dists.len()];
    let mut clean = CleanFolders::default();
    let mut by_site: BTreeMap<&Path, Vec<usize>> = BTreeMap::new();
    for (i, dist) in dists.iter().enumerate() {
        by_site.entry(dist.site_dir.as_path()).or_default().push(i);
    }
    for (site, members) in by_site {
        for (i, problem) in in_site(site, dists, &members, known, &mut clean) {
            found[i].push(problem);
        }
    }
    (found, clean)
}

/// One folder below a site folder that holds listed files: their names, and the dists
/// listing them.
#[derive(Default)]
struct Listed<'a> {
    names: FxHashSet<Cow<'a, str>>,
    owners: BTreeSet<usize>,
}

/// A RECORD row's path relative to the dist's site folder, `/`-separated, when it lies below it. Rows are
/// nearly always plain relative paths, taken as they are; only the rare one with `.`, `..` or
/// a root is resolved.
fn below_site<'a>(dist: &InstalledDist, row: &'a str) -> Option<Cow<'a, str>> {
    let plain = !row.starts_with('/')
        && !row.contains('\\')
        && row
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    if plain {
        return Some(Cow::Borrowed(row));
    }
    let path = locate(dist, row).ok()?;
    let below = path.strip_prefix(&dist.site_dir).ok()?.to_str()?;
    (!below.is_empty()).then(|| Cow::Owned(below.replace('\\', "/")))
}

/// What one site folder's dists (`members`, indexes into `dists`) own, and what is unlisted.
///
/// Keyed by relative text, not by paths: a large environment lists some 80,000 files, and
/// hashing a `Path` walks its components.
fn in_site(
    site: &Path,
    dists: &[InstalledDist],
    members: &[usize],
    known: Option<(&KnownFiles, Cutoff)>,
    clean: &mut CleanFolders,
) -> Vec<(usize, FileProblem)> {
    // Folder (relative, "" for the site folder itself) -> what it holds listed.
    let mut folders: FxHashMap<Cow<'_, str>, Listed<'_>> = FxHashMap::default();
    // Folders some listed file lies below (namespace levels included), with the dists whose
    // files lie below each.
    let mut above: FxHashMap<String, BTreeSet<usize>> = FxHashMap::default();
    // Top-level names of dists without a RECORD (legacy egg-info installs): nothing is known
    // of their files, so their folders are left alone rather than called unlisted.
    let mut unknown_owner: FxHashSet<String> = FxHashSet::default();
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
            let Some(path) = below_site(dist, &row.path) else {
                continue;
            };
            let (folder, name) = match path {
                Cow::Borrowed(p) => match p.rsplit_once('/') {
                    Some((f, n)) => (Cow::Borrowed(f), Cow::Borrowed(n)),
                    None => (Cow::Borrowed(""), Cow::Borrowed(p)),
                },
                Cow::Owned(p) => match p.rsplit_once('/') {
                    Some((f, n)) => (Cow::Owned(f.to_string()), Cow::Owned(n.to_string())),
                    None => (Cow::Borrowed(""), Cow::Owned(p.clone())),
                },
            };
            // A folder already known with this owner has its ancestors known with it too.
            let mut up: &str = &folder;
            while !up.is_empty() {
                let owners = match above.get_mut(up) {
                    Some(owners) => owners,
                    None => above.entry(up.to_string()).or_default(),
                };
                if !owners.insert(i) {
                    break;
                }
                up = up.rsplit_once('/').map_or("", |(parent, _)| parent);
            }
            let listed = folders.entry(folder).or_default();
            listed.names.insert(name);
            listed.owners.insert(i);
        }
    }
    // What is added to a folder is imported with every dist below it (a namespace level such
    // as `jaraco/` holds no listed file at all): each of them finds it.
    for (folder, owners) in &above {
        match folders.get_mut(folder.as_str()) {
            Some(listed) => listed.owners.extend(owners),
            None => {
                folders.insert(
                    Cow::Owned(folder.clone()),
                    Listed {
                        names: FxHashSet::default(),
                        owners: owners.clone(),
                    },
                );
            }
        }
    }
    let root = folders.remove("").unwrap_or_default();
    let first_of = |folder: &str| folder.split('/').next().unwrap_or(folder).to_string();
    // The dists' own `.dist-info` folders are checked, with the installers' files allowed;
    // other metadata folders (`.data`, which installers empty, and folders of other copies)
    // are not.
    let own_metadata: FxHashSet<String> = members
        .iter()
        .filter(|&&i| dists[i].record.is_some())
        .filter_map(|&i| Some(dists[i].location.file_name()?.to_str()?.to_string()))
        .collect();
    let checked: Vec<(&Cow<'_, str>, &Listed<'_>)> = folders
        .iter()
        .filter(|(folder, _)| {
            let first = first_of(folder);
            (!is_metadata_folder(&first) || own_metadata.contains(&first))
                && !unknown_owner.contains(&module_name(&first))
                && !folder.rsplit('/').next().is_some_and(is_bytecode_folder)
        })
        .collect();
    // Each folder's child folders that hold listed files, for what a folder is expected to
    // hold.
    let mut children: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
    for folder in above.keys() {
        let (parent, name) = folder.rsplit_once('/').unwrap_or(("", folder.as_str()));
        children.entry(parent).or_default().push(name);
    }
    let looked: Vec<(Found, Vec<Remembered>)> = checked
        .par_iter()
        .map(|(folder, listed)| {
            let (mut here, mut remembered) = in_folder(
                site,
                folder,
                listed,
                &own_metadata,
                &children,
                &above,
                known,
            );
            let pycache = site.join(folder.as_ref()).join("__pycache__");
            let (strays, remember) = in_bytecode_folder(&pycache, known);
            for name in strays {
                for &i in &listed.owners {
                    here.push((
                        i,
                        FileProblem::Unlisted {
                            path: format!("{folder}/__pycache__/{name}"),
                            shadows: None,
                        },
                    ));
                }
            }
            remembered.extend(remember);
            (here, remembered)
        })
        .collect();
    let mut out: Vec<(usize, FileProblem)> = Vec::new();
    for (here, remembered) in looked {
        out.extend(here);
        for remembered in remembered {
            match remembered {
                Remembered::Reused(key) => clean.reused.push(key),
                Remembered::Fresh(found) => clean.fresh.push(found),
            }
        }
    }
    // The top of the site folder: only what the import system takes before a listed module
    // of the same name. Each name's best listed entry, and the dists with files in or under it.
    let mut top: FxHashMap<String, (Rank, BTreeSet<usize>)> = FxHashMap::default();
    let mut rank_listed = |first: &str, rank: Option<Rank>, owners: &BTreeSet<usize>| {
        let Some(rank) = rank else {
            return;
        };
        if is_metadata_folder(first) {
            return;
        }
        let (best, all) = top
            .entry(module_name(first))
            .or_insert((rank, BTreeSet::new()));
        *best = (*best).min(rank);
        all.extend(owners);
    };
    for name in &root.names {
        rank_listed(name, file_rank(name.as_ref()), &root.owners);
    }
    let mut under: FxHashMap<String, BTreeSet<usize>> = FxHashMap::default();
    for (folder, listed) in &folders {
        under
            .entry(first_of(folder))
            .or_default()
            .extend(&listed.owners);
    }
    for (first, owners) in &under {
        rank_listed(first, Some(folder_rank(&site.join(first))), owners);
    }
    for (name, is_folder, _) in entries(site) {
        if (is_folder && above.contains_key(&name))
            || root.names.contains(name.as_str())
            || is_metadata_folder(&name)
        {
            continue;
        }
        let rank = if is_folder {
            Some(folder_rank(&site.join(&name)))
        } else {
            file_rank(&name)
        };
        let module = module_name(&name);
        let (Some(rank), Some((listed_rank, owners))) = (rank, top.get(&module)) else {
            continue;
        };
        // Two extension modules of one name rank by a suffix order this does not model:
        // either may win, so a tie counts as shadowing.
        if rank > *listed_rank {
            continue;
        }
        if is_folder && !crate::holds_files(&site.join(&name)) {
            continue;
        }
        let shown = name + if is_folder { "/" } else { "" };
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

/// What `folder` (a checked folder below `site`) holds that no RECORD lists, and what to
/// remember of it.
fn in_folder(
    site: &Path,
    folder: &str,
    listed: &Listed<'_>,
    own_metadata: &FxHashSet<String>,
    children: &FxHashMap<&str, Vec<&str>>,
    above: &FxHashMap<String, BTreeSet<usize>>,
    known: Option<(&KnownFiles, Cutoff)>,
) -> (Found, Vec<Remembered>) {
    let mut here = Vec::new();
    let path = site.join(folder);
    let metadata_root = own_metadata.contains(folder);
    let expected = known.map(|_| {
        expectation(
            folder,
            listed,
            children.get(folder).map(Vec::as_slice),
            metadata_root,
        )
    });
    let stat = known
        .and_then(|_| std::fs::symlink_metadata(&path).ok())
        .filter(|m| m.is_dir())
        .and_then(|m| Stat::of(&m));
    if let (Some((known, _)), Some(stat), Some(expected)) = (known, &stat, &expected)
        && known.unchanged(&path, stat, expected)
    {
        return (here, vec![Remembered::Reused(stat.key())]);
    }
    // Clean, and nothing in it that could change without changing the folder itself
    // (a symlink's target, what an unlisted empty folder comes to hold).
    let mut settled = true;
    for (name, is_folder, is_symlink) in entries(&path) {
        if is_bytecode_folder(&name)
            || (metadata_root && !is_folder && INSTALLER_FILES.contains(&name.as_str()))
        {
            continue;
        }
        settled &= !is_symlink;
        let shown = format!("{folder}/{name}");
        if (is_folder && above.contains_key(&shown)) || listed.names.contains(name.as_str()) {
            continue;
        }
        if is_folder && !crate::holds_files(&site.join(&shown)) {
            settled = false;
            continue;
        }
        let shown = shown + if is_folder { "/" } else { "" };
        for &i in &listed.owners {
            here.push((
                i,
                FileProblem::Unlisted {
                    path: shown.clone(),
                    shadows: None,
                },
            ));
        }
    }
    let remember = match (known, stat, expected) {
        (Some((_, cutoff)), Some(stat), Some(expected))
            if here.is_empty() && settled && cutoff.admits(&stat) =>
        {
            Match::new(path, stat, &expected).map(Remembered::Fresh)
        }
        _ => None,
    };
    (here, remember.into_iter().collect())
}

/// What a `__pycache__` folder holds that Python did not write there (see
/// [`crate::strays_in_bytecode_folder`]), and what to remember of it: found clean, it is not
/// listed again while its stat is unchanged (Python writing a new pyc into it changes that).
fn in_bytecode_folder(
    pycache: &Path,
    known: Option<(&KnownFiles, Cutoff)>,
) -> (Vec<String>, Option<Remembered>) {
    let Ok(meta) = std::fs::symlink_metadata(pycache) else {
        return (Vec::new(), None);
    };
    if meta.file_type().is_symlink() {
        // Followed by the import system; what it points to can change unseen, so it is listed
        // every time and never remembered.
        return (crate::strays_in_bytecode_folder(pycache), None);
    }
    if !meta.is_dir() {
        // A file named `__pycache__` has no suffix an import loads.
        return (Vec::new(), None);
    }
    let expected = bytecode_folder_expectation();
    let stat = Stat::of(&meta);
    if let (Some((known, _)), Some(stat)) = (known, &stat)
        && known.unchanged(pycache, stat, &expected)
    {
        return (Vec::new(), Some(Remembered::Reused(stat.key())));
    }
    let strays = crate::strays_in_bytecode_folder(pycache);
    let remember = match (known, stat) {
        (Some((_, cutoff)), Some(stat)) if strays.is_empty() && cutoff.admits(&stat) => {
            Match::new(pycache.to_path_buf(), stat, &expected).map(Remembered::Fresh)
        }
        _ => None,
    };
    (strays, remember)
}

/// What a `__pycache__` folder is expected to hold: only what Python writes.
fn bytecode_folder_expectation() -> RecordHash {
    use sha2::Digest;
    RecordHash {
        algorithm: "sha256".into(),
        digest: crate::record::Digest::from_slice(&sha2::Sha256::digest(
            b"icelock bytecode folder 1",
        )),
    }
}

/// Files an installer writes into a `.dist-info` beside the wheel's, listed in RECORD or not
/// (RECORD itself never is; micropip lists none of its own): pip's and uv's `INSTALLER`,
/// `REQUESTED` and PEP 610's `direct_url.json`, PEP 710's `provenance_url.json`, uv's own
/// records of a build and of its cache, micropip's `PYODIDE_*`, and the signatures of RECORD
/// the wheel spec says RECORD cannot list. None of them is loaded by the import system or by
/// `importlib.metadata` as code or entry points.
const INSTALLER_FILES: &[&str] = &[
    "RECORD",
    "RECORD.jws",
    "RECORD.p7s",
    "INSTALLER",
    "REQUESTED",
    "direct_url.json",
    "provenance_url.json",
    "uv_build.json",
    "uv_cache.json",
    "PYODIDE_SOURCE",
    "PYODIDE_URL",
    "PYODIDE_SHA256",
    "PYODIDE_REQUIRES",
];

/// The names in `folder`, each with whether it is a folder, or a symlink to one (the import
/// system follows it; only its target's kind is read), and whether it is a symlink; none when
/// it cannot be read (its RECORD rows report that). A name that is not UTF-8 is shown with
/// U+FFFD in it: no RECORD can list it.
fn entries(folder: &Path) -> Vec<(String, bool, bool)> {
    let Ok(read) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut out: Vec<(String, bool, bool)> = read
        .flatten()
        .map(|e| {
            let (is_folder, is_symlink) = match e.file_type() {
                Ok(t) if t.is_symlink() => {
                    (std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir()), true)
                }
                Ok(t) => (t.is_dir(), false),
                Err(_) => (false, false),
            };
            (
                e.file_name().to_string_lossy().into_owned(),
                is_folder,
                is_symlink,
            )
        })
        .collect();
    out.sort();
    out
}

/// What one folder holds that no RECORD lists, for each dist that finds it.
type Found = Vec<(usize, FileProblem)>;

/// A folder found clean, to remember.
enum Remembered {
    Reused((u64, u64)),
    Fresh(Match),
}

/// What a folder is expected to hold, as a digest: a clean verdict holds while this and the
/// folder's stat are unchanged.
fn expectation(
    folder: &str,
    listed: &Listed<'_>,
    children: Option<&[&str]>,
    metadata_root: bool,
) -> RecordHash {
    use sha2::Digest;
    let mut names: Vec<&str> = listed.names.iter().map(|n| n.as_ref()).collect();
    names.sort_unstable();
    let mut folders: Vec<&str> = children.unwrap_or_default().to_vec();
    folders.sort_unstable();
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"icelock clean folder 1\0");
    hasher.update(folder.as_bytes());
    hasher.update([u8::from(metadata_root)]);
    for name in names {
        hasher.update(b"\0f");
        hasher.update(name.as_bytes());
    }
    for name in folders {
        hasher.update(b"\0d");
        hasher.update(name.as_bytes());
    }
    RecordHash {
        algorithm: "sha256".into(),
        digest: crate::record::Digest::from_slice(&hasher.finalize()),
    }
}

/// Python writes bytecode into `__pycache__` at import time (for each version and optimisation
/// level run), and imports a file there only for a source file beside the folder, which is
/// itself checked: what it holds is never unlisted.
fn is_bytecode_folder(name: &str) -> bool {
    name == "__pycache__"
}

fn is_metadata_folder(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".dist-info") || lower.ends_with(".egg-info") || lower.ends_with(".data")
}

/// What `import` would call a top-level entry: a folder by its name, a module by what is
/// before its first dot (`six.py`, `_speedups.cpython-311-x86_64-linux-gnu.so`).
fn module_name(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_string()
}

/// What the import system takes first when one folder holds several entries of one name
/// (the lowest): a folder with an `__init__`, an extension module, source, sourceless
/// bytecode, and only then a folder without `__init__` (a namespace portion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Package,
    Extension,
    Source,
    Bytecode,
    Namespace,
}

/// A file's rank as a module, `None` for a file `import` never loads.
fn file_rank(name: &str) -> Option<Rank> {
    if name.ends_with(".so") || name.ends_with(".pyd") {
        Some(Rank::Extension)
    } else if name.ends_with(".py") || name.ends_with(".pyw") {
        Some(Rank::Source)
    } else if name.ends_with(".pyc") {
        Some(Rank::Bytecode)
    } else {
        None
    }
}

fn folder_rank(folder: &Path) -> Rank {
    let has_init = entries(folder).iter().any(|(name, is_folder, _)| {
        !is_folder && module_name(name) == "__init__" && file_rank(name).is_some()
    });
    if has_init {
        Rank::Package
    } else {
        Rank::Namespace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DistFormat;
    use crate::record::RecordEntry;

    /// A dist in `site` whose RECORD lists `rows`, each file written; no RECORD with `None`.
    fn dist(site: &Path, name: &str, rows: Option<&[&str]>, imports: &[&str]) -> InstalledDist {
        for row in rows.unwrap_or_default() {
            let path = site.join(row);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "").unwrap();
        }
        InstalledDist {
            format: if rows.is_some() {
                DistFormat::DistInfo
            } else {
                DistFormat::EggInfo
            },
            record: rows.map(|rows| {
                rows.iter()
                    .map(|r| RecordEntry {
                        path: (*r).into(),
                        hash: None,
                        size: None,
                    })
                    .collect()
            }),
            imports: imports.iter().map(|s| s.to_string()).collect(),
            ..crate::test_dist(name, site, site)
        }
    }

    fn touch(site: &Path, path: &str) {
        let path = site.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    /// Per dist, the unlisted paths found.
    fn found(dists: &[InstalledDist]) -> Vec<Vec<String>> {
        find(dists, None)
            .0
            .into_iter()
            .map(|ps| {
                let mut paths: Vec<String> = ps.iter().map(|p| p.path().to_string()).collect();
                paths.sort();
                paths
            })
            .collect()
    }

    #[test]
    fn at_the_top_only_what_is_imported_first() {
        let tmp = tempfile::tempdir().unwrap();
        let site = std::fs::canonicalize(tmp.path()).unwrap();
        let six = dist(
            &site,
            "six",
            Some(&["six.py", "six-1.0.dist-info/RECORD"]),
            &[],
        );
        // Taken before six.py: a package folder, an extension module.
        touch(&site, "six/__init__.py");
        touch(&site, "six.cpython-311-x86_64-linux-gnu.so");
        // Never taken before it: a namespace folder, sourceless bytecode; nor is another
        // tool's module, nor what Python writes into __pycache__.
        std::fs::create_dir(site.join("six_ns")).unwrap();
        touch(&site, "six.pyc");
        touch(&site, "_virtualenv.py");
        touch(&site, "_virtualenv.pth");
        touch(&site, "__pycache__/six.cpython-311.pyc");
        touch(&site, "six-1.0.dist-info/INSTALLER");
        assert_eq!(
            found(&[six]),
            [["six.cpython-311-x86_64-linux-gnu.so", "six/"]]
        );
    }

    #[test]
    fn in_a_dists_folders_everything_is_listed_or_named() {
        let tmp = tempfile::tempdir().unwrap();
        let site = std::fs::canonicalize(tmp.path()).unwrap();
        let a = dist(&site, "a", Some(&["pkg/__init__.py", "pkg/a.py"]), &[]);
        let b = dist(&site, "b", Some(&["pkg/b.py"]), &[]);
        let alpha = dist(&site, "ns-alpha", Some(&["ns/alpha/__init__.py"]), &[]);
        let beta = dist(&site, "ns-beta", Some(&["ns/betamod.py"]), &[]);
        let legacy = dist(&site, "legacy", None, &["legacy"]);
        touch(&site, "pkg/added.py");
        touch(&site, "pkg/sub/mod.py");
        touch(&site, "pkg/__pycache__/a.cpython-311.opt-1.pyc");
        // What an uninstall leaves: an empty folder, one with only bytecode.
        std::fs::create_dir_all(site.join("pkg/gone/empty")).unwrap();
        touch(&site, "pkg/gone/__pycache__/old.cpython-311.opt-1.pyc");
        // A namespace level holds no listed file: what else sits there is nobody's (and an
        // `__init__.py` there would make the namespace a package), and a module at the top of
        // that name is taken before the namespace.
        touch(&site, "ns/other.py");
        touch(&site, "ns/alpha/__pycache__/__init__.cpython-312.pyc");
        touch(&site, "ns.py");
        // Nothing is known of a legacy install's files.
        touch(&site, "legacy/__init__.py");
        assert_eq!(
            found(&[a, b, alpha, beta, legacy]),
            vec![
                vec!["pkg/added.py".to_string(), "pkg/sub/".into()],
                vec!["pkg/added.py".to_string(), "pkg/sub/".into()],
                vec!["ns.py".to_string(), "ns/other.py".into()],
                vec!["ns.py".to_string(), "ns/other.py".into()],
                vec![],
            ]
        );
    }

    /// A dist's own `.dist-info` holds what its RECORD lists and what installers add; an
    /// `entry_points.txt` put there registers a plugin and is named.
    #[test]
    fn a_dist_info_holds_only_what_is_listed_and_the_installers_files() {
        let tmp = tempfile::tempdir().unwrap();
        let site = std::fs::canonicalize(tmp.path()).unwrap();
        let six = dist(
            &site,
            "six",
            Some(&[
                "six.py",
                "six-1.0.dist-info/METADATA",
                "six-1.0.dist-info/RECORD",
            ]),
            &[],
        );
        let six = InstalledDist {
            location: site.join("six-1.0.dist-info"),
            ..six
        };
        for installer_file in ["INSTALLER", "REQUESTED", "PYODIDE_URL", "uv_build.json"] {
            touch(&site, &format!("six-1.0.dist-info/{installer_file}"));
        }
        touch(&site, "six-1.0.dist-info/entry_points.txt");
        touch(&site, "six-1.0.dist-info/licenses/EXTRA");
        assert_eq!(
            found(&[six]),
            [[
                "six-1.0.dist-info/entry_points.txt",
                "six-1.0.dist-info/licenses/"
            ]]
        );
    }

    /// The import system follows symlinks, so their targets' kind counts: a symlink to a
    /// package folder shadows a listed module, and a listed folder reached through one is not
    /// unlisted. A name no RECORD can hold (not UTF-8) is still named.
    #[cfg(unix)]
    #[test]
    fn symlinks_are_judged_by_their_targets_and_odd_names_are_named() {
        use std::os::unix::ffi::OsStrExt;
        let tmp = tempfile::tempdir().unwrap();
        let site = std::fs::canonicalize(tmp.path()).unwrap().join("site");
        std::fs::create_dir(&site).unwrap();
        let elsewhere = site.parent().unwrap().join("elsewhere");
        touch(&elsewhere, "real_pkg/__init__.py");
        std::os::unix::fs::symlink(elsewhere.join("real_pkg"), site.join("linked")).unwrap();
        let one = dist(&site, "one", Some(&["mod.py", "linked/a.py"]), &[]);
        touch(&elsewhere, "shadow/__init__.py");
        std::os::unix::fs::symlink(elsewhere.join("shadow"), site.join("mod")).unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"odd\xff.py");
        std::fs::write(elsewhere.join("real_pkg").join(odd), "").unwrap();
        assert_eq!(
            found(&[one]),
            [["linked/__init__.py", "linked/odd\u{fffd}.py", "mod/"]]
        );
    }
}
