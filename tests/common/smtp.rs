//! Finding a Python that can run Debian's `python3-aiosmtpd`, the real SMTP server of the
//! e-mail tests; a loud skip without one, a failure when `SPLITMARK_REQUIRE_SMTP` is set (CI).

use std::process::{Command, Stdio};

/// A Python that has aiosmtpd (the first `python3` on the PATH may be another one than the
/// system's, which Debian's python3-aiosmtpd installs into), or `None` after a loud notice
/// naming `what` would have run.
pub fn python_with_aiosmtpd(what: &str) -> Option<&'static str> {
    let found = ["python3", "/usr/bin/python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("SPLITMARK_REQUIRE_SMTP").is_err(),
            "SPLITMARK_REQUIRE_SMTP is set but no python3 can import aiosmtpd"
        );
        eprintln!("\n*** SKIPPED: {what} needs python3-aiosmtpd ***\n");
    }
    found
}
