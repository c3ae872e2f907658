//! `icelock lock` against a local index that misbehaves: tests/index/server.py's fault flags
//! (stalls, truncated bodies, 429s, 500s, resets, lying sizes and ranges, redirect loops, huge
//! and compressed pages, broken zips), logins that must never be shown, and a lock file that
//! must survive icelock being killed while writing it.
//!
//! Every fault hits one distribution (demo-core) unless said otherwise. For each: the run ends
//! within [`TIME_LIMIT`] (measured) and under [`RSS_LIMIT_KB`] of memory (measured with
//! `/usr/bin/time` where there is one), exits 0 or 1 (never 2, never a panic), the affected
//! distribution is either proven correctly or unproven with a reason that says what went wrong,
//! the others are proven, and `-o pylock.toml` leaves the previous lock alone when anything is
//! unproven. Everything talks to 127.0.0.1 only.

mod support;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// The distribution every targeted fault hits.
const VICTIM: &str = "demo-core";
const VICTIM_WHEEL: &str = "demo_core-1.2-py3-none-any.whl";
/// The rest of the environment: always proven.
const OTHERS: &[&str] = &["demo-app", "demo-single", "nsdemo-alpha"];

/// server.py `--only` patterns.
const PAGE: &str = "^/simple/demo-core/$";
const WHEEL: &str = r"^/files/demo_core-1\.2-py3-none-any\.whl$";
const METADATA_FILE: &str = r"^/files/demo_core-1\.2-py3-none-any\.whl\.metadata$";
const ANY_VICTIM: &str = "demo-core|demo_core";

/// The longest one icelock run may take here, whatever the fault.
const TIME_LIMIT: Duration = Duration::from_secs(90);
/// The most memory one icelock run may take (peak RSS), whatever the fault.
const RSS_LIMIT_KB: u64 = 300 * 1024;

/// What an old lock file holds before a run that must not replace it.
const OLD_LOCK: &str = "# the previous lock: an unproven run must leave it alone\n";

// ---------------------------------------------------------------------------------------------
// The environment and the index

/// demo-app (with demo-core), demo-single and nsdemo.alpha, installed by pip from the fixture
/// wheelhouse: every one an index install. Shared: tests must not modify it.
fn env() -> &'static Venv {
    static ENV: OnceLock<Venv> = OnceLock::new();
    ENV.get_or_init(|| {
        let venv = Venv::create(&process_scratch().join("faults-env"), Installer::Pip);
        venv.install(&["demo-app", "demo-single", "nsdemo.alpha"]);
        venv
    })
}

/// The folder the index serves: the fixture wheelhouse itself.
fn served_dir() -> &'static Path {
    &wheelhouse().dir
}

/// sha256 and size of the victim's real wheel.
fn victim_facts() -> &'static (String, u64) {
    static F: OnceLock<(String, u64)> = OnceLock::new();
    F.get_or_init(|| {
        let path = &wheelhouse().wheel(VICTIM, "1.2").path;
        (sha256_hex(path), fs::metadata(path).unwrap().len())
    })
}

// ---------------------------------------------------------------------------------------------
// Running icelock, measured

struct Measured {
    out: Output,
    elapsed: Duration,
    /// Peak resident set size in KiB, when `/usr/bin/time` could measure it.
    rss_kb: Option<u64>,
    what: String,
}

impl Measured {
    fn code(&self) -> i32 {
        self.out.status.code().unwrap()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn show(&self) -> String {
        format!(
            "{}\nelapsed {:.1?}, peak RSS {}\n{}",
            self.what,
            self.elapsed,
            self.rss_kb
                .map(|kb| format!("{} MiB", kb / 1024))
                .unwrap_or_else(|| "not measured".into()),
            show(&self.out)
        )
    }
}

fn time_exe() -> Option<&'static Path> {
    let p = Path::new("/usr/bin/time");
    p.is_file().then_some(p)
}

fn note_memory_unmeasured() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        eprintln!(
            "note: no /usr/bin/time here: peak memory is not measured (the RSS limit is skipped)"
        )
    });
}

