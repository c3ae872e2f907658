//! The HTTP (and `file://`) client for indexes: bounded concurrency, retries, caps, and the
//! security rules (no plain http off loopback unless trusted, no https→http redirects,
//! credentials sent only to the host they belong to and never shown).

use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{StatusCode, header};
use sha2::Digest;
use tokio::sync::Semaphore;
use url::Url;

use crate::cache::{Cache, PageEntry};
use crate::config::redact;

const SIMPLE_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";
const PAGES_AT_ONCE: usize = 16;
const GUESSES_AT_ONCE: usize = 48;
const REVALIDATIONS_AT_ONCE: usize = 64;
pub(crate) const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

/// Limits and switches of the client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub offline: bool,
    /// Hosts (optionally `host:port`) allowed over plain http, as pip's `--trusted-host`.
    pub trusted_hosts: Vec<String>,
    /// Extra CA bundle, on top of the system store (and `SSL_CERT_FILE`).
    pub cert: Option<PathBuf>,
    pub concurrency: usize,
    pub connect_timeout: Duration,
    /// The longest a response may go without sending a byte (a stalled server).
    pub read_timeout: Duration,
    /// Whole request, body included.
    pub timeout: Duration,
    pub retries: u32,
    /// The largest project page accepted (real pages are a few MB).
    pub max_page_bytes: u64,
    /// The largest METADATA accepted.
    pub max_metadata_bytes: u64,
    /// The largest wheel read whole (the largest real ones are a few GB).
    pub max_wheel_bytes: u64,
    /// Log each request to stderr (`-v`).
    pub verbose: bool,
    /// Where pages and wheel facts are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// pip's cache, searched for a wheel before downloading it whole.
    pub pip_cache_dir: Option<PathBuf>,
    /// Ask again for every cached page, however fresh (`--refresh`).
    pub refresh: bool,
    /// Told of every whole file read over the network, as it arrives (a progress bar).
    pub on_whole: Option<OnWhole>,
}

/// What a whole-file read is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholeEvent {
    /// A whole file starts arriving; its size where the server said it.
    Started(Option<u64>),
    /// This many more bytes arrived.
    Bytes(u64),
    /// The file ended (or failed) after this many bytes; its `Started` size no longer counts.
    Ended { expected: Option<u64>, read: u64 },
}

/// A callback told of [`WholeEvent`]s.
#[derive(Clone)]
pub struct OnWhole(pub std::sync::Arc<dyn Fn(WholeEvent) + Send + Sync>);

impl std::fmt::Debug for OnWhole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnWhole")
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            offline: false,
            trusted_hosts: Vec::new(),
            cert: None,
            concurrency: 50,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
            retries: 3,
            max_page_bytes: 64 * 1024 * 1024,
            max_metadata_bytes: 16 * 1024 * 1024,
            max_wheel_bytes: 8 * 1024 * 1024 * 1024,
            verbose: false,
            cache_dir: None,
            pip_cache_dir: None,
            refresh: false,
            on_whole: None,
        }
    }
}

/// What went wrong talking to an index. URLs in it are always redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error(
        "{url}: plain http is refused off loopback; use https, or allow the host with --trusted-host as pip does"
    )]
    Insecure { url: String },
    #[error("{url}: the answer is larger than the {limit} bytes allowed")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: not in the cache, and --offline forbids fetching it")]
    Offline { url: String },
    #[error("{url}: {message}")]
    File { url: String, message: String },
    #[error("{url}: asked for bytes {start}..{end}, the server answered {answer}")]
    BadRange {
        url: String,
        start: u64,
        end: u64,
        answer: String,
    },
}

/// An answer to a GET.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// After redirects; relative links resolve against it.
    pub url: Url,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// 206 with this range, or `None` for a whole body.
    pub range: Option<Range<u64>>,
    /// The file's total size, from Content-Range.
    pub total: Option<u64>,
    /// Cache validators the server sent.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The server answered 304 to a conditional request: the cached body stands.
    pub not_modified: bool,
    /// How long the answer may be used without asking again (RFC 9111 `max-age` less `Age`);
    /// `None` when the server gave none, or said `no-cache` / `no-store`.
    pub fresh_for: Option<Duration>,
}

impl Fetched {
    pub fn is_simple_json(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with(SIMPLE_JSON))
    }
}

/// The bytes of a file a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteRange {
    Span(Range<u64>),
    /// The file's last bytes, for a file whose size is not known yet.
    Suffix(u64),
}

