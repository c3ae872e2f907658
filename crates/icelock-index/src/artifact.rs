//! Reading a wheel to prove what it holds: its RECORD and a few members, through HTTP ranges
//! where the server allows them, or the whole file, streamed through sha256, where it does not,
//! where the file's hash is not known, or where it is asked for. A local file is read in place.
//!
//! A wheel is opened with one request for its tail, sized to hold the end-of-central-directory
//! record, the central directory and, as every build backend writes wheels, RECORD (the caller
//! says how long those should be, from the installed RECORD): a proof usually costs that one
//! request after the page. The bytes fetched are kept, so asking for
//! more members later fetches only what is missing.

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use url::Url;

use crate::client::{ByteRange, Part, WholeData, WholeFile};
use crate::config::redact;
use crate::lookup::{Indexes, LookupError};
use crate::sparse_zip::{self, ExpectedTail, MemberRead, SparseFile, Step};

/// How to read a wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Ranges where the server honours them (the whole file where it does not), the first one
    /// as long as the expected tail where there is one.
    Ranges(Option<ExpectedTail>),
    /// The whole file, hashed.
    Whole,
}

/// A wheel being read.
#[derive(Debug)]
pub struct WheelFile {
    url: Url,
    body: Body,
    fetched: u64,
    requests: u32,
}

#[derive(Debug)]
enum Body {
    /// Known only by the ranges fetched so far.
    Sparse(SparseFile),
    Whole(WholeFile),
}

/// What [`WheelFile::members`] found.
#[derive(Debug, Clone, Default)]
pub struct Members {
    /// By exact path; a name the zip does not hold is absent.
    pub found: BTreeMap<String, Vec<u8>>,
    /// Every member's name and inflated size, from the central directory.
    pub listing: BTreeMap<String, sparse_zip::MemberInfo>,
}

/// The first suffix asked of a wheel whose size no page gave.
const SUFFIX_GUESS: u64 = 256 * 1024;

impl Indexes {
    /// Opens the wheel at `url`, `listed_size` being what the page said of its size: the first
    /// request is made here (the tail, or the whole file).
    pub async fn open_wheel(
        &self,
        url: &Url,
        listed_size: Option<u64>,
        reading: Reading,
    ) -> Result<WheelFile, LookupError> {
        let mut wheel = WheelFile {
            url: url.clone(),
            body: Body::Sparse(SparseFile::new(0)),
            fetched: 0,
            requests: 0,
        };
        let first = match (reading, listed_size) {
            (Reading::Whole, _) => None,
            (Reading::Ranges(expected), Some(size)) => {
                Some(ByteRange::Span(sparse_zip::first_tail(size, expected)))
            }
            (Reading::Ranges(expected), None) => Some(ByteRange::Suffix(
                expected.map_or(SUFFIX_GUESS, |e| e.len(u64::MAX)),
            )),
        };
        let part = match wheel.get(self, first.clone(), listed_size).await {
            // A CDN that refuses suffix ranges (real PyPI's has answered them with 501): the
            // size, then the tail.
            Err(LookupError::Fetch(crate::FetchError::Status {
                status: 501 | 416, ..
            })) if matches!(first, Some(ByteRange::Suffix(_))) => {
                let size = self.client().total_size(url).await?;
                wheel.requests += 1;
                let expected = match reading {
                    Reading::Ranges(expected) => expected,
                    Reading::Whole => None,
                };
                let tail = sparse_zip::first_tail(size, expected);
                wheel
                    .get(self, Some(ByteRange::Span(tail)), Some(size))
                    .await?
            }
            other => other?,
        };
        match part {
            Part::Whole(whole) => {
                if let Some(listed) = listed_size
                    && listed != whole.size
                {
                    return Err(wheel.error(format!(
                        "the index lists the file's size as {listed} bytes, but the server sent {}",
                        whole.size
                    )));
                }
                wheel.body = Body::Whole(whole);
            }
            Part::Range {
                start,
                bytes,
                total,
            } => {
                let size = match (total, listed_size) {
                    (Some(total), Some(listed)) if total != listed => {
                        return Err(wheel.error(format!(
                            "the index lists the file's size as {listed} bytes, but the server says it has {total}"
                        )));
                    }
                    (Some(total), _) => total,
                    (None, Some(listed)) => listed,
                    (None, None) => {
                        return Err(wheel
                            .error("the server answered a range without the file's size".into()));
                    }
                };
                let mut sparse = SparseFile::new(size);
                sparse.insert(start, bytes);
                wheel.body = Body::Sparse(sparse);
            }
        }
        Ok(wheel)
    }
}

