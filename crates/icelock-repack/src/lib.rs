//! Rebuilding a wheel from an installed distribution: the honest way out for a dist no index
//! can prove (built locally from an sdist, installed from a local folder, a local version).
//!
//! The files come from RECORD, each already checked against its hash; where the installer moved
//! them, they are moved back: `../../../bin/x` to `.data/scripts/x` (with `#!python` restored
//! where the installer rewrote it, and console-script launchers dropped, since
//! `entry_points.txt` makes the installer generate them again), other prefix files to
//! `.data/data/`. The original `.dist-info` is kept (METADATA, WHEEL, entry points, licenses)
//! and RECORD is written anew. The bytes are reproducible: entries sorted, fixed timestamps and
//! permissions, so the same environment gives byte-identical wheels.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use icelock_dist::InstalledDist;
use icelock_dist::integrity::locate;
use sha2::Digest;

/// A rebuilt wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repacked {
    pub path: PathBuf,
    pub filename: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepackError {
    #[error("it has no RECORD, so its files are unknown")]
    NoRecord,
    #[error("it has no WHEEL file, so its tags are unknown")]
    NoWheel,
    #[error("it is an editable install: its code lives in a source tree, not in the environment")]
    Editable,
    #[error("RECORD lists {0}, outside the environment: it cannot be put in a wheel")]
    Outside(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> RepackError + '_ {
    move |e| RepackError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Files installers add to `.dist-info` (not part of the wheel).
fn installer_file(name: &str) -> bool {
    matches!(
        name,
        "INSTALLER" | "REQUESTED" | "direct_url.json" | "RECORD" | "provenance_url.json"
    ) || (name.starts_with("uv_") && name.ends_with(".json"))
        || name.starts_with("PYODIDE_")
}

/// The file name's tag part: the WHEEL tags compressed back into `py-abi-plat` with `.` where
/// they form a product, as build backends write them.
fn compressed_tags(tags: &[String]) -> String {
    let mut pythons: Vec<&str> = Vec::new();
    let mut abis: Vec<&str> = Vec::new();
    let mut platforms: Vec<&str> = Vec::new();
    for tag in tags {
        let parts: Vec<&str> = tag.splitn(3, '-').collect();
        if let [p, a, pl] = parts.as_slice() {
            for (list, item) in [(&mut pythons, *p), (&mut abis, *a), (&mut platforms, *pl)] {
                if !list.contains(&item) {
                    list.push(item);
                }
            }
        }
    }
    format!(
        "{}-{}-{}",
        pythons.join("."),
        abis.join("."),
        platforms.join(".")
    )
}

/// Rebuilds `dist` as a wheel in `out_dir` (written atomically).
pub fn repack(dist: &InstalledDist, out_dir: &Path) -> Result<Repacked, RepackError> {
    if matches!(dist.source, icelock_dist::Source::Editable { .. }) {
        return Err(RepackError::Editable);
    }
    let record = dist.record.as_ref().ok_or(RepackError::NoRecord)?;
    let wheel = dist.wheel.as_ref().ok_or(RepackError::NoWheel)?;
    let dist_info_name = dist
        .location
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = dist_info_name.trim_end_matches(".dist-info").to_string();
    let data_dir = format!("{stem}.data");
    // The launchers an installer generates from `entry_points.txt`.
    let launchers: Vec<&str> = dist
        .entry_points
        .iter()
        .flat_map(|e| &e.scripts)
        .map(|s| s.name.as_str())
        .collect();
    let prefix_rel = {
        let depth = dist
            .site_dir
            .strip_prefix(&dist.prefix)
            .map(|r| r.components().count())
            .unwrap_or(0);
        "../".repeat(depth)
    };

    // archive path → bytes
    let mut files: BTreeMap<String, (Vec<u8>, bool)> = BTreeMap::new();
    for entry in record {
        let rel = entry.path.as_str();
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if rel.ends_with(".pyc") || rel.contains("__pycache__/") {
            continue;
        }
        if rel.starts_with(&format!("{dist_info_name}/")) && installer_file(name) {
            continue;
        }
        let source = locate(dist, rel).map_err(|_| RepackError::Outside(rel.to_string()))?;
        let (archive_path, is_script) = if let Some(in_prefix) = rel
            .strip_prefix(&prefix_rel)
            .filter(|_| !prefix_rel.is_empty())
        {
            if let Some(script) = in_prefix
                .strip_prefix("bin/")
                .or_else(|| in_prefix.strip_prefix("Scripts/"))
            {
                let base = script.trim_end_matches(".exe");
                if launchers.contains(&base) {
                    continue;
                }
                (format!("{data_dir}/scripts/{script}"), true)
            } else if let Some(header) = in_prefix.strip_prefix("include/") {
                // include/site/pythonX.Y/<name>/h.h → headers/h.h
                let parts: Vec<&str> = header.splitn(4, '/').collect();
                let inner = parts.last().copied().unwrap_or(header);
                (format!("{data_dir}/headers/{inner}"), false)
            } else {
                (format!("{data_dir}/data/{in_prefix}"), false)
            }
        } else if rel.starts_with("..") || rel.starts_with('/') {
            return Err(RepackError::Outside(rel.to_string()));
        } else {
            (rel.to_string(), false)
        };
        let mut bytes = Vec::new();
        std::fs::File::open(&source)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io(&source))?;
        if is_script {
            bytes = restore_shebang(bytes, &dist.prefix);
        }
        let executable = is_script || is_executable(&source);
        files.insert(archive_path, (bytes, executable));
    }

    // RECORD, written anew; dist-info entries go last, RECORD itself at the very end.
    let record_path = format!("{dist_info_name}/RECORD");
    let mut order: Vec<&String> = files.keys().collect();
    order.sort_by_key(|p| (p.starts_with(&format!("{dist_info_name}/")), p.as_str()));
    let mut record_text = String::new();
    for path in &order {
        let (bytes, _) = &files[*path];
        let digest =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes));
        record_text.push_str(&csv_field(path));
        record_text.push_str(&format!(",sha256={digest},{}\n", bytes.len()));
    }
    record_text.push_str(&format!("{record_path},,\n"));

    let build = wheel
        .build
        .as_ref()
        .map(|b| format!("-{b}"))
        .unwrap_or_default();
    let filename = format!("{stem}{build}-{}.whl", compressed_tags(&wheel.tags));

    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let mut temp = tempfile::NamedTempFile::new_in(out_dir).map_err(io(out_dir))?;
    {
        let mut zip = zip::ZipWriter::new(&mut temp);
        let options = |executable: bool| {
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(zip::DateTime::default())
                .unix_permissions(if executable { 0o755 } else { 0o644 })
        };
        let zip_err = |e: zip::result::ZipError| RepackError::Io {
            path: filename.clone(),
            message: e.to_string(),
        };
        for path in &order {
            let (bytes, executable) = &files[*path];
            zip.start_file(path.as_str(), options(*executable))
                .map_err(zip_err)?;
            zip.write_all(bytes).map_err(io(out_dir))?;
        }
        zip.start_file(record_path.as_str(), options(false))
            .map_err(zip_err)?;
        zip.write_all(record_text.as_bytes()).map_err(io(out_dir))?;
        zip.finish().map_err(zip_err)?;
    }
    let path = out_dir.join(&filename);
    let bytes = std::fs::read(temp.path()).map_err(io(temp.path()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io(out_dir))?;
    }
    temp.persist(&path).map_err(|e| RepackError::Io {
        path: path.display().to_string(),
        message: e.error.to_string(),
    })?;
    Ok(Repacked {
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        size: bytes.len() as u64,
        path,
        filename,
    })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