impl ByteRange {
    fn header(&self) -> String {
        match self {
            Self::Span(r) => format!("bytes={}-{}", r.start, r.end.saturating_sub(1)),
            Self::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

/// A file read whole and hashed on the way.
#[derive(Debug)]
pub struct WholeFile {
    /// Hex.
    pub sha256: String,
    pub size: u64,
    pub data: WholeData,
}

/// Where a whole file's bytes are kept: small ones in memory, large ones in an unnamed
/// temporary file (gone when dropped), a local file where it is.
#[derive(Debug)]
pub enum WholeData {
    Memory(Vec<u8>),
    File(std::fs::File),
}

/// The answer to [`Client::get_part`].
#[derive(Debug)]
pub enum Part {
    Range {
        start: u64,
        bytes: Vec<u8>,
        /// The file's size, from Content-Range.
        total: Option<u64>,
    },
    /// The whole file: none was asked for, or the server ignored Range.
    Whole(WholeFile),
}

/// A whole file is kept in memory up to this size, in a temporary file beyond.
const WHOLE_IN_MEMORY: u64 = 16 * 1024 * 1024;
/// How long a whole file may take to arrive while data keeps coming.
const WHOLE_FILE_TIMEOUT: Duration = Duration::from_secs(3600);

/// How long a page that says nothing of its lifetime or validators is used without asking
/// again: PyPI's own `max-age` for simple pages. `--refresh` asks again anyway.
pub const UNSTATED_FRESHNESS: Duration = Duration::from_secs(600);

/// Counters for `-v` and the benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

/// The lane a request is sent in, and the one its body is read in when that differs.
#[derive(Clone, Copy)]
struct Lanes<'a> {
    send: &'a Semaphore,
    body: Option<&'a Semaphore>,
}

impl<'a> Lanes<'a> {
    fn one(lane: &'a Semaphore) -> Self {
        Self {
            send: lane,
            body: None,
        }
    }
}

/// The index client. Cheap to clone; clones share connections, limits and counters.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    options: Arc<ClientOptions>,
    /// Requests in flight, by lane. A project's page starts its pipeline, so pages never wait
    /// behind the requests of other projects' proofs; a `.metadata` asked for on a guess (the
    /// page did not declare it) may take an index hundreds of milliseconds to refuse, so
    /// guesses never hold up a proof that will be answered. A cached page asked for again
    /// (conditionally) goes in `revalidations` and takes a place in `pages` only to read a
    /// changed body: the usual answer, a 304, weighs nothing, so waiting for pages in waves of
    /// `PAGES_AT_ONCE` would cost a warm run one round trip per wave. `limit` is every other
    /// request.
    limit: Arc<Semaphore>,
    pages: Arc<Semaphore>,
    guesses: Arc<Semaphore>,
    revalidations: Arc<Semaphore>,
    /// Credentials by `host[:port]`, from configured URLs and `.netrc`.
    credentials: Arc<HashMap<String, (String, Option<String>)>>,
    cache: Option<Cache>,
    /// Per host, whether a request has had its answer: until then, later requests to the host
    /// wait, so that they share the connection (HTTP/2) the first one opens instead of each
    /// opening its own and paying for a TLS handshake.
    hosts: Arc<std::sync::Mutex<HashMap<String, Arc<HostGate>>>>,
    pub stats: Arc<Stats>,
    /// When the client was made: `-v` lines carry the time since, so a log is a timeline.
    started: std::time::Instant,
}

#[derive(Default)]
struct HostGate {
    open: std::sync::atomic::AtomicBool,
    first: Arc<tokio::sync::Mutex<()>>,
}

struct FirstRequest {
    gate: Arc<HostGate>,
    _lock: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for FirstRequest {
    fn drop(&mut self) {
        // Opened before the lock is released (fields drop after this), so a waiter that gets
        // the lock sees it open and goes.
        self.gate.open.store(true, Ordering::Release);
    }
}

fn host_key(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// `--trusted-host` entries are `host` or `host:port`, as pip takes them.
fn is_trusted(trusted: &[String], url: &Url) -> bool {
    host_key(url).is_some_and(|key| {
        trusted
            .iter()
            .any(|t| t == &key || url.host_str().is_some_and(|h| h == t))
    })
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Client {
    /// Builds the client. `credential_urls` are the configured index URLs: their user info is
    /// remembered per host and sent to that host only.
    pub fn new(options: ClientOptions, credential_urls: &[Url]) -> Result<Self, FetchError> {
        let trusted = options.trusted_hosts.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let downgrade = attempt.previous().iter().any(|u| u.scheme() == "https")
                && attempt.url().scheme() != "https";
            // The plain-http rule holds for redirect targets as for configured URLs.
            let insecure = attempt.url().scheme() == "http"
                && !is_loopback(attempt.url())
                && !is_trusted(&trusted, attempt.url());
            if downgrade {
                let to = redact(attempt.url());
                attempt.error(format!("refused a redirect from https to {to}"))
            } else if insecure {
                let to = redact(attempt.url());
                attempt.error(format!(
                    "refused a redirect to plain http off loopback ({to}); allow the host with --trusted-host if that is intended"
                ))
            } else if attempt.previous().len() >= 10 {
                attempt.error("more than 10 redirects")
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("icelock/", env!("CARGO_PKG_VERSION")))
            .redirect(policy)
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .timeout(options.timeout)
            .pool_max_idle_per_host(options.concurrency)
            .http2_initial_stream_window_size(Some(16 * 1024 * 1024))
            .http2_initial_connection_window_size(Some(64 * 1024 * 1024))
            // Offline nothing is fetched over TLS: reading the system's trust store (a few
            // hundred certificates) would be most of an offline run's start-up.
            .tls_built_in_root_certs(!options.offline);
        if let Some(cert) = &options.cert
            && !options.offline
        {
            let fail = |message: String| FetchError::File {
                url: cert.display().to_string(),
                message,
            };
            let pem =
                std::fs::read(cert).map_err(|e| fail(format!("cannot read the CA bundle: {e}")))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| fail(format!("not a PEM CA bundle: {e}")))?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|e| FetchError::Network {
            url: String::new(),
            message: format!("cannot set up HTTPS: {e}"),
        })?;
        let mut credentials = HashMap::new();
        for url in credential_urls {
            if (!url.username().is_empty() || url.password().is_some())
                && let Some(key) = host_key(url)
            {
                credentials.insert(
                    key,
                    (
                        percent_decode(url.username()),
                        url.password().map(percent_decode),
                    ),
                );
            }
        }
        for (host, login) in crate::netrc::from_default_location() {
            credentials.entry(host).or_insert(login);
        }
        Ok(Self {
            http,
            cache: options.cache_dir.clone().map(Cache::new),
            limit: Arc::new(Semaphore::new(options.concurrency.max(1))),
            pages: Arc::new(Semaphore::new(
                PAGES_AT_ONCE.min(options.concurrency.max(1)),
            )),
            guesses: Arc::new(Semaphore::new(
                GUESSES_AT_ONCE.min(options.concurrency.max(1)),
            )),
            revalidations: Arc::new(Semaphore::new(
                REVALIDATIONS_AT_ONCE.min(options.concurrency.max(1)),
            )),
            options: Arc::new(options),
            credentials: Arc::new(credentials),
            hosts: Arc::default(),
            stats: Arc::new(Stats::default()),
            started: std::time::Instant::now(),
        })
    }

    fn elapsed_ms(&self) -> u128 {
        self.started.elapsed().as_millis()
    }

    /// Waits while another request to `url`'s host is the first one in flight. Returns a guard
    /// when this request is the first: dropping it (once the answer arrives, or the request
    /// fails) lets the others go.
    async fn first_to_host(&self, url: &Url) -> Option<FirstRequest> {
        let key = host_key(url)?;
        let gate = self
            .hosts
            .lock()
            .expect("never poisoned: nothing panics while it is held")
            .entry(key)
            .or_default()
            .clone();
        if gate.open.load(Ordering::Acquire) {
            return None;
        }
        let lock = Arc::clone(&gate.first).lock_owned().await;
        if gate.open.load(Ordering::Acquire) {
            return None;
        }
        Some(FirstRequest { gate, _lock: lock })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    fn check_scheme(&self, url: &Url) -> Result<(), FetchError> {
        match url.scheme() {
            "https" | "file" => Ok(()),
            "http" if is_loopback(url) => Ok(()),
            "http" => {
                if is_trusted(&self.options.trusted_hosts, url) {
                    Ok(())
                } else {
                    Err(FetchError::Insecure { url: redact(url) })
                }
            }
            other => Err(FetchError::Network {
                url: redact(url),
                message: format!("the {other}: scheme is not supported"),
            }),
        }
    }

    /// GETs a project page, asking for PEP 691 JSON first; with `cached`, conditionally
    /// (`If-None-Match` / `If-Modified-Since`), so a 304 comes back as `not_modified`. The
    /// caller owns the cache: what it keeps of a page is its own choice.
    pub async fn get_page(
        &self,
        url: &Url,
        cached: Option<&PageEntry>,
    ) -> Result<Option<Fetched>, FetchError> {
        // Pages are the large answers (megabytes each for old, busy projects): few of them in
        // flight bounds memory. Only a request with a validator can come back 304, which weighs
        // nothing; without one (an index that sends none) the answer is the whole page again,
        // and it waits its turn among the pages.
        let conditional =
            cached.is_some_and(|entry| entry.etag.is_some() || entry.last_modified.is_some());
        let lanes = if conditional {
            Lanes {
                send: &self.revalidations,
                body: Some(&self.pages),
            }
        } else {
            Lanes::one(&self.pages)
        };
        self.get_with(
            lanes,
            url,
            Some(SIMPLE_ACCEPT),
            None,
            self.options.max_page_bytes,
            cached,
        )
        .await
    }

    /// GETs a small file (a `.metadata`); `None` on 404.
    pub async fn get_small(&self, url: &Url, cap: u64) -> Result<Option<Fetched>, FetchError> {
        self.get(url, None, None, cap).await
    }

    /// [`Client::get_small`] for a file that may well not exist (a `.metadata` no page
    /// declared), in a lane of its own.
    pub async fn get_guess(&self, url: &Url, cap: u64) -> Result<Option<Fetched>, FetchError> {
        self.get_with(Lanes::one(&self.guesses), url, None, None, cap, None)
            .await
    }

    /// GETs `range` of a file. A server that ignores Range answers 200 with the whole body,
    /// which is returned as such (with `range: None`) if it fits in `cap`.
    pub async fn get_range(
        &self,
        url: &Url,
        range: Range<u64>,
        cap: u64,
    ) -> Result<Fetched, FetchError> {
        let fetched = self
            .get(url, None, Some(range.clone()), cap)
            .await?
            .ok_or_else(|| FetchError::Status {
                url: redact(url),
                status: 404,
            })?;
        if let Some(got) = &fetched.range
            && (got.start != range.start || fetched.body.len() as u64 != got.end - got.start)
        {
            return Err(FetchError::BadRange {
                url: redact(url),
                start: range.start,
                end: range.end,
                answer: format!(
                    "bytes {}..{} ({} in the body)",
                    got.start,
                    got.end,
                    fetched.body.len()
                ),
            });
        }
        Ok(fetched)
    }

    /// GETs `range` of a file, or all of it. A partial answer is capped at `cap`; a whole one
    /// (asked for, or sent by a server that ignores Range) is streamed through sha256, kept in
    /// memory up to 16 MiB and in an unnamed temporary file beyond, and refused past
    /// `whole_cap`. A local (`file://`) file is read in place.
    pub async fn get_part(
        &self,
        url: &Url,
        range: Option<ByteRange>,
        cap: u64,
        whole_cap: u64,
    ) -> Result<Part, FetchError> {
        if url.scheme() == "file" {
            return local_part(url, range, cap);
        }
        self.check_scheme(url)?;
        if self.options.offline {
            return Err(FetchError::Offline { url: redact(url) });
        }
        let _permit = self
            .limit
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut response = self
            .send(url, None, range.as_ref(), None, range.is_none())
            .await?;
        let status = response.status();
        if status == StatusCode::PARTIAL_CONTENT {
            let asked = range.clone().unwrap_or(ByteRange::Suffix(0));
            let header = response
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let bad = |answer: String| {
                let (start, end) = match &asked {
                    ByteRange::Span(r) => (r.start, r.end),
                    ByteRange::Suffix(n) => (u64::MAX - n, u64::MAX),
                };
                FetchError::BadRange {
                    url: redact(url),
                    start,
                    end,
                    answer,
                }
            };
            let (got, total) = parse_content_range(&header)
                .ok_or_else(|| bad(format!("206 with Content-Range {header:?}")))?;
            let body = read_capped(url, response, cap).await?;
            let fits = match &asked {
                ByteRange::Span(r) => got.start == r.start && got.end <= r.end,
                // A suffix ends at the end of the file, whose size the answer must give.
                ByteRange::Suffix(_) => total == Some(got.end),
            };
            if !fits || body.len() as u64 != got.end - got.start {
                return Err(bad(format!(
                    "bytes {}..{} ({} in the body)",
                    got.start,
                    got.end,
                    body.len()
                )));
            }
            self.log_answer(url, status.as_u16(), body.len() as u64);
            self.stats
                .bytes
                .fetch_add(body.len() as u64, Ordering::Relaxed);
            return Ok(Part::Range {
                start: got.start,
                bytes: body,
                total,
            });
        }
        if response.content_length().is_some_and(|n| n > whole_cap) {
            return Err(FetchError::TooLarge {
                url: redact(url),
                limit: whole_cap,
            });
        }
        let mut whole = WholeSink::default();
        let expected = response.content_length();
        let tell = |event| {
            if let Some(on_whole) = &self.options.on_whole {
                (on_whole.0)(event);
            }
        };
        tell(WholeEvent::Started(expected));
        let read = async {
            while let Some(chunk) = response.chunk().await.map_err(|e| network(url, &e))? {
                if whole.size + chunk.len() as u64 > whole_cap {
                    return Err(FetchError::TooLarge {
                        url: redact(url),
                        limit: whole_cap,
                    });
                }
                whole.take(&chunk).map_err(|e| FetchError::File {
                    url: redact(url),
                    message: format!("cannot keep the file while it is read: {e}"),
                })?;
                tell(WholeEvent::Bytes(chunk.len() as u64));
            }
            Ok(())
        }
        .await;
        tell(WholeEvent::Ended {
            expected,
            read: whole.size,
        });
        read?;
        self.log_answer(url, status.as_u16(), whole.size);
        self.stats.bytes.fetch_add(whole.size, Ordering::Relaxed);
        whole
            .finish()
            .map(Part::Whole)
            .map_err(|e| FetchError::File {
                url: redact(url),
                message: format!("cannot keep the file while it is read: {e}"),
            })
    }

    fn log_answer(&self, url: &Url, status: u16, bytes: u64) {
        if self.options.verbose {
            eprintln!(
                "icelock: {:>6} ms {status} {} ({bytes} bytes)",
                self.elapsed_ms(),
                redact(url),
            );
        }
    }

    /// The size of a remote file, from the total of a one-byte range answer (or the length of a
    /// whole body, from a server that ignores Range; such a body is capped like a page).
    pub async fn total_size(&self, url: &Url) -> Result<u64, FetchError> {
        let fetched = self
            .get(url, None, Some(0..1), self.options.max_page_bytes)
            .await?
            .ok_or_else(|| FetchError::Status {
                url: redact(url),
                status: 404,
            })?;
        match (fetched.range, fetched.total) {
            (Some(_), Some(total)) => Ok(total),
            (None, _) => Ok(fetched.body.len() as u64),
            (Some(_), None) => Err(FetchError::BadRange {
                url: redact(url),
                start: 0,
                end: 1,
                answer: "a Content-Range without the total size".into(),
            }),
        }
    }

    /// Streams a whole file through sha256: (hex digest, size). Never holds the file in memory.
    pub async fn hash(&self, url: &Url) -> Result<(String, u64), FetchError> {
        self.fetch_hashed(url, None).await
    }

    /// The copy of `url` that pip's HTTP cache holds, as a `file://` URL, if there is one.
    pub fn pip_cached(&self, url: &Url) -> Option<Url> {
        let dir = self.options.pip_cache_dir.as_ref()?;
        let body = crate::pip_cache::body_path(dir, url);
        if !body.is_file() {
            return None;
        }
        Url::from_file_path(&body).ok()
    }

    /// Hashes the copy of `url` that pip's cache holds, if any (no network).
    pub async fn hash_from_pip_cache(&self, url: &Url) -> Option<(String, u64)> {
        let dir = self.options.pip_cache_dir.as_ref()?;
        let body = crate::pip_cache::body_path(dir, url);
        if !body.is_file() {
            return None;
        }
        let local = Url::from_file_path(&body).ok()?;
        self.fetch_hashed(&local, None).await.ok()
    }

    /// Downloads a file to `dest` (through a temporary file beside it, renamed when complete)
    /// while hashing it: (hex digest, size).
    pub async fn download(
        &self,
        url: &Url,
        dest: &std::path::Path,
    ) -> Result<(String, u64), FetchError> {
        self.fetch_hashed(url, Some(dest)).await
    }

    async fn fetch_hashed(
        &self,
        url: &Url,
        dest: Option<&std::path::Path>,
    ) -> Result<(String, u64), FetchError> {
        let fail = |message: String| FetchError::File {
            url: redact(url),
            message,
        };
        let mut sink = match dest {
            Some(dest) => {
                let dir = dest.parent().unwrap_or(std::path::Path::new("."));
                Some(tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(e.to_string()))?)
            }
            None => None,
        };
        let mut hasher = sha2::Sha256::new();
        let mut total = 0u64;
        let mut take = |chunk: &[u8]| -> Result<(), FetchError> {
            use std::io::Write;
            hasher.update(chunk);
            total += chunk.len() as u64;
            if let Some(file) = sink.as_mut() {
                file.write_all(chunk).map_err(|e| fail(e.to_string()))?;
            }
            Ok(())
        };
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|_| fail("not a local path".into()))?;
            let mut file = std::fs::File::open(&path).map_err(|e| fail(e.to_string()))?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = file.read(&mut buf).map_err(|e| fail(e.to_string()))?;
                if n == 0 {
                    break;
                }
                take(&buf[..n])?;
            }
        } else {
            self.check_scheme(url)?;
            if self.options.offline {
                return Err(FetchError::Offline { url: redact(url) });
            }
            let _permit = self
                .limit
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let mut response = self.send(url, None, None, None, true).await?;
            while let Some(chunk) = response.chunk().await.map_err(|e| network(url, &e))? {
                take(&chunk)?;
            }
            self.stats.bytes.fetch_add(total, Ordering::Relaxed);
        }
        if let (Some(file), Some(dest)) = (sink, dest) {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))
                    .map_err(|e| fail(e.to_string()))?;
            }
            file.persist(dest).map_err(|e| fail(e.error.to_string()))?;
        }
        Ok((hex::encode(hasher.finalize()), total))
    }

    async fn get(
        &self,
        url: &Url,
        accept: Option<&str>,
        range: Option<Range<u64>>,
        cap: u64,
    ) -> Result<Option<Fetched>, FetchError> {
        self.get_with(Lanes::one(&self.limit), url, accept, range, cap, None)
            .await
    }

    async fn get_with(
        &self,
        lanes: Lanes<'_>,
        url: &Url,
        accept: Option<&str>,
        range: Option<Range<u64>>,
        cap: u64,
        validators: Option<&PageEntry>,
    ) -> Result<Option<Fetched>, FetchError> {
        if url.scheme() == "file" {
            return read_file_url(url, range, cap);
        }
        self.check_scheme(url)?;
        if self.options.offline {
            return Err(FetchError::Offline { url: redact(url) });
        }
        let mut permit = lanes
            .send
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let response = match self
            .send(
                url,
                accept,
                range.clone().map(ByteRange::Span).as_ref(),
                validators,
                false,
            )
            .await
        {
            Ok(response) => response,
            Err(FetchError::Status { status: 404, .. }) => return Ok(None),
            Err(err) => return Err(err),
        };
        let final_url = response.url().clone();
        let header_text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let etag = header_text(header::ETAG);
        let last_modified = header_text(header::LAST_MODIFIED);
        let cache_control = header_text(header::CACHE_CONTROL);
        let fresh_for = freshness(
            cache_control.as_deref(),
            header_text(header::AGE).as_deref(),
        )
        .or_else(|| {
            // Nothing to go by at all (no lifetime, no validator; the mirror these
            // machines reach): asking again each run would cost every page whole.
            (cache_control.is_none() && etag.is_none() && last_modified.is_none())
                .then_some(UNSTATED_FRESHNESS)
        });
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Some(Fetched {
                url: final_url,
                content_type: None,
                body: Vec::new(),
                range: None,
                total: None,
                etag,
                last_modified,
                not_modified: true,
                fresh_for,
            }));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let (got_range, total) = if response.status() == StatusCode::PARTIAL_CONTENT {
            let header = response
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let (got, total) =
                parse_content_range(&header).ok_or_else(|| FetchError::BadRange {
                    url: redact(url),
                    start: range.as_ref().map_or(0, |r| r.start),
                    end: range.as_ref().map_or(0, |r| r.end),
                    answer: format!("206 with Content-Range {header:?}"),
                })?;
            (Some(got), total)
        } else {
            (None, None)
        };
        let status = response.status().as_u16();
        if let Some(body_lane) = lanes.body {
            drop(permit);
            permit = body_lane
                .acquire()
                .await
                .expect("the semaphore is never closed");
        }
        let body = read_capped(url, response, cap).await?;
        drop(permit);
        if self.options.verbose {
            // The answer's end, beside the request's start, gives each request's time in the log.
            eprintln!(
                "icelock: {:>6} ms {status} {} ({} bytes)",
                self.elapsed_ms(),
                redact(url),
                body.len()
            );
        }
        self.stats
            .bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        Ok(Some(Fetched {
            url: final_url,
            content_type,
            body,
            range: got_range,
            total,
            etag,
            last_modified,
            not_modified: false,
            fresh_for,
        }))
    }

    /// Sends a GET with retries on 429, 5xx and connection failures (exponential backoff,
    /// `Retry-After` honoured up to 10 s). Non-success statuses become errors.
    async fn send(
        &self,
        url: &Url,
        accept: Option<&str>,
        range: Option<&ByteRange>,
        validators: Option<&PageEntry>,
        whole_file: bool,
    ) -> Result<reqwest::Response, FetchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut clean = url.clone();
            let _ = clean.set_password(None);
            let _ = clean.set_username("");
            let mut request = self.http.get(clean.clone());
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT, accept);
            }
            if let Some(entry) = validators {
                if let Some(etag) = &entry.etag {
                    request = request.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(date) = &entry.last_modified {
                    request = request.header(header::IF_MODIFIED_SINCE, date);
                }
            }
            if let Some(range) = range {
                // Ranges count bytes of the file itself, not of a compressed transfer.
                request = request
                    .header(header::RANGE, range.header())
                    .header(header::ACCEPT_ENCODING, "identity");
            } else if whole_file {
                // A whole file (a wheel hashed in full) may take far longer than a page: only a
                // stall (the read timeout) ends it.
                request = request
                    .timeout(WHOLE_FILE_TIMEOUT)
                    .header(header::ACCEPT_ENCODING, "identity");
            }
            let login = if !url.username().is_empty() {
                Some((
                    percent_decode(url.username()),
                    url.password().map(percent_decode),
                ))
            } else {
                // A URL's login is kept by `host:port`; a .netrc's by host alone (as pip, uv and
                // curl match it), so both are tried.
                host_key(url)
                    .and_then(|k| self.credentials.get(&k))
                    .or_else(|| url.host_str().and_then(|h| self.credentials.get(h)))
                    .cloned()
            };
            if let Some((user, password)) = login {
                request = request.basic_auth(user, password);
            }
            if self.options.verbose {
                eprintln!(
                    "icelock: {:>6} ms GET {}{}",
                    self.elapsed_ms(),
                    redact(url),
                    range
                        .map(|r| format!(" {}", r.header()))
                        .unwrap_or_default()
                );
            }
            let sent = {
                let _first = self.first_to_host(&clean).await;
                request.send().await
            };
            let retry_after = match sent {
                Ok(response)
                    if response.status().is_success()
                        || response.status() == StatusCode::NOT_MODIFIED =>
                {
                    return Ok(response);
                }
                Ok(response) => {
                    let status = response.status();
                    // 501 says the request itself (a suffix range, on some CDNs) is not
                    // supported: asking again cannot change that.
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED);
                    if !retryable || attempt > self.options.retries {
                        return Err(FetchError::Status {
                            url: redact(url),
                            status: status.as_u16(),
                        });
                    }
                    response
                        .headers()
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(10)))
                }
                Err(err) => {
                    let retryable = err.is_connect() || err.is_timeout() || err.is_request();
                    if !retryable || err.is_redirect() || attempt > self.options.retries {
                        return Err(network(url, &err));
                    }
                    None
                }
            };
            let backoff = Duration::from_millis(250 * (1 << (attempt - 1)));
            tokio::time::sleep(retry_after.unwrap_or(backoff)).await;
        }
    }
}

