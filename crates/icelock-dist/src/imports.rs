//! Import names: what `import X` a distribution makes possible.
//!
//! `top_level.txt` is setuptools-only and says `jaraco` for `jaraco.functools`, so names are
//! derived from the files RECORD lists: a root module or extension is a module, a root folder
//! with `__init__` is a package, and a folder without one is a PEP 420 namespace whose first
//! levels with `__init__` (and modules sitting directly in it) are the names. A pkgutil or
//! pkg_resources namespace has an `__init__.py`, but one that only extends `__path__`: those are
//! namespaces too. PEP 794's `Import-Name`, where present, is taken as the dist's own word.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module a root file provides, if it is one: `a.py`, `a.cpython-311-x86_64-linux-gnu.so`,
/// `a.abi3.so`, `a.pyd`. Extension modules are named up to their first dot.
fn module_name(file: &str) -> Option<&str> {
    if let Some(stem) = file.strip_suffix(".py") {
        return Some(stem);
    }
    if file.ends_with(".so") || file.ends_with(".pyd") {
        return file.split('.').next();
    }
    None
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Files that installers and editable backends put at the root and that are not import names.
fn is_installer_artifact(name: &str) -> bool {
    name.starts_with("__editable__") || name.starts_with("_virtualenv") || name == "__pycache__"
}

/// Deeper than any installed file (a path is at most 4096 bytes on Linux, and no package nests
/// modules this deep); RECORD is only text, and the tree below is built and dropped by recursion.
const MAX_DEPTH: usize = 128;

/// A folder tree built from RECORD paths, borrowing their text (tens of thousands of rows in
/// a large environment: copying each name cost more than the rest of the derivation).
#[derive(Default)]
struct Dir<'a> {
    files: BTreeSet<&'a str>,
    dirs: BTreeMap<&'a str, Dir<'a>>,
}

impl<'a> Dir<'a> {
    fn insert(&mut self, parts: &[&'a str]) {
        match parts {
            [] => {}
            [file] => {
                self.files.insert(file);
            }
            [dir, rest @ ..] => self.dirs.entry(dir).or_default().insert(rest),
        }
    }

    fn has_init(&self) -> bool {
        self.files
            .iter()
            .any(|f| module_name(f) == Some("__init__"))
    }
}

/// Derives import names from RECORD paths.
///
/// `is_namespace_init` is asked about a package's `__init__.py` (by RECORD path) and says whether
/// it is a pkgutil/pkg_resources namespace stub; `declared_namespaces` are the dotted names of
/// an old `namespace_packages.txt`.
pub fn from_record<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    declared_namespaces: &[String],
    is_namespace_init: &dyn Fn(&str) -> bool,
) -> BTreeSet<String> {
    let mut root = Dir::default();
    let mut parts: Vec<&str> = Vec::new();
    for path in paths {
        if path.starts_with('/')
            || path.starts_with("..")
            || path.contains('\\') && path.contains(':')
        {
            continue;
        }
        parts.clear();
        parts.extend(path.split('/').filter(|p| !p.is_empty()));
        if parts.len() > MAX_DEPTH {
            continue;
        }
        let Some(first) = parts.first() else { continue };
        if first.ends_with(".dist-info") || first.ends_with(".data") || first.ends_with(".egg-info")
        {
            continue;
        }
        if parts.contains(&"__pycache__") {
            continue;
        }
        root.insert(&parts);
    }
    let mut names = BTreeSet::new();
    for file in &root.files {
        if let Some(name) = module_name(file)
            && !is_installer_artifact(name)
            && is_identifier(name)
        {
            names.insert(name.to_string());
        }
    }
    for (name, dir) in &root.dirs {
        if is_installer_artifact(name) || !is_identifier(name) {
            continue;
        }
        walk(
            name,
            name,
            dir,
            declared_namespaces,
            is_namespace_init,
            &mut names,
        );
    }
    names
}

