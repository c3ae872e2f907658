//! Progress on stderr, only when stderr is a terminal (never in logs or pipes): one set of bars
//! drawn together, so the count of attributed distributions and the bytes of whole wheels being
//! downloaded do not overwrite each other.

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};

use icelock_index::client::{OnWhole, WholeEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

static BARS: OnceLock<Option<MultiProgress>> = OnceLock::new();

fn bars() -> Option<&'static MultiProgress> {
    BARS.get_or_init(|| std::io::stderr().is_terminal().then(MultiProgress::new))
        .as_ref()
}

/// No bars at all (`-q`); called before any is made.
pub fn silence() {
    let _ = BARS.set(None);
}

/// `done/total WHAT name` for a count of items.
pub fn counter(len: u64, what: &str) -> Option<ProgressBar> {
    let bar = bars()?.add(ProgressBar::new(len));
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {{pos}}/{{len}} {what} {{wide_msg}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// A bar of the bytes of whole wheels read (where an index refuses ranges, or with `--hash`),
/// shown from the first one on; the callback that feeds it goes to the client.
pub fn whole_downloads() -> Option<OnWhole> {
    let multi = bars()?;
    // Not drawn until a whole wheel is read: most runs read none.
    let bar = ProgressBar::hidden();
    bar.set_length(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} of whole wheels read and hashed ({bytes_per_sec})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let fed = bar.clone();
    let shown = std::sync::Once::new();
    let on_whole = OnWhole(Arc::new(move |event| match event {
        WholeEvent::Started(expected) => {
            shown.call_once(|| {
                multi.add(fed.clone());
                fed.enable_steady_tick(std::time::Duration::from_millis(120));
            });
            fed.inc_length(expected.unwrap_or(0));
        }
        WholeEvent::Bytes(n) => fed.inc(n),
        WholeEvent::Ended { expected, read } => {
            let length = fed.length().unwrap_or(0);
            fed.set_length(length.saturating_sub(expected.unwrap_or(0)) + read);
        }
    }));
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(bar);
    Some(on_whole)
}

/// Bars still drawn, cleared together by [`clear`].
static LIVE: std::sync::Mutex<Vec<ProgressBar>> = std::sync::Mutex::new(Vec::new());

/// Takes every bar off the terminal, before the command prints its result.
pub fn clear() {
    for bar in LIVE.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        bar.finish_and_clear();
    }
}

/// A line of the requests the client has answered and the bytes they brought, refreshed
/// while the command works; shown from the first request on.
pub fn requests(stats: Arc<icelock_index::client::Stats>) {
    let Some(multi) = bars() else {
        return;
    };
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(bar.clone());
    std::thread::spawn(move || {
        use std::sync::atomic::Ordering;
        let mut shown = false;
        while !bar.is_finished() {
            let requests = stats.requests.load(Ordering::Relaxed);
            if requests > 0 {
                if !shown {
                    multi.add(bar.clone());
                    shown = true;
                }
                bar.set_message(format!(
                    "{requests} requests answered, {} received",
                    indicatif::HumanBytes(stats.bytes.load(Ordering::Relaxed))
                ));
                bar.tick();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
}

/// A count of `total` items that `done` counts up, drawn only if the work takes longer than a
/// glance (300 ms), until [`clear`] or `finish` is called on the bar returned.
pub fn polled(
    total: u64,
    what: &str,
    done: Arc<std::sync::atomic::AtomicU64>,
) -> Option<ProgressBar> {
    let multi = bars()?;
    let bar = ProgressBar::hidden();
    bar.set_length(total);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {{pos}}/{{len}} {what}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(bar.clone());
    let fed = bar.clone();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut shown = false;
        while !fed.is_finished() {
            if !shown && started.elapsed() > std::time::Duration::from_millis(300) {
                multi.add(fed.clone());
                shown = true;
            }
            fed.set_position(done.load(std::sync::atomic::Ordering::Relaxed));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    Some(bar)
}
