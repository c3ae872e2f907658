//! Reading a few members of a remote zip (a wheel) from the byte ranges that hold them.
//!
//! A wheel's central directory sits at its end and says where each member is, so METADATA and
//! RECORD can be read with a handful of range requests instead of the whole file. The zip
//! format itself is parsed by the `zip` crate over a [`SparseReader`] that knows only the ranges
//! fetched so far: a read of a missing range fails with [`NeedRange`], the caller fetches it, and
//! the attempt is repeated. Each attempt is pure computation on what is already here.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

/// The smallest range worth a request: a round trip costs far more than 64 KiB of transfer.
pub const MIN_FETCH: u64 = 64 * 1024;

/// How much of a file's end to ask for first when nothing is known of its members: enough for
/// the end-of-central-directory record (with a comment of up to 64 KiB), and beyond it a share
/// of the file, since the central directory and RECORD grow with the number of files, which
/// grows with the wheel. A 128th covers both for all but a few wheels (numpy's 17 MB wheel:
/// ~180 KB of them); the rare wheel it misses costs one more request, for exactly the bytes the
/// directory then places.
pub fn tail_len(size: u64) -> u64 {
    (MIN_FETCH + size / 128).min(MAX_TAIL).min(size)
}

/// The most a first read asks for when nothing is known of the file's members.
const MAX_TAIL: u64 = 1024 * 1024;

/// The most a first read asks for on the strength of an [`ExpectedTail`]: a wheel of a hundred
/// thousand files. A larger guess is more likely a broken RECORD than a real wheel.
const MAX_EXPECTED_TAIL: u64 = 16 * 1024 * 1024;

/// How many bytes at a wheel's end are expected to hold the end-of-central-directory record,
/// the central directory and RECORD, worked out from what the wheel should contain (the
/// installed RECORD says which files, so how long the directory and RECORD are). It replaces the
/// share-of-the-file guess, which for the many small wheels of an environment is most of each
/// file. A guess that falls short costs one more request, never a wrong answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedTail(pub u64);

impl ExpectedTail {
    /// The first range to ask for in a file of `size` bytes.
    pub fn len(self, size: u64) -> u64 {
        self.0.min(MAX_EXPECTED_TAIL).min(size)
    }
}

/// The first range of a file of `size` bytes: the expected tail where there is one, else a
/// share of the file.
pub fn first_tail(size: u64, expected: Option<ExpectedTail>) -> Range<u64> {
    let len = expected.map_or_else(|| tail_len(size), |e| e.len(size));
    size.saturating_sub(len)..size
}

/// The bytes of a remote file that have been fetched, by offset.
#[derive(Debug, Clone, Default)]
pub struct SparseFile {
    size: u64,
    chunks: BTreeMap<u64, Vec<u8>>,
}

/// A read needed bytes that have not been fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bytes {}..{} are not fetched yet", .0.start, .0.end)]
pub struct NeedRange(pub Range<u64>);

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt<T> {
    Done(T),
    Need(Range<u64>),
    Failed(zip::result::ZipError),
}

