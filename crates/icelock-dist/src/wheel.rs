//! The `WHEEL` file: which tags the installed wheel was built for.

/// What `WHEEL` says. Tags are kept in the file's order; compare them as a set, since their order
/// is the build backend's and matches neither the file name nor any sorting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WheelInfo {
    pub wheel_version: Option<String>,
    pub generator: Option<String>,
    pub root_is_purelib: Option<bool>,
    /// One expanded tag per `Tag:` line (`cp311-cp311-manylinux_2_17_x86_64`).
    pub tags: Vec<String>,
    /// The build tag, present only for wheels built with one.
    pub build: Option<String>,
}

impl WheelInfo {
    /// `WHEEL` is `Key: value` lines (an RFC 822 header block without folding in practice).
    pub fn parse(text: &str) -> Self {
        let mut info = Self::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim().to_string();
            match key.trim().to_ascii_lowercase().as_str() {
                "wheel-version" => info.wheel_version = Some(value),
                "generator" => info.generator = Some(value),
                "root-is-purelib" => {
                    info.root_is_purelib = Some(value.eq_ignore_ascii_case("true"))
                }
                "tag" if !value.is_empty() => info.tags.push(value),
                "build" if !value.is_empty() => info.build = Some(value),
                _ => {}
            }
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_and_build() {
        let info = WheelInfo::parse(
            "Wheel-Version: 1.0\nGenerator: maturin (1.7.0)\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\nBuild: 1\n",
        );
        assert_eq!(info.tags.len(), 2);
        assert_eq!(info.build.as_deref(), Some("1"));
        assert_eq!(info.root_is_purelib, Some(false));
        assert_eq!(info.generator.as_deref(), Some("maturin (1.7.0)"));
    }
}
