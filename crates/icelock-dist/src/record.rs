//! `RECORD`: the files a wheel installed, with their hashes and sizes.

use base64::Engine;

/// One row of RECORD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// As written: `/`-separated, relative to the folder holding `.dist-info` (or absolute).
    pub path: String,
    pub hash: Option<RecordHash>,
    pub size: Option<u64>,
}

/// `sha256=<urlsafe base64, no padding>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHash {
    pub algorithm: String,
    pub digest: Vec<u8>,
}

impl RecordHash {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (algorithm, b64) = text
            .split_once('=')
            .ok_or_else(|| format!("hash {text:?} is not `algorithm=digest`"))?;
        // Padding is forbidden by the spec but written by some old tools; accept both.
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64.trim_end_matches('='))
            .map_err(|e| format!("hash {text:?} is not urlsafe base64: {e}"))?;
        // Nearly every row says `sha256`: compared before a lowercase copy is made.
        let algorithm = if algorithm == "sha256" {
            String::from("sha256")
        } else {
            algorithm.to_ascii_lowercase()
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

/// Reads RECORD with CRLF or LF line ends (pip writes CRLF, uv LF).
pub fn parse(bytes: &[u8]) -> (Vec<RecordEntry>, Vec<RecordRowError>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (index, row) in reader.byte_records().enumerate() {
        let line = index as u64 + 1;
        let row = match row {
            Ok(row) => row,
            Err(err) => {
                errors.push(RecordRowError {
                    line,
                    message: err.to_string(),
                });
                continue;
            }
        };
        // Borrowed where the bytes are UTF-8 (always, in practice): only the path is copied.
        let field = |i: usize| -> std::borrow::Cow<'_, str> {
            match row.get(i).map(String::from_utf8_lossy) {
                Some(std::borrow::Cow::Borrowed(text)) => std::borrow::Cow::Borrowed(text.trim()),
                Some(std::borrow::Cow::Owned(text)) => text.trim().to_string().into(),
                None => std::borrow::Cow::Borrowed(""),
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
    (entries, errors)
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
