//! Without `ODR_SMTP_URL` each mail is a complete `.eml` file: what the demo
//! mailbox shows and what a mail client opens.

use std::time::Duration;

use odr_mail::transport::MailTransport;
use odr_store::Backend;

use crate::world::{exact_retries, message_id, options, World};

on_both_databases!(without_smtp_each_mail_is_a_complete_eml_file);

async fn without_smtp_each_mail_is_a_complete_eml_file(backend: Backend) {
    let world = World::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("data/mail");
    let transport = MailTransport::from_settings(None, &mail_dir, Duration::from_secs(5)).unwrap();
    assert!(
        transport.describe().contains("data/mail"),
        "{}",
        transport.describe()
    );
    let complaint = world.file("F-1");
    world.acknowledge(&complaint);
    let rows = world.outbox();

    let report = world
        .worker(transport, options(exact_retries(8)))
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.sent, 3);

    let files: Vec<String> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(files.len(), 3);
    for row in &rows {
        let id = message_id(&row.id);
        let file = files
            .iter()
            .find(|f| f.contains(&format!("Message-ID: {id}")))
            .unwrap_or_else(|| panic!("no file for {id}"));
        let (head, body) = file
            .split_once("\r\n\r\n")
            .expect("headers end with an empty line");
        for header in [
            "From: ODR <no-reply@odr.test>",
            "Subject: ",
            "Date: ",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Language: en",
            "Content-Type: multipart/alternative",
        ] {
            assert!(head.contains(header), "{header:?} missing in\n{head}");
        }
        assert!(head.contains("To: ") && head.contains(&row.to_address));
        assert!(
            body.contains("Content-Type: text/plain; charset=utf-8"),
            "{body}"
        );
        assert!(
            body.contains("Content-Type: text/html; charset=utf-8"),
            "{body}"
        );
        assert!(
            file.lines().all(|l| l.len() <= 998),
            "RFC 5322 lines are at most 998 characters"
        );
    }
}
