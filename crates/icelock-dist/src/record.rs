//! `RECORD`: the files a wheel installed, with their hashes and sizes.

use std::borrow::Cow;
use std::cell::RefCell;

use base64::Engine;

/// One row of RECORD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// As written: `/`-separated, relative to the folder holding `.dist-info` (or absolute).
    pub path: String,
    pub hash: Option<RecordHash>,
    pub size: Option<u64>,
}

/// A digest's bytes: a sha256's 32 are kept inline, as nearly every RECORD row has one (and an
/// environment tens of thousands of rows), longer ones on the heap.
pub type Digest = smallvec::SmallVec<[u8; 32]>;

/// `sha256=<urlsafe base64, no padding>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHash {
    /// Lower-case; `sha256` (nearly every row) without an allocation.
    pub algorithm: Cow<'static, str>,
    pub digest: Digest,
}

impl RecordHash {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (algorithm, b64) = text
            .split_once('=')
            .ok_or_else(|| format!("hash {text:?} is not `algorithm=digest`"))?;
        // Padding is forbidden by the spec but written by some old tools; accept both.
        let b64 = b64.trim_end_matches('=');
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let bad = |e: &dyn std::fmt::Display| format!("hash {text:?} is not urlsafe base64: {e}");
        // Decoded on the stack up to a sha512's 64 bytes; anything longer (no algorithm pip
        // accepts) on the heap.
        let mut buffer = [0u8; 64];
        let digest = match engine.decode_slice(b64, &mut buffer) {
            Ok(n) => Digest::from_slice(&buffer[..n]),
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                Digest::from_vec(engine.decode(b64).map_err(|e| bad(&e))?)
            }
            Err(base64::DecodeSliceError::DecodeError(e)) => return Err(bad(&e)),
        };
        let algorithm = if algorithm == "sha256" {
            Cow::Borrowed("sha256")
        } else {
            Cow::Owned(algorithm.to_ascii_lowercase())
        };
        Ok(Self { algorithm, digest })
    }

    pub fn hex(&self) -> String {
        hex::encode(&self.digest)
    }
}

/// A row that could not be read; the rest of RECORD still is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRowError {
    pub line: u64,
    pub message: String,
}

thread_local! {
    /// `csv_core` is the state machine under the `csv` crate, which RECORD's quoting needs. One
    /// reader per thread, reset between files, parses every RECORD of an environment without
    /// building its tables again or copying the bytes through a buffered reader (with 59k rows
    /// in 322 RECORDs, that was 8% of the CPU of `icelock list`).
    static READER: RefCell<csv_core::Reader> = RefCell::new(csv_core::Reader::new());
}

/// Reads RECORD with CRLF or LF line ends (pip writes CRLF, uv LF).
pub fn parse(bytes: &[u8]) -> (Vec<RecordEntry>, Vec<RecordRowError>) {
    READER.with(|reader| {
        let mut reader = reader.borrow_mut();
        reader.reset();
        parse_with(&mut reader, bytes)
    })
}

