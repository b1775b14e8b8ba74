//! The capture server refuses to start on a bad delivery target, naming it, and starts with
//! good ones (webhook and e-mail keys are accepted in `[capture]`).

mod common;

use common::capture::DEMO_FORM;
use common::{Site, CONFIG};
use splitmark::capture::{start, CaptureOptions};

async fn start_with(capture: &str) -> Result<(), String> {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{capture}{DEMO_FORM}")),
        ("content/index.md", "+++\ntitle = \"Home\"\n+++\nHi\n"),
    ]);
    site.build_ok();
    let server = start(CaptureOptions {
        root: site.root().to_path_buf(),
        bind: "127.0.0.1:0".into(),
        db: Some(format!(
            "sqlite:{}",
            site.root().join("data/leads.db").display()
        )),
        site: Some(site.root().join("public")),
        admin_token: None,
        manifest: None,
    })
    .await
    .map_err(|e| e.to_string())?;
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_bad_target_stops_the_start_and_good_ones_are_accepted() {
    let err = start_with(
        "[[capture.webhooks]]\nurl = \"https://hooks.example.com/leads\"\nsecret_env = \"SPLITMARK_TEST_UNSET_HOOK_SECRET\"\n",
    )
    .await
    .unwrap_err();
    assert!(
        err.contains(
            "[[capture.webhooks]] #1: secret_env SPLITMARK_TEST_UNSET_HOOK_SECRET is not set"
        ),
        "{err}"
    );
    let err = start_with("[capture.email]\nsmtp_url = \"smtp://u:p@mail.example.com\"\n")
        .await
        .unwrap_err();
    assert!(err.contains("smtp_url may not be written"), "{err}");
    let err = start_with("[capture]\nallow_private_targets = 1\n")
        .await
        .unwrap_err();
    assert!(
        err.contains("allow_private_targets must be true or false"),
        "{err}"
    );
    let err = start_with("[capture]\nretry_schedule = [\"5s\", \"0s\"]\n")
        .await
        .unwrap_err();
    assert!(
        err.contains("[capture] retry_schedule waits must be positive"),
        "{err}"
    );
    let err = start_with("[capture]\nretry_schedule = []\n")
        .await
        .unwrap_err();
    assert!(
        err.contains("retry_schedule must list 1 to 20 waits"),
        "{err}"
    );
    // Slack needs no secret: a valid target, and the server starts.
    start_with(
        "[capture]\nallow_private_targets = true\nretry_schedule = [\"30s\", \"1h\"]\n[[capture.webhooks]]\nurl = \"http://127.0.0.1:9/x\"\nformat = \"slack\"\n",
    )
    .await
    .unwrap();
}
