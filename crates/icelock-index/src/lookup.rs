//! The configured indexes as one thing to ask: "which files does project X have, where?",
//! "what is this file's METADATA?", "what are these members of this wheel?".
//!
//! Every project page is fetched once per index per run (lookups are memoised by project and
//! version, so a lookup started early is found by the later ones), find-links locations once
//! per run whatever the project, and all of it concurrently within the client's limits.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use tokio::sync::OnceCell;
use url::Url;
use uv_normalize::PackageName;
use uv_pep440::Version;

use crate::cache::PageEntry;
use crate::client::{Client, ClientOptions, FetchError, Fetched};
use crate::config::{IndexConfig, Location, redact};
use crate::simple::{self, IndexFile, PageError, ProjectPage};
use crate::sparse_zip::{MemberRead, Step};

/// A file together with the index (or find-links location) that listed it.
#[derive(Debug, Clone)]
pub struct ListedFile {
    pub file: IndexFile,
    /// The index root or find-links location, redacted.
    pub index: String,
}

/// Why a location could not be read for a project. Messages never hold credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: {source}")]
    Page {
        url: String,
        #[source]
        source: PageError,
    },
    #[error("{url}: {message}")]
    Wheel { url: String, message: String },
}

/// What a project's lookup found: files, and the locations that failed.
#[derive(Debug, Clone, Default)]
pub struct ProjectFiles {
    pub files: Vec<ListedFile>,
    pub errors: Vec<LookupError>,
}

/// Members read out of a remote wheel.
#[derive(Debug, Clone, Default)]
pub struct WheelMembers {
    pub members: BTreeMap<String, Vec<u8>>,
    /// Bytes transferred to read them.
    pub fetched: u64,
    /// Whether the server ignored Range and sent the whole file.
    pub whole_file: bool,
    /// The file's size, as the server's answers confirmed it.
    pub size: u64,
}

/// A project's files, by name and the version kept (`None`: every version).
type Projects = HashMap<(PackageName, Option<Version>), Arc<OnceCell<ProjectFiles>>>;

#[derive(Clone)]
pub struct Indexes {
    client: Client,
    config: Arc<IndexConfig>,
    find_links: Arc<Vec<OnceCell<Result<ProjectPage, LookupError>>>>,
    projects: Arc<Mutex<Projects>>,
}

impl Indexes {
    pub fn new(client: Client, config: IndexConfig) -> Self {
        let find_links = config.find_links.iter().map(|_| OnceCell::new()).collect();
        Self {
            client,
            config: Arc::new(config),
            find_links: Arc::new(find_links),
            projects: Arc::default(),
        }
    }

    /// A client for `config`'s locations (the logins in their URLs given to it) with `options`.
    pub fn connect(config: IndexConfig, options: ClientOptions) -> Result<Self, FetchError> {
        let logins: Vec<Url> = config
            .indexes
            .iter()
            .chain(&config.find_links)
            .map(|l| l.url.clone())
            .collect();
        Ok(Self::new(Client::new(options, &logins)?, config))
    }

