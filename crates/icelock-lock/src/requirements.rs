//! `requirements.txt` for pip's hash-checking mode.
//!
//! Index wheels as `name==version --hash=sha256:…` (pip then accepts only that exact file);
//! URL installs as `name @ url --hash=…`; VCS installs as `name @ git+url@commit`, which pip
//! cannot hash-check; source trees as paths, likewise. The indexes the wheels came from are
//! named first, without credentials (pip finds those in `.netrc` or its keyring).

use std::fmt::Write;

use crate::{LockModel, PackageSource};

pub fn write(model: &LockModel) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by {} from {} (Python {}).",
        model.created_by, model.source_description, model.environment.python_full_version
    );
    let _ = writeln!(out, "# Environment: {}", model.environment.marker);
    let _ = writeln!(
        out,
        "# Install with: pip install --require-hashes --no-deps -r <this file>"
    );
    let unhashable: Vec<&str> = model
        .packages
        .iter()
        .filter(|p| {
            matches!(
                p.source,
                PackageSource::Vcs { .. } | PackageSource::Directory { .. }
            )
        })
        .map(|p| p.name.as_str())
        .collect();
    if !unhashable.is_empty() {
        let _ = writeln!(
            out,
            "# Source trees cannot be hash-checked, so --require-hashes refuses them (install without it): {}",
            unhashable.join(", ")
        );
    }
    if !model.excluded.is_empty() {
        let _ = writeln!(out, "# Left out on purpose: {}", model.excluded.join(", "));
    }
    let mut indexes = model.indexes.iter();
    let mut find_links = Vec::new();
    if let Some(first) = indexes.next() {
        if first.starts_with("file:") {
            find_links.push(first.clone());
        } else {
            let _ = writeln!(out, "--index-url {first}");
        }
    }
    for index in indexes {
        if index.starts_with("file:") {
            find_links.push(index.clone());
        } else {
            let _ = writeln!(out, "--extra-index-url {index}");
        }
    }
    for link in find_links {
        let _ = writeln!(out, "--find-links {link}");
    }
    out.push('\n');
    for package in &model.packages {
        match &package.source {
            PackageSource::Wheel {
                artifact,
                index: Some(_),
            }
            | PackageSource::Sdist { artifact, .. } => {
                let _ = writeln!(
                    out,
                    "{}=={} \\\n    --hash=sha256:{}",
                    package.name, package.version, artifact.sha256
                );
            }
            PackageSource::Wheel {
                artifact,
                index: None,
            }
            | PackageSource::Archive { artifact } => {
                // A file next to the lock (a --wheelhouse or --download copy) is written as a
                // bare relative path, which pip reads from the folder it runs in: `name @ ./x`
                // is not a URL and pip refuses it.
                if artifact.local_path().is_none() && !artifact.url.contains("://") {
                    let _ = writeln!(
                        out,
                        "./{} \\\n    --hash=sha256:{}",
                        artifact.url, artifact.sha256
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{} @ {} \\\n    --hash=sha256:{}",
                        package.name, artifact.url, artifact.sha256
                    );
                }
            }
            PackageSource::Vcs {
                vcs,
                url,
                commit_id,
                subdirectory,
                ..
            } => {
                let fragment = subdirectory
                    .as_ref()
                    .map(|s| format!("#subdirectory={s}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "{} @ {vcs}+{url}@{commit_id}{fragment}", package.name);
            }
            PackageSource::Directory { path, editable, .. } => {
                if *editable {
                    let _ = writeln!(out, "-e {}", path.display());
                } else {
                    let _ = writeln!(out, "{} @ file://{}", package.name, path.display());
                }
            }
            PackageSource::PyodideRuntime => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::model;

    #[test]
    fn pinned_with_hashes() {
        let text = write(&model());
        assert!(text.contains("--index-url https://index.test/simple/\n"));
        assert!(text.contains(&format!(
            "idna==3.10 \\\n    --hash=sha256:{}\n",
            "a".repeat(64)
        )));
        assert!(text.contains("-e /src/proj\n"));
        assert!(text.contains("cannot be hash-checked"));
    }
}
