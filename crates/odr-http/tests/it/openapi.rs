//! The served OpenAPI document: OpenAPI 3.1, every route of api.md's main
//! table with its methods, every route registered in `routes::configure`
//! documented, every problem code present, the bearer scheme declared.

use std::collections::BTreeSet;

use odr_http::problem::PROBLEM_CODES;
use odr_http::routes::ApiDoc;
use serde_json::Value;
use utoipa::OpenApi;

fn document() -> Value {
    let json = odr_http::routes::openapi_document();
    serde_json::from_str(json).expect("the served OpenAPI document is JSON")
}

/// (METHOD, path) of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The routes of api.md's main table (v1 contract) that this build serves.
const API_MD_ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
    ("PATCH", "/api/v1/me"),
    ("GET", "/api/v1/taxonomy"),
    ("POST", "/api/v1/retailers"),
    ("GET", "/api/v1/retailers"),
    ("PATCH", "/api/v1/retailers/{id}"),
    ("POST", "/api/v1/retailers/{id}/staff"),
    ("GET", "/api/v1/retailers/{id}/staff"),
    ("DELETE", "/api/v1/retailers/{id}/staff/{user_id}"),
    ("POST", "/api/v1/mediators"),
    ("POST", "/api/v1/complaints"),
    ("GET", "/api/v1/complaints"),
    ("GET", "/api/v1/complaints/{id}"),
    ("GET", "/api/v1/complaints/{id}/events"),
    ("POST", "/api/v1/complaints/{id}/acknowledge"),
    ("POST", "/api/v1/complaints/{id}/offers"),
    ("POST", "/api/v1/complaints/{id}/accept"),
    ("POST", "/api/v1/complaints/{id}/reject"),
    ("POST", "/api/v1/complaints/{id}/escalate"),
    ("POST", "/api/v1/complaints/{id}/fulfil"),
    ("POST", "/api/v1/complaints/{id}/mediator"),
    ("POST", "/api/v1/complaints/{id}/decision"),
    ("POST", "/api/v1/complaints/{id}/withdraw"),
    ("POST", "/api/v1/complaints/{id}/messages"),
    ("GET", "/api/v1/complaints/{id}/messages"),
];

#[test]
fn openapi_document_is_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"]
        .as_str()
        .expect("`openapi` names the version");
    assert!(
        version.starts_with("3.1."),
        "the document says OpenAPI {version}, clients expect 3.1.x"
    );
    assert!(doc["info"]["title"].is_string(), "the document has a title");
    assert_eq!(
        serde_json::to_value(ApiDoc::openapi()).expect("serialises"),
        doc,
        "the served JSON is the document utoipa builds"
    );
}

#[test]
fn openapi_has_every_route_of_the_contract() {
    let doc = document();
    let have = documented(&doc);
    let missing: Vec<_> = API_MD_ROUTES
        .iter()
        .filter(|(m, p)| !have.contains(&((*m).to_owned(), (*p).to_owned())))
        .collect();
    assert!(
        missing.is_empty(),
        "api.md routes a client cannot find in /openapi.json: {missing:?}"
    );
}

/// The (METHOD, path) pairs registered in `routes::configure`, read from its
/// source: every `resource("...")` and the `.get(`/`.post(`/... calls chained
/// on it, under the `/api/v1` scope where it is opened.
fn registered_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../../src/routes/mod.rs");
    let body = source
        .split("pub fn configure")
        .nth(1)
        .expect("routes/mod.rs has `configure`");
    let mut out = BTreeSet::new();
    let mut prefix = "";
    for chunk in body.split(".service(") {
        if chunk.contains("web::scope(\"/api/v1\")") {
            prefix = "/api/v1";
        }
        // rustfmt puts a path too long for one line on the next one.
        let Some(start) = chunk.find("resource(") else {
            continue;
        };
        let Some(rest) = chunk[start + "resource(".len()..]
            .trim_start()
            .strip_prefix('"')
        else {
            continue;
        };
        let path = &rest[..rest.find('"').expect("closing quote")];
        for method in ["get", "post", "put", "patch", "delete"] {
            if rest.contains(&format!(".{method}(")) {
                out.insert((method.to_uppercase(), format!("{prefix}{path}")));
            }
        }
    }
    assert!(
        out.len() > 20,
        "read too few routes from configure: {out:?}"
    );
    out
}

#[test]
fn openapi_documents_every_route_and_nothing_else() {
    let registered = registered_routes();
    let documented = documented(&document());
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes served but missing from /openapi.json (add #[utoipa::path] and list the handler in ApiDoc): {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "operations in /openapi.json that the server does not route: {phantom:?}"
    );
}

#[test]
fn openapi_names_every_problem_code() {
    let doc = document();
    let code = &doc["components"]["schemas"]["Problem"]["properties"]["code"];
    let code = match code["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => code,
    };
    let codes: BTreeSet<&str> = code["enum"]
        .as_array()
        .expect("Problem.code is an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for code in PROBLEM_CODES {
        assert!(
            codes.contains(code),
            "problem code `{code}` is missing from the Problem schema of /openapi.json"
        );
    }
    let text = doc.to_string();
    for response in doc["components"]["responses"]
        .as_object()
        .expect("reusable responses")
        .values()
    {
        assert!(
            response["content"]["application/problem+json"]["schema"]["$ref"]
                == "#/components/schemas/Problem",
            "every problem response is application/problem+json with the Problem schema: {response}"
        );
        assert!(
            response["content"]["application/problem+json"]["example"]["code"].is_string(),
            "every problem response has an example with its code: {response}"
        );
    }
    assert!(text.contains("application/problem+json"));
}

#[test]
fn openapi_declares_bearer_security_on_signed_in_routes() {
    let doc = document();
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "bearer scheme: {scheme}");
    assert_eq!(scheme["scheme"], "bearer", "bearer scheme: {scheme}");
    assert_eq!(scheme["bearerFormat"], "JWT", "bearer scheme: {scheme}");
    let me = &doc["paths"]["/api/v1/me"]["get"];
    assert!(
        me["security"].to_string().contains("bearer"),
        "GET /api/v1/me needs the bearer token: {me}"
    );
    assert!(
        me["responses"]["401"].is_object(),
        "GET /api/v1/me documents its 401"
    );
    let healthz = &doc["paths"]["/healthz"]["get"];
    assert!(
        healthz.get("security").is_none(),
        "GET /healthz is open to anyone"
    );
}

#[test]
fn openapi_transitions_document_conflicts_and_preconditions() {
    let doc = document();
    let accept = &doc["paths"]["/api/v1/complaints/{id}/accept"]["post"];
    for status in ["200", "400", "401", "403", "404", "409", "412", "422"] {
        assert!(
            accept["responses"][status].is_object(),
            "POST accept does not document {status}: {accept}"
        );
    }
    let names: Vec<&str> = accept["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in ["id", "If-Match", "Idempotency-Key"] {
        assert!(names.contains(&name), "POST accept lacks parameter {name}");
    }
}

#[test]
#[ignore = "prints the document for inspection"]
fn print_openapi_document() {
    println!("{}", odr_http::routes::openapi_document());
}
