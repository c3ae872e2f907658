//! The environment's own files: what no RECORD lists but the tool that made the environment
//! (or Python itself) put there, each recognised by an exact rule with its reason.

use std::path::{Path, PathBuf};

use icelock_env::Environment;
use icelock_env::pth::PthFile;
use serde::Serialize;
use sha2::Digest;

use crate::{ByRule, Owned, Survey, Unowned, UnownedKind};

/// A rule that owns an entry no RECORD lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// `bin/python*`: links to (or copies of) the base interpreter `pyvenv.cfg` names.
    InterpreterLink,
    /// `bin/activate*`: sourced by a shell the user runs, never run by Python; the ones that
    /// name a folder name this environment.
    Activate,
    /// virtualenv's `_virtualenv.pth` and `_virtualenv.py`, byte for byte a release's.
    VirtualenvPatch,
    /// `__pycache__` at the top of a site folder: bytecode Python writes for the modules
    /// beside it, loaded only for a source file that is there.
    Bytecode,
    /// A `.pth` file with no line Python executes: it only adds folders to the path, and
    /// those are surveyed themselves.
    PathsOnly,
    /// A module of a distribution without RECORD (a legacy `.egg-info` install): nothing
    /// says which files are its, and it is reported as unverifiable itself.
    LegacyInstall,
}

impl Rule {
    /// Why the rule owns what it owns, for people.
    pub fn reason(self) -> &'static str {
        match self {
            Self::InterpreterLink => {
                "the environment's interpreter: a link to (or copy of) the base Python pyvenv.cfg names"
            }
            Self::Activate => {
                "an activation script: a shell runs it when the user activates this environment; Python never does"
            }
            Self::VirtualenvPatch => {
                "virtualenv's start-up patch (its distutils fix-up), byte for byte what a virtualenv release writes"
            }
            Self::Bytecode => "bytecode Python wrote for the modules beside it",
            Self::PathsOnly => {
                "a .pth file that only adds folders to the import path (they are surveyed too)"
            }
            Self::LegacyInstall => {
                "a module of a legacy install without RECORD, which is reported unverifiable"
            }
        }
    }
}

/// A `.pth` file no RECORD lists.
pub(crate) fn pth(file: &PthFile, survey: &mut Survey) {
    if virtualenv_patch(
        &file.path,
        file.path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        survey,
    ) {
        return;
    }
    let kind = match (&file.unreadable, file.imports.first()) {
        (Some(why), _) => UnownedKind::UnreadablePth { why: why.clone() },
        (None, Some(line)) => UnownedKind::StartupPth { line: line.clone() },
        (None, None) => {
            survey.by_rule.push(ByRule {
                path: file.path.clone(),
                rule: Rule::PathsOnly,
                of: None,
            });
            return;
        }
    };
    survey.unowned.push(Unowned {
        path: file.path.clone(),
        kind,
    });
}

/// `_virtualenv.pth` holds exactly the line that imports `_virtualenv`.
const VIRTUALENV_PTH: &[u8] = b"import _virtualenv";