impl WheelFile {
    /// The file's size, as the server (or the file system) gave it.
    pub fn size(&self) -> u64 {
        match &self.body {
            Body::Sparse(sparse) => sparse.size(),
            Body::Whole(whole) => whole.size,
        }
    }

    /// The whole file's sha256 (hex), when it was read whole.
    pub fn sha256(&self) -> Option<&str> {
        match &self.body {
            Body::Whole(whole) => Some(&whole.sha256),
            Body::Sparse(_) => None,
        }
    }

    /// Bytes transferred (or read, for a local file) so far.
    pub fn fetched(&self) -> u64 {
        self.fetched
    }

    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Reads `names` (exact paths inside the zip), each inflating to at most `cap` bytes (a
    /// larger one is an error: ask only for what the listing of an earlier read allows).
    pub async fn members(
        &mut self,
        indexes: &Indexes,
        names: &[String],
        cap: u64,
    ) -> Result<Members, LookupError> {
        let sparse = match &mut self.body {
            Body::Whole(whole) => return whole_members(&self.url, whole, names, cap),
            Body::Sparse(sparse) => std::mem::take(sparse),
        };
        // One plan for the whole read: it counts its rounds, so a hostile zip cannot make it
        // ask forever.
        let mut read = MemberRead::resume(sparse, names, cap);
        loop {
            match read.next_step() {
                Step::Fetch(range) => {
                    let size = read.sparse().size();
                    let part = self
                        .get(indexes, Some(ByteRange::Span(range)), Some(size))
                        .await;
                    match part {
                        Ok(Part::Range { start, bytes, .. }) => read.insert(start, bytes),
                        Ok(Part::Whole(whole)) => {
                            if whole.size != size {
                                return Err(self.error(format!(
                                    "the server ignored Range and sent {} bytes of a file of {size}",
                                    whole.size
                                )));
                            }
                            self.body = Body::Whole(whole);
                            let Body::Whole(whole) = &mut self.body else {
                                unreachable!("just set")
                            };
                            return whole_members(&self.url, whole, names, cap);
                        }
                        Err(err) => {
                            self.body = Body::Sparse(read.into_sparse());
                            return Err(err);
                        }
                    }
                }
                Step::Done(found) => {
                    let listing = read.listing().cloned().unwrap_or_default();
                    self.body = Body::Sparse(read.into_sparse());
                    return Ok(Members { found, listing });
                }
                Step::Failed(message) => {
                    self.body = Body::Sparse(read.into_sparse());
                    return Err(self.error(message));
                }
            }
        }
    }

    /// For a wheel read whole, each of `names` (exact paths inside the zip) inflated and
    /// hashed with the algorithm given beside it (`sha256`, `sha384` or `sha512`), streamed, so
    /// a large member is never held; a name the zip does not hold is absent. `None` when only
    /// ranges were read: then the member bytes were never in hand.
    pub fn whole_member_digests(
        &mut self,
        names: &[(String, String)],
    ) -> Option<Result<BTreeMap<String, Vec<u8>>, LookupError>> {
        let Body::Whole(whole) = &mut self.body else {
            return None;
        };
        let url = &self.url;
        let fail = |e: zip::result::ZipError| unreadable_zip(url, e);
        let digests = (|| {
            let mut archive = open_whole(url, whole)?;
            let mut out = BTreeMap::new();
            for (name, algorithm) in names {
                let member = match archive.by_name(name) {
                    Ok(member) => member,
                    Err(zip::result::ZipError::FileNotFound) => continue,
                    Err(err) => return Err(fail(err)),
                };
                let digest = digest_of(member, algorithm).map_err(|e| LookupError::Wheel {
                    url: redact(url),
                    message: format!("{name} could not be inflated: {e}"),
                })?;
                out.insert(name.clone(), digest);
            }
            Ok(out)
        })();
        Some(digests)
    }

    async fn get(
        &mut self,
        indexes: &Indexes,
        range: Option<ByteRange>,
        size: Option<u64>,
    ) -> Result<Part, LookupError> {
        let client = indexes.client();
        let cap = match &range {
            Some(ByteRange::Span(r)) => r.end - r.start,
            Some(ByteRange::Suffix(n)) => *n,
            None => 0,
        };
        // A whole file is bounded by what the page said of it, else by the client's limit.
        let whole_cap = size.map_or(client.options().max_wheel_bytes, |s| s + 1024);
        self.requests += 1;
        let part = client.get_part(&self.url, range, cap, whole_cap).await?;
        self.fetched += match &part {
            Part::Range { bytes, .. } => bytes.len() as u64,
            Part::Whole(whole) => whole.size,
        };
        Ok(part)
    }

    fn error(&self, message: String) -> LookupError {
        LookupError::Wheel {
            url: redact(&self.url),
            message,
        }
    }
}

/// A reader's bytes hashed with a RECORD algorithm; an unknown algorithm is an error.
fn digest_of(mut reader: impl Read, algorithm: &str) -> std::io::Result<Vec<u8>> {
    fn stream<D: sha2::Digest>(mut reader: impl Read) -> std::io::Result<Vec<u8>> {
        let mut hasher = D::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer)?;
            if n == 0 {
                return Ok(hasher.finalize().to_vec());
            }
            hasher.update(&buffer[..n]);
        }
    }
    match algorithm {
        "sha256" => stream::<sha2::Sha256>(&mut reader),
        "sha384" => stream::<sha2::Sha384>(&mut reader),
        "sha512" => stream::<sha2::Sha512>(&mut reader),
        other => Err(std::io::Error::other(format!(
            "hash algorithm {other:?} is not supported"
        ))),
    }
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