impl SparseFile {
    pub fn new(size: u64) -> Self {
        Self {
            size,
            chunks: BTreeMap::new(),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The range to fetch first: the tail, where the end-of-central-directory record, the
    /// central directory and, in a wheel as every build backend writes one, RECORD are.
    pub fn tail(&self) -> Range<u64> {
        first_tail(self.size, None)
    }

    /// Records fetched bytes starting at `start` (anything past the end of the file is dropped).
    pub fn insert(&mut self, start: u64, mut bytes: Vec<u8>) {
        let end = self.size.min(start + bytes.len() as u64);
        bytes.truncate((end.saturating_sub(start)) as usize);
        if !bytes.is_empty() {
            self.chunks.insert(start, bytes);
        }
    }

    pub fn fetched_bytes(&self) -> u64 {
        self.chunks.values().map(|c| c.len() as u64).sum()
    }

    /// The fetched chunk covering `pos`, as (chunk start, bytes).
    fn chunk_at(&self, pos: u64) -> Option<(u64, &[u8])> {
        self.chunks
            .range(..=pos)
            .rev()
            .find(|(start, bytes)| pos < **start + bytes.len() as u64)
            .map(|(start, bytes)| (*start, bytes.as_slice()))
    }

    /// Widens a needed range to a worthwhile request, staying inside the file and stopping at
    /// bytes already fetched (they would only be fetched twice).
    pub fn widen(&self, need: Range<u64>) -> Range<u64> {
        let next_fetched = self
            .chunks
            .range(need.start + 1..)
            .next()
            .map(|(start, _)| *start)
            .unwrap_or(self.size);
        let end = need
            .end
            .max(need.start + MIN_FETCH)
            .min(next_fetched.max(need.end))
            .min(self.size);
        need.start..end
    }

    /// The central directory's range, read from the end-of-central-directory record in the
    /// fetched tail: fetching it in one request saves a round trip per 64 KiB of a large
    /// directory. `None` when the record is not in the tail or uses zip64 markers (the zip
    /// crate then finds its way range by range).
    pub fn central_directory(&self) -> Option<Range<u64>> {
        // Fetched chunks end at the file's end at the latest, so this one ends there.
        let (_, bytes) = self.chunk_at(self.size.checked_sub(1)?)?;
        // The record is 22 bytes, then a comment whose length it gives, at the very end. The
        // last signature whose comment ends exactly at the file's end is the record, as a zip
        // reader finds it; a short tail that holds none leaves the search to the zip crate.
        let pos = (0..bytes.len().saturating_sub(21)).rev().find(|&pos| {
            let comment = u16::from_le_bytes([bytes[pos + 20], bytes[pos + 21]]);
            bytes[pos..pos + 4] == [0x50, 0x4b, 0x05, 0x06]
                && pos + 22 + usize::from(comment) == bytes.len()
        })?;
        let record = &bytes[pos..pos + 22];
        let cd_size = u32::from_le_bytes(record[12..16].try_into().ok()?) as u64;
        let cd_offset = u32::from_le_bytes(record[16..20].try_into().ok()?) as u64;
        if cd_size == u64::from(u32::MAX) || cd_offset == u64::from(u32::MAX) {
            return None;
        }
        let end = cd_offset.checked_add(cd_size)?;
        (end <= self.size).then_some(cd_offset..end)
    }

    /// The first part of `range` not fetched yet, if any.
    pub fn first_gap(&self, range: &Range<u64>) -> Option<Range<u64>> {
        let mut pos = range.start;
        while pos < range.end {
            match self.chunk_at(pos) {
                Some((start, bytes)) => pos = start + bytes.len() as u64,
                None => {
                    let next = self
                        .chunks
                        .range(pos..)
                        .next()
                        .map_or(range.end, |(start, _)| *start);
                    return Some(pos..next.min(range.end));
                }
            }
        }
        None
    }

    /// Whether every byte of `range` is fetched already.
    pub fn has(&self, range: &Range<u64>) -> bool {
        self.chunk_at(range.start)
            .is_some_and(|(start, bytes)| range.end <= start + bytes.len() as u64)
    }

    /// Runs `f` on a zip archive over the fetched bytes.
    pub fn attempt<T>(
        &self,
        f: impl FnOnce(&mut zip::ZipArchive<SparseReader<'_>>) -> zip::result::ZipResult<T>,
    ) -> Attempt<T> {
        let reader = SparseReader { file: self, pos: 0 };
        let result = zip::ZipArchive::new(reader).and_then(|mut archive| f(&mut archive));
        match result {
            Ok(value) => Attempt::Done(value),
            Err(err) => match need_of(&err) {
                Some(range) => Attempt::Need(self.widen(range)),
                None => Attempt::Failed(err),
            },
        }
    }
}

fn need_of(err: &zip::result::ZipError) -> Option<Range<u64>> {
    match err {
        zip::result::ZipError::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<NeedRange>())
            .map(|n| n.0.clone()),
        _ => None,
    }
}

/// `Read + Seek` over a [`SparseFile`].
pub struct SparseReader<'a> {
    file: &'a SparseFile,
    pos: u64,
}

impl Read for SparseReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.file.size || buf.is_empty() {
            return Ok(0);
        }
        match self.file.chunk_at(self.pos) {
            Some((start, bytes)) => {
                let offset = (self.pos - start) as usize;
                let n = buf.len().min(bytes.len() - offset);
                buf[..n].copy_from_slice(&bytes[offset..offset + n]);
                self.pos += n as u64;
                Ok(n)
            }
            None => {
                // Ask for the gap up to the next fetched chunk (or what this read wants).
                let next = self
                    .file
                    .chunks
                    .range(self.pos..)
                    .next()
                    .map(|(s, _)| *s)
                    .unwrap_or(self.file.size);
                // What this read wants, never past the next fetched chunk: asking for the whole
                // gap would fetch most of a wheel whose METADATA sits near its start.
                let want = (self.pos + buf.len() as u64).min(self.file.size);
                let end = want.min(next).max(self.pos + 1);
                Err(std::io::Error::other(NeedRange(self.pos..end)))
            }
        }
    }
}

