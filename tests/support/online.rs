//! The online tier's shared plumbing: reaching PyPI the way this machine's pip does, and
//! skipping (loudly) only when it cannot be reached.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::*;

/// Machine settings that say how to reach the index (kept), unlike PIP_FIND_LINKS & co.
pub const INDEX_SETTINGS: &[&str] = &[
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_CLIENT_CERT",
    "PIP_PROXY",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_NATIVE_TLS",
    "UV_INSECURE_HOST",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

pub fn with_index_settings(mut cmd: Command) -> Command {
    for k in INDEX_SETTINGS {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd
}

/// Ok(()) when pip can download a small wheel from the index; Err(reason) otherwise.
pub fn index_reachable() -> &'static Result<(), String> {
    static R: OnceLock<Result<(), String>> = OnceLock::new();
    R.get_or_init(|| {
        let tmp = tempdir();
        let mut cmd = with_index_settings(tools().pip_command());
        cmd.args([
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--timeout",
            "15",
            "--retries",
            "1",
            "-d",
        ])
        .arg(tmp.path())
        .arg("six");
        match output_with_timeout(&mut cmd, Duration::from_secs(60)) {
            None => Err("pip download of a small wheel timed out".to_owned()),
            Some(out) if out.status.success() => Ok(()),
            Some(out) => {
                // The network error if pip printed one, else its last line.
                let err = String::from_utf8_lossy(&out.stderr);
                let lines: Vec<&str> = err
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                let network = lines.iter().find(|l| {
                    [
                        "Connection",
                        "connection",
                        "timed out",
                        "SSL",
                        "resolve",
                        "proxy",
                        "Proxy",
                    ]
                    .iter()
                    .any(|w| l.contains(w))
                });
                let line = network.or(lines.last()).copied().unwrap_or("no output");
                Err(format!("pip download failed: {line}"))
            }
        }
    })
}

pub fn skip_if_offline() -> bool {
    if let Err(reason) = index_reachable() {
        // Straight to the process's stderr, past the test harness's output capture, so that a
        // skipped tier shows in every run.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipping online tier: PyPI unreachable ({reason})"
        );
        return true;
    }
    false
}

/// What pip's report says it installed: normalised name -> (version, URL, sha256).
pub fn report_files(report: &Value) -> BTreeMap<String, (String, String, String)> {
    report["install"]
        .as_array()
        .expect("install array")
        .iter()
        .map(|i| {
            let info = &i["download_info"];
            (
                normalize(i["metadata"]["name"].as_str().unwrap()),
                (
                    i["metadata"]["version"].as_str().unwrap().to_owned(),
                    info["url"].as_str().unwrap().to_owned(),
                    info["archive_info"]["hashes"]["sha256"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no sha256 in pip's report: {i}"))
                        .to_owned(),
                ),
            )
        })
        .collect()
}

/// The last path segment of a URL, without query or fragment.
pub fn basename(url: &str) -> &str {
    url.split(['#', '?'])
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
}