fn unreadable_zip(url: &Url, e: zip::result::ZipError) -> LookupError {
    LookupError::Wheel {
        url: redact(url),
        message: format!("not a readable zip: {e}"),
    }
}

/// The zip of a wheel read whole, where its bytes are (in memory or in a file).
fn open_whole<'a>(
    url: &Url,
    whole: &'a mut WholeFile,
) -> Result<zip::ZipArchive<Box<dyn ReadSeek + 'a>>, LookupError> {
    let reader: Box<dyn ReadSeek + 'a> = match &mut whole.data {
        WholeData::Memory(bytes) => Box::new(std::io::Cursor::new(bytes.as_slice())),
        WholeData::File(file) => Box::new(&*file),
    };
    zip::ZipArchive::new(reader).map_err(|e| unreadable_zip(url, e))
}

/// Members of a wheel read whole (in memory or in a file).
fn whole_members(
    url: &Url,
    whole: &mut WholeFile,
    names: &[String],
    cap: u64,
) -> Result<Members, LookupError> {
    let fail = |e: zip::result::ZipError| unreadable_zip(url, e);
    let mut archive = open_whole(url, whole)?;
    let mut found = BTreeMap::new();
    for name in names {
        if let Some(bytes) = sparse_zip::read_member(&mut archive, name, cap).map_err(fail)? {
            found.insert(name.clone(), bytes);
        }
    }
    let listing = sparse_zip::listing(&archive).map_err(fail)?;
    Ok(Members { found, listing })
}
