//! PDF: the text layer, page by page (pdf-extract over lopdf). Sections come from the document's
//! outline (bookmarks) when it has one, placed at the line where each title appears on its page;
//! otherwise headings are detected in the text as for plain text. Sections are split at page
//! breaks so every passage knows its page. Title, author and date come from the Info dictionary.

use std::collections::BTreeMap;

use pdf_extract::{Document as Pdf, Object};

use super::ReadError;
use super::text::{GivenHeading, Headings, read_lines};
use crate::document::{Document, Metadata, SectionBuilder, collapse_whitespace};

/// Parses a PDF file's bytes.
pub fn read(bytes: &[u8]) -> Result<Document, ReadError> {
    let pdf = Pdf::load_mem(bytes).map_err(|error| ReadError::Pdf(error.to_string()))?;
    let pages = pdf_extract::extract_text_from_mem_by_pages(bytes)
        .map_err(|error| ReadError::Pdf(error.to_string()))?;
    let mut warnings = Vec::new();
    let page_count = pdf.get_pages().len();
    if pages.len() < page_count {
        warnings.push(format!("text read from {} of {page_count} pages", pages.len()));
    }
    let mut lines: Vec<&str> = Vec::new();
    let mut page_starts = Vec::with_capacity(pages.len());
    for page in &pages {
        page_starts.push(lines.len());
        lines.extend(page.lines().map(str::trim));
    }
    let mut meta = info(&pdf);
    let outline = pdf.get_toc().map(|toc| toc.toc).unwrap_or_default();
    let headings = if outline.is_empty() {
        // Without an outline or an Info title, the first line is the title, as in plain text.
        if meta.title.is_empty()
            && let Some(first) = lines.iter().position(|line| !line.is_empty())
        {
            meta.title = collapse_whitespace(lines[first]);
            lines[first] = "";
        }
        Headings::Detect {
            title: meta.title.clone(),
        }
    } else {
        Headings::Given(place_outline(
            &lines,
            &page_starts,
            outline.iter().map(|e| (e.level, e.title.as_str(), e.page)),
        ))
    };
    if let Some(first) = lines.iter().position(|line| !line.is_empty())
        && crate::document::repeats_title(lines[first], &meta.title)
    {
        lines[first] = "";
    }
    let mut builder = SectionBuilder::default();
    read_lines(&lines, &headings, &page_starts, &mut builder);
    if lines.iter().all(|line| line.is_empty()) {
        warnings.push("no text layer (a scanned document?)".to_string());
    }
    Ok(Document {
        meta,
        sections: builder.finish(),
        warnings,
    })
}

/// Places outline entries `(level, title, page)` at the line of their page where the title
/// stands, or at the top of the page when the title is not in the text.
fn place_outline<'a>(
    lines: &[&str],
    page_starts: &[usize],
    entries: impl Iterator<Item = (usize, &'a str, usize)>,
) -> BTreeMap<usize, Vec<GivenHeading>> {
    let mut placed: BTreeMap<usize, Vec<GivenHeading>> = BTreeMap::new();
    let mut searched_from = 0;
    for (level, title, page) in entries {
        let Some(&page_start) = page.checked_sub(1).and_then(|index| page_starts.get(index)) else {
            continue;
        };
        let page_end = page_starts.get(page).copied().unwrap_or(lines.len());
        let wanted = collapse_whitespace(title);
        let from = searched_from.max(page_start).min(page_end);
        let found = (from..page_end).find(|&i| collapse_whitespace(lines[i]) == wanted);
        let level = u8::try_from(level.clamp(1, 6)).expect("clamped to 6");
        match found {
            Some(line) => {
                searched_from = line + 1;
                placed.entry(line).or_default().push(GivenHeading {
                    level,
                    text: wanted,
                    on_line: true,
                });
            }
            None => placed.entry(page_start).or_default().push(GivenHeading {
                level,
                text: wanted,
                on_line: false,
            }),
        }
    }
    placed
}

/// Title, authors and date from the Info dictionary.
fn info(pdf: &Pdf) -> Metadata {
    let mut meta = Metadata::default();
    let Some(info) = pdf
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|object| object.as_reference().ok())
        .and_then(|id| pdf.get_dictionary(id).ok())
    else {
        return meta;
    };
    let text = |key: &[u8]| match info.get(key) {
        Ok(Object::String(bytes, _)) => Some(decode_pdf_string(bytes)).filter(|s| !s.trim().is_empty()),
        _ => None,
    };
    meta.title = text(b"Title")
        .map(|t| collapse_whitespace(&t))
        .unwrap_or_default();
    meta.authors = text(b"Author").into_iter().collect();
    // PDF dates look like D:20240410120000Z.
    meta.date = text(b"CreationDate").and_then(|date| {
        let digits: String = date.trim_start_matches("D:").chars().take(8).collect();
        (digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()))
            .then(|| format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8]))
    });
    meta
}

/// PDF text strings are UTF-16 with a byte-order mark, or PDFDocEncoding (close to Latin-1).
fn decode_pdf_string(bytes: &[u8]) -> String {
    match bytes.strip_prefix(&[0xFE, 0xFF]) {
        Some(utf16) => {
            let units: Vec<u16> = utf16
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        None => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Block;

    const OUTLINED: &[u8] = include_bytes!("../../tests/fixtures/pdf/outline.pdf");
    const HEADINGS: &[u8] = include_bytes!("../../tests/fixtures/pdf/headings.pdf");

    fn summary(doc: &Document) -> Vec<(String, Option<u32>, usize)> {
        doc.sections
            .iter()
            .map(|s| (s.path.join(" > "), s.page, s.blocks.len()))
            .collect()
    }

    #[test]
    fn outline_gives_sections_and_pages() {
        let doc = read(OUTLINED).unwrap();
        assert_eq!(doc.meta.title, "Nerve Conduction Basics");
        assert_eq!(doc.meta.authors, ["Citedex Test Team"]);
        assert_eq!(doc.meta.date.as_deref(), Some("2024-04-10"));
        assert_eq!(
            summary(&doc),
            [
                ("Overview".to_string(), Some(1), 2),
                ("How the Test Works".to_string(), Some(2), 3),
                ("Results".to_string(), Some(3), 0),
                ("Results > Normal Values".to_string(), Some(3), 2),
            ]
        );
        assert_eq!(
            doc.sections[0].blocks[0],
            Block::paragraph(
                "A nerve conduction study measures how fast an electrical signal moves along a nerve. \
                 Small patches on the skin send mild pulses."
            )
        );
    }

    #[test]
    fn without_an_outline_headings_are_detected() {
        let doc = read(HEADINGS).unwrap();
        assert_eq!(doc.meta.title, "Circulation Handout");
        let paths: Vec<(String, Option<u32>)> = doc
            .sections
            .iter()
            .map(|s| (s.path.join(" > "), s.page))
            .collect();
        assert_eq!(
            paths,
            [
                ("Why Blood Flow Matters".to_string(), Some(1)),
                ("Improving Circulation".to_string(), Some(2))
            ]
        );
    }

    #[test]
    fn broken_pdfs_are_errors_not_panics() {
        assert!(read(&OUTLINED[..OUTLINED.len() / 2]).is_err());
        assert!(read(b"%PDF-1.5\n garbage").is_err());
        assert!(read(b"").is_err());
    }
}