impl Seek for SparseReader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.file.size as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ));
        }
        self.pos = target as u64;
        Ok(self.pos)
    }
}

/// The most zip attempts one read may take: a wheel as any tool builds it needs three or four
/// (tail, central directory, members); more means a hostile or broken file.
pub const MAX_ROUNDS: u32 = 16;

/// Reading named members of a remote zip as a sequence of range requests, with no I/O of its
/// own: the caller fetches each [`Step::Fetch`] and hands the bytes back with
/// [`MemberRead::insert`]. The HTTP lookup and the fuzz target drive the same plan.
#[derive(Debug)]
pub struct MemberRead {
    sparse: SparseFile,
    names: Vec<String>,
    cap: u64,
    stage: Stage,
    rounds: u32,
    /// Where the wanted members lie, once the central directory has said so: neighbours are
    /// merged, so a wheel's METADATA and RECORD (side by side at its end) are one request.
    spans: Option<Vec<Range<u64>>>,
    /// Every member as the directory describes it, read when the members were.
    listing: Option<BTreeMap<String, MemberInfo>>,
}

/// Room left after a member's compressed bytes, as the central directory gives them, for what
/// only its local header says: a local extra field (tens of bytes as tools write them) and a
/// data descriptor. A local header that needs more costs one more round trip, not an error.
const LOCAL_HEADER_SLACK: u64 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Tail,
    Directory,
    Members,
}

/// What to do next.
#[derive(Debug)]
pub enum Step {
    /// Fetch these bytes and [`MemberRead::insert`] them.
    Fetch(Range<u64>),
    /// The members found, by name (a name absent from the zip is absent here).
    Done(BTreeMap<String, Vec<u8>>),
    /// Not a readable zip, or one that would take too many requests.
    Failed(String),
}

impl MemberRead {
    /// Plans to read `names` (exact paths inside the zip) from a file of `size` bytes, each
    /// member inflating to at most `cap` bytes.
    pub fn new(size: u64, names: &[String], cap: u64) -> Self {
        Self {
            sparse: SparseFile::new(size),
            names: names.to_vec(),
            cap,
            stage: Stage::Tail,
            rounds: 0,
            spans: None,
            listing: None,
        }
    }

    /// Plans to read `names` from a file some of whose bytes were fetched by an earlier read:
    /// what is there is not asked for again.
    pub fn resume(sparse: SparseFile, names: &[String], cap: u64) -> Self {
        let size = sparse.size();
        let has_tail = size > 0 && sparse.has(&(size - 1..size));
        Self {
            sparse,
            names: names.to_vec(),
            cap,
            stage: if has_tail {
                Stage::Directory
            } else {
                Stage::Tail
            },
            rounds: 0,
            spans: None,
            listing: None,
        }
    }

    pub fn sparse(&self) -> &SparseFile {
        &self.sparse
    }

    /// The fetched bytes, for a later [`MemberRead::resume`].
    pub fn into_sparse(self) -> SparseFile {
        self.sparse
    }

    /// Every member as the directory describes it, once [`Step::Done`] was returned.
    pub fn listing(&self) -> Option<&BTreeMap<String, MemberInfo>> {
        self.listing.as_ref()
    }

    pub fn insert(&mut self, start: u64, bytes: Vec<u8>) {
        self.sparse.insert(start, bytes);
    }

