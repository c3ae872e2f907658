//! `requirements.txt` as `pip install --require-hashes` reads it: `name==version ; marker` with
//! `--hash=sha256:…` options, `\` continuations, comments, `-r` includes (relative to the file
//! that includes them) and `-e` source trees; other options (indexes, find-links) do not say
//! what is installed and are passed over. Hashes name no file, so the artifacts here have a
//! hash and nothing else: the caller finds the files that have it.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use uv_pep440::Operator;
use uv_pep508::{Requirement, VerbatimUrl, VersionOrUrl};

use crate::{
    ArtifactKind, Context, Expected, FormatError, LockedArtifact, LockedPackage, resolve, sha256_of,
};

/// Includes deeper than this are a loop.
const MAX_DEPTH: usize = 16;

pub(crate) fn read(
    text: &str,
    path: &Path,
    context: &Context<'_>,
) -> Result<Vec<LockedPackage>, FormatError> {
    let mut packages = Vec::new();
    read_into(text, path, context, 0, &mut packages)?;
    Ok(packages)
}

fn read_into(
    text: &str,
    path: &Path,
    context: &Context<'_>,
    depth: usize,
    packages: &mut Vec<LockedPackage>,
) -> Result<(), FormatError> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let here = Context {
        folder,
        markers: context.markers,
    };
    let error = |line: usize, message: String| FormatError {
        path: (depth > 0).then(|| path.to_path_buf()),
        line: Some(line),
        message,
    };
    for (line_no, line) in logical_lines(text) {
        let line = strip_comment(&line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = option_value(line, &["-r", "--requirement"]) {
            if depth >= MAX_DEPTH {
                return Err(error(
                    line_no,
                    format!("-r {rest}: includes nested too deep (a loop?)"),
                ));
            }
            let included: PathBuf = folder.join(rest);
            let text = std::fs::read_to_string(&included)
                .map_err(|e| error(line_no, format!("-r {rest}: {e}")))?;
            read_into(&text, &included, context, depth + 1, packages)?;
            continue;
        }
        if let Some(rest) = option_value(line, &["-e", "--editable"]) {
            let (url, local) = resolve(&here, rest);
            let name = egg_name(rest).or_else(|| local.as_deref().and_then(project_name));
            let Some(name) = name else {
                return Err(error(
                    line_no,
                    format!(
                        "-e {rest}: no #egg= name and no pyproject.toml naming the project, so which package it is cannot be told"
                    ),
                ));
            };
            packages.push(LockedPackage {
                name: crate::parse_name(&name, Some(line_no))?,
                version: None,
                expected: Expected::Required,
                artifacts: vec![LockedArtifact {
                    kind: ArtifactKind::Directory { editable: true },
                    filename: None,
                    url,
                    path: local,
                    sha256: None,
                    size: None,
                }],
                line: Some(line_no),
            });
            continue;
        }
        if line.starts_with('-') {
            continue;
        }
        // The requirement, then its options.
        let (spec, options) = match line.find(" --").or_else(|| line.find("\t--")) {
            Some(at) => (&line[..at], &line[at..]),
            None => (line, ""),
        };
        let mut hashes = Vec::new();
        let mut words = options.split_whitespace();
        while let Some(word) = words.next() {
            let value = match word.strip_prefix("--hash") {
                Some("") => words.next(),
                Some(v) => v.strip_prefix('='),
                None => None,
            };
            if let Some(hex) = value.and_then(sha256_of) {
                hashes.push(hex);
            }
        }
        let requirement = Requirement::<VerbatimUrl>::from_str(spec.trim())
            .map_err(|e| error(line_no, format!("{}: {e}", spec.trim())))?;
        if !requirement.marker.evaluate(context.markers, &[]) {
            continue;
        }
        let mut artifacts: Vec<LockedArtifact> = Vec::new();
        let mut version = None;
        match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                if let [only] = &specifiers[..]
                    && matches!(only.operator(), Operator::Equal | Operator::ExactEqual)
                {
                    version = Some(only.version().clone());
                }
                artifacts.extend(hashes.iter().map(|h| LockedArtifact {
                    kind: ArtifactKind::Archive,
                    filename: None,
                    url: None,
                    path: None,
                    sha256: Some(h.clone()),
                    size: None,
                }));
            }
            Some(VersionOrUrl::Url(url)) => {
                let mut artifact =
                    LockedArtifact::file(Some(url.to_string()), None, hashes.first().cloned());
                if let Ok(file) = url.to_url().to_file_path()
                    && file.is_dir()
                {
                    artifact.kind = ArtifactKind::Directory { editable: false };
                    artifact.path = Some(file);
                }
                artifacts.push(artifact);
            }
            None => {}
        }
        if version.is_none() && artifacts.is_empty() {
            return Err(error(
                line_no,
                format!(
                    "{}: neither pinned (==) nor hashed, so it locks nothing",
                    spec.trim()
                ),
            ));
        }
        packages.push(LockedPackage {
            name: requirement.name.clone(),
            version,
            expected: Expected::Required,
            artifacts,
            line: Some(line_no),
        });
    }
    Ok(())
}

/// Lines with `\` continuations joined, each with the number of its first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut joined) = current.take().unwrap_or((i + 1, String::new()));
        match raw.strip_suffix('\\') {
            Some(part) => {
                joined.push_str(part);
                joined.push(' ');
                current = Some((start, joined));
            }
            None => {
                joined.push_str(raw);
                out.push((start, joined));
            }
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    out
}

/// A `#` at the start or after whitespace starts a comment (in a URL it is a fragment).
fn strip_comment(line: &str) -> String {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return line[..i].to_string();
        }
    }
    line.to_string()
}

/// The value of `-r FILE` / `--requirement=FILE` style options.
fn option_value<'a>(line: &'a str, names: &[&str]) -> Option<&'a str> {
    for name in names {
        if let Some(rest) = line.strip_prefix(name) {
            if let Some(value) = rest.strip_prefix('=') {
                return Some(value.trim());
            }
            if rest.starts_with(char::is_whitespace) {
                return Some(rest.trim());
            }
        }
    }
    None
}

/// The `[project] name` of a source tree's `pyproject.toml`.
fn project_name(folder: &Path) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Pyproject {
        project: Option<Project>,
    }
    #[derive(serde::Deserialize)]
    struct Project {
        name: String,
    }
    let text = std::fs::read_to_string(folder.join("pyproject.toml")).ok()?;
    toml::from_str::<Pyproject>(&text)
        .ok()?
        .project
        .map(|p| p.name)
}

/// `…#egg=name`.
fn egg_name(target: &str) -> Option<String> {
    if let Some((_, fragment)) = target.split_once('#') {
        for part in fragment.split('&') {
            if let Some(name) = part.strip_prefix("egg=") {
                return Some(name.split('[').next().unwrap_or(name).to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_and_comments() {
        let text = "# top\nidna==3.7 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb  # why\nx @ https://h/x.whl#sha256=cc\n";
        let lines = logical_lines(text);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].0, 2);
        assert!(lines[1].1.contains("--hash=sha256:bb"));
        assert_eq!(
            strip_comment("a @ https://h/x#frag # c"),
            "a @ https://h/x#frag "
        );
        assert_eq!(option_value("-r base.txt", &["-r"]), Some("base.txt"));
        assert_eq!(
            option_value("--requirement=b.txt", &["--requirement"]),
            Some("b.txt")
        );
        assert_eq!(option_value("-rbase.txt", &["-r"]), None);
        assert_eq!(egg_name("git+https://h/r#egg=demo[x]"), Some("demo".into()));
    }
}