/// The freshness lifetime a response grants (RFC 9111 §4.2.1, §5.1): `max-age` less the `Age`
/// it has already spent in caches; none under `no-cache` or `no-store`. PyPI grants its pages
/// ten minutes; without it, a cached page is revalidated on every run.
fn freshness(cache_control: Option<&str>, age: Option<&str>) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control?.split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-cache" || directive == "no-store" || directive.starts_with("no-cache=")
        {
            return None;
        }
        if let Some(value) = directive.strip_prefix("max-age=") {
            max_age = value.trim_matches('"').parse::<u64>().ok();
        }
    }
    let age = age.and_then(|a| a.trim().parse::<u64>().ok()).unwrap_or(0);
    max_age
        .and_then(|m| m.checked_sub(age))
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// reqwest's error text can embed the URL; the redacted one is said instead.
fn network(url: &Url, err: &reqwest::Error) -> FetchError {
    let mut message = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut first = true;
    while let Some(e) = source {
        let text = e.to_string();
        // Layers often repeat their cause's text ("…: Connection refused (os error 111)"):
        // each piece is said once.
        if !message.contains(&text) {
            if !first {
                message.push_str(": ");
            }
            message.push_str(&text);
            first = false;
        }
        source = e.source();
    }
    let message = message.replace(url.as_str(), &redact(url));
    let message = match url.password() {
        Some(password) if !password.is_empty() => message.replace(password, "****"),
        _ => message,
    };
    FetchError::Network {
        url: redact(url),
        message: message
            .strip_prefix(&format!(
                "error sending request for url ({}): ",
                redact(url)
            ))
            .map(String::from)
            .unwrap_or(message),
    }
}

