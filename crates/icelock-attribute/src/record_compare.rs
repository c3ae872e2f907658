//! The wheel's own RECORD against the installed one.
//!
//! Installers add rows (INSTALLER, REQUESTED, direct_url.json, uv's `uv_*.json`, `.pyc` files,
//! console-script launchers) and move `.data` folders: `purelib`/`platlib` to site-packages,
//! `data` to the prefix (`../../../x` from site-packages), `scripts` to `bin` (rewriting
//! `#!python` lines, so those hashes change). Rows are compared as sets once both sides are
//! mapped to where the installer put them and the installer's own rows are dropped.

use std::collections::BTreeSet;

use icelock_dist::InstalledDist;
use icelock_dist::record::{self, RecordEntry};

type Row = (String, Option<String>, Option<u64>);

fn row(entry: &RecordEntry) -> Row {
    (
        entry.path.clone(),
        entry
            .hash
            .as_ref()
            .map(|h| format!("{}={}", h.algorithm, h.hex())),
        entry.size,
    )
}

fn installer_row(path: &str, dist_info: &str) -> bool {
    let in_dist_info = |name: &str| path == format!("{dist_info}/{name}");
    path.ends_with(".pyc")
        || path.contains("/__pycache__/")
        || in_dist_info("INSTALLER")
        || in_dist_info("REQUESTED")
        || in_dist_info("direct_url.json")
        || in_dist_info("RECORD")
        || (path.starts_with(&format!("{dist_info}/uv_")) && path.ends_with(".json"))
}

/// `Ok` when the row sets agree; otherwise a short description of the difference.
pub(crate) fn compare(dist: &InstalledDist, wheel_record: &[u8]) -> Result<(), String> {
    let dist_info = dist
        .location
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let data_dir = dist_info.replace(".dist-info", ".data");
    // Where `data` files land, relative to site-packages.
    let prefix_rel = pathdiff(&dist.site_dir, &dist.prefix);

    let (wheel_rows, _) = record::parse(wheel_record);
    let mut expected: BTreeSet<Row> = BTreeSet::new();
    for entry in &wheel_rows {
        if installer_row(&entry.path, &dist_info) {
            continue;
        }
        let mut r = row(entry);
        if let Some(rest) = entry.path.strip_prefix(&format!("{data_dir}/")) {
            let (scheme, path) = rest.split_once('/').unwrap_or((rest, ""));
            match scheme {
                "purelib" | "platlib" => r.0 = path.to_string(),
                "data" => r.0 = format!("{prefix_rel}{path}"),
                // Scripts are rewritten and headers land in installer-specific places.
                _ => continue,
            }
        }
        expected.insert(r);
    }
    let installed: BTreeSet<Row> = dist
        .record
        .iter()
        .flatten()
        .filter(|e| !installer_row(&e.path, &dist_info))
        .filter(|e| {
            !e.path.starts_with(&format!("{prefix_rel}bin/"))
                && !e.path.starts_with(&format!("{prefix_rel}Scripts/"))
        })
        .filter(|e| !e.path.starts_with(&format!("{prefix_rel}include/")))
        .map(row)
        .collect();
    if expected == installed {
        return Ok(());
    }
    let missing: Vec<&str> = expected
        .difference(&installed)
        .map(|r| r.0.as_str())
        .take(3)
        .collect();
    let extra: Vec<&str> = installed
        .difference(&expected)
        .map(|r| r.0.as_str())
        .take(3)
        .collect();
    Err(format!(
        "{} row(s) only in the wheel ({}), {} only installed ({})",
        expected.difference(&installed).count(),
        missing.join(", "),
        installed.difference(&expected).count(),
        extra.join(", ")
    ))
}

/// `../../../` from a site-packages folder up to its prefix.
fn pathdiff(site: &std::path::Path, prefix: &std::path::Path) -> String {
    match site.strip_prefix(prefix) {
        Ok(rel) => "../".repeat(rel.components().count()),
        Err(_) => String::new(),
    }
}
