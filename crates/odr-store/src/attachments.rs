//! Evidence files: the attachment row, written in the transaction of its
//! `attachment` event (see `complaints::write_effects`), and its reads. The
//! bytes themselves are kept by the HTTP edge under `storage_key`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::EventRecord;

use crate::schema::attachments;
use crate::time::{from_db, to_db};
use crate::{DbConnection, Store, StoreError};

/// Where an attachment's bytes live, relative to the attachment directory.
/// Made of ids only, never of anything the client named.
pub fn storage_key(complaint_id: &str, attachment_id: &str) -> String {
    format!("{complaint_id}/{attachment_id}")
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredAttachment {
    pub id: String,
    pub complaint_id: String,
    pub seq: i64,
    pub uploaded_by: String,
    pub uploader_role: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub caption: Option<String>,
    #[serde(skip)]
    pub storage_key: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
struct AttachmentRow {
    id: String,
    complaint_id: String,
    seq: i64,
    uploaded_by: String,
    uploader_role: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    caption: Option<String>,
    storage_key: String,
    created_at: NaiveDateTime,
}

impl AttachmentRow {
    fn restore(self) -> StoredAttachment {
        StoredAttachment {
            id: self.id,
            complaint_id: self.complaint_id,
            seq: self.seq,
            uploaded_by: self.uploaded_by,
            uploader_role: self.uploader_role,
            file_name: self.file_name,
            content_type: self.content_type,
            size: self.size,
            sha256: self.sha256,
            caption: self.caption,
            storage_key: self.storage_key,
            created_at: from_db(self.created_at),
        }
    }
}

impl AttachmentRow {
    /// The row of an `attachment` event, from its payload.
    fn of(complaint_id: &str, r: &EventRecord) -> Result<AttachmentRow, StoreError> {
        let text = |key: &str| {
            r.payload
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let id = text("attachment_id").ok_or_else(|| {
            StoreError::Corrupt("an attachment event without an attachment id".into())
        })?;
        Ok(AttachmentRow {
            storage_key: storage_key(complaint_id, &id),
            id,
            complaint_id: complaint_id.to_owned(),
            seq: r.seq,
            uploaded_by: r.actor_id.clone().unwrap_or_default(),
            uploader_role: r.actor_role.code().to_owned(),
            file_name: text("file_name").unwrap_or_default(),
            content_type: text("content_type").unwrap_or_default(),
            size: r.payload.get("size").and_then(|v| v.as_i64()).unwrap_or(0),
            sha256: text("sha256").unwrap_or_default(),
            caption: text("caption"),
            created_at: to_db(r.at),
        })
    }
}

impl StoredAttachment {
    /// The attachment an `attachment` event wrote, without reading it back.
    pub fn from_record(
        complaint_id: &str,
        r: &EventRecord,
    ) -> Result<StoredAttachment, StoreError> {
        Ok(AttachmentRow::of(complaint_id, r)?.restore())
    }
}

/// The attachment row of an `attachment` event, from its payload.
pub(crate) fn write_attachment(
    conn: &mut DbConnection,
    complaint_id: &str,
    r: &EventRecord,
) -> Result<(), StoreError> {
    diesel::insert_into(attachments::table)
        .values(AttachmentRow::of(complaint_id, r)?)
        .execute(conn)?;
    Ok(())
}

/// A complaint's attachments, oldest first, on `conn`.
pub(crate) fn attachments_on(
    conn: &mut DbConnection,
    complaint_id: &str,
) -> Result<Vec<StoredAttachment>, StoreError> {
    let rows: Vec<AttachmentRow> = attachments::table
        .filter(attachments::complaint_id.eq(complaint_id))
        .order((attachments::seq.asc(), attachments::id.asc()))
        .select(AttachmentRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(AttachmentRow::restore).collect())
}

impl Store {
    /// A complaint's attachments, oldest first.
    pub fn attachments_of(&self, complaint_id: &str) -> Result<Vec<StoredAttachment>, StoreError> {
        self.with_conn(|conn| attachments_on(conn, complaint_id))
    }

    /// One attachment of this complaint (none if it belongs to another).
    pub fn attachment(
        &self,
        complaint_id: &str,
        id: &str,
    ) -> Result<Option<StoredAttachment>, StoreError> {
        self.with_conn(|conn| {
            Ok(attachments::table
                .find(id)
                .filter(attachments::complaint_id.eq(complaint_id))
                .select(AttachmentRow::as_select())
                .first(conn)
                .optional()?
                .map(AttachmentRow::restore))
        })
    }
}
