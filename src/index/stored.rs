//! What each kind of index entry stores, and reading it back: passages (text, section path,
//! attribution), document records (the catalog entry of one document) and abbreviations. The
//! one place that knows how values sit in tantivy's stored fields, beside the schema.

use serde::{Deserialize, Serialize};
use tantivy::schema::{Field, Value};
use tantivy::{TantivyDocument, Term};

use super::schema::{self, EntryKind, Fields};
use crate::catalog::{DocumentLink, Entry, SourceInfo};
use crate::chunker::Passage;
use crate::document::{Kind, Role};

/// A passage as stored in the index, with its attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPassage {
    /// `path#ordinal`.
    pub id: String,
    /// Position of the passage within its document, from 0.
    #[serde(skip)]
    pub ordinal: usize,
    /// The whole passage.
    pub text: String,
    /// Heading path, outermost first, never the document title; empty before the first heading.
    pub section: Vec<String>,
    /// Body text, reference list or author notes.
    pub role: Role,
    /// The page of the document the passage stands on (PDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// The first line of the source file the passage comes from (text formats), 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_start: Option<u32>,
    /// The last line of the source file the passage comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_end: Option<u32>,
    /// The document the passage comes from.
    pub source: SourceInfo,
    /// Articles that cite that document.
    pub cited_by: Vec<DocumentLink>,
}

/// The stable identifier of a passage: its document's path and its position.
pub fn passage_id(path: &str, ordinal: usize) -> String {
    format!("{path}#{ordinal}")
}

/// How many words a passage has in the ranked `content` field: its document's title, its
/// headings and its text.
pub(crate) fn content_words(source: &SourceInfo, passage: &Passage) -> u64 {
    schema::count_words(&source.title)
        + passage
            .section
            .iter()
            .map(|heading| schema::count_words(heading))
            .sum::<u64>()
        + schema::count_words(&passage.text)
}

/// The tantivy document of one passage of the document `source`, which has `document_words`
/// words in all, and `passages_after` passages after this one.
pub(crate) fn passage_document(
    f: Fields,
    source: &SourceInfo,
    passage: &Passage,
    document_words: u64,
    passages_after: usize,
) -> TantivyDocument {
    let mut document = TantivyDocument::new();
    document.add_text(f.entry, EntryKind::Passage.as_str());
    document.add_text(f.path, &source.path);
    document.add_text(f.title, &source.title);
    for heading in &passage.section {
        document.add_text(f.section, heading);
    }
    document.add_text(f.body, &passage.text);
    let mut content = source.title.clone();
    for part in passage.section.iter().chain([&passage.text]) {
        content.push('\n');
        content.push_str(part);
    }
    document.add_text(f.content, content);
    document.add_text(f.kind, source.kind.as_str());
    document.add_text(f.role, passage.role.as_str());
    for (field, value) in [
        (f.publisher, &source.publisher),
        (f.date, &source.date),
        (f.url, &source.url),
    ] {
        if let Some(value) = value {
            document.add_text(field, value);
        }
    }
    document.add_u64(f.ordinal, passage.ordinal as u64);
    document.add_u64(f.document, schema::document_key(&source.path));
    document.add_u64(f.document_words, document_words);
    document.add_u64(f.passages_after, passages_after as u64);
    for (field, value) in [
        (f.page, passage.page),
        (f.line_start, passage.line_start),
        (f.line_end, passage.line_end),
    ] {
        if let Some(value) = value {
            document.add_u64(field, u64::from(value));
        }
    }
    document
}

/// Reads a passage back; `cited_by` is left empty, as it lives in the document's record.
pub(crate) fn read_passage(f: Fields, stored: &TantivyDocument) -> StoredPassage {
    let text_of = |field: Field| first_text(stored, field);
    let path = text_of(f.path).unwrap_or_default();
    let ordinal = first_u64(stored, f.ordinal).unwrap_or_default();
    let role = match text_of(f.role).as_deref() {
        Some("references") => Role::References,
        Some("authors") => Role::Authors,
        _ => Role::Body,
    };
    let ordinal = usize::try_from(ordinal).unwrap_or_default();
    StoredPassage {
        id: passage_id(&path, ordinal),
        ordinal,
        text: text_of(f.body).unwrap_or_default(),
        section: stored
            .get_all(f.section)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        role,
        page: first_u32(stored, f.page),
        line_start: first_u32(stored, f.line_start),
        line_end: first_u32(stored, f.line_end),
        cited_by: Vec::new(),
        source: SourceInfo {
            title: text_of(f.title).unwrap_or_default(),
            path,
            kind: text_of(f.kind)
                .as_deref()
                .and_then(Kind::parse)
                .unwrap_or(Kind::Source),
            publisher: text_of(f.publisher),
            date: text_of(f.date),
            url: text_of(f.url),
        },
    }
}