    pub fn next_step(&mut self) -> Step {
        if self.stage == Stage::Tail {
            self.stage = Stage::Directory;
            if self.sparse.size() == 0 {
                return Step::Failed("the file is empty".into());
            }
            return Step::Fetch(self.sparse.tail());
        }
        if self.stage == Stage::Directory {
            self.stage = Stage::Members;
            // A large central directory (a wheel of thousands of files) is fetched whole at
            // once, not 64 KiB per round trip.
            if let Some(directory) = self.sparse.central_directory()
                && directory.end - directory.start <= self.cap
                && let Some(missing) = self.sparse.first_gap(&directory)
            {
                return Step::Fetch(missing);
            }
        }
        if self.rounds > MAX_ROUNDS {
            return Step::Failed(format!(
                "the zip needs more than {MAX_ROUNDS} range requests to read {} members: not a wheel as built by any tool",
                self.names.len()
            ));
        }
        self.rounds += 1;
        // Once the directory is here, the members are fetched whole in one request: reading
        // them through the zip reader would ask for 64 KiB per round trip, and a wheel of
        // thousands of files has a RECORD of hundreds of KiB.
        if self.spans.is_none() {
            self.spans = self.member_spans();
        }
        let gap = self
            .spans
            .iter()
            .flatten()
            .find_map(|span| self.sparse.first_gap(span));
        // Exactly the gap: the directory says where the members end, so widening to a 64 KiB
        // guess would only fetch bytes nobody reads.
        if let Some(gap) = gap {
            return Step::Fetch(gap);
        }
        let (names, cap) = (&self.names, self.cap);
        let attempt = self.sparse.attempt(|archive| {
            let mut found = BTreeMap::new();
            for name in names {
                if let Some(bytes) = read_member(archive, name, cap)? {
                    found.insert(name.clone(), bytes);
                }
            }
            Ok((found, listing(archive)?))
        });
        match attempt {
            Attempt::Done((found, all)) => {
                self.listing = Some(all);
                Step::Done(found)
            }
            Attempt::Need(range) => Step::Fetch(range),
            Attempt::Failed(err) => Step::Failed(format!("not a readable zip: {err}")),
        }
    }
}

impl MemberRead {
    /// Each wanted member's bytes, from its local header to the end of its data, as the central
    /// directory places them; `None` until the directory is fetched. A member larger than the
    /// cap is left to the zip reader, which refuses it.
    fn member_spans(&self) -> Option<Vec<Range<u64>>> {
        let (names, cap, size) = (&self.names, self.cap, self.sparse.size());
        let Attempt::Done(mut spans) = self.sparse.attempt(|archive| {
            let mut spans = Vec::new();
            for name in names {
                let Some(index) = archive.index_for_name(name) else {
                    continue;
                };
                let entry = archive.by_index_data(index)?;
                if entry.compressed_size() > cap {
                    continue;
                }
                let start = entry.header_start();
                // The local header is 30 bytes and the name, as in the directory.
                let end = start
                    .saturating_add(30 + name.len() as u64 + LOCAL_HEADER_SLACK)
                    .saturating_add(entry.compressed_size())
                    .min(size);
                if start < end {
                    spans.push(start..end);
                }
            }
            Ok(spans)
        }) else {
            return None;
        };
        spans.sort_by_key(|span| span.start);
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(spans.len());
        for span in spans {
            match merged.last_mut() {
                // Bytes between two members are fetched when that costs less than a round trip.
                Some(last) if span.start <= last.end.saturating_add(MIN_FETCH) => {
                    last.end = last.end.max(span.end);
                }
                _ => merged.push(span),
            }
        }
        Some(merged)
    }
}

/// One member as the central directory describes it: what an installer extracting it would
/// write, as far as the directory can tell without its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberInfo {
    /// Inflated size.
    pub size: u64,
    /// CRC-32 of the inflated bytes, which every extractor checks.
    pub crc32: u32,
}

/// Every member by name, as the central directory gives them; a member whose data the
/// directory places past its own start is refused (no extractor could read it).
pub fn listing<R: Read + Seek>(
    archive: &zip::ZipArchive<R>,
) -> zip::result::ZipResult<BTreeMap<String, MemberInfo>> {
    let directory = archive.central_directory_start();
    (0..archive.len())
        .map(|i| {
            let entry = archive.by_index_data(i)?;
            let name = entry.name()?.into_owned();
            let end = entry
                .header_start()
                .saturating_add(30 + name.len() as u64)
                .saturating_add(entry.compressed_size());
            if end > directory {
                return Err(zip::result::ZipError::InvalidArchive(
                    format!(
                        "{name}'s data would end at byte {end}, past the central directory (at {directory})"
                    )
                    .into(),
                ));
            }
            let info = MemberInfo {
                size: entry.size(),
                crc32: entry.crc32(),
            };
            Ok((name, info))
        })
        .collect()
}

