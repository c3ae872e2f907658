//! Stamps the commit icelock is built from into `--version` (`ICELOCK_COMMIT`), from git where
//! the source is a checkout, else from the environment (a wheel built from an sdist), else
//! `unknown`.

use std::process::Command;

fn main() {
    let commit = std::env::var("ICELOCK_COMMIT").ok().or_else(|| {
        let out = Command::new("git")
            .args(["rev-parse", "--short=9", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|c| !c.is_empty())
    });
    println!(
        "cargo:rustc-env=ICELOCK_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rerun-if-env-changed=ICELOCK_COMMIT");
    // A new commit moves HEAD (or the branch it names).
    for path in [".git/HEAD", ".git/refs/heads"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