    /// Starts looking up `name` at `version` on `runtime`, for a later [`Indexes::project_files`]
    /// to find done or under way: a caller that knows the projects before it has read all it
    /// needs to prove them (the folder names of an environment, before their METADATA and
    /// RECORD are read) has the pages come in meanwhile.
    pub fn prefetch(&self, runtime: &tokio::runtime::Handle, name: PackageName, version: Version) {
        let this = self.clone();
        runtime.spawn(async move { this.project_files(&name, Some(&version)).await });
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// The redacted locations searched, for messages.
    pub fn searched(&self) -> Vec<String> {
        self.config
            .indexes
            .iter()
            .chain(&self.config.find_links)
            .map(Location::redacted)
            .collect()
    }

    /// Every file of `name` on every configured index and find-links location, in configuration
    /// order (primary index first).
    ///
    /// With `version`, an index page keeps only that version's files: the rest are never built.
    /// Each project (and version) is looked up once per run, however often it is asked for.
    pub async fn project_files(
        &self,
        name: &PackageName,
        version: Option<&Version>,
    ) -> ProjectFiles {
        let cell = self
            .projects
            .lock()
            .expect("never poisoned: nothing panics while it is held")
            .entry((name.clone(), version.cloned()))
            .or_default()
            .clone();
        cell.get_or_init(|| self.look_up(name, version))
            .await
            .clone()
    }

    async fn look_up(&self, name: &PackageName, version: Option<&Version>) -> ProjectFiles {
        let pages = self.config.indexes.iter().map(|index| async move {
            let result: Result<Option<ProjectPage>, LookupError> =
                self.project_page(&index.url, name, version).await;
            (index.redacted(), result)
        });
        let links = self
            .config
            .find_links
            .iter()
            .zip(self.find_links.iter())
            .map(|(loc, cell)| async move {
                let page: Result<Option<ProjectPage>, LookupError> = cell
                    .get_or_init(|| async { self.find_links_page(&loc.url).await })
                    .await
                    .clone()
                    .map(Some);
                (loc.redacted(), page)
            });
        let (pages, links): (Vec<_>, Vec<_>) = tokio::join!(join_all(pages), join_all(links));
        let mut out = ProjectFiles::default();
        for (index, result) in pages.into_iter().chain(links) {
            match result {
                Ok(Some(page)) => out.files.extend(
                    page.files
                        .into_iter()
                        .filter(|f| project_of(&f.filename).is_some_and(|p| &p == name))
                        .map(|file| ListedFile {
                            file,
                            index: index.clone(),
                        }),
                ),
                Ok(None) => {}
                Err(err) => out.errors.push(err),
            }
        }
        out
    }

    async fn project_page(
        &self,
        root: &Url,
        name: &PackageName,
        version: Option<&Version>,
    ) -> Result<Option<ProjectPage>, LookupError> {
        let mut root = root.clone();
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        let url = root
            .join(&format!("{name}/"))
            .map_err(|e| LookupError::Page {
                url: redact(&root),
                source: PageError::BadUrl {
                    filename: name.to_string(),
                    message: e.to_string(),
                },
            })?;
        self.cached_page(&url, version).await
    }

    /// A page through the cache: the stored view as it is when offline, else revalidated with
    /// the page's validators, else fetched, parsed, filtered to `version`'s files (all files
    /// without one) and stored as that view.
    async fn cached_page(
        &self,
        url: &Url,
        version: Option<&Version>,
    ) -> Result<Option<ProjectPage>, LookupError> {
        let view = version.map_or_else(|| "*".to_string(), ToString::to_string);
        let view = view.as_str();
        let cache = self
            .client
            .cache()
            .filter(|_| matches!(url.scheme(), "http" | "https"));
        let cached = cache.and_then(|c| c.page(url, view));
        let from_cache = |entry: &PageEntry| {
            let base = Url::parse(&entry.url).unwrap_or_else(|_| url.clone());
            simple::parse_json(&entry.body, &base).map_err(|source| LookupError::Page {
                url: redact(url),
                source,
            })
        };
        if self.client.options().offline && url.scheme() != "file" {
            return match &cached {
                Some(entry) => from_cache(entry).map(Some),
                None => Err(FetchError::Offline { url: redact(url) }.into()),
            };
        }
        let now = unix_now();
        if let Some(entry) = &cached
            && !self.client.options().refresh
            && entry.fresh_until.is_some_and(|until| now < until)
        {
            return from_cache(entry).map(Some);
        }
        // Fetched and parsed off the caller's thread: the caller drives every project's
        // pipeline, and a page's body (megabytes, copied in as it arrives) and its parse would
        // hold all of them up on one core while the others idle.
        let fetch = {
            let (client, url, cached) = (self.client.clone(), url.clone(), cached.clone());
            tokio::spawn(async move { client.get_page(&url, cached.as_ref()).await })
        };
        let Some(fetched) = joined(fetch.await)? else {
            return Ok(None);
        };
        let fresh_until = fetched.fresh_for.map(|d| now + d.as_secs());
        if fetched.not_modified
            && let Some(mut entry) = cached
        {
            // A 304 may grant a new lifetime, which is kept for the next run.
            if let (Some(cache), Some(_)) = (cache, fresh_until) {
                entry.fresh_until = fresh_until;
                cache.store_page(url, view, &entry);
            }
            return from_cache(&entry).map(Some);
        }
        let (page, fetched) = {
            let version = version.cloned();
            let parse = move || {
                let filter = version.as_ref().map(VersionFilter::new);
                let keep = |filename: &str| {
                    filter.as_ref().is_none_or(|f| f.may_keep(filename))
                        && version
                            .as_ref()
                            .is_none_or(|v| version_of(filename).as_ref() == Some(v))
                };
                (parse_page(&fetched, &keep), fetched)
            };
            joined(tokio::task::spawn_blocking(parse).await)
        };
        let page = page?;
        if let Some(cache) = cache {
            // File URLs resolved against an index URL with a login carry it: the client adds
            // logins by host, so the cache keeps none.
            let mut public = page.clone();
            for file in &mut public.files {
                let _ = file.url.set_password(None);
                let _ = file.url.set_username("");
            }
            let entry = PageEntry {
                url: redact(&fetched.url),
                content_type: Some(crate::client::SIMPLE_JSON.to_string()),
                etag: fetched.etag.clone(),
                last_modified: fetched.last_modified.clone(),
                fresh_until,
                body: simple::to_json(&public),
            };
            // An index that gives no validators and no lifetime sends the whole page every
            // run; when the part kept is what the cache already holds, rewriting it would only
            // cost a file creation. So would a lifetime extended by less than a minute (the
            // default lifetime counts from each fetch, so two runs a second apart differ).
            let same = cached.as_ref().is_some_and(|cached| {
                let lifetime_moved = match (cached.fresh_until, entry.fresh_until) {
                    (Some(old), Some(new)) => new.saturating_sub(old) >= 60 || new < old,
                    (old, new) => old != new,
                };
                !lifetime_moved
                    && PageEntry {
                        fresh_until: entry.fresh_until,
                        ..cached.clone()
                    } == entry
            });
            if !same {
                cache.store_page(url, view, &entry);
            }
        }
        Ok(Some(page))
    }

    async fn find_links_page(&self, url: &Url) -> Result<ProjectPage, LookupError> {
        if url.scheme() == "file"
            && let Ok(dir) = url.to_file_path()
        {
            // pip only warns about a find-links location that does not exist; said here as a
            // lookup error, it reaches the reasons of whatever it might have proven.
            if !dir.exists() {
                return Err(LookupError::Wheel {
                    url: redact(url),
                    message: "the find-links location does not exist".into(),
                });
            }
            if dir.is_dir() && !dir.join("index.html").is_file() {
                return Ok(list_folder(&dir));
            }
        }
        Ok(self.cached_page(url, None).await?.unwrap_or_default())
    }

    /// The PEP 658 metadata file of `file`, or `None` where the index has none.
    pub async fn metadata_file(&self, file: &IndexFile) -> Result<Option<Vec<u8>>, LookupError> {
        if file.url.scheme() == "file" && !file.core_metadata.is_available() {
            // A folder of wheels has no .metadata files beside them; reading the wheel is cheap.
            return Ok(None);
        }
        let cap = self.client.options().max_metadata_bytes;
        let url = file.metadata_url();
        let fetched = if file.core_metadata.is_available() {
            self.client.get_small(&url, cap).await?
        } else {
            self.client.get_guess(&url, cap).await?
        };
        Ok(fetched.map(|f| f.body))
    }

    /// Reads members of a wheel (by exact path inside the zip) through range requests.
    pub async fn wheel_members(
        &self,
        file: &IndexFile,
        names: &[String],
    ) -> Result<WheelMembers, LookupError> {
        let cap = self.client.options().max_metadata_bytes;
        let url = &file.url;
        let size = match file.size {
            Some(size) => size,
            None => self.content_length(url).await?,
        };
        let mut read = MemberRead::new(size, names, cap);
        let mut members = WheelMembers::default();
        loop {
            match read.next_step() {
                Step::Fetch(range) => {
                    self.fetch_into(&mut read, url, range, &mut members).await?;
                }
                Step::Done(found) => {
                    members.members = found;
                    members.size = read.sparse().size();
                    return Ok(members);
                }
                Step::Failed(message) => {
                    return Err(LookupError::Wheel {
                        url: redact(url),
                        message,
                    });
                }
            }
        }
    }

    /// Fetches `range` into `read` (or the whole file, when the server ignores Range).
    async fn fetch_into(
        &self,
        read: &mut MemberRead,
        url: &Url,
        range: std::ops::Range<u64>,
        members: &mut WheelMembers,
    ) -> Result<(), LookupError> {
        // A wheel sent whole (Range ignored) is bounded by the page's size plus slack.
        let cap = read.sparse().size().max(range.end - range.start) + 1024;
        let fetched: Fetched = self.client.get_range(url, range.clone(), cap).await?;
        members.fetched += fetched.body.len() as u64;
        match fetched.range {
            Some(got) => {
                if let Some(total) = fetched.total
                    && total != read.sparse().size()
                {
                    return Err(LookupError::Wheel {
                        url: redact(url),
                        message: format!(
                            "the index lists the file's size as {} bytes, but the server says it has {total}",
                            read.sparse().size()
                        ),
                    });
                }
                read.insert(got.start, fetched.body);
                Ok(())
            }
            None => {
                if fetched.body.len() as u64 != read.sparse().size() {
                    return Err(LookupError::Wheel {
                        url: redact(url),
                        message: format!(
                            "the server ignored Range and sent {} bytes, but the index says the file has {}",
                            fetched.body.len(),
                            read.sparse().size()
                        ),
                    });
                }
                members.whole_file = true;
                read.insert(0, fetched.body);
                Ok(())
            }
        }
    }

    /// The size of a file whose page did not say (PEP 503 pages never do): a one-byte range
    /// answer carries the total in Content-Range.
    async fn content_length(&self, url: &Url) -> Result<u64, LookupError> {
        if url.scheme() == "file" {
            let path = url.to_file_path().map_err(|_| LookupError::Wheel {
                url: redact(url),
                message: "not a local path".into(),
            })?;
            return std::fs::metadata(&path)
                .map(|m| m.len())
                .map_err(|e| LookupError::Wheel {
                    url: redact(url),
                    message: e.to_string(),
                });
        }
        let total = self.client.total_size(url).await?;
        Ok(total)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn parse_page(fetched: &Fetched, keep: &dyn Fn(&str) -> bool) -> Result<ProjectPage, LookupError> {
    let result = if fetched.is_simple_json() {
        simple::parse_json_filtered(&fetched.body, &fetched.url, keep)
    } else {
        simple::parse_html_filtered(&String::from_utf8_lossy(&fetched.body), &fetched.url, keep)
    };
    result.map_err(|source| LookupError::Page {
        url: redact(&fetched.url),
        source,
    })
}

/// A local find-links folder: its wheels and sdists, with no hashes (they are hashed when used).
fn list_folder(dir: &std::path::Path) -> ProjectPage {
    let mut files: Vec<IndexFile> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let filename = entry.file_name().to_string_lossy().into_owned();
            let is_dist = filename.ends_with(".whl")
                || filename.ends_with(".tar.gz")
                || filename.ends_with(".zip");
            if !is_dist || !entry.path().is_file() {
                return None;
            }
            Some(IndexFile {
                url: Url::from_file_path(entry.path()).ok()?,
                size: entry.metadata().ok().map(|m| m.len()),
                filename,
                hashes: BTreeMap::new(),
                requires_python: None,
                core_metadata: Default::default(),
                yanked: None,
                upload_time: None,
            })
        })
        .collect();
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    ProjectPage { files }
}

/// The version a distribution file is of: a wheel's version field, an sdist's last part.
pub fn version_of(filename: &str) -> Option<Version> {
    if let Some(wheel) = crate::WheelName::parse(filename) {
        return Some(wheel.version);
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    let (_name, version) = stem.rsplit_once('-')?;
    version.parse().ok()
}

/// The output of a task this module started: its panic goes on in the caller. The tasks are
/// awaited while the runtime runs, so they are never cancelled.
fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("a page task was cancelled while awaited: {err}"),
        },
    }
}

