//! What a person reads when a distribution is not proven: the evidence in words, the files
//! that differ, and a way out that works (a command to run, a flag to pass).

use icelock_dist::InstalledDist;
use icelock_dist::integrity::{FileProblem, Integrity};
use icelock_index::ListedFile;

use crate::Attributed;
use crate::record_compare::FileDiff;

/// How many paths of each kind an explanation names before it counts the rest.
const SHOWN: usize = 5;

/// The command that puts the index's own wheel back, with the installer that installed it.
pub(crate) fn reinstall(dist: &InstalledDist) -> String {
    match dist.installer.as_deref() {
        Some("uv") => format!(
            "uv pip install --reinstall-package {} --no-deps {}=={}",
            dist.name, dist.name, dist.version
        ),
        _ => format!(
            "pip install --force-reinstall --no-deps {}=={}",
            dist.name, dist.version
        ),
    }
}

/// As [`reinstall`], taking only a wheel (never building from source).
pub(crate) fn reinstall_wheel(dist: &InstalledDist) -> String {
    match dist.installer.as_deref() {
        Some("uv") => format!(
            "uv pip install --reinstall-package {} --no-deps --only-binary :all: {}=={}",
            dist.name, dist.name, dist.version
        ),
        _ => format!(
            "pip install --force-reinstall --no-deps --only-binary :all: {}=={}",
            dist.name, dist.version
        ),
    }
}

/// `a, b, c and 4 more`
pub(crate) fn some(paths: &[String]) -> String {
    let shown: Vec<&str> = paths.iter().take(SHOWN).map(String::as_str).collect();
    let mut text = shown.join(", ");
    if paths.len() > SHOWN {
        text.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    text
}

/// The files a diff names, by kind.
pub(crate) fn files(diff: &FileDiff) -> String {
    let mut parts = Vec::new();
    if !diff.changed.is_empty() {
        parts.push(format!(
            "{} differ ({})",
            diff.changed.len(),
            some(&diff.changed)
        ));
    }
    if !diff.only_installed.is_empty() {
        parts.push(format!(
            "{} only installed ({})",
            diff.only_installed.len(),
            some(&diff.only_installed)
        ));
    }
    if !diff.only_in_wheel.is_empty() {
        parts.push(format!(
            "{} only in the wheel ({})",
            diff.only_in_wheel.len(),
            some(&diff.only_in_wheel)
        ));
    }
    let mut text = parts.join("; ");
    if let Some(why) = &diff.unchecked {
        text.push_str(&format!(" ({why})"));
    }
    text
}

/// Why a wheel with the installed name, version and tags is not what was installed.
pub(crate) fn not_this_wheel(candidate: &ListedFile, dist_info: &str, diff: &FileDiff) -> String {
    let wheel = &candidate.file.filename;
    let index = &candidate.index;
    match &diff.metadata {
        Some((theirs, ours)) if diff.only_metadata_differs(dist_info) => format!(
            "the wheel {wheel} on {index} has the installed tags, but its METADATA differs (sha256 {theirs}, installed {ours}): the installed copy was not installed from it"
        ),
        _ => format!(
            "the wheel {wheel} on {index} has the installed name, version and tags, but not the installed files: {}; the installed copy was built from other sources, or changed after it was installed",
            files(diff)
        ),
    }
}

/// The way out for a dist the index's wheels do not prove.
pub(crate) fn built_locally(
    dist: &InstalledDist,
    sdist: Option<&ListedFile>,
    index_has_wheel: bool,
) -> Vec<String> {
    let by = if dist.built_by_uv {
        "uv built it from source (it left uv_build.json)"
    } else {
        "it was most likely built locally"
    };
    let from = sdist
        .map(|s| format!(", from the sdist {} on {}", s.file.filename, s.index))
        .unwrap_or_default();
    let sdist_way = if sdist.is_some() {
        ", or lock that sdist with --allow-sdist"
    } else {
        ""
    };
    let way_out = if index_has_wheel {
        format!(
            "reinstall the index's wheel ({}), or lock a wheel rebuilt from the installed files with --wheelhouse DIR{sdist_way}",
            reinstall_wheel(dist)
        )
    } else {
        format!("lock a wheel rebuilt from the installed files with --wheelhouse DIR{sdist_way}")
    };
    if sdist.is_none() && !dist.built_by_uv && !index_has_wheel {
        return vec![format!("to lock it anyway, {way_out}")];
    }
    vec![format!("{by}{from}; {way_out}")]
}

/// A dist whose installed files no longer match its own RECORD, or whose folders hold what no
/// RECORD lists.
pub(crate) fn modified(dist: &InstalledDist, integrity: &Integrity) -> Attributed {
    Attributed::unproven(vec![modified_reason(dist, integrity)])
}

/// What is wrong with the installed files (the first few named) and the way to put them right,
/// which for a file no RECORD lists is not a reinstall.
pub(crate) fn modified_reason(dist: &InstalledDist, integrity: &Integrity) -> String {
    let shown: Vec<String> = integrity
        .problems
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect();
    let more = integrity.problems.len().saturating_sub(shown.len());
    // What a reinstall leaves in place: files no RECORD lists, and bytecode (uv compiles none,
    // so a planted `.pyc` outlives a reinstall); removing them is the way out. Python writes
    // a removed `.pyc` again from its source.
    let unlisted: Vec<&str> = integrity
        .problems
        .iter()
        .filter(|p| {
            matches!(
                p,
                FileProblem::Unlisted { .. } | FileProblem::Bytecode { .. }
            )
        })
        .map(FileProblem::path)
        .collect();
    let lead = if unlisted.len() == integrity.problems.len() {
        if integrity
            .problems
            .iter()
            .all(|p| matches!(p, FileProblem::Bytecode { .. }))
        {
            "its bytecode is not its sources compiled"
        } else {
            "its folders hold what no RECORD lists"
        }
    } else {
        "its installed files no longer match RECORD"
    };
    let mut reason = format!(
        "{lead}, so no artifact can be proven to be what is installed: {}",
        shown.join("; ")
    );
    if more > 0 {
        reason.push_str(&format!("; and {more} more"));
    }
    // A reinstall rewrites what RECORD lists and leaves everything else where it is.
    if unlisted.len() < integrity.problems.len() {
        reason.push_str(&format!(". Restore it with `{}`", reinstall(dist)));
        if !unlisted.is_empty() {
            reason.push_str(", and remove what no RECORD lists (a reinstall leaves it)");
        }
    } else {
        let shown: Vec<String> = unlisted.iter().take(SHOWN).map(|p| shell_word(p)).collect();
        reason.push_str(&format!(
            ". A reinstall leaves such files in place: if nothing needs them, remove them (in {}: `rm -r {}`); if something does, it belongs in a package of its own",
            dist.site_dir.display(),
            shown.join(" ")
        ));
    }
    reason.push_str(", or run `icelock check` for the full list");
    reason
}

/// `word` as one word to a POSIX shell: as it is when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./-+=@,:".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("demo_core/util/"), "demo_core/util/");
        assert_eq!(shell_word("a b.py"), "'a b.py'");
        assert_eq!(shell_word("it's.py"), "'it'\\''s.py'");
        assert_eq!(shell_word("$(x)"), "'$(x)'");
    }
}