/// The sha256 of each `_virtualenv.py` that virtualenv releases write, with the releases that
/// write it: from 20.0.10 the file is copied verbatim from the wheel's
/// `virtualenv/create/via_global_ref/_virtualenv.py` (each release's read and hashed), and
/// from 21.6 only for Pythons before 3.10. uv writes one of its own for those Pythons.
/// (20.0.6 to 20.0.9 substituted a path into it, and old macOS Pythons got more appended: not
/// recognised.)
const VIRTUALENV_PY: &[(&str, &str)] = &[
    (
        "82944bb74841efbcfdc3539e7d60df63f43cc023041eb183abbd56f44e071b45",
        "virtualenv 20.0.10",
    ),
    (
        "e3db5fe06ab41ca9b95dd6463b83836787028a1b55562cc383803bb83001a45c",
        "virtualenv 20.0.11-20.0.26",
    ),
    (
        "bd9633de3d8122488d66fcfa0c7f0c9cd0b58e9147938ddf1f8fa76ca12b6ad5",
        "virtualenv 20.0.27",
    ),
    (
        "684b8c07932ba4a84ac2e5ae9afe49ef04e92bac3d8d4191d455cf09d093e5fc",
        "virtualenv 20.0.28-20.13.3",
    ),
    (
        "ce57d5e0d9b5d7356cb42da7450ba8f9359bdf693e335f4c921626943c77e64d",
        "virtualenv 20.13.4-20.16.2",
    ),
    (
        "c9199315871b11b12df226f890a38e66e63191e1adbfb11a66e6861151b33fca",
        "virtualenv 20.16.3-20.21.1",
    ),
    (
        "f4dfaeb9efc1614890cfa94ed15bbe9b2ee15fbe76d569ef5e435e93e4987dc7",
        "virtualenv 20.22.0-20.23.0",
    ),
    (
        "119e4eb9c1a39e6ffd220840844bd326fa1bd3acf2f1c9fa0612949aedc228a5",
        "virtualenv 20.23.1",
    ),
    (
        "0aeb86546345c1d0fada097536e35525714d5cdbcc2d8eb3f9912a955044fcff",
        "virtualenv 20.24.0-20.25.0",
    ),
    (
        "0f20351ea7e90039c46d3fabdef991f28b1e3ff33eb13ee6f0d5cd21ea0e8b14",
        "virtualenv 20.25.1-20.35.3",
    ),
    (
        "bec6155ff7bfc88f8e79e481f27fd7ee0a3b40eeca9bfeb41f4c4b997b2f8100",
        "virtualenv 20.35.4-20.36.1",
    ),
    (
        "02943e192823d75212f206e1f2991ac572119882683a95dfbb7a1b913d7b14b5",
        "virtualenv 20.38.0-21.0.0",
    ),
    (
        "e8c426ce260f866254ff35cefedc8b3efbd6d1446d99d7a4cdeb0095f98a8b8f",
        "virtualenv 21.1.0-21.3.3",
    ),
    (
        "460589e83387d4dfe5fd84d41c5f6979599f5cd080983d73c832549161c80435",
        "virtualenv 21.4.0-21.6.1",
    ),
    (
        "0278334cdcfab4c746b4416fbd5c2b6e7da937c81e132397d62c361d404ebe0e",
        "virtualenv 21.7.0-21.15.0",
    ),
    (
        "dd8e633ed8b9f4741a52379f6d95cb2bf71cdf7d48aa43858935335efdd273ed",
        "virtualenv 21.15.1-21.15.6",
    ),
    (
        "07584d2a5d13e0811eb567d78ed2aca0fb60e7defff59a01ca7a48d907bdea51",
        "virtualenv 21.15.7-21.15.8",
    ),
    (
        "d762c207d745129f173766ffd8b96144bef46f5f87c174a7f684d9fa4248c2d5",
        "virtualenv 21.15.9",
    ),
    (
        "cfe56cafbd68fd31a0e87100f111d7d2f6b7157241096500013c07e88d80a22f",
        "virtualenv 21.15.10-21.15.14",
    ),
    (
        "cfb3db86aaa53bb62b5ff764970bec2d71c9228590a0ebec57f6ec926cc0bf1a",
        "uv venv 0.13",
    ),
];

/// Whether `path` is virtualenv's start-up patch, recorded when it is; an entry with its name
/// but other content is recorded as unowned, said so.
pub(crate) fn virtualenv_patch(path: &Path, name: &str, survey: &mut Survey) -> bool {
    let known = match name {
        "_virtualenv.pth" => std::fs::read(path).is_ok_and(|bytes| {
            let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
            text == VIRTUALENV_PTH
        }),
        "_virtualenv.py" => std::fs::read(path).is_ok_and(|bytes| {
            let digest = hex::encode(sha2::Sha256::digest(&bytes));
            VIRTUALENV_PY.iter().any(|(sha, _)| *sha == digest)
        }),
        _ => return false,
    };
    if known {
        survey.by_rule.push(ByRule {
            path: path.to_path_buf(),
            rule: Rule::VirtualenvPatch,
            of: None,
        });
    } else {
        survey.unowned.push(Unowned {
            path: path.to_path_buf(),
            kind: UnownedKind::NotAsKnown {
                why: "named as virtualenv's start-up patch, but not what any virtualenv release writes (Python runs it at every start-up)".to_string(),
            },
        });
    }
    true
}

