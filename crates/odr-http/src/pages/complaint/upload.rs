//! Page forms that carry files (`multipart/form-data`): filing with photos,
//! a message with an attachment, evidence. The CSRF field must come before
//! any file (it is the first field of every such form), so that no byte of
//! a forged upload reaches the disk; each file is streamed to a temporary
//! file with the attachment limit and typed by its content, exactly as the
//! API's upload does (`routes/attachments/files.rs`).

use std::collections::HashMap;
use std::path::Path;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use super::super::failure::PageError;
use super::super::session::{verify_form_origin, Visitor};
use crate::problem::ApiError;
use crate::routes::attachments::files::{sanitize_file_name, Received, Upload};

/// The most files one page form takes.
pub const MAX_FILES: usize = 10;
/// The most bytes of text fields one form takes.
const TEXT_LIMIT: usize = 256 * 1024;

/// A received file that has not been put in place yet; its temporary file
/// is removed when it is dropped unused.
pub struct PageFile {
    received: Option<Received>,
    pub file_name: String,
}

impl PageFile {
    /// Hands the file over (to be put in place); the temporary file is then
    /// the taker's.
    pub fn take(mut self) -> Option<(Received, String)> {
        let name = std::mem::take(&mut self.file_name);
        self.received.take().map(|r| (r, name))
    }
}

impl Drop for PageFile {
    fn drop(&mut self) {
        if let Some(r) = self.received.take() {
            let _ = std::fs::remove_file(&r.temp);
        }
    }
}

/// A file the form carried that is not accepted, by its name.
pub struct RefusedFile {
    pub file_name: String,
    pub error: ApiError,
}

/// What a multipart page form carried.
#[derive(Default)]
pub struct MultipartForm {
    fields: HashMap<String, Vec<String>>,
    pub files: Vec<PageFile>,
    pub refused: Vec<RefusedFile>,
}

impl MultipartForm {
    /// The first value of a text field ("" when absent).
    pub fn text(&self, name: &str) -> String {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }

    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

/// Whether the request is `multipart/form-data`.
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA)
}

/// Reads a multipart page form: text fields, and files (fields named
/// `file_field`) streamed into `folder`. A file of a type or size we do not
/// accept is listed in `refused` (nothing of it stays); a form from
/// elsewhere, or with more than [`MAX_FILES`] files, is refused as a whole.
pub async fn read(
    v: &Visitor,
    req: &HttpRequest,
    payload: web::Payload,
    folder: &Path,
    file_field: &str,
    limit: u64,
) -> Result<MultipartForm, PageError> {
    if !is_multipart(req) {
        return Err(v.fail(ApiError::UnsupportedMediaType(
            "This form is sent as multipart/form-data.".into(),
        )));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.trim().parse::<u64>().ok());
    let most = limit
        .saturating_mul(MAX_FILES as u64)
        .saturating_add(TEXT_LIMIT as u64 * 2);
    if declared.is_some_and(|n| n > most) {
        return Err(v.fail(too_large(most)));
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut form = MultipartForm::default();
    let mut verified = false;
    let mut text_bytes = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| v.fail(malformed(e)))?;
        let name = field.name().unwrap_or_default().to_owned();
        let client_name = field.content_disposition().and_then(|cd| {
            cd.get_filename_ext()
                .and_then(|ext| String::from_utf8(ext.value.clone()).ok())
                .or_else(|| cd.get_filename().map(str::to_owned))
        });
        if name == file_field && client_name.is_some() {
            if !verified {
                // A file before the form's token: never written anywhere.
                verify_form_origin(v, req, None)?;
            }
            let client_name = client_name.unwrap_or_default();
            let mut upload = Upload::start(folder, limit).map_err(|e| v.fail(e))?;
            let mut failed: Option<ApiError> = None;
            let mut seen = 0u64;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| v.fail(malformed(e)))?;
                seen += chunk.len() as u64;
                if failed.is_none() {
                    if let Err(e) = upload.write(&chunk) {
                        failed = Some(e);
                    }
                } else if seen > limit.saturating_mul(2) {
                    return Err(v.fail(too_large(limit)));
                }
            }
            // A file input left empty still sends a part with no name.
            if client_name.is_empty() && seen == 0 {
                continue;
            }
            if form.files.len() + form.refused.len() >= MAX_FILES {
                return Err(v.fail(ApiError::validation_one(
                    file_field,
                    "too_many",
                    format!("At most {MAX_FILES} files in one form."),
                )));
            }
            let file_name = sanitize_file_name(&client_name);
            match failed.map_or_else(|| upload.finish(), Err) {
                Ok(received) => form.files.push(PageFile {
                    received: Some(received),
                    file_name,
                }),
                Err(error) => form.refused.push(RefusedFile { file_name, error }),
            }
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| v.fail(malformed(e)))?;
            text_bytes += chunk.len();
            if text_bytes > TEXT_LIMIT {
                return Err(v.fail(too_large(TEXT_LIMIT as u64)));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            v.fail(ApiError::validation_one(
                name.clone(),
                "invalid",
                "Text fields must be UTF-8.",
            ))
        })?;
        if name == "csrf" && !verified {
            verify_form_origin(v, req, Some(&text))?;
            verified = true;
        }
        form.fields.entry(name).or_default().push(text);
    }
    if !verified {
        verify_form_origin(v, req, None)?;
    }
    Ok(form)
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::Malformed {
        detail: format!("The form could not be read: {e}."),
        errors: Vec::new(),
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}