/// The tantivy document holding one document's record.
pub(crate) fn record_document(f: Fields, entry: &Entry) -> TantivyDocument {
    let mut document = TantivyDocument::new();
    document.add_text(f.entry, EntryKind::Document.as_str());
    document.add_text(f.entry, lookup_key("record", &entry.source.path));
    let bytes = serde_json::to_vec(entry).expect("a record is plain data and always serializes");
    document.add_bytes(f.record, &bytes);
    add_dense_columns(f, &mut document, schema::document_key(&entry.source.path));
    document
}

/// Reads a document's record back; an error names what is wrong with it.
pub(crate) fn read_record(f: Fields, stored: &TantivyDocument) -> Result<Entry, String> {
    let bytes = stored
        .get_first(f.record)
        .and_then(|value| value.as_bytes())
        .ok_or("a document record without its data")?;
    serde_json::from_slice(bytes).map_err(|error| format!("a document record: {error}"))
}

/// The tantivy document of one abbreviation: its short form in upper case and its long form.
pub(crate) fn abbreviation_document(f: Fields, short: &str, long: &str) -> TantivyDocument {
    let mut document = TantivyDocument::new();
    document.add_text(f.entry, EntryKind::Abbreviation.as_str());
    document.add_text(f.short_form, short);
    document.add_text(f.long_form, long);
    for (form, value) in [(f.short_form, short), (f.long_form, long)] {
        document.add_text(f.entry, lookup_key(form_name(f, form), value));
    }
    add_dense_columns(f, &mut document, 0);
    document
}

/// Gives an entry that is not a passage values in the columns every passage has, so that each
/// column is full rather than optional and a search reads a passage's value without first
/// ranking its doc id among those that have one.
fn add_dense_columns(f: Fields, document: &mut TantivyDocument, key: u64) {
    document.add_u64(f.document, key);
    document.add_u64(f.ordinal, 0);
    document.add_u64(f.document_words, 0);
    document.add_u64(f.passages_after, 0);
}

/// The term that finds the record of the document at `path`.
pub(crate) fn record_term(f: Fields, path: &str) -> Term {
    Term::from_field_text(f.entry, &lookup_key("record", path))
}

/// The term that finds the abbreviations whose `form` (`short_form` or `long_form`) is `value`.
pub(crate) fn abbreviation_term(f: Fields, form: Field, value: &str) -> Term {
    Term::from_field_text(f.entry, &lookup_key(form_name(f, form), value))
}

fn form_name(f: Fields, form: Field) -> &'static str {
    if form == f.short_form { "short" } else { "long" }
}

/// An `entry` value that finds one record or abbreviation. Records and abbreviations are found
/// through `entry`, which every segment has: looking up a field a segment lacks makes tantivy
/// build an empty term dictionary, which costs more than the rest of a search's lookups.
fn lookup_key(kind: &str, value: &str) -> String {
    format!("{kind}:{value}")
}

/// Reads an abbreviation back as (short form, long form).
pub(crate) fn read_abbreviation(f: Fields, stored: &TantivyDocument) -> Option<(String, String)> {
    Some((
        first_text(stored, f.short_form)?,
        first_text(stored, f.long_form)?,
    ))
}

fn first_text(stored: &TantivyDocument, field: Field) -> Option<String> {
    stored
        .get_first(field)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

fn first_u64(stored: &TantivyDocument, field: Field) -> Option<u64> {
    stored.get_first(field).and_then(|v| v.as_u64())
}

fn first_u32(stored: &TantivyDocument, field: Field) -> Option<u32> {
    first_u64(stored, field).and_then(|value| u32::try_from(value).ok())
}
