use super::*;
use crate::config::Config;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn config(capture: &str) -> Config {
    Config::parse(&format!(
        "base_url = \"https://x.test\"\n[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\n{capture}"
    ))
    .unwrap()
}

fn env(name: &str) -> Option<String> {
    match name {
        "HOOK_SECRET" => Some(SECRET.into()),
        "BAD_SECRET" => Some("not-a-secret".into()),
        "SMTP" => Some("smtp://u:p@mail.example.com:587".into()),
        "SLACK_URL" => Some("https://hooks.slack.test/services/T/B/XYZ".into()),
        _ => None,
    }
}

fn parse(capture: &str) -> Result<Targets, String> {
    Targets::from_config(&config(capture), &env)
}

const HOOK: &str = "[[capture.webhooks]]\nurl = \"https://hooks.example.com/leads\"\nsecret_env = \"HOOK_SECRET\"\n";

#[test]
fn a_full_config_parses_and_matches_by_event_and_form() {
    let t = parse(&format!(
        "{HOOK}events = [\"lead.created\", \"lead.qualified\"]\n\
         [[capture.webhooks]]\nurl_env = \"SLACK_URL\"\nformat = \"slack\"\nforms = [\"demo\"]\n\
         [capture.email]\nsmtp_url_env = \"SMTP\"\nfrom = \"Leads <leads@example.com>\"\nto = [\"sales@example.com\"]\nevents = [\"lead.qualified\"]\n"
    ))
    .unwrap();
    let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys[0].starts_with("webhook:") && keys[0].len() == "webhook:".len() + 12);
    assert_eq!(keys[2], "email");
    let created: Vec<String> = t
        .matching(EventKind::LeadCreated, "demo")
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(created, vec![keys[0].clone(), keys[1].clone()]);
    assert_eq!(t.matching(EventKind::LeadCreated, "other").len(), 1);
    assert_eq!(t.matching(EventKind::LeadQualified, "demo").len(), 2);
    assert!(t.get("email").is_some() && t.get("webhook:nope").is_none());
    // The same config gives the same keys (rows stored yesterday still find their target).
    let again = parse(&format!(
        "{HOOK}events = [\"lead.created\", \"lead.qualified\"]\n"
    ))
    .unwrap();
    assert_eq!(again.iter().next().unwrap().0.to_string(), keys[0]);
    let report = t.describe().join("\n");
    assert!(
        report.contains("https://hooks.example.com/leads"),
        "{report}"
    );
    assert!(report.contains("https://hooks.slack.test/…"), "{report}");
    assert!(
        !report.contains("XYZ"),
        "the secret Slack URL leaked: {report}"
    );
    assert!(
        report.contains("sales@example.com via mail.example.com:587 (STARTTLS"),
        "{report}"
    );
    assert!(!report.contains(":p@"), "{report}");
}

#[test]
fn no_targets_is_fine() {
    let t = parse("").unwrap();
    assert!(t.is_empty());
    assert!(!t.allow_private);
    assert_eq!(t.describe().len(), 1);
}

#[test]
fn config_errors_name_the_target_and_the_problem() {
    let cases = [
        (
            "[[capture.webhooks]]\nurl = \"https://h.example.com/\"\nsecret_env = \"SALES_HOOK_SECRET\"\n",
            "[[capture.webhooks]] #1: secret_env SALES_HOOK_SECRET is not set",
        ),
        (
            "[[capture.webhooks]]\nurl = \"https://h.example.com/\"\nsecret_env = \"BAD_SECRET\"\n",
            "must start with whsec_",
        ),
        (
            "[[capture.webhooks]]\nurl = \"https://h.example.com/\"\nsecret = \"whsec_x\"\n",
            "secret may not be written in splitmark.toml",
        ),
        (
            "[[capture.webhooks]]\nurl = \"not a url\"\nsecret_env = \"HOOK_SECRET\"\n",
            "is not a valid URL",
        ),
        (
            "[[capture.webhooks]]\nurl = \"ftp://h.example.com/\"\nsecret_env = \"HOOK_SECRET\"\n",
            "must be http:// or https://",
        ),
        (
            "[[capture.webhooks]]\nurl = \"https://u:p@h.example.com/\"\nsecret_env = \"HOOK_SECRET\"\n",
            "carries credentials",
        ),
        (&format!("{HOOK}events = [\"lead.updated\"]\n"), "unknown event \"lead.updated\""),
        (&format!("{HOOK}forms = [\"nope\"]\n"), "not a [forms.nope]"),
        (&format!("{HOOK}retries = 3\n"), "unknown setting \"retries\""),
        (&format!("{HOOK}format = \"xml\"\n"), "format \"xml\""),
        (&format!("{HOOK}format = \"slack\"\n"), "not signed; remove secret_env"),
        (&format!("{HOOK}{HOOK}"), "the same url is configured twice"),
        ("[[capture.webhooks]]\nsecret_env = \"HOOK_SECRET\"\n", "url is required"),
        (
            "[capture.email]\nsmtp_url = \"smtp://u:p@h:587\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
            "smtp_url may not be written in splitmark.toml",
        ),
        (
            "[capture.email]\nsmtp_url_env = \"NOPE\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
            "[capture.email]: smtp_url_env NOPE is not set",
        ),
        (
            "[capture.email]\nsmtp_url_env = \"SMTP\"\nfrom = \"not an address\"\nto = [\"d@e.f\"]\n",
            "from \"not an address\" is not an e-mail address",
        ),
        (
            "[capture.email]\nsmtp_url_env = \"SMTP\"\nfrom = \"a@b.c\"\n",
            "to is required",
        ),
        ("[capture]\nallow_private_targets = \"yes\"\n", "must be true or false"),
    ];
    for (capture, want) in cases {
        let err = parse(capture).expect_err(capture);
        assert!(err.contains(want), "{capture}\n→ {err}\nwanted {want}");
    }
}

#[test]
fn literal_private_addresses_are_refused_at_start_with_the_reason() {
    for (host, why) in [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("169.254.169.254", "metadata"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("localhost", "loopback name"),
    ] {
        let t = parse(&format!(
            "[[capture.webhooks]]\nurl = \"http://{host}:8080/x\"\nsecret_env = \"HOOK_SECRET\"\n"
        ))
        .unwrap();
        let (_, target) = t.iter().next().unwrap();
        let Target::Webhook(w) = target else { panic!() };
        let reason = w.refused.clone().unwrap_or_default();
        assert!(reason.contains(why), "{host}: {reason}");
        assert!(t.describe()[0].contains("REFUSED"), "{:?}", t.describe());
    }
    let open = |host: &str| {
        Targets::from_config(
            &config(&format!(
                "[capture]\nallow_private_targets = true\n[[capture.webhooks]]\nurl = \"http://{host}/x\"\nsecret_env = \"HOOK_SECRET\"\n"
            )),
            &env,
        )
        .unwrap()
    };
    let t = open("127.0.0.1");
    let Some((_, Target::Webhook(w))) = t.iter().next() else {
        panic!()
    };
    assert_eq!(w.refused, None);
    let t = open("169.254.169.254");
    let Some((_, Target::Webhook(w))) = t.iter().next() else {
        panic!()
    };
    assert!(w
        .refused
        .as_deref()
        .unwrap_or_default()
        .contains("metadata"));
}
