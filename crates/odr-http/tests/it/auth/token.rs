use std::time::Duration;

use actix_web::test::TestRequest;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chrono::{TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use odr_http::auth::{bearer_token, TokenError, TokenIssuer};
use serde_json::json;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn issuer() -> TokenIssuer {
    TokenIssuer::new(SECRET, "odr", "odr-api", Duration::from_secs(3600)).expect("issuer")
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0)
        .single()
        .expect("time")
}

fn claims() -> serde_json::Value {
    let iat = t0().timestamp();
    json!({"sub": "u1", "role": "customer", "sev": 0, "iat": iat, "exp": iat + 3600,
           "iss": "odr", "aud": "odr-api", "jti": "j1"})
}

fn signed(header: Header, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(SECRET)).expect("encode")
}

#[test]
fn an_issued_token_verifies_until_it_expires() {
    let issuer = issuer();
    let issued = issuer.issue("u1", "customer", 7, t0()).expect("issue");
    assert_eq!(issued.token_type, "Bearer");
    assert_eq!(issued.expires_in, 3600);
    let claims = issuer
        .verify(&issued.access_token, t0())
        .expect("fresh token verifies");
    assert_eq!(
        (claims.sub.as_str(), claims.role.as_str(), claims.sev),
        ("u1", "customer", 7)
    );
    assert_eq!(claims.exp - claims.iat, 3600);
    let almost = t0() + chrono::Duration::seconds(3599);
    assert!(issuer.verify(&issued.access_token, almost).is_ok());
    let at_exp = t0() + chrono::Duration::seconds(3600);
    assert!(matches!(
        issuer.verify(&issued.access_token, at_exp),
        Err(TokenError::Expired)
    ));
    let before = t0() - chrono::Duration::seconds(61);
    assert!(matches!(
        issuer.verify(&issued.access_token, before),
        Err(TokenError::IssuedInFuture)
    ));
}

#[test]
fn tokens_from_other_keys_issuers_or_audiences_are_rejected() {
    let token = issuer()
        .issue("u1", "customer", 0, t0())
        .expect("issue")
        .access_token;
    let other_key = TokenIssuer::new(
        b"another secret of at least 32 bytes!",
        "odr",
        "odr-api",
        Duration::from_secs(60),
    )
    .expect("issuer");
    assert!(other_key.verify(&token, t0()).is_err(), "wrong secret");
    let other_iss =
        TokenIssuer::new(SECRET, "elsewhere", "odr-api", Duration::from_secs(60)).expect("issuer");
    assert!(other_iss.verify(&token, t0()).is_err(), "wrong issuer");
    let other_aud =
        TokenIssuer::new(SECRET, "odr", "other-api", Duration::from_secs(60)).expect("issuer");
    assert!(other_aud.verify(&token, t0()).is_err(), "wrong audience");
}

#[test]
fn tokens_with_other_algorithms_or_missing_claims_are_rejected() {
    let issuer = issuer();
    assert!(
        issuer
            .verify(&signed(Header::new(Algorithm::HS256), &claims()), t0())
            .is_ok(),
        "control"
    );
    assert!(
        issuer
            .verify(&signed(Header::new(Algorithm::HS512), &claims()), t0())
            .is_err(),
        "HS512"
    );

    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    let none = format!(
        "{}.{body}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );
    assert!(issuer.verify(&none, t0()).is_err(), "alg none");
    // An RS256 header over a valid HS256 signature (algorithm confusion).
    let hs = signed(Header::new(Algorithm::HS256), &claims());
    let sig = hs.rsplit('.').next().unwrap_or_default();
    let rs = format!(
        "{}.{body}.{sig}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#)
    );
    assert!(issuer.verify(&rs, t0()).is_err(), "RS256 header");

    for claim in ["aud", "iss", "exp", "iat", "sub"] {
        let mut c = claims();
        c.as_object_mut().expect("object").remove(claim);
        assert!(
            issuer
                .verify(&signed(Header::new(Algorithm::HS256), &c), t0())
                .is_err(),
            "missing {claim}"
        );
    }
    assert!(issuer.verify("not.a.token", t0()).is_err());
}

#[test]
fn short_secrets_are_refused() {
    let short = TokenIssuer::new(b"too short", "odr", "odr-api", Duration::from_secs(60));
    assert!(matches!(short, Err(TokenError::WeakSecret)));
}

#[test]
fn bearer_tokens_are_read_from_the_authorization_header() {
    let with = |v: &str| {
        TestRequest::default()
            .insert_header(("authorization", v))
            .to_http_request()
    };
    assert_eq!(bearer_token(&with("Bearer abc.def")), Some("abc.def"));
    assert_eq!(bearer_token(&with("bearer abc")), Some("abc"));
    assert_eq!(bearer_token(&with("BEARER  abc ")), Some("abc"));
    assert_eq!(bearer_token(&with("Basic dXNlcjpwdw==")), None);
    assert_eq!(bearer_token(&with("Bearer")), None);
    assert_eq!(bearer_token(&with("Bearer a b")), None);
    assert_eq!(
        bearer_token(&TestRequest::default().to_http_request()),
        None
    );
}
