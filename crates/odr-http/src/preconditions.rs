//! Conditional requests on complaints: the `ETag` a complaint answer
//! carries, `If-Match` on transitions (412 when stale) and `If-None-Match`
//! on reads (304 when unchanged).
//!
//! The tag is made from the complaint's `version` and the caller's role,
//! because what a complaint answer shows (allowed actions, hidden fields)
//! depends on who asks; hence also `Vary: Authorization`.

use std::future::{ready, Ready};

use actix_web::http::header::{self, HeaderName};
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};
use odr_domain::Role;

use crate::problem::{ApiError, FieldError};

/// The strong, quoted entity tag of a complaint at `version` seen by `role`.
pub fn complaint_etag(version: i64, role: Role) -> String {
    format!("\"{version}-{}\"", role.code())
}

/// Adds the complaint's `ETag` and `Vary: Authorization` to an answer.
pub fn tag_complaint(
    builder: &mut HttpResponseBuilder,
    version: i64,
    role: Role,
) -> &mut HttpResponseBuilder {
    builder
        .insert_header((header::ETAG, complaint_etag(version, role)))
        .insert_header((header::VARY, "Authorization"))
}

/// 304 for a reader whose `If-None-Match` names the current tag.
pub fn not_modified(version: i64, role: Role) -> HttpResponse {
    tag_complaint(&mut HttpResponse::NotModified(), version, role).finish()
}

/// A parsed `If-Match` / `If-None-Match` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `*`: any current representation.
    Any,
    /// The listed entity tags, as sent (quoted, maybe `W/`-prefixed).
    Tags(Vec<String>),
}

impl Condition {
    fn parse(name: &HeaderName, req: &HttpRequest) -> Result<Option<Condition>, ApiError> {
        let Some(value) = req.headers().get(name) else {
            return Ok(None);
        };
        let malformed = || ApiError::Malformed {
            detail: format!("The `{name}` header is not a list of quoted entity tags."),
            errors: vec![FieldError::new(
                name.as_str(),
                "malformed_header",
                "Send `*` or one or more quoted ETags from an earlier answer.",
            )],
        };
        let value = value.to_str().map_err(|_| malformed())?.trim();
        if value == "*" {
            return Ok(Some(Condition::Any));
        }
        let tags: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let well_formed = |t: &String| {
            let opaque = t.strip_prefix("W/").unwrap_or(t);
            opaque.len() >= 2 && opaque.starts_with('"') && opaque.ends_with('"')
        };
        if tags.is_empty() || !tags.iter().all(well_formed) {
            return Err(malformed());
        }
        Ok(Some(Condition::Tags(tags)))
    }

    /// Strong comparison (`If-Match`): a weak tag never matches.
    pub fn matches_strongly(&self, etag: &str) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.iter().any(|t| t == etag),
        }
    }

    /// Weak comparison (`If-None-Match`): `W/` is ignored.
    pub fn matches_weakly(&self, etag: &str) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags
                .iter()
                .any(|t| t.strip_prefix("W/").unwrap_or(t) == etag),
        }
    }
}

/// `If-Match` of a request, if it sent one.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(pub Option<Condition>);

impl IfMatch {
    /// Ok when there is no `If-Match` or it names `etag`; 412 otherwise.
    pub fn check(&self, etag: &str) -> Result<(), ApiError> {
        match &self.0 {
            Some(c) if !c.matches_strongly(etag) => Err(ApiError::PreconditionFailed(format!(
                "The complaint changed since you read it (it is now {etag}); \
                 GET it again and decide on what it says now."
            ))),
            _ => Ok(()),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<IfMatch, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Condition::parse(&header::IF_MATCH, req).map(IfMatch))
    }
}

/// `If-None-Match` of a request, if it sent one.
#[derive(Debug, Clone, Default)]
pub struct IfNoneMatch(pub Option<Condition>);

impl IfNoneMatch {
    /// Whether the client already has the representation tagged `etag`.
    pub fn has(&self, etag: &str) -> bool {
        self.0.as_ref().is_some_and(|c| c.matches_weakly(etag))
    }
}

impl FromRequest for IfNoneMatch {
    type Error = ApiError;
    type Future = Ready<Result<IfNoneMatch, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Condition::parse(&header::IF_NONE_MATCH, req).map(IfNoneMatch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn if_match(value: &str) -> Result<Option<Condition>, ApiError> {
        let req = TestRequest::default()
            .insert_header((header::IF_MATCH, value))
            .to_http_request();
        Condition::parse(&header::IF_MATCH, &req)
    }

    #[test]
    fn the_tag_names_version_and_role() {
        assert_eq!(complaint_etag(3, Role::Customer), "\"3-customer\"");
    }

    #[test]
    fn star_matches_any_tag_and_lists_match_any_member() {
        let tag = complaint_etag(2, Role::Customer);
        assert!(if_match("*").unwrap().unwrap().matches_strongly(&tag));
        let list = if_match("\"1-customer\", \"2-customer\"").unwrap().unwrap();
        assert!(list.matches_strongly(&tag));
        assert!(!if_match("\"1-customer\"")
            .unwrap()
            .unwrap()
            .matches_strongly(&tag));
    }

    #[test]
    fn weak_tags_match_only_weakly() {
        let tag = complaint_etag(2, Role::Customer);
        let weak = if_match("W/\"2-customer\"").unwrap().unwrap();
        assert!(!weak.matches_strongly(&tag));
        assert!(weak.matches_weakly(&tag));
    }

    #[test]
    fn unquoted_tags_are_malformed() {
        assert!(if_match("2-customer").is_err());
        assert!(if_match("").is_err());
    }
}
