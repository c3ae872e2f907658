//! The command's own surface: `--version` names the commit, and `completions` prints a script
//! each shell accepts (bash's is sourced and asked to complete), and progress is drawn on a
//! terminal only (run on a pseudo-terminal).

mod support;

use support::*;

#[test]
fn version_names_the_commit() {
    let out = icelock(&["--version"]);
    assert!(out.status.success(), "{}", show(&out));
    let text = stdout_str(&out);
    let head = git_in(&repo_root(), &["rev-parse", "--short=9", "HEAD"]);
    assert!(
        text.starts_with(&format!("icelock {} (", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    // The binary may be a commit behind the work tree's HEAD only if it was not rebuilt;
    // cargo test rebuilds it, so the two agree.
    assert!(text.contains(head.trim()), "{text} vs HEAD {head}");
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = icelock(&["completions", shell]);
        assert!(out.status.success(), "{shell}\n{}", show(&out));
        assert!(
            stdout_str(&out).contains("verify"),
            "{shell}: names the subcommands"
        );
    }
    let script = tempdir();
    let path = script.path().join("icelock.bash");
    std::fs::write(&path, stdout_str(&icelock(&["completions", "bash"]))).unwrap();
    let mut bash = clean_command("bash");
    bash.arg("-c").arg(format!(
        // As bash calls a completion function: the command, the word, the word before it.
        "source {}; COMP_WORDS=(icelock ver); COMP_CWORD=1; _icelock icelock ver icelock; \
         echo \"${{COMPREPLY[@]}}\"; COMP_WORDS=(icelock verify --lock-f); COMP_CWORD=2; \
         _icelock icelock --lock-f verify; echo \"${{COMPREPLY[@]}}\"",
        path.display()
    ));
    let out = run_ok(&mut bash);
    let lines: Vec<String> = stdout_str(&out).lines().map(String::from).collect();
    assert_eq!(lines[0].trim(), "verify", "{lines:?}");
    assert_eq!(lines[1].trim(), "--lock-format", "{lines:?}");
}

/// The bars a user sees on a terminal: a slow index refusing ranges makes the lock last long
/// enough that the attributed count, the requests answered and the whole wheels' bytes are
/// drawn, then cleared before the result; `-q` draws none, and off a terminal no bar and no
/// escape reach stderr.
#[test]
fn progress_is_drawn_on_a_terminal_only() {
    let tmp = tempdir();
    let venv = Venv::create(&tmp.path().join("venv"), Installer::Pip);
    let mut pip = venv.pip_command();
    pip.args(["install", "--no-index", "--find-links"])
        .arg(&wheelhouse().dir)
        .args(["demo-app", "demo-scripts"]);
    run_ok(&mut pip);
    let server = IndexServer::start(&wheelhouse().dir, &["--slow", "0.3", "--no-range"]);
    let url = server.simple_url();
    let lock = tmp.path().join("pylock.toml");
    let args = |extra: &[&str]| -> Vec<std::ffi::OsString> {
        let mut all: Vec<std::ffi::OsString> = vec!["lock".into(), venv.root.clone().into()];
        all.extend(["--index-url", url.as_str(), "--no-cache", "-o"].map(Into::into));
        all.push(lock.clone().into());
        all.extend(extra.iter().map(Into::into));
        all
    };
    // The last of a screen is what a failure needs to show; the whole one runs to pages.
    let tail = |s: &str| -> String {
        let chars: Vec<char> = s.chars().collect();
        chars[chars.len().saturating_sub(800)..].iter().collect()
    };
    const BARS: [&str; 3] = [
        "/3 attributed",
        "requests answered",
        "of whole wheels read and hashed",
    ];

    let out = run_icelock(&mut icelock_on_terminal(&args(&[])));
    assert!(out.status.success(), "{}", show(&out));
    let screen = stdout_str(&out);
    for bar in BARS {
        assert!(
            screen.contains(bar),
            "{bar:?} drawn on a terminal: {:?}",
            tail(&screen)
        );
    }
    // Every bar line is erased (`ESC[2K`) before the summary is printed.
    let after_bars = screen.rsplit("\x1b[2K").next().unwrap_or_default();
    assert!(
        after_bars.contains("3 of 3 distributions attributed")
            && !BARS.iter().any(|b| after_bars.contains(b)),
        "the summary follows the cleared bars: {after_bars:?}"
    );

    let quiet = run_icelock(&mut icelock_on_terminal(&args(&["-q"])));
    assert!(quiet.status.success(), "{}", show(&quiet));
    let screen = stdout_str(&quiet);
    assert!(
        !BARS.iter().any(|b| screen.contains(b)) && !screen.contains('\x1b'),
        "-q draws nothing: {:?}",
        tail(&screen)
    );

    let piped = run_icelock(&mut icelock_command(&args(&[])));
    assert!(piped.status.success(), "{}", show(&piped));
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(
        !BARS.iter().any(|b| stderr.contains(b)) && !stderr.contains('\x1b'),
        "off a terminal, no bar: {:?}",
        tail(&stderr)
    );
    assert!(
        stderr.contains("3 of 3 distributions attributed"),
        "{stderr}"
    );
}
