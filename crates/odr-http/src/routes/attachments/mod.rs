//! Evidence: uploading a file to a complaint (multipart, streamed with the
//! attachment limit rather than the JSON one), listing a complaint's files
//! and downloading one. Each upload is an `attachment` event sent down the
//! one transition path, so the machine decides who may add evidence when.

pub(crate) mod files;

use actix_multipart::Multipart;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use odr_domain::complaint::{Calendar, Command, Evidence};
use odr_store::attachments::storage_key;
use odr_store::{StoredAttachment, TransitionError};
use serde::Serialize;

use self::files::{put_in_place, sanitize_file_name, Received, Upload};
use super::complaints::{case_file, visible_complaint};
use crate::caller::Caller;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;
use crate::views::Items;

/// Longest caption, in characters (as the domain checks it).
const CAPTION_MAX: usize = 200;
/// Room in a multipart body for boundaries, headers and the caption.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// An attachment as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    id: String,
    file_name: String,
    content_type: String,
    size: i64,
    /// Lowercase hex SHA-256 of the bytes.
    sha256: String,
    caption: Option<String>,
    uploaded_by: String,
    uploader_role: String,
    created_at: DateTime<Utc>,
    download_url: String,
}

impl AttachmentView {
    fn of(a: StoredAttachment) -> AttachmentView {
        AttachmentView {
            download_url: download_path(&a.complaint_id, &a.id),
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            caption: a.caption,
            uploaded_by: a.uploaded_by,
            uploader_role: a.uploader_role,
            created_at: a.created_at,
        }
    }
}

fn download_path(complaint_id: &str, id: &str) -> String {
    format!("/api/v1/complaints/{complaint_id}/attachments/{id}")
}

/// A stand-in for the evidence, to ask the machine whether this caller may
/// add any at all before a byte is read.
pub(crate) fn probe() -> Command {
    Command::Attach(Evidence {
        attachment_id: "probe".into(),
        file_name: "probe".into(),
        content_type: "application/pdf".into(),
        size: 1,
        sha256: String::new(),
        caption: None,
    })
}

/// The upload form (`multipart/form-data`), for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used: the form is read as a stream.
pub struct UploadForm {
    /// JPEG, PNG, WebP or PDF, judged by the content.
    #[schema(content_media_type = "application/octet-stream")]
    file: String,
    /// At most 200 characters.
    caption: Option<String>,
}

/// `POST /api/v1/complaints/{id}/attachments`: 201 with the attachment.
#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/attachments",
    tag = "attachments",
    summary = "Attach a file of evidence (a party or the assigned mediator)",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(
        ("id" = String, Path, description = "Complaint id."),
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The attachment.", body = AttachmentView, headers(("Location" = String, description = "Where the file is downloaded."))),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 409, response = super::openapi::Conflict),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA);
    if !is_form {
        return Err(ApiError::UnsupportedMediaType(
            "Send the file as `multipart/form-data` with a field named `file`.".into(),
        ));
    }
    // Who may add evidence, and whether the complaint takes it now, is
    // decided before a byte of the file is read.
    let id = path.into_inner();
    let who = caller.clone();
    let complaint_id = state.blocking(move |s| may_attach(s, &who, &id)).await?;
    let limit = state.http.attachment_max_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(MULTIPART_OVERHEAD)) {
        return Err(too_large(limit));
    }
    let folder = state.http.attachment_dir.join(&complaint_id);
    let form = read_form(Multipart::new(req.headers(), payload), &folder, limit).await?;
    let (received, file_name) = form.file.ok_or_else(|| {
        ApiError::validation_one(
            "file",
            "required",
            "Attach the file in a field named `file`.",
        )
    })?;
    let caption = form.caption;
    let attachment = state
        .blocking(move |s| {
            record_attachment(s, &caller, &complaint_id, received, file_name, caption)
        })
        .await?;
    let view = AttachmentView::of(attachment);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, view.download_url.clone()))
        .json(view))
}

/// Whether `caller` may add evidence to complaint `id` now (asked of the
/// machine before a byte is read): the complaint's id, or the refusal.
pub(crate) fn may_attach(s: &AppState, caller: &Caller, id: &str) -> Result<String, ApiError> {
    let stored = case_file(s, caller, id)?;
    stored.complaint.apply(
        &probe(),
        &caller.actor(),
        s.clock.now(),
        &s.policy,
        &Calendar::default(),
        "probe",
    )?;
    Ok(stored.complaint.facts().id.clone())
}

/// Puts a received file in place and records it as an `attachment` event
/// down the one transition path; the attachment as stored. The API upload
/// and the web pages share it.
pub(crate) fn record_attachment(
    s: &AppState,
    caller: &Caller,
    complaint_id: &str,
    received: Received,
    file_name: String,
    caption: Option<String>,
) -> Result<StoredAttachment, ApiError> {
    let attachment_id = uuid::Uuid::new_v4().to_string();
    let evidence = Evidence {
        attachment_id: attachment_id.clone(),
        file_name,
        content_type: received.content_type.to_owned(),
        size: i64::try_from(received.size).unwrap_or(i64::MAX),
        sha256: received.sha256.clone(),
        caption,
    };
    let target = s
        .http
        .attachment_dir
        .join(storage_key(complaint_id, &attachment_id));
    if let Some(folder) = target.parent() {
        std::fs::create_dir_all(folder).map_err(|e| {
            ApiError::Internal(format!("could not create the attachment folder: {e}"))
        })?;
    }
    put_in_place(&received.temp, &target)?;
    let stored = visible_complaint(s, caller, complaint_id)?;
    let sent = s.store.transition(
        &stored,
        &Command::Attach(evidence),
        &caller.actor(),
        s.clock.now(),
        &s.policy,
        s.rules,
    );
    let committed = match sent {
        Ok(committed) => committed,
        Err(e) => {
            // Surely not written: the file goes too. (After a store
            // error the file stays; an orphan is harmless.)
            if matches!(e, TransitionError::Refused(_) | TransitionError::LostRace) {
                let _ = std::fs::remove_file(&target);
            }
            return Err(e.into());
        }
    };
    s.metrics
        .transition(odr_domain::complaint::EventKind::Attachment.code());
    Ok(StoredAttachment::from_record(
        complaint_id,
        &committed.record,
    )?)
}