fn walk(
    dotted: &str,
    rel: &str,
    dir: &Dir,
    declared_namespaces: &[String],
    is_namespace_init: &dyn Fn(&str) -> bool,
    names: &mut BTreeSet<String>,
) {
    let namespace_stub = dir.has_init()
        && (declared_namespaces.iter().any(|n| n == dotted)
            || is_namespace_init(&format!("{rel}/__init__.py")));
    if dir.has_init() && !namespace_stub {
        names.insert(dotted.to_string());
        return;
    }
    for file in &dir.files {
        if let Some(module) = module_name(file)
            && module != "__init__"
            && is_identifier(module)
        {
            names.insert(format!("{dotted}.{module}"));
        }
    }
    for (name, sub) in &dir.dirs {
        if is_identifier(name) {
            walk(
                &format!("{dotted}.{name}"),
                &format!("{rel}/{name}"),
                sub,
                declared_namespaces,
                is_namespace_init,
                names,
            );
        }
    }
}

/// The most of an `__init__.py` read to tell a namespace stub; a larger file is no stub.
pub const STUB_READ_CAP: u64 = 64 * 1024;

/// Whether an `__init__.py` only declares a namespace (pkgutil's `extend_path` or
/// pkg_resources' `declare_namespace`). Real packages' `__init__` files can be large; a stub is a
/// few lines, so only the first few KiB are read.
pub fn is_namespace_stub(file: &Path, prefix: &Path) -> bool {
    // Read like every environment file: inside the prefix, regular files only (never a pipe).
    icelock_env::safe_fs::read_inside(file, prefix, STUB_READ_CAP)
        .is_ok_and(|head| is_namespace_stub_text(&head))
}

/// [`is_namespace_stub`] on the file's first bytes, read by the caller.
pub fn is_namespace_stub_text(head: &[u8]) -> bool {
    let head = &head[..head.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let code: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    code.len() <= 6
        && code
            .iter()
            .any(|l| l.contains("extend_path(") || l.contains("declare_namespace("))
}

/// Import names of an editable install, from what its backend left in site-packages: a `.pth`
/// listing source folders (setuptools' lenient mode, hatchling, flit, uv_build), or setuptools'
/// finder module, whose `MAPPING` maps each top-level name to its folder.
pub fn from_editable(site: &Path, prefix: &Path, record_paths: &[&str]) -> BTreeSet<String> {
    let read = |file: &Path| {
        icelock_env::safe_fs::read_inside(file, prefix, 1024 * 1024)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let mut names = BTreeSet::new();
    for rel in record_paths {
        if rel.contains('/') {
            continue;
        }
        let file = site.join(rel);
        if rel.ends_with(".pth") {
            let Some(text) = read(&file) else {
                continue;
            };
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') || line.starts_with("import") {
                    continue;
                }
                names.extend(top_level_of_folder(&site.join(line)));
            }
        } else if rel.starts_with("__editable__")
            && rel.ends_with("_finder.py")
            && let Some(text) = read(&file)
        {
            names.extend(finder_mapping_keys(&text));
        }
    }
    names
}

/// The importable top level of a source folder put on `sys.path`: packages and modules, without
/// the build scaffolding that sits beside them in a flat project.
fn top_level_of_folder(dir: &Path) -> BTreeSet<String> {
    const SCAFFOLDING: &[&str] = &[
        "setup", "conftest", "noxfile", "tasks", "tests", "test", "docs", "build", "dist",
    ];
    let mut names = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return names;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let name = if path.is_dir() {
            let has_init = path.join("__init__.py").is_file();
            let has_python = has_init
                || std::fs::read_dir(&path)
                    .map(|e| {
                        e.flatten()
                            .any(|f| f.file_name().to_string_lossy().ends_with(".py"))
                    })
                    .unwrap_or(false);
            if !has_python {
                continue;
            }
            file_name
        } else if let Some(module) = module_name(&file_name) {
            module.to_string()
        } else {
            continue;
        };
        if is_identifier(&name)
            && !SCAFFOLDING.contains(&name.as_str())
            && !is_installer_artifact(&name)
        {
            names.insert(name);
        }
    }
    names
}

