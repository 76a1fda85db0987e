//! Uploaded files (filing documents today; inspection photos next): checked,
//! then kept in a directory, content-addressed by SHA-256 (`ab/abcdef…`).
//!
//! What is accepted is decided by the file's first bytes, never by its name or
//! the type the browser declared: PDF, JPEG and PNG only, so nothing a browser
//! would run (HTML, SVG, scripts) can be stored. The database holds only the
//! row describing a file; the bytes go through [`UploadStore`], a directory
//! today and an object store behind the same methods later. A file whose row
//! was never written (a failed transaction) stays as an unreferenced blob:
//! harmless, and re-used if the same bytes come again.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// The default largest upload (10 MiB: a scanned multi-page certificate).
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// The largest limit a configuration may set (100 MiB).
pub const MAX_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// The longest file name kept, in characters.
pub const MAX_NAME: usize = 120;

/// The accepted types: (content type, first bytes, file extension).
const KINDS: &[(&str, &[u8], &str)] = &[
    ("application/pdf", b"%PDF-", "pdf"),
    ("image/png", b"\x89PNG\r\n\x1a\n", "png"),
    ("image/jpeg", b"\xff\xd8\xff", "jpg"),
];

/// A file that passed the checks: its sniffed type, size and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub content_type: &'static str,
    pub size: u64,
    pub sha256: String,
    /// The name to keep: the given one, cleaned, with the right extension.
    pub file_name: String,
}

/// The content type of `bytes` by their first bytes, if accepted.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|(_, magic, _)| bytes.starts_with(magic))
        .map(|(ct, _, _)| *ct)
}

fn extension_of(content_type: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(ct, _, _)| *ct == content_type)
        .map(|(_, _, ext)| *ext)
        .unwrap_or("bin")
}

/// A file name safe to show and to put in a `Content-Disposition` header:
/// no path, no control or quoting characters, bounded, ending in the
/// extension of its real type.
pub fn clean_name(given: &str, content_type: &str) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or("");
    let mut stem: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | ';' | '<' | '>' | '%'))
        .take(MAX_NAME)
        .collect();
    if let Some(dot) = stem.rfind('.') {
        stem.truncate(dot);
    }
    let stem = stem.trim().trim_start_matches('.');
    let stem = if stem.is_empty() { "document" } else { stem };
    format!("{stem}.{}", extension_of(content_type))
}

