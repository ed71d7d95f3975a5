//! PDF: the text layer, page by page. The file is loaded once (lopdf); its compressed streams
//! are decoded under size caps before anything reads them (`streams`), and pdf-extract writes
//! each page's text into a buffer with a cap of its own, so a decompression bomb or a page that
//! repeats a drawing without end is refused with a reason instead of exhausting memory. Sections
//! come from the document's outline (bookmarks), walked without recursion and without visiting an
//! item twice, placed at the line where each title appears on its page; otherwise headings are
//! detected in the text as for plain text. Sections are split at page breaks so every passage
//! knows its page. Title, author and date come from the Info dictionary.

mod streams;

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use pdf_extract::{
    ConvertToFmt, Dictionary, Document as Pdf, LoadOptions, Object, ObjectId, PlainTextOutput,
};

use super::ReadError;
use super::text::{GivenHeading, Headings, read_numbered_lines};
use crate::document::{BlockBuilder, Document, Metadata, collapse_whitespace};

/// Largest size one compressed stream may decode to (the largest file citedex reads).
pub const MAX_STREAM_BYTES: usize = 64 * 1024 * 1024;
/// Largest size all of a file's compressed streams may decode to together.
pub const MAX_DECODED_BYTES: usize = 256 * 1024 * 1024;
/// Most text read from one file, as much as the largest file citedex reads.
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;

/// Caps on what one PDF may expand to while it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest decoded size of one stream. Object streams, which the PDF library expands while
    /// it loads the file, are held to [`MAX_STREAM_BYTES`] whatever this says.
    pub stream_bytes: usize,
    /// Largest decoded size of all streams together.
    pub decoded_bytes: usize,
    /// Most text extracted from the whole file, in bytes of UTF-8.
    pub text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            stream_bytes: MAX_STREAM_BYTES,
            decoded_bytes: MAX_DECODED_BYTES,
            text_bytes: MAX_TEXT_BYTES,
        }
    }
}

/// Parses a PDF file's bytes within the default [`Limits`].
pub fn read(bytes: &[u8]) -> Result<Document, ReadError> {
    read_with_limits(bytes, Limits::default())
}

/// Parses a PDF file's bytes; a file that would pass one of `limits` is an error naming it.
pub fn read_with_limits(bytes: &[u8], limits: Limits) -> Result<Document, ReadError> {
    let unreadable = |error: pdf_extract::Error| ReadError::Pdf(error.to_string());
    let mut pdf = Pdf::load_mem_with_options(bytes, LoadOptions::with_filter(streams::guard_object_streams))
        .map_err(unreadable)?;
    if pdf.is_encrypted() {
        pdf.decrypt("").map_err(unreadable)?;
    }
    let expands = || {
        ReadError::Pdf(format!(
            "compressed data expands to more than {} MiB in one stream or {} MiB in all \
             (a decompression bomb?)",
            mib(limits.stream_bytes.min(MAX_STREAM_BYTES)),
            mib(limits.decoded_bytes)
        ))
    };
    streams::check_marks(&pdf).map_err(|_| expands())?;
    streams::decode_all(&mut pdf, limits.stream_bytes, limits.decoded_bytes).map_err(|_| expands())?;

    let mut warnings = Vec::new();
    let pages = page_texts(&pdf, limits.text_bytes)?;
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
    let outline = outline(&pdf);
    if outline.looped {
        warnings.push("the outline (bookmarks) loops back on itself; each item is read once".into());
    }
    let headings = if outline.entries.is_empty() {
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
            outline
                .entries
                .iter()
                .map(|e| (e.level, e.title.as_str(), e.page)),
        ))
    };
    if let Some(first) = lines.iter().position(|line| !line.is_empty())
        && crate::document::repeats_title(lines[first], &meta.title)
    {
        lines[first] = "";
    }
    let mut builder = BlockBuilder::default();
    read_numbered_lines(&lines, None, &headings, &page_starts, &mut builder);
    if lines.iter().all(|line| line.is_empty()) {
        warnings.push("no text layer (a scanned document?)".to_string());
    }
    Ok(Document {
        meta,
        sections: builder.finish(),
        warnings,
    })
}

fn mib(bytes: usize) -> usize {
    bytes / (1024 * 1024)
}

/// Each page's text, in order, up to the first page the extractor fails on; more than
/// `text_cap` bytes in all is an error.
fn page_texts(pdf: &Pdf, text_cap: usize) -> Result<Vec<String>, ReadError> {
    let mut pages = Vec::new();
    let mut room = text_cap;
    for number in (1..).take(pdf.get_pages().len()) {
        let mut text = CappedText {
            text: String::new(),
            room,
            overflowed: false,
        };
        let extracted = pdf_extract::output_doc_page(pdf, &mut PlainTextOutput::new(&mut text), number);
        if text.overflowed {
            return Err(ReadError::Pdf(format!(
                "more than {} MiB of text (a page that repeats its drawing?)",
                mib(text_cap)
            )));
        }
        if extracted.is_err() {
            break;
        }
        room -= text.text.len();
        pages.push(text.text);
    }
    Ok(pages)
}

/// Text output that refuses to grow past its room.
struct CappedText {
    text: String,
    room: usize,
    overflowed: bool,
}

impl fmt::Write for CappedText {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        if self.text.len() + piece.len() > self.room {
            self.overflowed = true;
            return Err(fmt::Error);
        }
        self.text.push_str(piece);
        Ok(())
    }
}

impl<'a> ConvertToFmt for &'a mut CappedText {
    type Writer = &'a mut CappedText;

    fn convert(self) -> Self::Writer {
        self
    }
}

