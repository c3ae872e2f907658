//! What a wheel's file name says: name, version, build tag, and its *expanded* set of tags.
//!
//! A file name compresses tags (`cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64` is two
//! tags), in an order that is the build backend's. An installed wheel's `WHEEL` lists the same
//! tags expanded, one per line, in yet another order. So the two are compared as sets.

use std::collections::BTreeSet;
use std::str::FromStr;

use uv_distribution_filename::WheelFilename;
use uv_normalize::PackageName;
use uv_pep440::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub name: PackageName,
    pub version: Version,
    pub build: Option<String>,
    /// Every `python-abi-platform` combination, lower-cased.
    pub tags: BTreeSet<String>,
}

impl WheelName {
    /// `None` for anything that is not a valid wheel file name (sdists included).
    pub fn parse(filename: &str) -> Option<Self> {
        let parsed = WheelFilename::from_str(filename).ok()?;
        let stem = filename.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let [.., python, abi, platform] = parts.as_slice() else {
            return None;
        };
        Some(Self {
            name: parsed.name.clone(),
            version: parsed.version.clone(),
            build: parsed.build_tag().map(ToString::to_string),
            tags: expand(python, abi, platform)?,
        })
    }
}

/// More tags than any real wheel carries (the widest seen carry a few dozen). A name from a
/// hostile page with hundreds of dots in each part would otherwise expand to billions.
pub const MAX_TAGS: usize = 1024;

/// The expanded tags of `python-abi-platform`, each part possibly `.`-compressed; `None` past
/// [`MAX_TAGS`].
pub fn expand(python: &str, abi: &str, platform: &str) -> Option<BTreeSet<String>> {
    let count = [python, abi, platform]
        .iter()
        .try_fold(1usize, |n, part| n.checked_mul(part.split('.').count()))?;
    if count > MAX_TAGS {
        return None;
    }
    let mut tags = BTreeSet::new();
    for p in python.split('.') {
        for a in abi.split('.') {
            for pl in platform.split('.') {
                tags.insert(format!("{p}-{a}-{pl}").to_ascii_lowercase());
            }
        }
    }
    Some(tags)
}

/// An installed `WHEEL`'s tag lines as a comparable set.
pub fn tag_set<'a>(tags: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    tags.into_iter()
        .flat_map(|t| {
            // Some tools write a compressed tag on one `Tag:` line; expand it too.
            let parts: Vec<&str> = t.trim().split('-').collect();
            match parts.as_slice() {
                [python, abi, platform] => expand(python, abi, platform)
                    .unwrap_or_else(|| BTreeSet::from([t.trim().to_ascii_lowercase()])),
                _ => BTreeSet::from([t.trim().to_ascii_lowercase()]),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_tags_expand() {
        let w = WheelName::parse(
            "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name.as_ref(), "numpy");
        assert_eq!(w.version.to_string(), "2.1.0");
        assert_eq!(w.build, None);
        let installed = tag_set(&[
            "cp311-cp311-manylinux2014_x86_64".to_string(),
            "cp311-cp311-manylinux_2_17_x86_64".to_string(),
        ]);
        assert_eq!(w.tags, installed);
    }

    #[test]
    fn build_tags_and_odd_names() {
        let w = WheelName::parse("jaraco_functools-4.1.0-1-py3-none-any.whl").unwrap();
        assert_eq!(w.name.as_ref(), "jaraco-functools");
        assert_eq!(w.build.as_deref(), Some("1"));
        assert_eq!(w.tags, BTreeSet::from(["py3-none-any".to_string()]));
        assert!(WheelName::parse("demo-1.0.tar.gz").is_none());
        assert!(WheelName::parse("not-a-wheel.whl").is_none());
    }

    #[test]
    fn py2_py3_universal() {
        let w = WheelName::parse("six-1.16.0-py2.py3-none-any.whl").unwrap();
        assert_eq!(w.tags.len(), 2);
    }

    /// A hostile page's file name with 400 dots in each tag part would expand to 64 million
    /// tags; it is refused instead.
    #[test]
    fn tag_explosion_is_refused() {
        let part = vec!["x"; 400].join(".");
        let name = format!("demo-1.0-{part}-{part}-{part}.whl");
        assert!(WheelName::parse(&name).is_none());
        let line = format!("{part}-{part}-{part}");
        assert_eq!(tag_set(std::slice::from_ref(&line)), BTreeSet::from([line]));
    }
}
