//! Small facts about the host the private Postfix and Dovecot of the tests run on.

use std::path::Path;
use std::process::Command;

/// Sets a file's or folder's mode; a test's own temporary files, so a failure ends the test.
pub(crate) fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The uid this process runs as.
pub(crate) fn own_uid() -> u32 {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}
