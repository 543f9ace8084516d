//! Handing a case on, to an ADR body or a court: the whole case as one JSON
//! document (`GET /api/v1/complaints/{id}/export`, read in one snapshot),
//! and a retailer's complaints of a period as CSV
//! (`GET /api/v1/retailers/{id}/complaints.csv`, streamed a keyset page at
//! a time). The printable case file (`pages/case_file.rs`) reads the same
//! record as the JSON.

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::{stream, StreamExt};
use odr_domain::complaint::Offer;
use odr_domain::money::Money;
use odr_domain::taxonomy::{Code, Phrase};
use odr_store::{
    CaseRecord, Cursor, PeriodComplaint, Retailer, StoredAttachment, StoredEvent, StoredFeedback,
    StoredMessage,
};
use serde::Serialize;

use super::attachments::files::ascii_fallback;
use super::complaints::check_case_file;
use super::stats::{period, StatsQuery};
use crate::body::QueryParams;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{complaint_view, ComplaintView, PublicRetailerView};

/// What made the document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Engine {
    #[schema(example = "odr")]
    pub name: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

/// A phrase of a message with its label in the complaint's language.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhraseLabel {
    #[schema(example = "photos_attached")]
    pub code: String,
    #[schema(example = "The photos are attached.")]
    pub label: String,
}

/// A message as `GET …/messages` lists it, plus its phrases in words.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedMessage {
    #[serde(flatten)]
    pub message: StoredMessage,
    /// `phrase_codes` with their labels in the complaint's `locale`.
    pub phrases: Vec<PhraseLabel>,
}

/// An evidence file; `sha256` is the lowercase hex SHA-256 of its bytes,
/// so the file handed on separately can be checked against the record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedAttachment {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub caption: Option<String>,
    pub uploaded_by: String,
    pub uploader_role: String,
    pub created_at: DateTime<Utc>,
}

impl From<&StoredAttachment> for ExportedAttachment {
    fn from(a: &StoredAttachment) -> ExportedAttachment {
        ExportedAttachment {
            id: a.id.clone(),
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            caption: a.caption.clone(),
            uploaded_by: a.uploaded_by.clone(),
            uploader_role: a.uploader_role.clone(),
            created_at: a.created_at,
        }
    }
}

/// `GET /api/v1/complaints/{id}/export`: the whole case, as of
/// `exported_at`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseExport {
    pub exported_at: DateTime<Utc>,
    pub engine: Engine,
    /// The shop (`null` if it was deleted).
    pub retailer: Option<PublicRetailerView>,
    /// As `GET /api/v1/complaints/{id}` shows it to the exporting caller.
    pub complaint: ComplaintView,
    /// Every event of the log, oldest first (`seq` 1..n).
    pub events: Vec<StoredEvent>,
    /// Every offer, oldest first, with its answer.
    pub offers: Vec<Offer>,
    pub messages: Vec<ExportedMessage>,
    pub attachments: Vec<ExportedAttachment>,
    /// The customer's feedback on the closed complaint, if given.
    pub feedback: Option<StoredFeedback>,
}

/// The engine's name and version, as exports name them.
pub(crate) fn engine() -> Engine {
    Engine {
        name: "odr",
        version: env!("CARGO_PKG_VERSION"),
    }
}

