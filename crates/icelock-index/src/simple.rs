//! A project's page on a simple repository: PEP 691 JSON, or PEP 503 HTML.
//!
//! Both forms are read into one [`ProjectPage`]: a list of files with absolute URLs, hashes,
//! PEP 658/714 metadata availability, and (API 1.1+) size and upload time. Unknown JSON keys are
//! ignored; a JSON page whose major API version is newer than 1 is refused, as PEP 691 requires.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;
use url::Url;

/// One file listed on a project page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub filename: String,
    /// Absolute, fragment removed.
    pub url: Url,
    /// Lower-case hex digests by algorithm name; may be empty.
    pub hashes: BTreeMap<String, String>,
    pub requires_python: Option<String>,
    pub core_metadata: CoreMetadataInfo,
    /// The yank reason (empty when yanked without one); `None` when not yanked.
    pub yanked: Option<String>,
    pub size: Option<u64>,
    /// RFC 3339, as the index wrote it.
    pub upload_time: Option<String>,
}

impl IndexFile {
    pub fn sha256(&self) -> Option<&str> {
        self.hashes.get("sha256").map(String::as_str)
    }

    /// The PEP 658 URL of this file's metadata.
    pub fn metadata_url(&self) -> Url {
        let mut url = self.url.clone();
        url.set_path(&format!("{}.metadata", self.url.path()));
        url
    }
}

/// What the page says about a separately served METADATA (PEP 658, PEP 714).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CoreMetadataInfo {
    #[default]
    Absent,
    /// Served, with no hash given.
    Available,
    /// Served, with these hex digests.
    Hashes(BTreeMap<String, String>),
}

impl CoreMetadataInfo {
    pub fn is_available(&self) -> bool {
        !matches!(self, Self::Absent)
    }

    pub fn sha256(&self) -> Option<&str> {
        match self {
            Self::Hashes(h) => h.get("sha256").map(String::as_str),
            _ => None,
        }
    }
}

/// A parsed project page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectPage {
    pub files: Vec<IndexFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the JSON page is not PEP 691: {0}")]
    Json(String),
    #[error(
        "the page declares simple API version {0}; icelock reads version 1 (PEP 691), so it refuses rather than guess"
    )]
    UnsupportedApiVersion(String),
    #[error("the HTML page cannot be parsed: {0}")]
    Html(String),
    #[error("file {filename:?} has a URL that cannot be resolved: {message}")]
    BadUrl { filename: String, message: String },
}

/// A PEP 691 page read with the file filter at hand: a file entry not kept is dropped as soon
/// as it is read, so a page of tens of thousands of files never holds more than the kept ones.
struct PageSeed<'k> {
    keep: &'k dyn Fn(&str) -> bool,
}

/// The page's `meta`, and its kept files.
type JsonPage<'a> = (Option<JsonMeta>, Vec<JsonFile<'a>>);

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = JsonPage<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = JsonPage<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a project page")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut meta, mut files) = (None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "meta" if meta.is_some() => return Err(A::Error::duplicate_field("meta")),
                "files" if files.is_some() => return Err(A::Error::duplicate_field("files")),
                "meta" => meta = Some(map.next_value::<Option<JsonMeta>>()?),
                "files" => files = Some(map.next_value_seed(FilesSeed { keep: self.keep })?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let files = files.ok_or_else(|| A::Error::missing_field("files"))?;
        Ok((meta.flatten(), files))
    }
}

struct FilesSeed<'k> {
    keep: &'k dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for FilesSeed<'_> {
    type Value = Vec<JsonFile<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FilesSeed<'_> {
    type Value = Vec<JsonFile<'de>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of files")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut kept = Vec::new();
        while let Some(file) = seq.next_element::<JsonFile<'de>>()? {
            if (self.keep)(&file.filename) {
                kept.push(file);
            }
        }
        Ok(kept)
    }
}

#[derive(Deserialize)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

/// A file entry read in one pass, its values kept raw until the file is wanted: a page can
/// list tens of thousands of files of other versions, and building each would cost many times
/// the page's size in time and memory.
#[derive(Deserialize)]
struct JsonFile<'a> {
    #[serde(borrow)]
    filename: Cow<'a, str>,
    #[serde(borrow, default)]
    url: Option<&'a RawValue>,
    #[serde(borrow, default)]
    hashes: Option<&'a RawValue>,
    #[serde(rename = "requires-python", borrow, default)]
    requires_python: Option<&'a RawValue>,
    #[serde(rename = "core-metadata", borrow, default)]
    core_metadata: Option<&'a RawValue>,
    #[serde(rename = "dist-info-metadata", borrow, default)]
    dist_info_metadata: Option<&'a RawValue>,
    #[serde(rename = "data-dist-info-metadata", borrow, default)]
    data_dist_info_metadata: Option<&'a RawValue>,
    #[serde(borrow, default)]
    yanked: Option<&'a RawValue>,
    #[serde(borrow, default)]
    size: Option<&'a RawValue>,
    #[serde(rename = "upload-time", borrow, default)]
    upload_time: Option<&'a RawValue>,
}