/// The scripts folder of a virtual environment.
pub(crate) fn scripts(env: &Environment, folder: &Path, owned: &Owned, survey: &mut Survey) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let home = icelock_env::PyvenvCfg::read(&env.root.join("pyvenv.cfg"))
        .ok()
        .and_then(|cfg| cfg.home);
    let root = std::fs::canonicalize(&env.root).unwrap_or_else(|_| env.root.clone());
    let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    for path in names {
        // A name that is not UTF-8 is judged (and shown) with U+FFFD in it; the file itself
        // is read by its own path.
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if owned.owns(folder, &name) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if icelock_env::is_interpreter_name(&name) {
            match interpreter(&path, &meta, home.as_deref()) {
                Ok(()) => survey.by_rule.push(ByRule {
                    path,
                    rule: Rule::InterpreterLink,
                    of: None,
                }),
                Err(found) => survey.unowned.push(Unowned {
                    path,
                    kind: UnownedKind::Interpreter {
                        home: home.clone().unwrap_or_default(),
                        found,
                    },
                }),
            }
            continue;
        }
        if is_activate_name(&name) {
            match foreign_activate(&path, &root) {
                None => survey.by_rule.push(ByRule {
                    path,
                    rule: Rule::Activate,
                    of: None,
                }),
                Some(names) => survey.unowned.push(Unowned {
                    path,
                    kind: UnownedKind::ForeignActivate { names },
                }),
            }
            continue;
        }
        // The interpreter reads these beside its executable before the environment's own
        // `pyvenv.cfg`: they can put any folder on the path, or replace it.
        if name == "pyvenv.cfg" || name.ends_with("._pth") {
            survey.unowned.push(Unowned {
                path,
                kind: UnownedKind::StartupConfig { what: name },
            });
            continue;
        }
        // A launcher runs with this folder first on `sys.path`: a module here is imported in
        // place of an installed one.
        let is_folder = meta.is_dir() || std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
        if let Some(module) = crate::module_name(&name, is_folder)
            && (!is_folder || (name != "__pycache__" && icelock_dist::holds_files(&path)))
        {
            survey.unowned.push(Unowned {
                path,
                kind: UnownedKind::Module { module },
            });
            continue;
        }
        if is_executable(&path) {
            survey.unowned.push(Unowned {
                path,
                kind: UnownedKind::Script,
            });
        }
    }
}

/// The interpreter entry is the base Python's: a link resolving into `home` (the base
/// interpreter's folder), or a copy of a file there. `Err` says what it is instead.
fn interpreter(path: &Path, meta: &std::fs::Metadata, home: Option<&Path>) -> Result<(), String> {
    let Some(home) = home else {
        return Err("in a virtual environment whose pyvenv.cfg names no home".into());
    };
    let home = std::fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf());
    let real = std::fs::canonicalize(path).map_err(|e| format!("a broken link ({e})"))?;
    if meta.file_type().is_symlink() {
        // Resolved, it is a file in the base interpreter's folder (`python3` there is often a
        // link to `python3.11`, which is what resolving reaches).
        if real.starts_with(&home) {
            return Ok(());
        }
        return Err(format!("a link to {}", real.display()));
    }
    if !meta.is_file() {
        return Err("not a file".into());
    }
    // `--copies`: the same bytes as one of the base interpreter's executables.
    let bytes = std::fs::read(&real).map_err(|e| e.to_string())?;
    let same = std::fs::read_dir(&home)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(icelock_env::is_interpreter_name)
                && std::fs::metadata(&p).is_ok_and(|m| m.len() == bytes.len() as u64)
                && std::fs::read(&p).is_ok_and(|b| b == bytes)
        });
    if same {
        Ok(())
    } else {
        Err(format!(
            "a file of {} bytes that is none of the base interpreter's",
            bytes.len()
        ))
    }
}

/// `activate`, `activate.fish`, `Activate.ps1`, `deactivate.bat`, `activate_this.py`, and
/// `pydoc.bat`, which the Windows layouts write beside them.
fn is_activate_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "activate"
        || lower.starts_with("activate.")
        || lower.starts_with("deactivate.")
        || lower == "activate_this.py"
        || lower == "pydoc.bat"
}