async fn read_capped(
    url: &Url,
    mut response: reqwest::Response,
    cap: u64,
) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|n| n > cap) {
        return Err(FetchError::TooLarge {
            url: redact(url),
            limit: cap,
        });
    }
    // Sized by Content-Length up front: grown by doubling, a body of megabytes would hold up to
    // twice its size, for each of the pages in flight. A length that lies costs only address space (pages
    // of an allocation are not backed until written) and is bounded by `cap`.
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0).min(cap) as usize);
    while let Some(chunk) = response.chunk().await.map_err(|e| network(url, &e))? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(FetchError::TooLarge {
                url: redact(url),
                limit: cap,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A whole file arriving: hashed as it comes, in memory until it outgrows `WHOLE_IN_MEMORY`.
#[derive(Default)]
struct WholeSink {
    hasher: sha2::Sha256,
    size: u64,
    memory: Vec<u8>,
    file: Option<std::fs::File>,
}

impl WholeSink {
    fn take(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        if self.file.is_none() && self.size > WHOLE_IN_MEMORY {
            let mut file = tempfile::tempfile()?;
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write_all(chunk),
            None => {
                self.memory.extend_from_slice(chunk);
                Ok(())
            }
        }
    }

    fn finish(self) -> std::io::Result<WholeFile> {
        let data = match self.file {
            Some(file) => WholeData::File(file),
            None => WholeData::Memory(self.memory),
        };
        Ok(WholeFile {
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            data,
        })
    }
}

/// [`Client::get_part`] of a local file: a range read, or the file hashed and kept open.
fn local_part(url: &Url, range: Option<ByteRange>, cap: u64) -> Result<Part, FetchError> {
    let fail = |message: String| FetchError::File {
        url: redact(url),
        message,
    };
    let path = url
        .to_file_path()
        .map_err(|_| fail("not a local path".into()))?;
    let mut file = std::fs::File::open(&path).map_err(|e| fail(e.to_string()))?;
    let len = file.metadata().map_err(|e| fail(e.to_string()))?.len();
    use std::io::Seek;
    let span = match range {
        Some(ByteRange::Span(r)) => r.start.min(len)..r.end.min(len),
        Some(ByteRange::Suffix(n)) => len.saturating_sub(n)..len,
        None => {
            let mut hasher = sha2::Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut size = 0u64;
            loop {
                let n = file.read(&mut buf).map_err(|e| fail(e.to_string()))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            file.seek(std::io::SeekFrom::Start(0))
                .map_err(|e| fail(e.to_string()))?;
            return Ok(Part::Whole(WholeFile {
                sha256: hex::encode(hasher.finalize()),
                size,
                data: WholeData::File(file),
            }));
        }
    };
    if span.end - span.start > cap {
        return Err(FetchError::TooLarge {
            url: redact(url),
            limit: cap,
        });
    }
    file.seek(std::io::SeekFrom::Start(span.start))
        .map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::with_capacity((span.end - span.start) as usize);
    file.take(span.end - span.start)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    Ok(Part::Range {
        start: span.start,
        bytes,
        total: Some(len),
    })
}

/// `bytes a-b/total` → (`a..b+1`, total; `*` when unknown).
fn parse_content_range(header: &str) -> Option<(Range<u64>, Option<u64>)> {
    let spec = header.trim().strip_prefix("bytes ")?;
    let (range, total) = spec.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (b >= a).then_some((a..b + 1, total.trim().parse().ok()))
}

/// `file://` URLs: a file, or for a folder its `index.html` (as pip reads a local index).
fn read_file_url(
    url: &Url,
    range: Option<Range<u64>>,
    cap: u64,
) -> Result<Option<Fetched>, FetchError> {
    let fail = |message: String| FetchError::File {
        url: redact(url),
        message,
    };
    let mut path = url
        .to_file_path()
        .map_err(|_| fail("not a local path".into()))?;
    if path.is_dir() {
        path = path.join("index.html");
    }
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    let len = file.metadata().map_err(|e| fail(e.to_string()))?.len();
    let (start, end) = match &range {
        Some(r) => (r.start.min(len), r.end.min(len)),
        None => (0, len),
    };
    if end - start > cap {
        return Err(FetchError::TooLarge {
            url: redact(url),
            limit: cap,
        });
    }
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(start))
        .map_err(|e| fail(e.to_string()))?;
    let mut body = Vec::with_capacity((end - start) as usize);
    file.take(end - start)
        .read_to_end(&mut body)
        .map_err(|e| fail(e.to_string()))?;
    let content_type = path
        .extension()
        .is_some_and(|e| e == "html")
        .then(|| "text/html".to_string());
    Ok(Some(Fetched {
        url: Url::from_file_path(&path).unwrap_or_else(|_| url.clone()),
        content_type,
        body,
        range: range.map(|_| start..end),
        total: Some(len),
        etag: None,
        last_modified: None,
        not_modified: false,
        fresh_for: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 0-99/1000"),
            Some((0..100, Some(1000)))
        );
        assert_eq!(parse_content_range("bytes 0-99/*"), Some((0..100, None)));
        assert_eq!(parse_content_range("bytes */1000"), None);
        assert_eq!(parse_content_range("bytes 9-3/10"), None);
    }

    #[test]
    fn plain_http_only_on_loopback_or_trusted() {
        let client = Client::new(
            ClientOptions {
                trusted_hosts: vec!["intranet.test".into()],
                ..ClientOptions::default()
            },
            &[],
        )
        .unwrap();
        let ok = |u: &str| client.check_scheme(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("http://127.0.0.1:8080/simple/"));
        assert!(ok("http://localhost/simple/"));
        assert!(ok("http://intranet.test/simple/"));
        assert!(ok("https://anything.test/simple/"));
        assert!(!ok("http://elsewhere.test/simple/"));
    }

    #[test]
    fn freshness_from_cache_control() {
        let f = |cc: &str, age: Option<&str>| freshness(Some(cc), age).map(|d| d.as_secs());
        assert_eq!(f("max-age=600, public", None), Some(600));
        assert_eq!(f("public, max-age=600", Some("100")), Some(500));
        assert_eq!(f("max-age=600", Some("700")), None);
        assert_eq!(f("max-age=600, no-cache", None), None);
        assert_eq!(f("no-store", None), None);
        assert_eq!(f("public", None), None);
        assert_eq!(freshness(None, None), None);
    }

    #[test]
    fn network_errors_never_carry_credentials() {
        let url = Url::parse("https://user:s3cret@index.test/simple/x/").unwrap();
        let err = FetchError::Insecure { url: redact(&url) };
        assert!(!err.to_string().contains("s3cret"));
        assert!(!err.to_string().contains("user"));
    }

    /// A server on loopback that answers `ok` to every GET, except those whose path starts
    /// with `/hang`, which it never answers, and conditional ones, which it answers 304 unless
    /// the path starts with `/changed`. Each request's path is noted as it arrives.
    async fn hanging_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let noted = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let noted = Arc::clone(&noted);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let path = String::from_utf8_lossy(&request)
                        .split(' ')
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    noted.lock().unwrap().push(path);
                    if request.starts_with(b"GET /hang") {
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    }
                    let conditional = String::from_utf8_lossy(&request)
                        .to_ascii_lowercase()
                        .contains("\r\nif-none-match:");
                    let answer: &[u8] = if conditional && !request.starts_with(b"GET /changed") {
                        b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n"
                    } else {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    };
                    let _ = socket.write_all(answer).await;
                });
            }
        });
        (addr, seen)
    }

    /// A client of [`hanging_server`] allowed one request per lane, past its first answer from
    /// the host (which lets later requests go at once), the server's URL for a path, and the
    /// paths it has been asked for.
    async fn one_request_per_lane() -> (Client, impl Fn(&str) -> Url, Arc<Mutex<Vec<String>>>) {
        let (addr, seen) = hanging_server().await;
        let url = move |path: &str| Url::parse(&format!("http://{addr}{path}")).unwrap();
        let client = Client::new(
            ClientOptions {
                concurrency: 1,
                ..ClientOptions::default()
            },
            &[],
        )
        .unwrap();
        client.get_small(&url("/first"), 1024).await.unwrap();
        (client, url, seen)
    }

    /// With one request allowed per lane, a guessed `.metadata` the index never answers holds
    /// up neither a page nor a proof's request, and a proof's request that hangs holds up no
    /// page: pages start every project's pipeline.
    #[test]
    fn a_hanging_request_holds_up_only_its_own_lane() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let (client, url, _) = one_request_per_lane().await;
            let guess = {
                let (client, url) = (client.clone(), url("/hang.metadata"));
                tokio::spawn(async move { client.get_guess(&url, 1024).await })
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
            let others = async {
                let page = client.get_page(&url("/simple/demo/"), None).await;
                let small = client.get_small(&url("/other.metadata"), 1024).await;
                (page.unwrap().unwrap().body, small.unwrap().unwrap().body)
            };
            let answered = tokio::time::timeout(Duration::from_secs(10), others).await;
            assert_eq!(
                answered.expect("a hanging guess held up a page or a proof's request"),
                (b"ok".to_vec(), b"ok".to_vec())
            );
            assert!(!guess.is_finished(), "the guess was never answered");

            let small = {
                let (client, url) = (client.clone(), url("/hang.whl"));
                tokio::spawn(async move { client.get_small(&url, 1024).await })
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
            let page = tokio::time::timeout(
                Duration::from_secs(10),
                client.get_page(&url("/simple/other/"), None),
            )
            .await
            .expect("a hanging proof request held up a page");
            assert_eq!(page.unwrap().unwrap().body, b"ok");
            assert!(!small.is_finished(), "the proof request was never answered");
            guess.abort();
            small.abort();
        });
    }

    /// With one request allowed per lane, a page asked for again (conditionally) does not wait
    /// behind a page that hangs, and comes back 304; a page that did change waits for the
    /// pages' lane before its body is read, as every page body does, and a cached page with no
    /// validator is asked for in the pages' lane.
    #[test]
    fn a_revalidation_takes_a_place_among_pages_only_to_read_a_changed_body() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let (client, url, seen) = one_request_per_lane().await;
            let hanging = {
                let (client, url) = (client.clone(), url("/hang/simple/slow/"));
                tokio::spawn(async move { client.get_page(&url, None).await })
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
            let cached = PageEntry {
                url: url("/simple/demo/").to_string(),
                content_type: Some(SIMPLE_JSON.into()),
                etag: Some("\"v1\"".into()),
                last_modified: None,
                fresh_until: None,
                body: Vec::new(),
            };
            let same = tokio::time::timeout(
                Duration::from_secs(10),
                client.get_page(&url("/simple/demo/"), Some(&cached)),
            )
            .await
            .expect("a revalidation waited for a hanging page");
            assert!(same.unwrap().unwrap().not_modified);

            let changed = {
                let (client, url, cached) =
                    (client.clone(), url("/changed/simple/demo/"), cached.clone());
                tokio::spawn(async move { client.get_page(&url, Some(&cached)).await })
            };
            // Cached, but with nothing to revalidate by: an ordinary page request.
            let unvalidated = {
                let cached = PageEntry {
                    etag: None,
                    ..cached
                };
                let (client, url) = (client.clone(), url("/simple/other/"));
                tokio::spawn(async move { client.get_page(&url, Some(&cached)).await })
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                !changed.is_finished(),
                "a changed page's body was read outside the pages' lane"
            );
            assert!(
                !seen.lock().unwrap().iter().any(|p| p == "/simple/other/"),
                "a page without validators was asked for outside the pages' lane"
            );
            assert!(
                !hanging.is_finished(),
                "the hanging page was never answered"
            );
            hanging.abort();
            let changed = tokio::time::timeout(Duration::from_secs(10), changed)
                .await
                .expect("the changed page was not read once the pages' lane was free");
            let fetched = changed.unwrap().unwrap().unwrap();
            assert!(!fetched.not_modified);
            assert_eq!(fetched.body, b"ok");
            let fetched = tokio::time::timeout(Duration::from_secs(10), unvalidated)
                .await
                .expect("the page without validators was not read once the lane was free");
            assert_eq!(fetched.unwrap().unwrap().unwrap().body, b"ok");
        });
    }
}