/// A raw value of a wanted file, read as `T`; an absent key or `null` is `None`.
fn value<T: serde::de::DeserializeOwned>(
    raw: Option<&RawValue>,
    key: &str,
    filename: &str,
) -> Result<Option<T>, PageError> {
    raw.map(|raw| serde_json::from_str::<Option<T>>(raw.get()))
        .transpose()
        .map(Option::flatten)
        .map_err(|e| PageError::Json(format!("file {filename:?}, key {key:?}: {e}")))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrHashes {
    Bool(bool),
    Hashes(BTreeMap<String, String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrString {
    Bool(bool),
    Reason(String),
}

fn lower(map: BTreeMap<String, String>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_ascii_lowercase()))
        .collect()
}

impl From<Option<BoolOrHashes>> for CoreMetadataInfo {
    fn from(value: Option<BoolOrHashes>) -> Self {
        match value {
            None | Some(BoolOrHashes::Bool(false)) => Self::Absent,
            Some(BoolOrHashes::Bool(true)) => Self::Available,
            Some(BoolOrHashes::Hashes(h)) if h.is_empty() => Self::Available,
            Some(BoolOrHashes::Hashes(h)) => Self::Hashes(lower(h)),
        }
    }
}

fn resolve(base: &Url, href: &str, filename: &str) -> Result<Url, PageError> {
    let mut url = base.join(href).map_err(|e| PageError::BadUrl {
        filename: filename.to_string(),
        message: e.to_string(),
    })?;
    url.set_fragment(None);
    Ok(url)
}

/// Parses a PEP 691 JSON page fetched from `base` (the final URL, after redirects).
pub fn parse_json(bytes: &[u8], base: &Url) -> Result<ProjectPage, PageError> {
    parse_json_filtered(bytes, base, &|_| true)
}

/// As [`parse_json`], keeping only the files whose name `keep` accepts.
pub fn parse_json_filtered(
    bytes: &[u8],
    base: &Url,
    keep: &dyn Fn(&str) -> bool,
) -> Result<ProjectPage, PageError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let (meta, kept) = PageSeed { keep }
        .deserialize(&mut deserializer)
        .and_then(|page| deserializer.end().map(|()| page))
        .map_err(|e| PageError::Json(e.to_string()))?;
    if let Some(version) = meta.and_then(|m| m.api_version) {
        let major = version.split('.').next().unwrap_or_default();
        if major != "1" {
            return Err(PageError::UnsupportedApiVersion(version));
        }
    }
    let mut files = Vec::new();
    for f in kept {
        let filename = f.filename.as_ref();
        let href: String = value(f.url, "url", filename)?
            .ok_or_else(|| PageError::Json(format!("file {filename:?} has no \"url\"")))?;
        let url = resolve(base, &href, filename)?;
        let mut core = None;
        for (raw, key) in [
            (f.core_metadata, "core-metadata"),
            (f.dist_info_metadata, "dist-info-metadata"),
            (f.data_dist_info_metadata, "data-dist-info-metadata"),
        ] {
            core = core.or(value::<BoolOrHashes>(raw, key, filename)?);
        }
        files.push(IndexFile {
            url,
            hashes: lower(value(f.hashes, "hashes", filename)?.unwrap_or_default()),
            requires_python: value(f.requires_python, "requires-python", filename)?,
            core_metadata: CoreMetadataInfo::from(core),
            yanked: match value::<BoolOrString>(f.yanked, "yanked", filename)? {
                None | Some(BoolOrString::Bool(false)) => None,
                Some(BoolOrString::Bool(true)) => Some(String::new()),
                Some(BoolOrString::Reason(r)) => Some(r),
            },
            size: value(f.size, "size", filename)?,
            upload_time: value(f.upload_time, "upload-time", filename)?,
            filename: f.filename.into_owned(),
        });
    }
    Ok(ProjectPage { files })
}