/// The keys of `MAPPING: dict[str, str] = {'pkg': '/src/pkg', …}` in setuptools' finder module.
fn finder_mapping_keys(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let Some(start) = text.find("MAPPING") else {
        return names;
    };
    let rest = &text[start..];
    let Some(open) = rest.find('{') else {
        return names;
    };
    let Some(close) = rest[open..].find('}') else {
        return names;
    };
    let body = &rest[open + 1..open + close];
    // Entries are `'key': 'value'` pairs; keys are the quoted strings before a colon.
    for pair in body.split(',') {
        let Some((key, _)) = pair.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches(|c| c == '\'' || c == '"');
        if !key.is_empty() && key.split('.').all(is_identifier) {
            names.insert(key.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(paths: &[&str]) -> Vec<String> {
        from_record(paths.iter().copied(), &[], &|_| false)
            .into_iter()
            .collect()
    }

    /// RECORD is text: a row nesting 100 000 folders must not overflow the stack building or
    /// dropping the tree.
    #[test]
    fn absurdly_deep_rows_are_skipped() {
        let deep = format!("{}x.py", "a/".repeat(100_000));
        assert_eq!(names(&[&deep, "ok.py"]), ["ok"]);
    }

    #[test]
    fn reference_examples() {
        assert_eq!(
            names(&[
                "jaraco/functools/__init__.py",
                "jaraco/functools/__init__.pyi",
                "jaraco_functools-4.1.0.dist-info/METADATA"
            ]),
            vec!["jaraco.functools"]
        );
        assert_eq!(
            names(&[
                "attr/__init__.py",
                "attrs/__init__.py",
                "attrs-25.1.0.dist-info/RECORD"
            ]),
            vec!["attr", "attrs"]
        );
        assert_eq!(
            names(&[
                "socks.py",
                "sockshandler.py",
                "__pycache__/socks.cpython-311.pyc"
            ]),
            vec!["socks", "sockshandler"]
        );
        assert_eq!(
            names(&[
                "_cffi_backend.cpython-311-x86_64-linux-gnu.so",
                "cffi/__init__.py",
                "cffi.libs/libffi.so.8"
            ]),
            vec!["_cffi_backend", "cffi"]
        );
        assert_eq!(
            names(&[
                "google/protobuf/__init__.py",
                "google/_upb/_message.abi3.so"
            ]),
            vec!["google._upb._message", "google.protobuf"]
        );
        assert_eq!(
            names(&["typer_slim-0.1.dist-info/METADATA"]),
            Vec::<String>::new()
        );
        assert_eq!(
            names(&[
                "../../../bin/tool",
                "tool-1.data/scripts/tool",
                "numpy.libs/x.so",
                "numpy/__init__.py"
            ]),
            vec!["numpy"]
        );
    }

    #[test]
    fn pkgutil_and_declared_namespaces() {
        let paths = ["backports/__init__.py", "backports/tarfile/__init__.py"];
        let stub = from_record(paths.iter().copied(), &[], &|p| {
            p == "backports/__init__.py"
        });
        assert_eq!(
            stub.into_iter().collect::<Vec<_>>(),
            vec!["backports.tarfile"]
        );
        let declared = from_record(paths.iter().copied(), &["backports".into()], &|_| false);
        assert_eq!(
            declared.into_iter().collect::<Vec<_>>(),
            vec!["backports.tarfile"]
        );
    }

    #[test]
    fn editable_finder_mapping() {
        let text = "import sys\nMAPPING: dict[str, str] = {'proj': '/src/proj', 'other_mod': '/src/other_mod.py'}\nNAMESPACES: dict[str, list[str]] = {}\n";
        assert_eq!(
            finder_mapping_keys(text).into_iter().collect::<Vec<_>>(),
            vec!["other_mod", "proj"]
        );
    }

    #[test]
    fn namespace_stub_detection() {
        let tmp = tempfile::tempdir().unwrap();
        let stub = tmp.path().join("a.py");
        std::fs::write(
            &stub,
            "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
        )
        .unwrap();
        assert!(is_namespace_stub(&stub, tmp.path()));
        let real = tmp.path().join("b.py");
        std::fs::write(&real, "from .x import y\n\ndef f():\n    return 1\n").unwrap();
        assert!(!is_namespace_stub(&real, tmp.path()));
    }
}
