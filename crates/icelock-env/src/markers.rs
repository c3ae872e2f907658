//! PEP 508 marker environments for environments that are not asked (venvs, Pyodide).
//!
//! A venv runs on the machine that reads it, so its platform markers are this machine's; its
//! Python version is the one `pyvenv.cfg` records. A Pyodide venv runs in the browser: its markers
//! are Emscripten/wasm32 with the runtime's Python version, whatever machine reads it.

use uv_pep508::{MarkerEnvironment, MarkerEnvironmentBuilder};

use crate::EnvError;
use crate::pyodide::PyodideRuntime;

/// The marker environment of a CPython (or PyPy) `full_version` running on this machine.
pub(crate) fn host(
    full_version: &str,
    implementation: Option<&str>,
) -> Result<MarkerEnvironment, EnvError> {
    let (os_name, sys_platform, platform_system) = match std::env::consts::OS {
        "linux" => ("posix", "linux", "Linux"),
        "macos" => ("posix", "darwin", "Darwin"),
        "windows" => ("nt", "win32", "Windows"),
        "freebsd" => ("posix", "freebsd", "FreeBSD"),
        other => ("posix", other, other),
    };
    let machine = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("macos", "aarch64") => "arm64",
        ("windows", "x86_64") => "AMD64",
        ("windows", "aarch64") => "ARM64",
        (_, arch) => arch,
    };
    let (release, version) = kernel_release_and_version();
    let is_pypy = implementation.is_some_and(|i| i.eq_ignore_ascii_case("pypy"));
    let (implementation_name, platform_python_implementation) = if is_pypy {
        ("pypy", "PyPy")
    } else {
        ("cpython", "CPython")
    };
    let short = short_version(full_version);
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name,
        // PyPy's own version is not in pyvenv.cfg; the Python version is the closest honest value.
        implementation_version: full_version,
        os_name,
        platform_machine: machine,
        platform_python_implementation,
        platform_release: &release,
        platform_system,
        platform_version: &version,
        python_full_version: full_version,
        python_version: &short,
        sys_platform,
    })
    .map_err(|err| EnvError::Markers(format!("Python version {full_version:?}: {err}")))
}

/// The marker environment inside a Pyodide runtime (what `packaging.markers` reports there).
pub(crate) fn pyodide(
    runtime: &PyodideRuntime,
    full_version: &str,
) -> Result<MarkerEnvironment, EnvError> {
    let short = short_version(full_version);
    let emscripten = runtime.emscripten_version();
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: full_version,
        os_name: "posix",
        platform_machine: "wasm32",
        platform_python_implementation: "CPython",
        platform_release: &emscripten,
        platform_system: "Emscripten",
        platform_version: "#1",
        python_full_version: full_version,
        python_version: &short,
        sys_platform: "emscripten",
    })
    .map_err(|err| EnvError::Markers(format!("Pyodide Python version {full_version:?}: {err}")))
}

fn short_version(full: &str) -> String {
    let mut parts = full.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => {
            let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
            format!("{major}.{minor}")
        }
        _ => full.to_string(),
    }
}

/// `platform.release()` and `platform.version()` come from `uname`; on Linux the kernel publishes
/// both under /proc. Elsewhere they are left empty: markers on them are rare and a wrong value
/// would be worse than an empty one.
fn kernel_release_and_version() -> (String, String) {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    if cfg!(target_os = "linux") {
        (
            read("/proc/sys/kernel/osrelease"),
            read("/proc/sys/kernel/version"),
        )
    } else {
        (String::new(), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_version_drops_micro_and_prerelease() {
        assert_eq!(short_version("3.11.7"), "3.11");
        assert_eq!(short_version("3.13.0rc1"), "3.13");
    }

    #[test]
    fn host_markers_carry_the_venv_python() {
        let env = host("3.12.4", None).unwrap();
        assert_eq!(env.python_full_version().to_string(), "3.12.4");
        assert_eq!(env.python_version().to_string(), "3.12");
        assert_eq!(env.implementation_name(), "cpython");
    }
}