/// Checks an upload: not empty, within `max_bytes`, of an accepted type by
/// its first bytes. `declared` (the part's or request's content type) must
/// agree when given, so a PNG sent as `application/pdf` is refused rather
/// than stored under the wrong type.
pub fn check(
    bytes: &[u8],
    declared: Option<&str>,
    given_name: &str,
    max_bytes: u64,
) -> Result<Checked> {
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(StoreError::UploadTooLarge { limit: max_bytes });
    }
    if bytes.is_empty() {
        return Err(StoreError::UploadType("the file is empty".into()));
    }
    let Some(content_type) = sniff(bytes) else {
        return Err(StoreError::UploadType(
            "only PDF, JPEG and PNG files are accepted (judged by the file's content)".into(),
        ));
    };
    if let Some(d) = declared {
        let d = d
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let generic = d.is_empty() || d == "application/octet-stream";
        let same = d == content_type || (d == "image/jpg" && content_type == "image/jpeg");
        if !generic && !same {
            return Err(StoreError::UploadType(format!(
                "the file was sent as {d} but its content is {content_type}"
            )));
        }
    }
    Ok(Checked {
        content_type,
        size,
        sha256: hex(&Sha256::digest(bytes)),
        file_name: clean_name(given_name, content_type),
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Where uploaded bytes are kept: a directory, one file per SHA-256.
#[derive(Debug, Clone)]
pub struct UploadStore {
    dir: PathBuf,
    max_bytes: u64,
}

fn io_err(what: &str, e: std::io::Error) -> StoreError {
    // The path is the operator's configuration, not personal data.
    StoreError::File(format!("upload store: {what}: {e}"))
}

impl UploadStore {
    /// An upload store in `dir` (created when first written) accepting files
    /// up to `max_bytes` (bounded by [`MAX_MAX_BYTES`]).
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Result<UploadStore> {
        if max_bytes == 0 || max_bytes > MAX_MAX_BYTES {
            return Err(StoreError::Config(format!(
                "[uploads] max_bytes must be 1 to {MAX_MAX_BYTES}"
            )));
        }
        Ok(UploadStore {
            dir: dir.into(),
            max_bytes,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        // Only a digest names a file: no path can be smuggled in.
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(StoreError::File(
                "upload store: not a SHA-256 digest".into(),
            ));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// Checks `bytes` and keeps them; the same bytes twice are kept once.
    pub fn put(&self, bytes: &[u8], declared: Option<&str>, given_name: &str) -> Result<Checked> {
        let checked = check(bytes, declared, given_name, self.max_bytes)?;
        let path = self.path_of(&checked.sha256)?;
        if path.exists() {
            return Ok(checked);
        }
        let parent = path
            .parent()
            .ok_or_else(|| StoreError::File("upload store: no parent directory".into()))?;
        std::fs::create_dir_all(parent).map_err(|e| io_err("create directory", e))?;
        // Written to a temporary file and renamed: a reader never sees half a file.
        let mut tmp =
            tempfile::NamedTempFile::new_in(parent).map_err(|e| io_err("temporary file", e))?;
        tmp.write_all(bytes).map_err(|e| io_err("write", e))?;
        tmp.as_file().sync_all().map_err(|e| io_err("sync", e))?;
        tmp.persist(&path).map_err(|e| io_err("rename", e.error))?;
        Ok(checked)
    }

    /// The bytes kept under `sha256`, checked against the digest (a file
    /// changed on disk is refused, not served).
    pub fn get(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path_of(sha256)?;
        let bytes = std::fs::read(&path).map_err(|e| io_err("read", e))?;
        if hex(&Sha256::digest(&bytes)) != sha256 {
            return Err(StoreError::File(
                "upload store: a stored file does not match its digest".into(),
            ));
        }
        Ok(bytes)
    }
}

/// A tiny valid-looking PDF for tests and examples (not a full document:
/// only its first bytes matter to the checks).
pub fn sample_pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% laoxiao sample {tag}\n%%EOF\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_judged_by_content() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nIHDR"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0JFIF"), Some("image/jpeg"));
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        // An HTML page named .pdf and declared as a PDF is still refused.
        let e = check(b"<html>", Some("application/pdf"), "lease.pdf", 100).expect_err("html");
        assert_eq!(e.code(), "unsupported_upload_type");
        assert_eq!(e.http_status(), 415);
    }

    #[test]
    fn size_and_declared_type_are_checked() {
        let pdf = sample_pdf("x");
        let e = check(&pdf, None, "a.pdf", 10).expect_err("too large");
        assert_eq!(e.http_status(), 413);
        assert!(e.to_string().contains("limit of 10 bytes"), "{e}");
        assert!(check(b"", None, "a.pdf", 10).is_err());
        let e = check(&pdf, Some("image/png"), "a.png", 1000).expect_err("mismatch");
        assert!(e.to_string().contains("sent as image/png"), "{e}");
        let ok = check(&pdf, Some("application/octet-stream"), "租赁合同.PDF", 1000).expect("pdf");
        assert_eq!(ok.content_type, "application/pdf");
        assert_eq!(ok.size, pdf.len() as u64);
        assert_eq!(ok.sha256.len(), 64);
        assert_eq!(ok.file_name, "租赁合同.pdf");
    }

    #[test]
    fn names_lose_paths_and_quotes_and_get_the_real_extension() {
        assert_eq!(
            clean_name("../../etc/passwd", "application/pdf"),
            "passwd.pdf"
        );
        assert_eq!(clean_name("C:\\x\\\"a\";b.html", "image/png"), "ab.png");
        assert_eq!(clean_name("", "image/jpeg"), "document.jpg");
        assert_eq!(clean_name(".htaccess", "image/jpeg"), "document.jpg");
        assert!(
            clean_name(&"长".repeat(500), "application/pdf")
                .chars()
                .count()
                <= MAX_NAME + 4
        );
    }

    #[test]
    fn files_round_trip_and_a_changed_file_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let store = UploadStore::new(dir.path(), 1000).expect("store");
        let pdf = sample_pdf("round trip");
        let c = store
            .put(&pdf, Some("application/pdf"), "x.pdf")
            .expect("put");
        assert_eq!(store.get(&c.sha256).expect("get"), pdf);
        // The same bytes again: the same file.
        assert_eq!(
            store.put(&pdf, None, "y.pdf").expect("again").sha256,
            c.sha256
        );
        assert!(store.get("../../etc/passwd").is_err());
        assert!(store.get(&"0".repeat(64)).is_err());
        let path = dir.path().join(&c.sha256[..2]).join(&c.sha256);
        std::fs::write(&path, b"%PDF-tampered").expect("tamper");
        assert!(store.get(&c.sha256).is_err());
        assert!(UploadStore::new(dir.path(), 0).is_err());
        assert!(UploadStore::new(dir.path(), MAX_MAX_BYTES + 1).is_err());
    }
}
