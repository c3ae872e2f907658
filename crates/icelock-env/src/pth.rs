//! `.pth` files, read as `site` reads them at start-up.
//!
//! Each `.pth` file in a site folder is read in sorted order; a line starting with `import `
//! (or `import` and a tab) is executed, any other line that is not empty or a comment names a
//! folder that is appended to `sys.path` when it exists. So a `.pth` file is code that runs at
//! every start-up, or a way to put folders on the path.

use std::path::{Path, PathBuf};

use crate::layout_prefix;

/// The most of a `.pth` file that is read: real ones are a line or a few.
const MAX_PTH: u64 = 1024 * 1024;

/// One `.pth` file of a site folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PthFile {
    pub path: PathBuf,
    /// Lines `site` executes, as written.
    pub imports: Vec<String>,
    /// Folders it appends to `sys.path` (those that exist, resolved).
    pub folders: Vec<PathBuf>,
    /// Files it appends to `sys.path` (zip archives, `.egg` files: zipimport reads modules
    /// out of them), resolved.
    pub archives: Vec<PathBuf>,
    /// Why it could not be read (not a regular file, outside the folder's prefix, too large):
    /// what it holds is then unknown.
    pub unreadable: Option<String>,
}

/// The `.pth` files of `site`, in the order `site` reads them.
pub fn pth_files(site: &Path) -> Vec<PthFile> {
    let Ok(entries) = std::fs::read_dir(site) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pth"))
        .collect();
    files.sort();
    let prefix = layout_prefix(site).unwrap_or_else(|| site.to_path_buf());
    files
        .into_iter()
        .map(|path| {
            // Read only when it is a regular file inside the folder's prefix.
            let bytes = match crate::safe_fs::read_inside(&path, &prefix, MAX_PTH) {
                Ok(bytes) => bytes,
                Err(err) => {
                    return PthFile {
                        path,
                        imports: Vec::new(),
                        folders: Vec::new(),
                        archives: Vec::new(),
                        unreadable: Some(err.to_string()),
                    };
                }
            };
            let text = String::from_utf8_lossy(&bytes);
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let mut imports = Vec::new();
            let mut folders = Vec::new();
            let mut archives = Vec::new();
            for line in text.lines() {
                if line.starts_with('#') || line.trim().is_empty() {
                    continue;
                }
                if line.starts_with("import ") || line.starts_with("import\t") {
                    imports.push(line.trim_end().to_string());
                    continue;
                }
                let added = site.join(line.trim_end());
                match std::fs::metadata(&added) {
                    Ok(m) if m.is_dir() => {
                        folders.push(std::fs::canonicalize(&added).unwrap_or(added));
                    }
                    Ok(_) => archives.push(std::fs::canonicalize(&added).unwrap_or(added)),
                    Err(_) => {}
                }
            }
            PthFile {
                path,
                imports,
                folders,
                archives,
                unreadable: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_and_folders_as_site_reads_them() {
        let tmp = tempfile::tempdir().unwrap();
        let site = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir(site.join("extra")).unwrap();
        std::fs::write(
            site.join("b.pth"),
            "\u{feff}# comment\n\nextra\nmissing\nimport os; os.getcwd()\n import_not\n",
        )
        .unwrap();
        std::fs::write(site.join("a.pth"), "import\tsys\n").unwrap();
        let found = pth_files(&site);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].imports, ["import\tsys"]);
        assert!(found[0].folders.is_empty());
        assert_eq!(found[1].imports, ["import os; os.getcwd()"]);
        assert_eq!(found[1].folders, [site.join("extra")]);
    }
}
