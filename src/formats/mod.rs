//! Format readers: pure functions from a file's bytes to a [`Document`]. One module per format;
//! none of them touches the disk or the index.

mod front_matter;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod text;

use crate::document::Document;

/// The formats citedex reads, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CommonMark with optional YAML front matter.
    Markdown,
    /// Plain text shaped like a scraped article.
    Text,
    /// PDF, through its text layer.
    Pdf,
    /// An HTML page.
    Html,
}

impl Format {
    /// Picks the format for a file extension (case-insensitive), or `None` when citedex does not read it.
    pub fn from_extension(extension: &str) -> Option<Format> {
        match extension.to_ascii_lowercase().as_str() {
            "md" | "markdown" | "mdown" | "mkd" => Some(Format::Markdown),
            "txt" | "text" => Some(Format::Text),
            "pdf" => Some(Format::Pdf),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            _ => None,
        }
    }
}

/// Why a file could not be turned into a document.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    /// The bytes look like a binary file, not text.
    #[error("binary content (NUL bytes), not a text document")]
    Binary,
    /// The front matter block is not valid YAML or has fields of the wrong type.
    #[error("front matter: {0}")]
    FrontMatter(String),
    /// The PDF could not be parsed.
    #[error("unreadable PDF: {0}")]
    Pdf(String),
}

/// Reads `bytes` as `format`; `fallback_title` (usually the file stem) names untitled documents.
pub fn read(format: Format, bytes: &[u8], fallback_title: &str) -> Result<Document, ReadError> {
    let mut document = match format {
        Format::Pdf => pdf::read(bytes)?,
        Format::Markdown | Format::Text | Format::Html => {
            let (text, decode_warning) = decode_text(bytes)?;
            let mut document = match format {
                Format::Markdown => markdown::read(&text)?,
                Format::Html => html::read(&text),
                _ => text::read(&text),
            };
            document.warnings.extend(decode_warning);
            document
        }
    };
    if document.meta.title.trim().is_empty() {
        document.meta.title = fallback_title.to_string();
    }
    Ok(document)
}

/// Decodes UTF-8 (BOM or not) and UTF-16 with a BOM; invalid UTF-8 is decoded lossily with a warning.
fn decode_text(bytes: &[u8]) -> Result<(String, Option<String>), ReadError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return decode_utf8(rest);
    }
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| from([pair[0], pair[1]]))
            .collect();
        let text = String::from_utf16_lossy(&units);
        let warning = (text.contains('\u{FFFD}') || rest.len() % 2 == 1)
            .then(|| "invalid UTF-16 replaced with U+FFFD".to_string());
        (text, warning)
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Ok(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Ok(utf16(rest, u16::from_be_bytes));
    }
    if bytes.contains(&0) {
        return Err(ReadError::Binary);
    }
    decode_utf8(bytes)
}

fn decode_utf8(bytes: &[u8]) -> Result<(String, Option<String>), ReadError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_string(), None)),
        Err(error) => Ok((
            String::from_utf8_lossy(bytes).into_owned(),
            Some(format!(
                "invalid UTF-8 at byte {}, decoded lossily",
                error.valid_up_to()
            )),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf16_with_bom_and_flags_binary() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("Título".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_text(&bytes).unwrap(), ("Título".to_string(), None));
        assert_eq!(decode_text(b"a\0b"), Err(ReadError::Binary));
    }

    #[test]
    fn invalid_utf8_is_lossy_with_a_warning() {
        let (text, warning) = decode_text(b"caf\xE9 au lait").unwrap();
        assert_eq!(text, "caf\u{FFFD} au lait");
        assert!(warning.unwrap().contains("byte 3"));
    }
}