/// Installers rewrite a script's `#!python` to the environment's interpreter; put it back.
fn restore_shebang(bytes: Vec<u8>, prefix: &Path) -> Vec<u8> {
    let end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(bytes.len());
    let first = String::from_utf8_lossy(&bytes[..end]);
    let Some(interpreter) = first.strip_prefix("#!") else {
        return bytes;
    };
    let interpreter = interpreter.trim().trim_matches('\'').trim_matches('"');
    let program = interpreter.split_whitespace().next().unwrap_or_default();
    let is_env_python = Path::new(program).starts_with(prefix)
        && Path::new(program)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("python"));
    if !is_env_python {
        return bytes;
    }
    let pythonw = Path::new(program)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("pythonw"));
    let mut out = if pythonw {
        b"#!pythonw".to_vec()
    } else {
        b"#!python".to_vec()
    };
    out.extend_from_slice(&bytes[end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compress_back() {
        let tags = vec![
            "cp311-cp311-manylinux_2_17_x86_64".to_string(),
            "cp311-cp311-manylinux2014_x86_64".to_string(),
        ];
        assert_eq!(
            compressed_tags(&tags),
            "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
        );
        assert_eq!(
            compressed_tags(&["py2-none-any".into(), "py3-none-any".into()]),
            "py2.py3-none-any"
        );
    }

    #[test]
    fn shebangs_are_restored_only_when_rewritten() {
        let prefix = Path::new("/venv");
        assert_eq!(
            restore_shebang(b"#!/venv/bin/python3.11\nimport x\n".to_vec(), prefix),
            b"#!python\nimport x\n"
        );
        assert_eq!(
            restore_shebang(b"#!/bin/sh\necho\n".to_vec(), prefix),
            b"#!/bin/sh\necho\n"
        );
        assert_eq!(
            restore_shebang(b"#!/usr/bin/env python\n".to_vec(), prefix),
            b"#!/usr/bin/env python\n"
        );
    }
}