/// One outline item that leads to a page of this document.
#[derive(Debug, PartialEq, Eq)]
struct OutlineEntry {
    /// 1 for a top-level item.
    level: usize,
    title: String,
    /// 1-based page number.
    page: usize,
}

/// The outline's items in reading order, and whether a link between items led back to one
/// already read.
#[derive(Debug, Default)]
struct Outline {
    entries: Vec<OutlineEntry>,
    looped: bool,
}

/// Walks the outline tree depth first with an explicit stack and a set of visited items, so a
/// crafted outline whose `/First` or `/Next` points back up the tree ends the walk instead of
/// recursing without end.
fn outline(pdf: &Pdf) -> Outline {
    let mut outline = Outline::default();
    let Some(root) = pdf
        .catalog()
        .ok()
        .and_then(|catalog| catalog.get_deref(b"Outlines", pdf).ok())
        .and_then(|root| root.as_dict().ok())
    else {
        return outline;
    };
    let page_numbers: HashMap<ObjectId, usize> = pdf
        .get_pages()
        .into_iter()
        .map(|(number, id)| (id, number as usize))
        .collect();
    let destinations = OnceCell::new();
    let mut visited = HashSet::new();
    let mut pending: Vec<(ObjectId, usize)> = root
        .get(b"First")
        .and_then(Object::as_reference)
        .map(|first| (first, 1))
        .into_iter()
        .collect();
    while let Some((id, level)) = pending.pop() {
        if !visited.insert(id) {
            outline.looped = true;
            continue;
        }
        let Ok(item) = pdf.get_dictionary(id) else {
            continue;
        };
        // Pushed in reverse: the item's children are read before its next sibling.
        for (key, child_level) in [(&b"Next"[..], level), (&b"First"[..], level + 1)] {
            if let Ok(next) = item.get(key).and_then(Object::as_reference) {
                pending.push((next, child_level));
            }
        }
        let title = item
            .get_deref(b"Title", pdf)
            .ok()
            .and_then(text_string)
            .unwrap_or_default();
        let page = target_page(pdf, item, &destinations).and_then(|page| page_numbers.get(&page).copied());
        if let Some(page) = page {
            outline.entries.push(OutlineEntry { level, title, page });
        }
    }
    outline
}

/// The page an outline item leads to: its `/Dest`, or the destination of its GoTo action, each
/// an explicit `[page ...]` array or the name of one; `named` holds the named destinations once
/// a name needs them.
fn target_page(
    pdf: &Pdf,
    item: &Dictionary,
    named: &OnceCell<HashMap<Vec<u8>, ObjectId>>,
) -> Option<ObjectId> {
    let destination = match item.get_deref(b"Dest", pdf) {
        Ok(destination) => destination,
        Err(_) => {
            let action = item.get_deref(b"A", pdf).ok()?.as_dict().ok()?;
            if action.get(b"S").and_then(Object::as_name).ok()? != b"GoTo" {
                return None;
            }
            action.get_deref(b"D", pdf).ok()?
        }
    };
    match destination {
        Object::Array(parts) => parts.first()?.as_reference().ok(),
        Object::Name(name) | Object::String(name, _) => {
            named.get_or_init(|| named_destinations(pdf)).get(name).copied()
        }
        _ => None,
    }
}

/// The pages named destinations lead to: the catalog's `/Dests` dictionary and the `/Dests`
/// name tree, walked with a visited set like the outline.
fn named_destinations(pdf: &Pdf) -> HashMap<Vec<u8>, ObjectId> {
    let mut named = HashMap::new();
    let Ok(catalog) = pdf.catalog() else {
        return named;
    };
    let page_of = |destination: &Object| -> Option<ObjectId> {
        let destination = pdf.dereference(destination).ok()?.1;
        let array = match destination {
            Object::Dictionary(dict) => dict.get_deref(b"D", pdf).ok()?,
            other => other,
        };
        array.as_array().ok()?.first()?.as_reference().ok()
    };
    if let Ok(Object::Dictionary(dests)) = catalog.get_deref(b"Dests", pdf) {
        for (name, destination) in dests.iter() {
            if let Some(page) = page_of(destination) {
                named.insert(name.clone(), page);
            }
        }
    }
    let tree = catalog
        .get_deref(b"Names", pdf)
        .and_then(Object::as_dict)
        .and_then(|names| names.get(b"Dests"));
    let mut pending: Vec<&Object> = tree.into_iter().collect();
    let mut visited = HashSet::new();
    while let Some(node) = pending.pop() {
        let Ok((id, Object::Dictionary(node))) = pdf.dereference(node) else {
            continue;
        };
        if id.is_some_and(|id| !visited.insert(id)) {
            continue;
        }
        if let Ok(kids) = node.get(b"Kids").and_then(Object::as_array) {
            pending.extend(kids);
        }
        if let Ok(pairs) = node.get(b"Names").and_then(Object::as_array) {
            for pair in pairs.chunks_exact(2) {
                if let (Ok(name), Some(page)) = (pair[0].as_str(), page_of(&pair[1])) {
                    named.entry(name.to_vec()).or_insert(page);
                }
            }
        }
    }
    named
}

/// A PDF text string (PDFDocEncoding, UTF-16BE or UTF-8 with a byte-order mark), as the PDF
/// library decodes it.
fn text_string(object: &Object) -> Option<String> {
    let text = pdf_extract::decode_text_string(object).ok()?;
    Some(text.trim_start_matches('\u{FEFF}').to_string())
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
        .get_deref(b"Info", pdf)
        .ok()
        .and_then(|object| object.as_dict().ok())
    else {
        return meta;
    };
    let text = |key: &[u8]| {
        info.get_deref(key, pdf)
            .ok()
            .and_then(text_string)
            .filter(|s| !s.trim().is_empty())
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
