//! Runs the browser-script tests (`node --test tests/js`) as part of `cargo test`.
//!
//! Without Node the test prints a loud skip notice, unless `SPLITMARK_REQUIRE_NODE=1` (set by
//! CI), in which case a missing Node fails it.

#[test]
fn browser_script_tests_pass_under_node() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = match std::process::Command::new("node")
        .args(["--test", "tests/js/"])
        .current_dir(root)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var("SPLITMARK_REQUIRE_NODE").is_err(),
                "node is required (SPLITMARK_REQUIRE_NODE=1) but cannot run: {e}"
            );
            eprintln!("\n*** SKIPPED: browser-script tests need Node.js ({e}); install nodejs to run them ***\n");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "{stdout}"
    );
}