/// Writes a page back as PEP 691 JSON (API 1.1, absolute URLs). The cache keeps a page in this
/// form after filtering it to the installed version: a few entries instead of megabytes, read
/// back through [`parse_json`] like any index's page.
pub fn to_json(page: &ProjectPage) -> Vec<u8> {
    let files: Vec<serde_json::Value> = page
        .files
        .iter()
        .map(|f| {
            let core = match &f.core_metadata {
                CoreMetadataInfo::Absent => serde_json::Value::Bool(false),
                CoreMetadataInfo::Available => serde_json::Value::Bool(true),
                CoreMetadataInfo::Hashes(h) => serde_json::json!(h),
            };
            let yanked = match &f.yanked {
                None => serde_json::Value::Bool(false),
                Some(reason) if reason.is_empty() => serde_json::Value::Bool(true),
                Some(reason) => serde_json::Value::String(reason.clone()),
            };
            serde_json::json!({
                "filename": f.filename,
                "url": f.url.as_str(),
                "hashes": f.hashes,
                "requires-python": f.requires_python,
                "core-metadata": core,
                "yanked": yanked,
                "size": f.size,
                "upload-time": f.upload_time,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "meta": {"api-version": "1.1"},
        "files": files,
    }))
    .expect("a JSON value always serializes")
}

/// `sha256=<hex>` → (`sha256`, `<hex>`).
fn hash_pair(text: &str) -> Option<(String, String)> {
    let (alg, hex) = text.split_once('=')?;
    (!alg.is_empty() && !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| (alg.to_ascii_lowercase(), hex.to_ascii_lowercase()))
}

fn unescape(text: &str) -> String {
    // Attribute values come HTML-escaped (`&gt;=3.8`); only the entities PEP 503 pages use.
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Parses a PEP 503 HTML page (also a find-links page) fetched from `base`.
pub fn parse_html(text: &str, base: &Url) -> Result<ProjectPage, PageError> {
    parse_html_filtered(text, base, &|_| true)
}

/// As [`parse_html`], keeping only the files whose name `keep` accepts.
pub fn parse_html_filtered(
    text: &str,
    base: &Url,
    keep: &dyn Fn(&str) -> bool,
) -> Result<ProjectPage, PageError> {
    let dom = tl::parse(text, tl::ParserOptions::default())
        .map_err(|e| PageError::Html(e.to_string()))?;
    let parser = dom.parser();
    let attr = |tag: &tl::HTMLTag, name: &str| -> Option<String> {
        tag.attributes()
            .get(name)
            .flatten()
            .map(|v| unescape(&v.as_utf8_str()))
    };
    // A <base href> changes what relative links resolve against.
    let mut base = base.clone();
    if let Some(tag) = dom
        .query_selector("base")
        .and_then(|mut it| it.next())
        .and_then(|h| h.get(parser))
        .and_then(|n| n.as_tag())
        && let Some(href) = attr(tag, "href")
        && let Ok(joined) = base.join(&href)
    {
        base = joined;
    }
    let mut files = Vec::new();
    for handle in dom.query_selector("a").into_iter().flatten() {
        let Some(tag) = handle.get(parser).and_then(|n| n.as_tag()) else {
            continue;
        };
        let Some(href) = attr(tag, "href") else {
            continue;
        };
        let text = unescape(tag.inner_text(parser).trim());
        // The link text is the file name (PEP 503); fall back to the URL's last segment.
        let filename = if text.is_empty() {
            href.split('#')
                .next()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        } else {
            text
        };
        if !keep(&filename) {
            continue;
        }
        let mut hashes = BTreeMap::new();
        if let Some((_, fragment)) = href.split_once('#')
            && let Some((alg, hex)) = hash_pair(fragment)
        {
            hashes.insert(alg, hex);
        }
        let core = attr(tag, "data-core-metadata").or_else(|| attr(tag, "data-dist-info-metadata"));
        let core_metadata = match core.as_deref() {
            None => CoreMetadataInfo::Absent,
            Some("true") | Some("") => CoreMetadataInfo::Available,
            Some(value) => match hash_pair(value) {
                Some((alg, hex)) => CoreMetadataInfo::Hashes(BTreeMap::from([(alg, hex)])),
                None => CoreMetadataInfo::Available,
            },
        };
        files.push(IndexFile {
            url: resolve(&base, &href, &filename)?,
            filename,
            hashes,
            requires_python: attr(tag, "data-requires-python"),
            core_metadata,
            yanked: attr(tag, "data-yanked"),
            size: None,
            upload_time: None,
        });
    }
    Ok(ProjectPage { files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_written_back_reads_the_same() {
        let base = Url::parse("https://index.test/simple/demo/").unwrap();
        let page = parse_json(
            br#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": [
                {"filename": "demo-1.0-py3-none-any.whl", "url": "../../f/demo-1.0-py3-none-any.whl#sha256=AB",
                 "hashes": {"sha256": "AB"}, "core-metadata": {"sha256": "CD"}, "size": 10,
                 "upload-time": "2025-01-01T00:00:00Z", "yanked": "broken", "requires-python": ">=3.8"},
                {"filename": "demo-1.0.tar.gz", "url": "https://files.test/demo-1.0.tar.gz",
                 "hashes": {}, "dist-info-metadata": true, "yanked": true},
                {"filename": "demo-1.0-py2-none-any.whl", "url": "x.whl", "hashes": {}}
            ]}"#,
            &base,
        )
        .unwrap();
        assert_eq!(parse_json(&to_json(&page), &base).unwrap(), page);
        let other_base = Url::parse("https://elsewhere.test/").unwrap();
        assert_eq!(parse_json(&to_json(&page), &other_base).unwrap(), page);
    }

    fn base() -> Url {
        Url::parse("https://index.test/simple/demo/").unwrap()
    }

    #[test]
    fn json_page_with_relative_urls_and_metadata_forms() {
        let page = parse_json(
            br#"{"meta": {"api-version": "1.1", "_last-serial": 3}, "name": "demo", "versions": ["1.0"],
                "files": [
                  {"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl",
                   "hashes": {"sha256": "ABCD"}, "core-metadata": {"sha256": "ef01"}, "size": 10,
                   "upload-time": "2025-01-01T00:00:00.000000Z", "requires-python": ">=3.8", "new-key": 1},
                  {"filename": "demo-1.0.tar.gz", "url": "https://files.test/demo-1.0.tar.gz", "hashes": {},
                   "data-dist-info-metadata": true, "yanked": "broken"}
                ]}"#,
            &base(),
        )
        .unwrap();
        let wheel = &page.files[0];
        assert_eq!(
            wheel.url.as_str(),
            "https://index.test/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.sha256(), Some("abcd"));
        assert_eq!(wheel.core_metadata.sha256(), Some("ef01"));
        assert_eq!(wheel.size, Some(10));
        assert_eq!(
            wheel.metadata_url().as_str(),
            "https://index.test/files/demo-1.0-py3-none-any.whl.metadata"
        );
        assert_eq!(page.files[1].core_metadata, CoreMetadataInfo::Available);
        assert_eq!(page.files[1].yanked.as_deref(), Some("broken"));
    }

    /// Only the files kept are read in full: a malformed value in another version's entry is
    /// never looked at, one in a kept entry is refused with the file and the key named.
    #[test]
    fn only_kept_entries_are_read_in_full() {
        let page = br#"{"meta": {"api-version": "1.1"}, "files": [
            {"filename": "demo-0.9.tar.gz", "url": 7, "size": "big", "hashes": null},
            {"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "size": 12}
        ]}"#;
        let keep = |f: &str| f.contains("1.0");
        let kept = parse_json_filtered(page, &base(), &keep).unwrap();
        assert_eq!(kept.files.len(), 1);
        assert_eq!(kept.files[0].size, Some(12));
        let err = parse_json(page, &base()).unwrap_err().to_string();
        assert!(
            err.contains(r#"file "demo-0.9.tar.gz", key "url""#),
            "{err}"
        );
        let no_files = parse_json(br#"{"meta": {"api-version": "1.0"}}"#, &base());
        assert!(matches!(no_files, Err(PageError::Json(m)) if m.contains("missing field `files`")));
    }

    #[test]
    fn json_page_of_a_newer_major_version_is_refused() {
        let err =
            parse_json(br#"{"meta": {"api-version": "2.0"}, "files": []}"#, &base()).unwrap_err();
        assert_eq!(err, PageError::UnsupportedApiVersion("2.0".into()));
    }

    #[test]
    fn html_page() {
        let page = parse_html(
            r#"<!DOCTYPE html><html><body>
            <a href="../../files/demo-1.0-py3-none-any.whl#sha256=AbC1" data-requires-python="&gt;=3.8" data-core-metadata="sha256=12ef">demo-1.0-py3-none-any.whl</a><br/>
            <a href="https://files.test/demo-0.9.tar.gz" data-yanked="">demo-0.9.tar.gz</a>
            </body></html>"#,
            &base(),
        )
        .unwrap();
        assert_eq!(page.files.len(), 2);
        let wheel = &page.files[0];
        assert_eq!(
            wheel.url.as_str(),
            "https://index.test/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.sha256(), Some("abc1"));
        assert_eq!(wheel.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(wheel.core_metadata.sha256(), Some("12ef"));
        assert_eq!(page.files[1].yanked.as_deref(), Some(""));
    }
}
