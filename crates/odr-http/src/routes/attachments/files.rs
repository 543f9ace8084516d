//! Evidence on disk: a streamed upload into a temporary file beside its
//! final place, with its size limit and SHA-256; the type found from the
//! content; the client's file name made safe for display and for
//! `Content-Disposition`.
//!
//! The bytes are renamed into place (after `fsync`) before the event's
//! transaction commits: an orphan file after a failed transaction is
//! harmless, a committed row without its file is not.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// The types a file may have, found from its first bytes.
pub const ALLOWED_TYPES: &str = "JPEG, PNG, WebP or PDF";

/// The media type the content shows, if it is one we accept.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// The client's name kept for display: no path, no control characters, at
/// most 200 characters; "attachment" when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim();
    let kept: String = trimmed.chars().take(200).collect();
    let kept = kept.trim().to_owned();
    if kept.is_empty() || kept.chars().all(|c| c == '.') {
        "attachment".to_owned()
    } else {
        kept
    }
}

/// A plain-ASCII stand-in for `filename=` (RFC 6266): anything outside
/// printable ASCII, quotes, backslashes and `%` become `_`.
pub fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// An upload on its way to disk.
pub struct Upload {
    temp: PathBuf,
    file: Option<File>,
    hasher: Sha256,
    size: u64,
    limit: u64,
    head: Vec<u8>,
}

/// What a finished upload is.
pub struct Received {
    pub temp: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub content_type: &'static str,
}

impl Upload {
    /// Opens a temporary file in the complaint's folder (created if need be).
    pub fn start(folder: &Path, limit: u64) -> Result<Upload, ApiError> {
        fs::create_dir_all(folder).map_err(|e| io_error("create the attachment folder", e))?;
        let temp = folder.join(format!(".upload-{}.part", uuid::Uuid::new_v4()));
        let file = File::create(&temp).map_err(|e| io_error("create an upload file", e))?;
        Ok(Upload {
            temp,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            limit,
            head: Vec::with_capacity(16),
        })
    }

    /// Appends a chunk; over the limit the upload is abandoned (413).
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            self.abandon();
            return Err(ApiError::PayloadTooLarge {
                limit: usize::try_from(self.limit).unwrap_or(usize::MAX),
            });
        }
        if self.head.len() < 16 {
            let take = (16 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| ApiError::Internal("upload already closed".into()))?;
        if let Err(e) = file.write_all(chunk) {
            self.abandon();
            return Err(io_error("write an upload", e));
        }
        Ok(())
    }

    /// Checks the type and flushes the bytes to disk; a type we do not
    /// accept is 415 and leaves nothing behind.
    pub fn finish(mut self) -> Result<Received, ApiError> {
        let Some(content_type) = sniff(&self.head) else {
            self.abandon();
            return Err(ApiError::UnsupportedMediaType(format!(
                "The file is not one of the accepted types ({ALLOWED_TYPES}); \
                 the type is judged by the content, not by the name."
            )));
        };
        let synced = self.file.take().map_or(Ok(()), |f| f.sync_all());
        if let Err(e) = synced {
            self.abandon();
            return Err(io_error("flush an upload", e));
        }
        let sha256 = self
            .hasher
            .finalize_reset()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Received {
            temp: std::mem::take(&mut self.temp),
            size: self.size,
            sha256,
            content_type,
        })
    }

    /// Removes the temporary file (nothing of a refused upload stays).
    pub fn abandon(&mut self) {
        self.file.take();
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
            self.temp = PathBuf::new();
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// Moves a received file to its final name and makes the rename durable.
pub fn put_in_place(temp: &Path, target: &Path) -> Result<(), ApiError> {
    fs::rename(temp, target).map_err(|e| {
        let _ = fs::remove_file(temp);
        io_error("move an upload into place", e)
    })?;
    if let Some(folder) = target.parent() {
        // Durability of the rename itself; not every platform opens folders.
        if let Ok(dir) = File::open(folder) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

fn io_error(what: &str, e: std::io::Error) -> ApiError {
    ApiError::Internal(format!("could not {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_found_from_the_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"hello, I am text"), None);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVE"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\lid.png"), "lid.png");
        assert_eq!(sanitize_file_name("a\u{0}b\nc.pdf"), "abc.pdf");
        assert_eq!(sanitize_file_name(""), "attachment");
        assert_eq!(sanitize_file_name("dir/.."), "attachment");
        assert_eq!(sanitize_file_name(&"é".repeat(300)).chars().count(), 200);
        assert_eq!(sanitize_file_name("\"Čaj\" foto.png"), "\"Čaj\" foto.png");
    }

    #[test]
    fn the_ascii_fallback_has_nothing_to_escape() {
        assert_eq!(ascii_fallback("\"Čaj\" 100%.png"), "__aj_ 100_.png");
    }
}