/// The fields of an upload form.
struct Form {
    file: Option<(Received, String)>,
    caption: Option<String>,
}

async fn read_form(
    mut form: Multipart,
    folder: &std::path::Path,
    limit: u64,
) -> Result<Form, ApiError> {
    let mut out = Form {
        file: None,
        caption: None,
    };
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if out.file.is_none() => {
                let client_name = field
                    .content_disposition()
                    .and_then(|cd| {
                        cd.get_filename_ext()
                            .and_then(|ext| String::from_utf8(ext.value.clone()).ok())
                            .or_else(|| cd.get_filename().map(str::to_owned))
                    })
                    .unwrap_or_default();
                let mut upload = Upload::start(folder, limit)?;
                while let Some(chunk) = field.next().await {
                    upload.write(&chunk.map_err(malformed)?)?;
                }
                out.file = Some((upload.finish()?, sanitize_file_name(&client_name)));
            }
            "caption" if out.caption.is_none() => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.next().await {
                    bytes.extend_from_slice(&chunk.map_err(malformed)?);
                    if bytes.len() > CAPTION_MAX * 4 {
                        return Err(caption_too_long());
                    }
                }
                let text = String::from_utf8(bytes).map_err(|_| {
                    ApiError::validation_one(
                        "caption",
                        "invalid",
                        "The caption must be UTF-8 text.",
                    )
                })?;
                if text.chars().count() > CAPTION_MAX {
                    return Err(caption_too_long());
                }
                out.caption = Some(text).filter(|t| !t.trim().is_empty());
            }
            "file" | "caption" => {
                return Err(unexpected_field(&name, "This field may appear only once."))
            }
            _ => {
                return Err(unexpected_field(
                    &name,
                    "Unknown field; send `file` and optionally `caption`.",
                ))
            }
        }
    }
    Ok(out)
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::Malformed {
        detail: format!("The multipart body could not be read: {e}."),
        errors: Vec::new(),
    }
}

fn unexpected_field(name: &str, message: &str) -> ApiError {
    ApiError::Malformed {
        detail: "The form has a field it should not have.".into(),
        errors: vec![FieldError::new(name, "unknown_field", message)],
    }
}

fn caption_too_long() -> ApiError {
    ApiError::validation_one(
        "caption",
        "too_long",
        format!("At most {CAPTION_MAX} characters."),
    )
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}

/// `GET /api/v1/complaints/{id}/attachments`, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/complaints/{id}/attachments",
    tag = "attachments",
    summary = "A complaint's attachments, oldest first",
    params(("id" = String, Path, description = "Complaint id.")),
    responses(
        (status = 200, description = "Every attachment (`next_cursor` is always null).", body = crate::views::Items<AttachmentView>),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let items = state
        .blocking(move |s| {
            case_file(s, &caller, &id)?;
            Ok(s.store.attachments_of(&id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: items
            .into_iter()
            .map(AttachmentView::of)
            .collect::<Vec<_>>(),
        next_cursor: None,
    }))
}

/// `GET /api/v1/complaints/{id}/attachments/{attachment_id}`: the bytes, as
/// a download that no browser renders in place.
#[utoipa::path(
    get,
    path = "/api/v1/complaints/{id}/attachments/{attachment_id}",
    tag = "attachments",
    summary = "Download an attachment",
    params(
        ("id" = String, Path, description = "Complaint id."),
        ("attachment_id" = String, Path, description = "Attachment id.")
    ),
    responses(
        (status = 200, description = "The bytes, with the type found at upload, `Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`.", content_type = "application/octet-stream", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment` with an ASCII `filename` and a UTF-8 `filename*`."),
                ("X-Content-Type-Options" = String, description = "`nosniff`."),
                ("Cache-Control" = String, description = "`private, no-store`.")
            )),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn download(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, attachment_id) = path.into_inner();
    let (attachment, bytes) = state
        .blocking(move |s| read_attachment(s, &caller, &id, &attachment_id))
        .await?;
    Ok(download_response(attachment, bytes))
}

/// An attachment and its bytes, for those who may read the case file.
pub(crate) fn read_attachment(
    s: &AppState,
    caller: &Caller,
    id: &str,
    attachment_id: &str,
) -> Result<(StoredAttachment, Vec<u8>), ApiError> {
    case_file(s, caller, id)?;
    let a = s
        .store
        .attachment(id, attachment_id)?
        .ok_or(ApiError::NotFound)?;
    let bytes = std::fs::read(s.http.attachment_dir.join(&a.storage_key))
        .map_err(|e| ApiError::Internal(format!("attachment {} unreadable: {e}", a.id)))?;
    Ok((a, bytes))
}

/// The bytes as a download no browser renders in place.
pub(crate) fn download_response(attachment: StoredAttachment, bytes: Vec<u8>) -> HttpResponse {
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(files::ascii_fallback(&attachment.file_name)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: attachment.file_name.into_bytes(),
            }),
        ],
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, attachment.content_type))
        .insert_header(disposition)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        // actix writes its own length on the wire; saying it here too keeps
        // it visible to in-process callers and tests.
        .insert_header((header::CONTENT_LENGTH, bytes.len().to_string()))
        .body(bytes)
}