/// Reads a member fully, refusing one that inflates past `cap` bytes (a zip bomb, or a lie in
/// the central directory).
pub fn read_member<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    cap: u64,
) -> zip::result::ZipResult<Option<Vec<u8>>> {
    let mut member = match archive.by_name(name) {
        Ok(member) => member,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(err) => return Err(err),
    };
    if member.size() > cap {
        return Err(zip::result::ZipError::InvalidArchive(
            format!(
                "{name} declares {} bytes, more than the {cap} allowed",
                member.size()
            )
            .into(),
        ));
    }
    let mut out = Vec::with_capacity(member.size() as usize);
    (&mut member).take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(zip::result::ZipError::InvalidArchive(
            format!("{name} inflates past the {cap} bytes allowed").into(),
        ));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn wheel(filler: usize) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            zip.start_file("demo/big.bin", stored).unwrap();
            // Incompressible filler so the members of interest sit far from the tail.
            let mut x: u32 = 1;
            let noise: Vec<u8> = (0..filler)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            zip.write_all(&noise).unwrap();
            zip.start_file("demo-1.0.dist-info/METADATA", opts).unwrap();
            zip.write_all(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
                .unwrap();
            zip.start_file("demo-1.0.dist-info/RECORD", opts).unwrap();
            zip.write_all(b"demo/big.bin,sha256=x,1\n").unwrap();
            zip.finish().unwrap();
        }
        buf.into_inner()
    }

    /// Drives the plan the way the HTTP client does, counting requests.
    fn fetch_metadata(bytes: &[u8]) -> (Vec<u8>, usize, u64) {
        let name = "demo-1.0.dist-info/METADATA".to_string();
        let mut read = MemberRead::new(bytes.len() as u64, std::slice::from_ref(&name), 16 << 20);
        let mut requests = 0;
        loop {
            match read.next_step() {
                Step::Fetch(range) => {
                    requests += 1;
                    assert!(requests < 10, "too many round trips");
                    read.insert(
                        range.start,
                        bytes[range.start as usize..range.end as usize].to_vec(),
                    );
                }
                Step::Done(mut found) => {
                    return (
                        found.remove(&name).unwrap(),
                        requests,
                        read.sparse().fetched_bytes(),
                    );
                }
                Step::Failed(err) => panic!("{err}"),
            }
        }
    }

    /// A tail far shorter than 64 KiB (an expected tail, as the installed RECORD sizes it)
    /// still places the central directory, with or without a zip comment, while a comment that
    /// only looks like the record's end is not taken for it.
    #[test]
    fn short_tail_places_the_directory() {
        for comment in [&b""[..], b"built by hand", b"PK\x05\x06 fake"] {
            let mut bytes = wheel(100_000);
            let eocd = bytes.len() - 22;
            assert_eq!(bytes[eocd..eocd + 4], [0x50, 0x4b, 0x05, 0x06]);
            let expected = u32::from_le_bytes(bytes[eocd + 16..eocd + 20].try_into().unwrap())
                as u64..(eocd as u64);
            bytes.truncate(eocd + 20);
            bytes.extend_from_slice(&(comment.len() as u16).to_le_bytes());
            bytes.extend_from_slice(comment);
            let size = bytes.len() as u64;
            let mut sparse = SparseFile::new(size);
            let tail = first_tail(size, Some(ExpectedTail(2048)));
            assert_eq!(tail.end - tail.start, 2048);
            sparse.insert(tail.start, bytes[tail.start as usize..].to_vec());
            assert_eq!(
                sparse.central_directory(),
                Some(expected.clone()),
                "{comment:?}"
            );
            // Too short to hold the record: no guess.
            let mut sparse = SparseFile::new(size);
            sparse.insert(size - 10, bytes[size as usize - 10..].to_vec());
            assert_eq!(sparse.central_directory(), None);
        }
    }

    #[test]
    fn small_wheel_needs_only_the_tail() {
        let bytes = wheel(1000);
        let (metadata, requests, _) = fetch_metadata(&bytes);
        assert!(metadata.starts_with(b"Metadata-Version"));
        assert_eq!(requests, 1);
    }

    #[test]
    fn large_wheel_reads_a_fraction() {
        let bytes = wheel(5 * 1024 * 1024);
        let (metadata, requests, fetched) = fetch_metadata(&bytes);
        assert!(metadata.ends_with(b"Version: 1.0\n\n"));
        assert!(requests <= 3, "{requests} requests");
        assert!(
            fetched < 300 * 1024,
            "fetched {fetched} bytes of {}",
            bytes.len()
        );
    }

    /// METADATA first, a large member after it: the gap between the tail and METADATA must not
    /// be fetched whole.
    #[test]
    fn metadata_near_the_start_of_a_large_wheel() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            zip.start_file("demo-1.0.dist-info/METADATA", stored)
                .unwrap();
            zip.write_all(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
                .unwrap();
            zip.start_file("demo/big.bin", stored).unwrap();
            zip.write_all(&vec![0x5a; 3 * 1024 * 1024]).unwrap();
            zip.finish().unwrap();
        }
        let bytes = buf.into_inner();
        let (metadata, requests, fetched) = fetch_metadata(&bytes);
        assert!(metadata.ends_with(b"Version: 1.0\n\n"));
        assert!(requests <= 3, "{requests} requests");
        assert!(
            fetched < 300 * 1024,
            "fetched {fetched} bytes of {}",
            bytes.len()
        );
    }

    /// Thousands of members make a central directory far larger than the tail: it is fetched
    /// in one request, not 64 KiB per round trip.
    #[test]
    fn large_central_directory_in_one_request() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            zip.start_file("demo-1.0.dist-info/METADATA", stored)
                .unwrap();
            zip.write_all(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
                .unwrap();
            for i in 0..20_000 {
                zip.start_file(
                    format!("demo/assets/a-rather-long-file-name-{i:05}.txt"),
                    stored,
                )
                .unwrap();
                zip.write_all(b"x").unwrap();
            }
            zip.finish().unwrap();
        }
        let bytes = buf.into_inner();
        let (metadata, requests, _) = fetch_metadata(&bytes);
        assert!(metadata.ends_with(b"Version: 1.0\n\n"));
        assert!(requests <= 3, "{requests} requests");
    }

    /// A RECORD of hundreds of KiB (a wheel of thousands of files) is fetched with METADATA in
    /// one request, not 64 KiB per round trip. A local header with an extra field longer than
    /// the slack allowed for it costs at most one more round trip.
    #[test]
    fn large_members_in_one_request() {
        for local_extra in [0usize, 4096] {
            let mut buf = std::io::Cursor::new(Vec::new());
            {
                let mut zip = zip::ZipWriter::new(&mut buf);
                let stored = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored);
                zip.start_file("demo/big.bin", stored).unwrap();
                zip.write_all(&vec![0x5a; 2 * 1024 * 1024]).unwrap();
                // Aligning the data pads the local header's extra field, which the central
                // directory does not repeat.
                let with_extra = stored.with_alignment(local_extra as u16);
                zip.start_file("demo-1.0.dist-info/METADATA", stored)
                    .unwrap();
                zip.write_all(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
                    .unwrap();
                zip.start_file("demo-1.0.dist-info/RECORD", with_extra)
                    .unwrap();
                let record: String = (0..6000)
                    .map(|i| format!("demo/assets/file-{i:05}.svg,sha256=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG,{i}\n"))
                    .collect();
                assert!(record.len() > 400 * 1024);
                zip.write_all(record.as_bytes()).unwrap();
                zip.finish().unwrap();
            }
            let bytes = buf.into_inner();
            let names = [
                "demo-1.0.dist-info/METADATA".to_string(),
                "demo-1.0.dist-info/RECORD".to_string(),
            ];
            let mut read = MemberRead::new(bytes.len() as u64, &names, 16 << 20);
            let mut requests = 0;
            let found = loop {
                match read.next_step() {
                    Step::Fetch(range) => {
                        requests += 1;
                        assert!(requests < 10, "too many round trips");
                        read.insert(
                            range.start,
                            bytes[range.start as usize..range.end as usize].to_vec(),
                        );
                    }
                    Step::Done(found) => break found,
                    Step::Failed(err) => panic!("{err}"),
                }
            };
            assert!(found[&names[0]].ends_with(b"Version: 1.0\n\n"));
            assert!(found[&names[1]].len() > 400 * 1024);
            // The tail, then the members; a longer local header may cost one more.
            let most = if local_extra > 0 { 3 } else { 2 };
            assert!(
                requests <= most,
                "{requests} requests, local extra {local_extra}"
            );
            assert!(read.sparse().fetched_bytes() < 700 * 1024);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_loop() {
        let bytes = vec![7u8; 200_000];
        let mut sparse = SparseFile::new(bytes.len() as u64);
        sparse.insert(0, bytes);
        assert!(matches!(
            sparse.attempt(|a| read_member(a, "x", 10)),
            Attempt::Failed(_)
        ));
    }

    #[test]
    fn a_member_larger_than_the_cap_is_refused() {
        let bytes = wheel(10);
        let mut sparse = SparseFile::new(bytes.len() as u64);
        sparse.insert(0, bytes);
        assert!(matches!(
            sparse.attempt(|a| read_member(a, "demo-1.0.dist-info/METADATA", 5)),
            Attempt::Failed(_)
        ));
    }
}