/// Runs `cmd` (an icelock command) under `/usr/bin/time -f %M` when there is one, in a process
/// group of its own that is killed whole if it outlives [`TIME_LIMIT`] (which fails the test).
/// Fails the test on a panic, a signal, or an exit code other than 0 or 1.
fn run_measured(cmd: Command, scratch: &Path) -> Measured {
    use std::os::unix::process::CommandExt;
    let what = describe(&cmd);
    let rss_file = scratch.join(format!(
        "rss-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut run = match time_exe() {
        Some(time) => {
            let mut w = Command::new(time);
            w.arg("-f")
                .arg("%M")
                .arg("-o")
                .arg(&rss_file)
                .arg(cmd.get_program())
                .args(cmd.get_args());
            for (k, v) in cmd.get_envs() {
                match v {
                    Some(v) => w.env(k, v),
                    None => w.env_remove(k),
                };
            }
            if let Some(dir) = cmd.get_current_dir() {
                w.current_dir(dir);
            }
            w
        }
        None => {
            note_memory_unmeasured();
            cmd
        }
    };
    run.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = run.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for icelock") {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            // The whole group: icelock itself, not only /usr/bin/time.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("icelock did not finish within {TIME_LIMIT:?} (killed): {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let out = Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    };
    let time_report = fs::read_to_string(&rss_file).unwrap_or_default();
    let _ = fs::remove_file(&rss_file);
    let rss_kb = time_report
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.trim().parse::<u64>().ok());
    let m = Measured {
        out,
        elapsed,
        rss_kb,
        what,
    };
    let stderr = m.stderr();
    assert!(
        !stderr.contains("panicked at") && m.out.status.code() != Some(101),
        "icelock panicked:\n{}",
        m.show()
    );
    assert!(
        !time_report.contains("terminated by signal") && m.out.status.code().is_some(),
        "icelock was killed by a signal ({time_report}):\n{}",
        m.show()
    );
    assert!(
        m.code() == 0 || m.code() == 1,
        "a fault of the index is not a fatal error: exit 0 or 1 expected:\n{}",
        m.show()
    );
    if let Some(kb) = m.rss_kb {
        assert!(
            kb <= RSS_LIMIT_KB,
            "peak RSS {} MiB, over the {} MiB allowed:\n{}",
            kb / 1024,
            RSS_LIMIT_KB / 1024,
            m.show()
        );
    } else if time_exe().is_some() {
        panic!(
            "/usr/bin/time gave no peak RSS ({time_report:?}):\n{}",
            m.show()
        );
    }
    m
}

fn lock_args(url: &str, flags: &[String], tail: &[OsString]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["lock".into(), "--index-url".into(), url.into()];
    args.extend(flags.iter().map(OsString::from));
    args.extend(tail.iter().cloned());
    args.push(env().root.clone().into_os_string());
    args
}

// ---------------------------------------------------------------------------------------------
// One fault, run twice: the JSON report, and `-o pylock.toml`

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Everything proven (the fault is one a client must ride out).
    Proven,
    /// The victim unproven, its reasons holding one of these (case-insensitive).
    Unproven(&'static [&'static str]),
    /// Either the victim proven (and right), or unproven with one of these reasons.
    Either(&'static [&'static str]),
}

impl Expect {
    fn allows_proven(self) -> bool {
        matches!(self, Expect::Proven | Expect::Either(_))
    }

    fn needles(self) -> &'static [&'static str] {
        match self {
            Expect::Proven => &[],
            Expect::Unproven(n) | Expect::Either(n) => n,
        }
    }
}

#[allow(dead_code)]
struct FaultRun {
    json: Measured,
    pylock: Measured,
    /// The server logs of the two runs.
    json_log: Vec<Value>,
    pylock_log: Vec<Value>,
    /// The victim's reasons in the report (empty when proven).
    reasons: String,
}

impl FaultRun {
    /// Requests whose path (query dropped) matches `path`, in the JSON run.
    fn requests_to(&self, path: &str) -> usize {
        self.json_log
            .iter()
            .filter(|e| {
                e["path"]
                    .as_str()
                    .is_some_and(|p| p.split('?').next() == Some(path))
            })
            .count()
    }
}