fn parse_with(
    reader: &mut csv_core::Reader,
    mut input: &[u8],
) -> (Vec<RecordEntry>, Vec<RecordRowError>) {
    use csv_core::ReadRecordResult;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    // One row's fields, back to back, and where each ends; both grow for a longer row.
    let mut fields = vec![0u8; 4096];
    let mut ends = vec![0usize; 8];
    let mut line = 0u64;
    loop {
        let (mut written, mut nends) = (0, 0);
        loop {
            let (result, read, out, end) =
                reader.read_record(input, &mut fields[written..], &mut ends[nends..]);
            input = &input[read..];
            written += out;
            nends += end;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => fields.resize(fields.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return (entries, errors),
            }
        }
        line += 1;
        let row = &ends[..nends];
        // Fields are text: borrowed where they are UTF-8 (always, in practice), so only the
        // path is copied.
        let field = |i: usize| -> Cow<'_, str> {
            let Some(&stop) = row.get(i) else {
                return Cow::Borrowed("");
            };
            let start = if i == 0 { 0 } else { row[i - 1] };
            let bytes = &fields[start..stop];
            match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text.trim()),
                Err(_) => Cow::Owned(String::from_utf8_lossy(bytes).trim().to_string()),
            }
        };
        let path = field(0);
        if path.is_empty() {
            continue;
        }
        let path = path.into_owned();
        let hash = match field(1) {
            h if h.is_empty() => None,
            h => match RecordHash::parse(&h) {
                // An algorithm with no digest: pdm writes `sha256=` for files linked from its
                // install cache. Nothing is said of the content, as with no hash at all.
                Ok(hash) if hash.digest.is_empty() => None,
                Ok(hash) => Some(hash),
                Err(message) => {
                    errors.push(RecordRowError { line, message });
                    None
                }
            },
        };
        let size = match field(2) {
            s if s.is_empty() => None,
            s => match s.parse::<u64>() {
                Ok(size) => Some(size),
                Err(_) => {
                    errors.push(RecordRowError {
                        line,
                        message: format!("size {s:?} is not a number"),
                    });
                    None
                }
            },
        };
        entries.push(RecordEntry { path, hash, size });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_quoted_and_empty_rows() {
        let text = b"demo/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\n\"demo/a,b.py\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\ndemo/__pycache__/x.pyc,,\r\ndemo-1.0.dist-info/RECORD,,\r\n";
        let (entries, errors) = parse(text);
        assert!(errors.is_empty());
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[1].path, "demo/a,b.py");
        assert_eq!(
            entries[0].hash.as_ref().unwrap().hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(entries[3].hash, None);
    }

    /// What the `csv` crate reads, row by row: the first three fields of every row whose path
    /// is not empty.
    fn by_csv_crate(bytes: &[u8]) -> Vec<[String; 3]> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        reader
            .byte_records()
            .map(|row| {
                let row = row.unwrap();
                std::array::from_fn(|i| {
                    String::from_utf8_lossy(row.get(i).unwrap_or_default())
                        .trim()
                        .to_string()
                })
            })
            .filter(|row: &[String; 3]| !row[0].is_empty())
            .collect()
    }

    /// Rows that outgrow the reader's buffers (a path of 10,000 bytes, twenty fields), quoted
    /// line ends, a lone CR, no final line end: read as the `csv` crate reads them, and a file
    /// that ends inside a quote leaves nothing behind for the next file the thread reads.
    #[test]
    fn agrees_with_the_csv_crate() {
        let digest = "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
        let long = format!("pkg/{}.py", "x".repeat(10_000));
        let many = (0..20)
            .map(|i| format!("f{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let files = [
            format!("{long},{digest},0\r\na.py,{digest},0\r\n"),
            format!(
                "b.py,{digest},0\n{many}\n\"c\r\nd.py\",{digest},0\re.py,,\nlast.py,{digest},7"
            ),
            format!("\"unterminated.py,{digest},0\n"),
            format!("after.py,{digest},3\n"),
        ];
        for text in &files {
            let (entries, errors) = parse(text.as_bytes());
            assert!(errors.is_empty() || text.contains("f0"), "{errors:?}");
            let ours: Vec<(String, Option<String>, Option<u64>)> = entries
                .into_iter()
                .map(|e| (e.path, e.hash.map(|h| h.hex()), e.size))
                .collect();
            let theirs: Vec<(String, Option<String>, Option<u64>)> = by_csv_crate(text.as_bytes())
                .into_iter()
                .map(|[path, hash, size]| {
                    (
                        path,
                        RecordHash::parse(&hash).ok().map(|h| h.hex()),
                        size.parse().ok(),
                    )
                })
                .collect();
            assert_eq!(ours, theirs, "{text:.80}");
        }
        let (entries, _) = parse(files[3].as_bytes());
        assert_eq!(entries[0].path, "after.py");
        assert_eq!(entries[0].size, Some(3));
    }

    /// A digest is decoded on the stack up to 64 bytes and on the heap beyond; either way its
    /// bytes are the ones written, and `SHA512` is read as `sha512`.
    #[test]
    fn digests_of_every_length() {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        for len in [32usize, 48, 64, 65, 100] {
            let digest: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let text = format!("SHA512={}", engine.encode(&digest));
            let hash = RecordHash::parse(&text).unwrap();
            assert_eq!(hash.digest.as_slice(), digest.as_slice(), "{len} bytes");
            assert_eq!(hash.algorithm, "sha512");
            let padded = RecordHash::parse(&format!("{text}==")).unwrap();
            assert_eq!(padded, hash);
        }
        let long_and_bad = format!("sha256={}!", "A".repeat(120));
        assert!(RecordHash::parse(&long_and_bad).is_err());
    }

    #[test]
    fn bad_rows_are_reported_and_skipped() {
        let (entries, errors) = parse(
            b"a.py,sha256=!!!,1\nb.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,x\n",
        );
        assert_eq!(entries.len(), 2);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].line, 1);
    }
}