/// What an activation script names as the environment, when that is another folder than
/// `root`: the value it gives `VIRTUAL_ENV` (bash, zsh, csh, fish, nushell forms), where it
/// is a literal path. `None` when it names this environment or computes the path.
fn foreign_activate(path: &Path, root: &Path) -> Option<String> {
    const MAX_ACTIVATE: u64 = 256 * 1024;
    let bytes = icelock_env::safe_fs::read_inside(path, root, MAX_ACTIVATE).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut foreign = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let value = line
            .strip_prefix("export VIRTUAL_ENV=")
            .or_else(|| line.strip_prefix("VIRTUAL_ENV="))
            .or_else(|| line.strip_prefix("setenv VIRTUAL_ENV "))
            .or_else(|| line.strip_prefix("set -gx VIRTUAL_ENV "))
            .or_else(|| line.strip_prefix("set VIRTUAL_ENV "))
            .or_else(|| line.strip_prefix("set _virtualenv_dir="))
            .or_else(|| line.strip_prefix("let virtual_env = "))
            .or_else(|| line.strip_prefix("const virtual_env = "));
        let Some(value) = value else {
            continue;
        };
        let value = value.trim().trim_end_matches(';');
        // nushell's raw string `r#'…'#`.
        let value = value
            .strip_prefix("r#")
            .and_then(|v| v.strip_suffix('#'))
            .unwrap_or(value)
            .trim_matches(|c| c == '"' || c == '\'');
        if !value.starts_with('/') || value.contains('$') || value.contains('`') {
            continue;
        }
        let named = Path::new(value);
        let named = std::fs::canonicalize(named).unwrap_or_else(|_| named.to_path_buf());
        if named != root {
            foreign.push(value.to_string());
        }
    }
    foreign.dedup();
    (!foreign.is_empty()).then(|| foreign.join(", "))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("exe") || e.eq_ignore_ascii_case("bat"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_names() {
        for (name, is) in [
            ("python", true),
            ("python3", true),
            ("python3.11", true),
            ("python3.13t", true),
            ("pythonw", true),
            ("pypy3.10", true),
            ("python3-config", false),
            ("pythonista", false),
            ("pip", false),
        ] {
            assert_eq!(icelock_env::is_interpreter_name(name), is, "{name}");
        }
    }

    /// An interpreter link resolves into `home` (through a sibling link or not); a link to
    /// another file, even one beside `home`'s folder, is not the base Python.
    #[test]
    fn interpreter_links_resolve_into_home() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let home = root.join("base/bin");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("python3.11"), "elf").unwrap();
        std::os::unix::fs::symlink("python3.11", home.join("python3")).unwrap();
        std::fs::write(root.join("base/evil"), "elf").unwrap();
        let bin = root.join("venv/bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, target, ok) in [
            ("python", home.join("python3"), true),
            ("python3", root.join("base/evil"), false),
        ] {
            std::os::unix::fs::symlink(&target, bin.join(name)).unwrap();
            let meta = std::fs::symlink_metadata(bin.join(name)).unwrap();
            assert_eq!(
                interpreter(&bin.join(name), &meta, Some(&home)).is_ok(),
                ok,
                "{name}"
            );
        }
    }

    /// Each shell's form of the path an activation script sets, as venv, uv and virtualenv
    /// write them: this environment's is its own, another's is named.
    #[test]
    fn activation_scripts_name_their_environment() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let here = root.display().to_string();
        for line in [
            format!("VIRTUAL_ENV=\"{here}\""),
            format!("VIRTUAL_ENV='{here}'"),
            format!("VIRTUAL_ENV={here}"),
            format!("setenv VIRTUAL_ENV '{here}'"),
            format!("set -gx VIRTUAL_ENV \"{here}\""),
            format!("set _virtualenv_dir='{here}'"),
            format!("let virtual_env = r#'{here}'#"),
            format!("const virtual_env = '{here}'"),
            "VIRTUAL_ENV=$(cygpath \"$VIRTUAL_ENV\")".to_string(),
        ] {
            std::fs::write(root.join("activate"), format!("# x\n    {line}\n")).unwrap();
            assert_eq!(
                foreign_activate(&root.join("activate"), &root),
                None,
                "{line}"
            );
            let other = line.replace(&here, "/elsewhere/venv");
            std::fs::write(root.join("activate"), format!("{other}\n")).unwrap();
            let found = foreign_activate(&root.join("activate"), &root);
            assert_eq!(found.is_some(), other != line, "{other}: {found:?}");
        }
    }
}
