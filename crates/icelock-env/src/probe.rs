//! Asking an interpreter, once, for what only it knows: its `sys.path` and marker environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use uv_pep508::MarkerEnvironment;

use crate::EnvError;

/// The probe prints one JSON object; it uses only what every CPython 3 and PyPy has.
const PROBE: &str = r#"
import json, os, platform, sys
def v(info):
    s = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        s += {"alpha": "a", "beta": "b", "candidate": "rc"}[info[3]] + str(info[4])
    return s
impl = sys.implementation
print(json.dumps({
    "markers": {
        "implementation_name": impl.name,
        "implementation_version": v(impl.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
    "path": sys.path[1:],
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "executable": sys.executable,
}))
"#;

#[derive(Debug, Deserialize)]
pub(crate) struct Probe {
    pub markers: MarkerEnvironment,
    /// `sys.path` without its first entry (the script's folder, which is the current directory).
    pub path: Vec<PathBuf>,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub executable: PathBuf,
}

pub(crate) fn run(interpreter: &Path) -> Result<Probe, EnvError> {
    let fail = |message: String| EnvError::Probe {
        interpreter: interpreter.to_path_buf(),
        message,
    };
    let output = Command::new(interpreter)
        .arg("-c")
        .arg(PROBE)
        .stdin(Stdio::null())
        // Bytecode writes would change the environment being locked.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|err| fail(err.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(fail(format!(
            "exit status {}: {}",
            output.status,
            stderr.trim()
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|err| fail(format!("unexpected answer ({err})")))
}