/// A quick first look at a page's file names for one version: `false` only when the version
/// field [`version_of`] would parse is a different version. A page lists every file of every
/// release, grouped by release; this parses one field once per run of equal fields, where
/// [`version_of`] builds the whole wheel name and its tags.
struct VersionFilter<'a> {
    version: &'a Version,
    last: std::cell::RefCell<(String, bool)>,
}

impl<'a> VersionFilter<'a> {
    fn new(version: &'a Version) -> Self {
        Self {
            version,
            last: std::cell::RefCell::new((String::new(), true)),
        }
    }

    fn may_keep(&self, filename: &str) -> bool {
        let field = if let Some(stem) = filename.strip_suffix(".whl") {
            // `name-version[-build]-python-abi-platform`: the name has no dash (it is escaped).
            stem.split('-').nth(1)
        } else {
            [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
                .iter()
                .find_map(|ext| filename.strip_suffix(ext))
                .and_then(|stem| stem.rsplit_once('-'))
                .map(|(_, version)| version)
        };
        let Some(text) = field else {
            return true;
        };
        let mut last = self.last.borrow_mut();
        if last.0 != text {
            let same = text
                .parse::<Version>()
                .ok()
                .is_none_or(|v| &v == self.version);
            last.0.clear();
            last.0.push_str(text);
            last.1 = same;
        }
        last.1
    }
}

/// The normalised project a distribution file belongs to: a wheel by its name field, an sdist
/// by everything before its last dash.
pub fn project_of(filename: &str) -> Option<PackageName> {
    if let Some(wheel) = crate::WheelName::parse(filename) {
        return Some(wheel.name);
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    let (name, _version) = stem.rsplit_once('-')?;
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick look at the version field never turns away a file the full parse keeps, and
    /// turns away the other versions' files.
    #[test]
    fn the_version_field_agrees_with_the_full_parse() {
        let v: Version = "2.0".parse().unwrap();
        for (filename, kept) in [
            ("demo-2.0-py3-none-any.whl", true),
            ("demo-2.0.0-py3-none-any.whl", true),
            (
                "demo-2.0-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                true,
            ),
            ("demo-2.0.tar.gz", true),
            ("demo-2.0.zip", true),
            ("demo-2.1-py3-none-any.whl", false),
            ("demo-2.0.post1-py3-none-any.whl", false),
            ("demo-1.0.tar.gz", false),
            ("demo-2.0-notawheel.whl", false),
            ("README.txt", false),
        ] {
            let full = version_of(filename).as_ref() == Some(&v);
            assert_eq!(full, kept, "{filename}");
            let filter = VersionFilter::new(&v);
            assert!(!full || filter.may_keep(filename), "{filename}");
            assert_eq!(filter.may_keep(filename) && full, kept, "{filename}");
        }
        // One filter through a page: the remembered field is the last one seen.
        let filter = VersionFilter::new(&v);
        let page = [
            ("demo-1.0.tar.gz", false),
            ("demo-1.0-py3-none-any.whl", false),
            ("demo-2.0-py3-none-any.whl", true),
            ("demo-2.0.tar.gz", true),
            ("demo-2.1-py3-none-any.whl", false),
            ("demo-2.0-py2-none-any.whl", true),
        ];
        for (filename, kept) in page {
            assert_eq!(filter.may_keep(filename), kept, "{filename}");
        }
    }
}