fn fault(name: &str, server: &[&str], icelock: &[&str], expect: Expect) -> FaultRun {
    let server: Vec<String> = server.iter().map(|s| s.to_string()).collect();
    let flags: Vec<String> = icelock.iter().map(|s| s.to_string()).collect();
    env();
    victim_facts();

    // Each run has its own server: per-path counters (--fail-first, …) start afresh.
    let ((json, json_log), (pylock, pylock_log, out_dir)) = std::thread::scope(|s| {
        let j = s.spawn(|| {
            let server = IndexServer::start(served_dir(), &server);
            let home = tempdir();
            let mut args = vec!["--no-cache".to_string()];
            args.extend(flags.iter().cloned());
            let cmd = hermetic_icelock_command(
                home.path(),
                &lock_args(
                    &server.simple_url(),
                    &args,
                    &["--format".into(), "json".into()],
                ),
            );
            let m = run_measured(cmd, home.path());
            (m, server.log())
        });
        let p = s.spawn(|| {
            let server = IndexServer::start(served_dir(), &server);
            let home = tempdir();
            let out_dir = tempdir();
            let target = out_dir.path().join("pylock.toml");
            fs::write(&target, OLD_LOCK).unwrap();
            let mut args = vec!["--no-cache".to_string()];
            args.extend(flags.iter().cloned());
            let cmd = hermetic_icelock_command(
                home.path(),
                &lock_args(
                    &server.simple_url(),
                    &args,
                    &["-o".into(), target.into_os_string()],
                ),
            );
            let m = run_measured(cmd, home.path());
            (m, server.log(), out_dir)
        });
        (j.join().unwrap(), p.join().unwrap())
    });

    // The report.
    let report: Value = serde_json::from_slice(&json.out.stdout)
        .unwrap_or_else(|e| panic!("{name}: the report is not JSON ({e}):\n{}", json.show()));
    let pkgs = packages_by_name(&report);
    let names: BTreeSet<&str> = pkgs.keys().map(String::as_str).collect();
    let mut want: BTreeSet<&str> = OTHERS.iter().copied().collect();
    want.insert(VICTIM);
    assert_eq!(
        names,
        want,
        "{name}: every dist is reported\n{}",
        json.show()
    );
    for other in OTHERS {
        let p = &pkgs[*other];
        assert!(
            p["source"]["kind"] == "index" && p["problems"] == Value::Array(vec![]),
            "{name}: {other} is not affected by a fault of {VICTIM}'s, and must be proven: {p:#}\n{}",
            json.show()
        );
    }
    let v = &pkgs[VICTIM];
    let kind = v["source"]["kind"].as_str().unwrap_or_default().to_owned();
    let mut reasons = String::new();
    if kind == "index" {
        assert!(
            expect.allows_proven(),
            "{name}: {VICTIM} proven despite the fault: {v:#}\n{}",
            json.show()
        );
        let (sha, size) = victim_facts();
        let s = &v["source"];
        assert!(
            s["filename"] == VICTIM_WHEEL
                && s["sha256"] == sha.as_str()
                && (s["size"].is_null() || s["size"] == *size),
            "{name}: {VICTIM} proven, but not as the real wheel ({VICTIM_WHEEL}, sha256 {sha}, {size} bytes): {s:#}\n{}",
            json.show()
        );
        assert_eq!(json.code(), 0, "{name}: all proven\n{}", json.show());
    } else {
        assert_eq!(kind, "unproven", "{name}: {v:#}");
        assert!(
            !matches!(expect, Expect::Proven),
            "{name}: {VICTIM} should ride out the fault and be proven: {v:#}\n{}",
            json.show()
        );
        reasons = str_vec(&v["source"]["reasons"]).join("\n");
        let lower = reasons.to_lowercase();
        assert!(
            expect
                .needles()
                .iter()
                .any(|n| lower.contains(&n.to_lowercase())),
            "{name}: the reason for {VICTIM} should say what went wrong (one of {:?}): {reasons}\n{}",
            expect.needles(),
            json.show()
        );
        assert_eq!(
            json.code(),
            1,
            "{name}: exit 1 when unproven\n{}",
            json.show()
        );
        assert!(
            json.stderr().contains(VICTIM),
            "{name}: the summary names {VICTIM}\n{}",
            json.show()
        );
    }

    // The lock file.
    let target = out_dir.path().join("pylock.toml");
    let written = fs::read_to_string(&target).unwrap();
    let left: Vec<String> = fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec!["pylock.toml".to_owned()],
        "{name}: nothing else (no temporary file) in the output folder\n{}",
        pylock.show()
    );
    assert!(pylock.out.stdout.is_empty(), "{name}: {}", pylock.show());
    if pylock.code() == 0 {
        assert!(
            expect.allows_proven(),
            "{name}: a lock was written despite the fault:\n{written}\n{}",
            pylock.show()
        );
        assert_ne!(
            written,
            OLD_LOCK,
            "{name}: exit 0 but no lock\n{}",
            pylock.show()
        );
        let parsed = validate_pylock(&target);
        let locked: BTreeSet<String> = parsed["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(locked, want.iter().map(|s| s.to_string()).collect());
    } else {
        assert!(
            !matches!(expect, Expect::Proven),
            "{name}: -o pylock.toml failed where everything should be proven\n{}",
            pylock.show()
        );
        assert_eq!(
            written,
            OLD_LOCK,
            "{name}: an unproven run replaced the lock\n{}",
            pylock.show()
        );
        let stderr = pylock.stderr();
        assert!(
            stderr.contains("no lock written") && stderr.contains(VICTIM),
            "{name}: stderr says no lock was written, and why\n{}",
            pylock.show()
        );
    }

    let mib = |m: &Measured| {
        m.rss_kb
            .map(|kb| format!("{} MiB", kb / 1024))
            .unwrap_or_else(|| "?".into())
    };
    eprintln!(
        "fault {name}: {VICTIM} {kind}; json exit {} in {:.1?} (peak {}), pylock exit {} in {:.1?} (peak {}); {}",
        json.code(),
        json.elapsed,
        mib(&json),
        pylock.code(),
        pylock.elapsed,
        mib(&pylock),
        reasons
            .lines()
            .filter(|l| !l.starts_with("to lock it anyway"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    FaultRun {
        json,
        pylock,
        json_log,
        pylock_log,
        reasons,
    }
}

const TIMEOUT: &[&str] = &["timed out", "timeout"];

// ---------------------------------------------------------------------------------------------
// Slow, stalled and dripping answers

#[test]
fn slow_answers_are_waited_for() {
    let r = fault(
        "slow",
        &["--slow", "1", "--only", ANY_VICTIM],
        &[],
        Expect::Proven,
    );
    assert!(
        r.json.elapsed >= Duration::from_secs(1),
        "{}",
        r.json.show()
    );
}

#[test]
fn page_stalled_mid_body_times_out() {
    let r = fault(
        "stall-page",
        &["--stall-after", "40", "--only", PAGE],
        &["--timeout", "2"],
        Expect::Unproven(TIMEOUT),
    );
    let n = r.requests_to("/simple/demo-core/");
    assert!((1..=4).contains(&n), "{n} requests for the page");
}

/// The same stall with icelock's default limits (no --timeout): the silence limit (30 s) ends
/// it well within the bound.
#[test]
fn page_stalled_with_the_default_timeouts() {
    let r = fault(
        "stall-page-default-timeouts",
        &["--stall-after", "40", "--only", PAGE],
        &[],
        Expect::Unproven(TIMEOUT),
    );
    assert!(
        r.json.elapsed >= Duration::from_secs(5),
        "{}",
        r.json.show()
    );
}

#[test]
fn wheel_range_stalled_mid_body_times_out() {
    fault(
        "stall-range",
        &[
            "--metadata",
            "none",
            "--stall-after",
            "100",
            "--only",
            WHEEL,
        ],
        &["--timeout", "2"],
        Expect::Unproven(TIMEOUT),
    );
}

#[test]
fn metadata_file_stalled_mid_body_times_out() {
    fault(
        "stall-metadata-file",
        &[
            "--metadata",
            "bool",
            "--stall-after",
            "10",
            "--only",
            METADATA_FILE,
        ],
        &["--timeout", "2"],
        Expect::Either(TIMEOUT),
    );
}

/// A page sent 16 bytes every half second is never silent for a second, but never done either:
/// the whole-request limit (4 × --timeout) ends it.
#[test]
fn page_dripping_forever_hits_the_request_limit() {
    let r = fault(
        "drip-page",
        &["--drip", "0.5", "--only", PAGE],
        &["--timeout", "1"],
        Expect::Unproven(TIMEOUT),
    );
    assert!(
        r.json.elapsed < Duration::from_secs(30),
        "the whole-request limit is 4 s here: {}",
        r.json.show()
    );
}

/// The drip with icelock's default limits: a page that never goes silent for 30 s but takes
/// 140 s to send must still end within the bound. (Slow by nature: ignored by default.)
#[test]
#[ignore = "takes a minute or more; run with --ignored"]
fn page_dripping_with_the_default_timeouts() {
    fault(
        "drip-page-default-timeouts",
        &["--drip", "4", "--only", PAGE],
        &[],
        Expect::Either(TIMEOUT),
    );
}

// ---------------------------------------------------------------------------------------------
// Truncated bodies

const TRUNCATED: &[&str] = &[
    "closed",
    "incomplete",
    "truncated",
    "end of file",
    "eof",
    "body",
];

#[test]
fn truncated_page() {
    fault(
        "truncate-page",
        &["--truncate-at", "100", "--only", PAGE],
        &[],
        Expect::Unproven(TRUNCATED),
    );
}

#[test]
fn truncated_metadata_file() {
    fault(
        "truncate-metadata-file",
        &[
            "--metadata",
            "bool",
            "--truncate-at",
            "20",
            "--only",
            METADATA_FILE,
        ],
        &[],
        Expect::Either(TRUNCATED),
    );
}

#[test]
fn truncated_wheel_range() {
    fault(
        "truncate-range",
        &[
            "--metadata",
            "none",
            "--truncate-at",
            "100",
            "--only",
            WHEEL,
        ],
        &[],
        Expect::Unproven(TRUNCATED),
    );
}

#[test]
fn truncated_wheel_download_with_verify_hash() {
    fault(
        "truncate-download",
        &["--truncate-at", "100", "--only", WHEEL],
        &["--verify", "hash"],
        Expect::Unproven(TRUNCATED),
    );
}

// ---------------------------------------------------------------------------------------------
// 429, 500, resets

#[test]
fn rate_limited_then_served() {
    let r = fault(
        "429-twice",
        &["--rate-limit-first", "2", "--retry-after", "1"],
        &[],
        Expect::Proven,
    );
    assert!(
        r.json.elapsed >= Duration::from_secs(2),
        "Retry-After: 1, twice: {}",
        r.json.show()
    );
}

/// Retry-After is honoured up to 10 s, never for an hour.
#[test]
fn retry_after_of_an_hour_is_capped() {
    let r = fault(
        "429-retry-after-3600",
        &[
            "--rate-limit-first",
            "1",
            "--retry-after",
            "3600",
            "--only",
            PAGE,
        ],
        &[],
        Expect::Proven,
    );
    assert!(
        r.json.elapsed >= Duration::from_secs(9) && r.json.elapsed < Duration::from_secs(30),
        "waits the 10 s cap, not an hour, not nothing: {}",
        r.json.show()
    );
}

#[test]
fn rate_limited_forever() {
    let r = fault(
        "429-forever",
        &[
            "--rate-limit-first",
            "1000",
            "--retry-after",
            "1",
            "--only",
            PAGE,
        ],
        &[],
        Expect::Unproven(&["429"]),
    );
    let n = r.requests_to("/simple/demo-core/");
    assert_eq!(n, 4, "one request and 3 retries: {:#?}", r.json_log);
}

#[test]
fn server_errors_for_one_project() {
    let r = fault(
        "500-forever",
        &["--fail-first", "1000", "--only", PAGE],
        &[],
        Expect::Unproven(&["500"]),
    );
    assert_eq!(r.requests_to("/simple/demo-core/"), 4, "{:#?}", r.json_log);
}

#[test]
fn connection_resets_then_served() {
    fault("reset-twice", &["--reset-first", "2"], &[], Expect::Proven);
}

#[test]
fn connection_reset_forever() {
    let r = fault(
        "reset-forever",
        &["--reset-first", "1000", "--only", PAGE],
        &[],
        Expect::Unproven(&["reset", "closed", "connection"]),
    );
    let n = r.requests_to("/simple/demo-core/");
    assert!((1..=4).contains(&n), "{n} requests: {:#?}", r.json_log);
}

// ---------------------------------------------------------------------------------------------
// Hashes and sizes that lie

#[test]
fn wrong_hash_with_verify_hash() {
    let r = fault(
        "wrong-hash",
        &["--wrong-hash", VICTIM_WHEEL],
        &["--verify", "hash"],
        Expect::Unproven(&["hash"]),
    );
    assert!(r.reasons.contains(&victim_facts().0), "{}", r.reasons);
}

fn size_lie(name: &str, size: &str, server: &[&str], icelock: &[&str]) {
    let lie = format!("{VICTIM_WHEEL}={size}");
    let mut flags = vec!["--wrong-size", lie.as_str()];
    flags.extend(server);
    fault(
        name,
        &flags,
        icelock,
        Expect::Either(&["size", "zip", "range", "416", "larger than"]),
    );
}

#[test]
fn size_too_small_read_by_ranges() {
    size_lie("size-100-ranges", "100", &["--metadata", "none"], &[]);
}

#[test]
fn size_too_large_read_by_ranges() {
    size_lie(
        "size-10g-ranges",
        "10000000000",
        &["--metadata", "none"],
        &[],
    );
}

#[test]
fn size_lie_read_whole_by_a_server_ignoring_range() {
    size_lie(
        "size-100-no-range",
        "100",
        &["--metadata", "none", "--no-range"],
        &[],
    );
}

#[test]
fn size_lie_with_verify_hash() {
    size_lie("size-100-verify-hash", "100", &[], &["--verify", "hash"]);
}

/// With a PEP 658 hash the wheel itself is never read; whatever is locked must still be true.
#[test]
fn size_lie_with_metadata_hash() {
    size_lie("size-100-metadata-hash", "100", &[], &[]);
}

// ---------------------------------------------------------------------------------------------
// Ranges answered wrongly

#[test]
fn range_answered_with_shifted_bytes() {
    fault(
        "range-shifted",
        &[
            "--metadata",
            "none",
            "--bad-range",
            "shifted",
            "--only",
            WHEEL,
        ],
        &[],
        Expect::Unproven(&["zip", "range", "metadata"]),
    );
}

#[test]
fn range_answered_with_another_range() {
    fault(
        "range-mismatch",
        &[
            "--metadata",
            "none",
            "--bad-range",
            "mismatch",
            "--only",
            WHEEL,
        ],
        &[],
        Expect::Unproven(&["range", "asked for bytes"]),
    );
}

#[test]
fn range_answered_without_content_range() {
    fault(
        "range-no-content-range",
        &[
            "--metadata",
            "none",
            "--bad-range",
            "missing",
            "--only",
            WHEEL,
        ],
        &[],
        Expect::Unproven(&["content-range"]),
    );
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[test]
fn redirect_to_plain_http_for_one_wheel() {
    fault(
        "redirect-http",
        &["--redirect-http", "--metadata", "none", "--only", WHEEL],
        &[],
        Expect::Unproven(&["redirect"]),
    );
}

fn redirect_loop(mode: &str) {
    let r = fault(
        &format!("redirect-loop-{mode}"),
        &[
            "--metadata",
            "none",
            "--redirect-loop",
            mode,
            "--only",
            WHEEL,
        ],
        &[],
        Expect::Unproven(&["redirect"]),
    );
    let n = r.requests_to(&format!("/files/{VICTIM_WHEEL}"));
    assert!(
        (1..=11 * 4).contains(&n),
        "{mode}: {n} requests for the wheel: a redirect loop is cut short"
    );
    eprintln!("redirect-loop-{mode}: {n} requests for the wheel");
}

#[test]
fn redirect_loop_to_itself() {
    redirect_loop("self");
}

#[test]
fn redirect_chain_without_end() {
    redirect_loop("chain");
}

// ---------------------------------------------------------------------------------------------
// Huge and compressed answers

const TOO_LARGE: &[&str] = &["larger than", "too large", "bytes allowed"];

#[test]
fn page_of_100_mib_with_content_length() {
    fault(
        "huge-page",
        &["--huge-body", "100", "--only", PAGE],
        &[],
        Expect::Unproven(TOO_LARGE),
    );
}

/// No Content-Length: the cap can only be applied while reading.
#[test]
fn page_of_100_mib_chunked() {
    fault(
        "huge-page-chunked",
        &["--huge-body", "100", "--chunked", "--only", PAGE],
        &[],
        Expect::Unproven(TOO_LARGE),
    );
}

/// Just under the 64 MiB page cap: accepted, so parsed: the parse must stay within the memory
/// limit too. (The page lists only filler files, so demo-core has no wheel there.)
#[test]
fn page_just_under_the_cap() {
    fault(
        "page-60-mib",
        &["--huge-body", "60", "--only", PAGE],
        &[],
        Expect::Unproven(&["no wheel", "larger than"]),
    );
}

#[test]
fn metadata_file_of_100_mib_chunked() {
    fault(
        "huge-metadata-file",
        &[
            "--metadata",
            "bool",
            "--huge-body",
            "100",
            "--chunked",
            "--only",
            METADATA_FILE,
        ],
        &[],
        Expect::Either(TOO_LARGE),
    );
}

/// A page sent gzip-compressed (~100 KiB) that inflates to 100 MiB.
#[test]
fn gzip_bomb_page() {
    fault(
        "gzip-bomb",
        &["--gzip-bomb", "100", "--only", PAGE],
        &[],
        Expect::Unproven(TOO_LARGE),
    );
}

// ---------------------------------------------------------------------------------------------
// Broken zips (the wheel read by ranges: no PEP 658 on this index)

fn zip_fault(mode: &str, expect: Expect) {
    fault(
        &format!("zip-{mode}"),
        &["--metadata", "none", "--zip-fault", mode, "--only", WHEEL],
        &[],
        expect,
    );
}

#[test]
fn zip_central_directory_outside_the_file() {
    zip_fault("cd-outside", Expect::Unproven(&["zip"]));
}

#[test]
fn zip_member_outside_the_file() {
    zip_fault("member-outside", Expect::Unproven(&["zip"]));
}

#[test]
fn zip_metadata_declaring_1_gb() {
    // The default proof reads RECORD, not METADATA: the zip's directory, which says METADATA
    // is 1 GB, disagrees with the installed file.
    zip_fault(
        "metadata-1gb",
        Expect::Unproven(&["declares", "allowed", "too large", "zip"]),
    );
}

#[test]
fn zip_metadata_inflating_past_its_size() {
    zip_fault(
        "metadata-bomb",
        Expect::Unproven(&["zip", "inflates", "checksum", "crc", "allowed"]),
    );
}

// ---------------------------------------------------------------------------------------------
// Credentials: never in a lock, a report, a -v line or an error message

const USER: &str = "alice7f3e";
const TOKEN: &str = "tok9c1b2e5d";

fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Login {
    /// `http://USER:TOKEN@host/simple/` as --index-url.
    Url,
    /// `http://TOKEN@host/simple/`: the token as the user name.
    UrlTokenOnly,
    /// `PIP_INDEX_URL=http://USER:TOKEN@host/simple/`.
    PipIndexUrl,
    /// `.netrc`: machine 127.0.0.1 login USER password TOKEN.
    Netrc,
}

impl Login {
    /// server.py's --require-auth value.
    fn pair(self) -> String {
        match self {
            Login::UrlTokenOnly => format!("{TOKEN}:"),
            _ => format!("{USER}:{TOKEN}"),
        }
    }

    /// The strings that must never be shown.
    fn secrets(self) -> Vec<String> {
        let mut v = vec![TOKEN.to_owned(), base64(self.pair().as_bytes())];
        if !matches!(self, Login::UrlTokenOnly) {
            v.push(USER.to_owned());
        }
        v
    }

    /// A hermetic `icelock lock -v ARGS ENV` against `port`, with this login.
    fn command(self, home: &Path, port: u16, args: &[OsString]) -> Command {
        let plain = format!("http://127.0.0.1:{port}/simple/");
        let with_login = match self {
            Login::UrlTokenOnly => format!("http://{TOKEN}@127.0.0.1:{port}/simple/"),
            _ => format!("http://{USER}:{TOKEN}@127.0.0.1:{port}/simple/"),
        };
        let mut all: Vec<OsString> = vec!["lock".into(), "-v".into()];
        match self {
            Login::Url | Login::UrlTokenOnly => {
                all.push("--index-url".into());
                all.push(with_login.clone().into());
            }
            Login::Netrc => {
                all.push("--index-url".into());
                all.push(plain.into());
                let netrc = home.join(".netrc");
                fs::write(
                    &netrc,
                    format!("machine 127.0.0.1\n  login {USER}\n  password {TOKEN}\n"),
                )
                .unwrap();
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&netrc, fs::Permissions::from_mode(0o600)).unwrap();
            }
            Login::PipIndexUrl => {}
        }
        all.extend(args.iter().cloned());
        all.push(env().root.clone().into_os_string());
        let mut cmd = hermetic_icelock_command(home, &all);
        if let Login::PipIndexUrl = self {
            cmd.env("PIP_INDEX_URL", &with_login);
        }
        cmd
    }
}

/// Fails if any secret of `login` is in `text`.
fn assert_secret_free(login: Login, what: &str, text: &str, m: &Measured) {
    for s in login.secrets() {
        assert!(
            !text.contains(&s),
            "{login:?}: {s:?} appears in {what}:\n{text}\n--- the run ---\n{}",
            m.show()
        );
    }
}

/// Every file under `dir` (the run's HOME: its cache) but the .netrc, checked for secrets.
fn assert_home_secret_free(login: Login, dir: &Path, m: &Measured) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let ty = e.file_type().unwrap();
            if ty.is_dir() {
                stack.push(p);
            } else if ty.is_file() && p.file_name().is_some_and(|n| n != ".netrc") {
                let text = String::from_utf8_lossy(&fs::read(&p).unwrap()).into_owned();
                assert_secret_free(login, &format!("the cached file {}", p.display()), &text, m);
            }
        }
    }
}