/// The case record and its shop if the caller may read the case file:
/// 404 for those who may not see the complaint, 403 for a mediator who has
/// not claimed it. Everything is read in one snapshot.
pub(crate) fn read_case(
    s: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(CaseRecord, Option<Retailer>), ApiError> {
    let record = s.store.case_record(id)?.ok_or(ApiError::NotFound)?;
    check_case_file(caller, &record.complaint)?;
    let retailer = s
        .store
        .retailer(&record.complaint.complaint.facts().retailer_id)?;
    Ok((record, retailer))
}

/// The export document for `caller`.
pub(crate) fn case_export(s: &AppState, caller: &Caller, id: &str) -> Result<CaseExport, ApiError> {
    let (record, retailer) = read_case(s, caller, id)?;
    let facts = record.complaint.complaint.facts();
    let locale = facts.locale;
    Ok(CaseExport {
        exported_at: s.clock.now(),
        engine: engine(),
        complaint: complaint_view(&record.complaint, caller, s, retailer.as_ref()),
        retailer: retailer.map(|r| PublicRetailerView {
            id: r.id,
            name: r.name,
        }),
        offers: facts.offers.clone(),
        messages: record
            .messages
            .into_iter()
            .map(|m| ExportedMessage {
                phrases: m
                    .phrase_codes
                    .iter()
                    .map(|code| PhraseLabel {
                        code: code.clone(),
                        label: Phrase::parse(code)
                            .map_or_else(|_| code.clone(), |p| p.label(locale).to_owned()),
                    })
                    .collect(),
                message: m,
            })
            .collect(),
        attachments: record.attachments.iter().map(Into::into).collect(),
        events: record.events,
        feedback: record.feedback,
    })
}

/// `Content-Disposition: attachment` naming `file_name` (RFC 6266: an
/// ASCII stand-in and the UTF-8 name).
pub(crate) fn attachment_named(file_name: &str) -> ContentDisposition {
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii_fallback(file_name)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file_name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// The document as a download named after the complaint's reference.
pub(crate) fn export_response(doc: &CaseExport) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec_pretty(doc)
        .map_err(|e| ApiError::Internal(format!("export does not serialize: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(attachment_named(&format!(
            "{}.json",
            doc.complaint.reference
        )))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

#[utoipa::path(
    get,
    path = "/api/v1/complaints/{id}/export",
    tag = "complaints",
    summary = "The whole case as one JSON document (a party, its mediator, admins)",
    description = "For handing the case to an ADR body or a court: the complaint as \
        `GET /complaints/{id}` shows it, every event of the log (oldest first), every offer \
        with its answer, the messages (phrases with their labels in the complaint's language), \
        the evidence files with their SHA-256, and the feedback; all read in one consistent \
        snapshot. A download: `Content-Disposition: attachment; filename=\"<reference>.json\"`.",
    params(("id" = String, Path, description = "Complaint id.")),
    responses(
        (status = 200, description = "The case.", body = CaseExport,
            headers(("Content-Disposition" = String, description = "`attachment` named `<reference>.json`."))),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn complaint_export(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let doc = state
        .blocking(move |s| case_export(s, &caller, &id))
        .await?;
    export_response(&doc)
}

/// Complaints read per page of the CSV.
const CSV_PAGE: i64 = 200;

/// The CSV columns, in order (docs/api.md lists their meaning).
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "reference",
    "filed_at",
    "state",
    "outcome",
    "category",
    "desired_remedy",
    "claimed_amount",
    "currency",
    "order_reference",
    "description",
    "customer_email",
    "first_response_at",
    "closed_at",
    "escalated",
    "mediator_id",
    "mediator_name",
    "offers",
    "ruling_in_favour_of",
    "feedback_score",
];

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line
/// break, quotes doubled. A text a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is
/// prefixed with `'` first (OWASP, "CSV injection").
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One CSV line (CRLF-terminated, RFC 4180).
fn csv_line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = cells
        .into_iter()
        .map(csv_cell)
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// An amount in major units with the currency's decimals ("25.00").
fn decimal(m: &Money) -> String {
    let exponent = u32::from(m.currency.exponent());
    let scale = 10i64.checked_pow(exponent).unwrap_or(1);
    let sign = if m.amount_minor < 0 { "-" } else { "" };
    let minor = m.amount_minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    if exponent == 0 {
        format!("{sign}{minor}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            minor / scale,
            minor % scale,
            width = exponent as usize
        )
    }
}

fn instant(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The codes of a serialized enum (`in_favour_of`).
fn code_of(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One complaint of the period as a CSV line.
pub(crate) fn csv_row(row: &PeriodComplaint) -> String {
    let c = &row.complaint;
    let f = c.facts();
    let cells = [
        f.id.clone(),
        f.reference.clone(),
        instant(Some(f.created_at)),
        c.state().code().to_owned(),
        c.outcome().map(|o| o.code().to_owned()).unwrap_or_default(),
        f.category.code().to_owned(),
        f.desired_remedy.code().to_owned(),
        f.claimed_amount.as_ref().map(decimal).unwrap_or_default(),
        f.currency.code().to_owned(),
        f.order_reference.clone(),
        f.description.clone(),
        row.customer_email.clone().unwrap_or_default(),
        instant(row.first_response_at),
        instant(row.closed_at),
        row.escalated.to_string(),
        f.mediator
            .as_ref()
            .map(|m| m.id.clone())
            .unwrap_or_default(),
        f.mediator
            .as_ref()
            .map(|m| m.display_name.clone())
            .unwrap_or_default(),
        f.offers.len().to_string(),
        f.ruling
            .as_ref()
            .map(|r| code_of(r.in_favour_of))
            .unwrap_or_default(),
        f.feedback
            .as_ref()
            .map(|fb| fb.score.to_string())
            .unwrap_or_default(),
    ];
    csv_line(cells.iter().map(String::as_str))
}

#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}/complaints.csv",
    tag = "retailers",
    summary = "A retailer's complaints of a period as CSV (its staff, admins)",
    description = "One row per complaint filed in the period, oldest first, after a header \
        row naming the columns (see docs/api.md). The period is read as for the statistics: \
        plain dates cover whole UTC days, both ends included; instants are half-open \
        `[from, to)`; default the last 90 days. RFC 4180 quoting, CRLF line ends, UTF-8; \
        cells starting with `=`, `+`, `-` or `@` are prefixed with `'`.",
    params(
        ("id" = String, Path, description = "Retailer id."),
        StatsQuery
    ),
    responses(
        (status = 200, description = "The complaints.", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment` named `complaints-<from>-<to>.csv`."))),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn retailer_csv(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    QueryParams(q): QueryParams<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let retailer_id = path.into_inner();
    let checked = retailer_id.clone();
    let (from, to) = state
        .blocking(move |s| {
            s.store.retailer(&checked)?.ok_or(ApiError::NotFound)?;
            if !caller.manages_retailer(&checked) {
                return Err(ApiError::Forbidden(
                    "Only this retailer's staff and admins can export its complaints.".into(),
                ));
            }
            period(q.from.as_deref(), q.to.as_deref(), s.clock.now())
        })
        .await?;
    let header =
        stream::once(async { Ok(web::Bytes::from(csv_line(CSV_COLUMNS.iter().copied()))) });
    // `Some(after)`: a page is still to be read; `None`: done.
    let pages = stream::try_unfold(Some(None::<Cursor>), move |next| {
        let state = state.clone();
        let retailer_id = retailer_id.clone();
        async move {
            let Some(after) = next else {
                return Ok::<_, ApiError>(None);
            };
            let (rows, cursor) = state
                .blocking(move |s| {
                    Ok(s.store.period_complaints(
                        &retailer_id,
                        from,
                        to,
                        after.as_ref(),
                        CSV_PAGE,
                    )?)
                })
                .await?;
            let chunk: String = rows.iter().map(csv_row).collect();
            Ok(Some((web::Bytes::from(chunk), cursor.map(Some))))
        }
    });
    let file_name = format!(
        "complaints-{}-{}.csv",
        from.format("%Y%m%dT%H%M%SZ"),
        to.format("%Y%m%dT%H%M%SZ")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(attachment_named(&file_name))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .streaming(header.chain(pages)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@cmd"), "'@cmd");
        assert_eq!(csv_cell("=1,\"x\""), "\"'=1,\"\"x\"\"\"");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn amounts_have_their_currencys_decimals() {
        let eur = odr_domain::money::Currency::parse("EUR").unwrap_or_default();
        let jpy = odr_domain::money::Currency::parse("JPY").unwrap_or_default();
        let m = |amount_minor, currency| Money {
            amount_minor,
            currency,
        };
        assert_eq!(decimal(&m(2500, eur)), "25.00");
        assert_eq!(decimal(&m(5, eur)), "0.05");
        assert_eq!(decimal(&m(1500, jpy)), "1500");
    }
}
