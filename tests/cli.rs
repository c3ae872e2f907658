//! The command's own surface: `--version` names the commit, and `completions` prints a script
//! each shell accepts (bash's is sourced and asked to complete).

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
