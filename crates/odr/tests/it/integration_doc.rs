//! The API-key examples of docs/integration.md (section 1), run with bash
//! and curl against the real server with the demo data: create a key, use
//! it, revoke it. The blocks are found by their `<!-- example: NAME -->`
//! markers; the reader's own values (the server's address, the retailer id,
//! the sign-in, the key) are the only things the test fills in.

use serde_json::{json, Value};

use crate::server::{Server, Site};

on_databases! {
    both: [the_api_key_examples_run_against_the_real_server],
}

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/integration.md");

/// The code block right after `<!-- example: NAME -->`.
fn example(doc: &str, name: &str) -> Result<String, String> {
    let marker = format!("<!-- example: {name} -->");
    let (_, rest) = doc
        .split_once(&marker)
        .ok_or_else(|| format!("no `{marker}` line"))?;
    let rest = rest.trim_start();
    let fenced = rest
        .strip_prefix("```sh\n")
        .ok_or_else(|| format!("`{marker}` is not followed by a ```sh block"))?;
    let (code, _) = fenced
        .split_once("\n```")
        .ok_or_else(|| format!("the block after `{marker}` is not closed"))?;
    Ok(format!("{code}\n"))
}

/// The example with the reader's values filled in: each `NAME=...` line
/// of `given` is dropped (the test sets NAME in the environment), and each
/// `(placeholder, value)` replaced; every one must be there.
fn fill_in(code: &str, given: &[&str], replace: &[(&str, &str)]) -> String {
    let mut filled: String = code
        .lines()
        .filter(|line| {
            !given
                .iter()
                .any(|name| line.starts_with(&format!("{name}=")))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let dropped = code.lines().count() - filled.lines().count();
    assert_eq!(
        dropped,
        given.len(),
        "the example should set each of {given:?} on a line of its own:\n{code}"
    );
    for (placeholder, value) in replace {
        assert!(
            filled.contains(placeholder),
            "the example no longer has {placeholder:?}:\n{code}"
        );
        filled = filled.replace(placeholder, value);
    }
    filled
}

/// Runs a filled-in example; its standard output as JSON documents.
fn run(site: &Site, name: &str, code: &str, env: &[(&str, &str)]) -> Vec<Value> {
    let out = site.run_bash(code, env);
    assert!(
        out.status.success(),
        "the `{name}` example failed ({}):\n--- script ---\n{code}--- stdout ---\n{}--- stderr ---\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    serde_json::Deserializer::from_str(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the `{name}` example printed {:?} ({e})", out.stdout))
}

/// The demo shop's id, from the public directory.
fn demo_shop(server: &Server) -> String {
    let list = server.get("/api/v1/retailers", None).expect(200);
    list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|r| r["name"] == "Demo Shop"))
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no Demo Shop in {list}"))
        .to_owned()
}

fn the_api_key_examples_run_against_the_real_server(backend: odr_store::Backend) {
    let doc = std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"));
    let block = |name: &str| {
        example(&doc, name)
            .unwrap_or_else(|problem| panic!("docs/integration.md, `{name}`: {problem}"))
    };
    let site = Site::new(backend);
    site.run(&["seed-demo"], &[]).assert_success();
    let server = site.serve(&[]);
    let odr = server.base_url();
    let shop = demo_shop(&server);
    let customer = server.login("customer@demo.odr.test", "demo-customer-pass");
    let complaint = server
        .post(
            "/api/v1/complaints",
            Some(&customer),
            &json!({
                "retailer_id": shop,
                "order_reference": "SO-10023",
                "category": "damaged",
                "desired_remedy": "partial_refund",
                "claimed_amount": {"amount_minor": 2500, "currency": "EUR"},
                "description": "The kettle arrived with a cracked lid."
            }),
        )
        .expect(201)["id"]
        .as_str()
        .expect("the filed complaint's id")
        .to_owned();

    // Create: the staff member signs in and makes a key.
    let create = fill_in(
        &block("keys-create"),
        &["ODR", "SHOP"],
        &[
            ("sam@your-shop.example", "staff@demo-shop.test"),
            (r#""password":"...""#, r#""password":"demo-staff-pass""#),
        ],
    );
    let created = run(
        &site,
        "keys-create",
        &create,
        &[("ODR", &odr), ("SHOP", &shop)],
    );
    assert_eq!(created.len(), 1, "{created:?}");
    let key = created[0]["key"]
        .as_str()
        .filter(|k| k.starts_with("odr_sk_"))
        .unwrap_or_else(|| panic!("no key in {}", created[0]))
        .to_owned();
    let key_id = created[0]["id"].as_str().expect("the key's id").to_owned();
    assert_eq!(created[0]["name"], "Shop backend");

    // Use: the shop's backend lists, acknowledges and offers with the key.
    let used = run(
        &site,
        "keys-use",
        &fill_in(&block("keys-use"), &["KEY"], &[]),
        &[("ODR", &odr), ("KEY", &key), ("COMPLAINT", &complaint)],
    );
    assert_eq!(used.len(), 3, "{used:?}");
    assert!(
        used[0]["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|c| c["id"] == complaint.as_str())),
        "the list of filed complaints misses the new one: {}",
        used[0]
    );
    assert_eq!(used[1]["state"], "acknowledged", "{}", used[1]);
    assert!(
        used[2]["status"].is_null() && used[2]["id"].is_string(),
        "the offer was refused: {}",
        used[2]
    );
    let now = server
        .get(&format!("/api/v1/complaints/{complaint}"), Some(&key))
        .expect(200);
    assert_eq!(now["state"], "proposed", "{now}");

    // Revoke: the key stops working at once.
    let staff = server.login("staff@demo-shop.test", "demo-staff-pass");
    let revoked = run(
        &site,
        "keys-revoke",
        &block("keys-revoke"),
        &[
            ("ODR", &odr),
            ("SHOP", &shop),
            ("TOKEN", &staff),
            ("KEY_ID", &key_id),
        ],
    );
    assert!(revoked.is_empty(), "{revoked:?}");
    server.get("/api/v1/complaints", Some(&key)).expect(401);
}

#[test]
fn an_example_is_the_block_after_its_marker() {
    let doc = "text\n\n<!-- example: a -->\n```sh\nODR=https://x\ncurl -s \"$ODR\"\n```\n\n```sh\nnot this\n```\n";
    assert_eq!(
        example(doc, "a").as_deref(),
        Ok("ODR=https://x\ncurl -s \"$ODR\"\n")
    );
    assert!(example(doc, "b").is_err());
    assert_eq!(
        fill_in(
            "ODR=https://x\ncurl -s \"$ODR\" -d pw\n",
            &["ODR"],
            &[("pw", "secret")]
        ),
        "curl -s \"$ODR\" -d secret\n"
    );
}
