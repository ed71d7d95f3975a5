//! Format readers: pure functions from a file's bytes to a [`Document`]. One module per format;
//! none of them touches the disk or the index.

mod decode;
mod front_matter;
pub mod html;
pub mod man;
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
    /// A manual page in roff (the man or mdoc macros).
    Man,
}

impl Format {
    /// Picks the format for a file extension (case-insensitive), or `None` when citedex does not read it.
    pub fn from_extension(extension: &str) -> Option<Format> {
        match extension.to_ascii_lowercase().as_str() {
            "md" | "markdown" | "mdown" | "mkd" => Some(Format::Markdown),
            "txt" | "text" => Some(Format::Text),
            "pdf" => Some(Format::Pdf),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            extension if is_manual_section(extension) => Some(Format::Man),
            _ => None,
        }
    }
}

/// Whether an extension names a manual section: a digit from 1 to 9, then letters only (`1`,
/// `3pm`, `1p`, `3ssl`), so that numbered files such as `notes.2024` are not taken for pages.
fn is_manual_section(extension: &str) -> bool {
    let mut chars = extension.chars();
    chars.next().is_some_and(|c| ('1'..='9').contains(&c)) && chars.all(|c| c.is_ascii_alphabetic())
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
        Format::Markdown | Format::Text | Format::Html | Format::Man => {
            let (text, decode_warning) = decode::decode(bytes, format == Format::Html)?;
            let mut document = match format {
                Format::Markdown => markdown::read(&text)?,
                Format::Html => html::read(&text),
                Format::Man => man::read(&text),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_sections_are_man_pages_and_numbered_files_are_not() {
        for extension in ["1", "8", "3pm", "1p", "3SSL"] {
            assert_eq!(
                Format::from_extension(extension),
                Some(Format::Man),
                "{extension}"
            );
        }
        for extension in ["0", "10", "2024", "x1", "1-old"] {
            assert_eq!(Format::from_extension(extension), None, "{extension}");
        }
    }
}