fn assert_run_secret_free(login: Login, m: &Measured) {
    assert_secret_free(login, "stdout", &m.stdout(), m);
    assert_secret_free(login, "stderr", &m.stderr(), m);
}

fn credentials(login: Login) {
    let pair = login.pair();
    let ok = IndexServer::start(served_dir(), &["--require-auth", pair.as_str()]);

    // Every lock format and the report, with -v: proven, and nothing shows the login.
    for out_name in ["pylock.toml", "requirements.txt", "report.json", "-"] {
        let home = tempdir();
        let out_dir = tempdir();
        let mut args: Vec<OsString> = Vec::new();
        let target = out_dir.path().join(out_name);
        if out_name == "-" {
            args.extend(["--format".into(), "json".into()]);
        } else {
            args.extend(["-o".into(), target.clone().into_os_string()]);
        }
        ok.clear_log();
        let m = run_measured(login.command(home.path(), ok.port, &args), home.path());
        assert_eq!(
            m.code(),
            0,
            "{login:?} {out_name}: all proven\n{}",
            m.show()
        );
        let log = ok.log();
        assert!(!log.is_empty(), "{login:?}: the index was asked");
        for e in &log {
            assert!(
                e["status"] != 401 && e["authorization"] == true,
                "{login:?} {out_name}: every request carries the login: {e}\n{}",
                m.show()
            );
        }
        assert!(
            m.stderr()
                .contains(&format!("GET http://127.0.0.1:{}/", ok.port)),
            "{login:?}: -v logs each request\n{}",
            m.show()
        );
        assert_run_secret_free(login, &m);
        if out_name != "-" {
            let written = fs::read_to_string(&target).unwrap();
            assert!(written.len() > 50, "{login:?} {out_name}: {written}");
            assert_secret_free(login, out_name, &written, &m);
        }
        assert_home_secret_free(login, home.path(), &m);
    }

    // Servers that fail, so errors (with their URLs) are printed: 500s, a body cut short, a
    // wrong login (not for the .netrc: its login is the right one), and a port nobody listens
    // on.
    let failing = [
        vec!["--fail-first", "1000", "--only", PAGE],
        vec!["--truncate-at", "30", "--only", PAGE],
        vec!["--redirect-http", "--metadata", "none", "--only", WHEEL],
    ];
    for flags in &failing {
        let mut all = vec!["--require-auth", pair.as_str()];
        all.extend(flags);
        let server = IndexServer::start(served_dir(), &all);
        for out_name in ["-", "pylock.toml"] {
            let home = tempdir();
            let out_dir = tempdir();
            let target = out_dir.path().join(out_name);
            let args: Vec<OsString> = if out_name == "-" {
                vec!["--format".into(), "json".into()]
            } else {
                vec!["-o".into(), target.clone().into_os_string()]
            };
            let m = run_measured(login.command(home.path(), server.port, &args), home.path());
            assert_eq!(
                m.code(),
                1,
                "{login:?} {flags:?}: {VICTIM} unproven\n{}",
                m.show()
            );
            assert!(
                m.stderr().contains(&format!("127.0.0.1:{}", server.port)),
                "{login:?} {flags:?}: the error names the index\n{}",
                m.show()
            );
            assert!(!target.exists() || out_name == "-", "{}", m.show());
            assert_run_secret_free(login, &m);
            assert_home_secret_free(login, home.path(), &m);
        }
    }
    if !matches!(login, Login::Netrc) {
        let other = IndexServer::start(served_dir(), &["--require-auth", "someone:else"]);
        let home = tempdir();
        let m = run_measured(
            login.command(home.path(), other.port, &["--format".into(), "json".into()]),
            home.path(),
        );
        assert_eq!(m.code(), 1, "{}", m.show());
        assert!(
            m.stdout().contains("401"),
            "{login:?}: a 401 is the reason\n{}",
            m.show()
        );
        assert_run_secret_free(login, &m);
    }
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let home = tempdir();
    let m = run_measured(
        login.command(home.path(), dead_port, &["--format".into(), "json".into()]),
        home.path(),
    );
    assert_eq!(m.code(), 1, "{}", m.show());
    assert!(
        m.stderr().contains(&format!("127.0.0.1:{dead_port}")),
        "{login:?}: the connection error names the index\n{}",
        m.show()
    );
    assert_run_secret_free(login, &m);
    assert_home_secret_free(login, home.path(), &m);
}

