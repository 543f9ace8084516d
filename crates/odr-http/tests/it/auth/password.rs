use odr_http::auth::{normalize_email, validate_password, PasswordHasher};

#[test]
fn a_hashed_password_verifies_and_nothing_else_does() {
    let hasher = PasswordHasher::fast_for_tests();
    let phc = hasher.hash("correct horse battery").expect("hash");
    assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
    assert!(hasher.verify("correct horse battery", &phc));
    assert!(!hasher.verify("correct horse batterY", &phc));
    assert!(!hasher.verify("correct horse battery", "not a phc string"));
    assert_ne!(
        phc,
        hasher.hash("correct horse battery").expect("hash"),
        "each hash has its own salt"
    );
    hasher.dummy_verify();
}

#[test]
fn verification_reads_the_parameters_from_the_stored_hash() {
    let production = PasswordHasher::production();
    let phc = production.hash("a long enough password").expect("hash");
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    let tests = PasswordHasher::fast_for_tests();
    assert!(tests.verify("a long enough password", &phc));
    assert!(tests.needs_rehash(&phc));
    assert!(!production.needs_rehash(&phc));
}

#[test]
fn passwords_are_10_to_1000_characters_counted_as_characters() {
    assert_eq!(
        validate_password("123456789").expect_err("9 chars").code,
        "too_short"
    );
    assert!(validate_password("1234567890").is_ok());
    assert!(
        validate_password("éééééééééé").is_ok(),
        "10 characters even though 20 bytes"
    );
    assert!(
        validate_password("ééééé").is_err(),
        "5 characters is short even though 10 bytes"
    );
    assert!(validate_password(&"x".repeat(1000)).is_ok());
    assert_eq!(
        validate_password(&"x".repeat(1001)).expect_err("1001").code,
        "too_long"
    );
}

#[test]
fn emails_are_trimmed_lowercased_and_shape_checked() {
    assert_eq!(
        normalize_email("  Ana.Silva@Example.COM ").expect("valid"),
        "ana.silva@example.com"
    );
    for bad in [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "a@b@example.com",
        "an a@example.com",
        "ana@example.com.",
        "ana@.example.com",
        "ana@example..com",
        "ana\u{7}@example.com",
    ] {
        let err = normalize_email(bad).expect_err(bad);
        assert_eq!(err.field, "email", "{bad:?}");
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert!(normalize_email(&long).is_err(), "over 254 characters");
}
