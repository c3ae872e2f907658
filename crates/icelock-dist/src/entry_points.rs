//! `entry_points.txt`: the console and GUI scripts an installer writes launchers for.
//!
//! Installers generate a launcher in the scripts folder for every `[console_scripts]` and
//! `[gui_scripts]` entry; the launchers are not in the wheel, so a proof has to know exactly
//! which installed files they are and what each may contain. The file is kept with its sha256,
//! so whoever relies on it can bind it to a RECORD row first.

use sha2::Digest;

/// One script entry point: `name = module:attr` (extras, when given, are dropped: they only
/// say which extra the script needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptEntry {
    pub name: String,
    pub module: String,
    /// The dotted attribute path after `:` (`main`, `cli.run`); empty when none is given.
    pub attr: String,
    pub gui: bool,
}

/// The script entries of `entry_points.txt`, and the digest of the file they were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoints {
    pub sha256: [u8; 32],
    pub scripts: Vec<ScriptEntry>,
}

impl EntryPoints {
    /// Reads the file's bytes. It is INI as Python's configparser reads it; configparser (the
    /// crate) in its case-sensitive mode, since script names are case-sensitive.
    pub fn parse(bytes: &[u8]) -> Self {
        let sha256 = sha2::Sha256::digest(bytes).into();
        let mut defaults = configparser::ini::Ini::new_cs().defaults();
        // Entry point values hold `:` (`module:attr`): only `=` separates a name from its value,
        // and, as in Python's configparser defaults, nothing after a value is a comment.
        defaults.delimiters = vec!['='];
        defaults.enable_inline_comments = false;
        let mut ini = configparser::ini::Ini::new_from_defaults(defaults);
        let mut scripts = Vec::new();
        let Ok(map) = ini.read(String::from_utf8_lossy(bytes).into_owned()) else {
            return Self { sha256, scripts };
        };
        for (section, gui) in [("console_scripts", false), ("gui_scripts", true)] {
            let Some(entries) = map.get(section) else {
                continue;
            };
            for (name, value) in entries {
                let Some(value) = value else { continue };
                // `module:attr [extra1, extra2]`
                let value = value.split('[').next().unwrap_or_default().trim();
                let (module, attr) = value.split_once(':').unwrap_or((value, ""));
                scripts.push(ScriptEntry {
                    name: name.trim().to_string(),
                    module: module.trim().to_string(),
                    attr: attr.trim().to_string(),
                    gui,
                });
            }
        }
        scripts.sort_by(|a, b| a.name.cmp(&b.name));
        Self { sha256, scripts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_of_both_groups_with_extras_and_case() {
        let text = b"[console_scripts]\nDemo-Tool = demo.cli:main [fancy]\nplain=demo\n\n[gui_scripts]\ndemo-gui = demo.gui:App.run\n\n[demo.plugins]\nx = demo.plugins:X\n";
        let eps = EntryPoints::parse(text);
        assert_eq!(eps.sha256, <[u8; 32]>::from(sha2::Sha256::digest(text)));
        let got: Vec<(&str, &str, &str, bool)> = eps
            .scripts
            .iter()
            .map(|s| (s.name.as_str(), s.module.as_str(), s.attr.as_str(), s.gui))
            .collect();
        assert_eq!(
            got,
            [
                ("Demo-Tool", "demo.cli", "main", false),
                ("demo-gui", "demo.gui", "App.run", true),
                ("plain", "demo", "", false),
            ]
        );
    }

    #[test]
    fn a_broken_file_gives_no_scripts() {
        let eps = EntryPoints::parse(b"\xff\xfe garbage [[[");
        assert!(eps.scripts.is_empty());
    }
}