#[test]
fn credentials_in_the_index_url() {
    credentials(Login::Url);
}

#[test]
fn token_as_the_user_name_of_the_index_url() {
    credentials(Login::UrlTokenOnly);
}

#[test]
fn credentials_in_pip_index_url() {
    credentials(Login::PipIndexUrl);
}

#[test]
fn credentials_in_netrc() {
    credentials(Login::Netrc);
}

// ---------------------------------------------------------------------------------------------
// Atomicity: SIGKILL while writing leaves the old lock or the new one, never a part

/// xorshift64*, seeded from the clock (the seed is printed, to replay a failure by hand).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("atomicity: seed {seed}");
        Rng(seed)
    }

    /// Uniform in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545F4914F6CDD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn killed_while_writing_leaves_the_old_lock_or_the_new() {
    let server = IndexServer::start(served_dir(), &[] as &[&str]);
    // One HOME throughout: a warm cache keeps the runs short, so more kills land near the write.
    let home = tempdir();
    let out_dir = tempdir();
    let target = out_dir.path().join("pylock.toml");
    let url = server.simple_url();
    let variants: [Vec<OsString>; 2] = [
        vec!["-o".into(), target.clone().into_os_string()],
        vec![
            "--exclude".into(),
            "demo-single".into(),
            "-o".into(),
            target.clone().into_os_string(),
        ],
    ];
    let command = |i: usize| -> Command {
        let mut cmd = hermetic_icelock_command(home.path(), &lock_args(&url, &[], &variants[i]));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    // The two contents, and how long a run takes.
    let mut contents = Vec::new();
    let mut longest = Duration::ZERO;
    for i in 0..2 {
        for _ in 0..2 {
            let start = Instant::now();
            let out = run_icelock(&mut command(i));
            longest = longest.max(start.elapsed());
            assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        }
        contents.push(fs::read(&target).unwrap());
    }
    assert_ne!(contents[0], contents[1], "the two variants differ");

    let mut rng = Rng::new();
    let (mut killed, mut finished) = (0, 0);
    for round in 0..20 {
        let i = round % 2;
        // Kill anywhere from the start to just past the usual end, mostly late in the run.
        let delay = longest.mul_f64(0.3 + 0.9 * rng.next());
        let mut child = command(i).spawn().expect("spawn icelock");
        std::thread::sleep(delay);
        let status = match child.try_wait().unwrap() {
            Some(status) => {
                finished += 1;
                status
            }
            None => {
                killed += 1;
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap()
            }
        };
        let now = fs::read(&target).unwrap();
        assert!(
            now == contents[0] || now == contents[1],
            "round {round} (killed after {delay:?}, {status}): pylock.toml is neither the old lock nor the new one:\n{}",
            String::from_utf8_lossy(&now)
        );
        if status.success() {
            assert_eq!(
                now, contents[i],
                "round {round}: a finished run wrote its lock"
            );
        }
    }
    let leftovers: Vec<String> = fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "pylock.toml")
        .collect();
    eprintln!(
        "atomicity: 20 rounds, {killed} killed, {finished} finished (a run takes up to {longest:?}); temporary files left by killed runs: {leftovers:?}"
    );
}
