//! Every format fixture in `tests/fixtures` beside its expected outline, as a snapshot in
//! `snapshots/`: the metadata, each section with its role and page, each block with the source
//! lines it was read from, and the passages the chunker makes. Driven through the public library
//! API (`formats::read`, `chunker::chunk`), as the indexer calls it.
//!
//! To accept a deliberate change, run the tests with `INSTA_UPDATE=always` (or `cargo insta
//! review`) and read the snapshot diff before committing it.

use std::fmt::Write;

use citedex::chunker::{self, ChunkSize, Passage};
use citedex::document::{Content, Document, Lines};
use citedex::formats::{self, Format};

use crate::util::fixture_path;

/// Reads `tests/fixtures/{fixture}` by its extension, as a corpus file, and renders its outline.
fn outline_of(fixture: &str) -> String {
    let path = fixture_path(fixture);
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let format = Format::from_extension(extension).unwrap_or_else(|| panic!("no format for {fixture}"));
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let document = formats::read(format, &bytes, stem).unwrap_or_else(|error| panic!("{fixture}: {error}"));
    let passages = chunker::chunk(&document, ChunkSize::default());
    outline(&document, &passages)
}

/// A document and its passages as text meant for reading: `¶` marks a paragraph, `-` a list item
/// and `|` a line of preformatted text; each block starts with the source lines it came from.
fn outline(document: &Document, passages: &[Passage]) -> String {
    let meta = &document.meta;
    let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    let list = |values: &[String]| match values {
        [] => "-".to_string(),
        values => values.join("; "),
    };
    let mut out = String::new();
    writeln!(out, "title: {}", meta.title).unwrap();
    writeln!(out, "kind: {}", meta.kind.map_or("-", |kind| kind.as_str())).unwrap();
    writeln!(out, "publisher: {}", optional(&meta.publisher)).unwrap();
    writeln!(out, "date: {}", optional(&meta.date)).unwrap();
    writeln!(out, "url: {}", optional(&meta.url)).unwrap();
    writeln!(out, "authors: {}", list(&meta.authors)).unwrap();
    writeln!(out, "key: {}, cites: {}", optional(&meta.key), list(&meta.cites)).unwrap();
    writeln!(out, "warnings: {}", list(&document.warnings)).unwrap();
    for section in &document.sections {
        let page = section
            .page
            .map(|page| format!(", page {page}"))
            .unwrap_or_default();
        writeln!(
            out,
            "\n## {} ({}{page})",
            path_of(&section.path),
            section.role.as_str()
        )
        .unwrap();
        for block in &section.blocks {
            let lines = lines_of(block.lines);
            match &block.content {
                Content::Paragraph(text) => writeln!(out, "{lines:>7} ¶ {text}").unwrap(),
                Content::List(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let lines = if index == 0 { lines.as_str() } else { "" };
                        writeln!(out, "{lines:>7} - {item}").unwrap();
                    }
                }
                Content::Preformatted(text) => {
                    for (index, line) in text.lines().enumerate() {
                        let lines = if index == 0 { lines.as_str() } else { "" };
                        writeln!(out, "{lines:>7} | {line}").unwrap();
                    }
                }
            }
        }
    }
    writeln!(out, "\npassages:").unwrap();
    for passage in passages {
        let page = passage
            .page
            .map(|page| format!(", page {page}"))
            .unwrap_or_default();
        let lines = Lines::cover(passage.line_start.map(Lines::at), passage.line_end.map(Lines::at));
        let words = passage.text.split_whitespace().count();
        writeln!(
            out,
            "#{} {} ({}{page}) lines {}, {words} words: {}",
            passage.ordinal,
            path_of(&passage.section),
            passage.role.as_str(),
            lines_of(lines),
            ends_of(&passage.text)
        )
        .unwrap();
    }
    out
}

fn path_of(path: &[String]) -> String {
    match path {
        [] => "(before the first heading)".to_string(),
        path => path.join(" › "),
    }
}

fn lines_of(lines: Option<Lines>) -> String {
    match lines {
        None => "-".to_string(),
        Some(Lines { first, last }) if first == last => first.to_string(),
        Some(Lines { first, last }) => format!("{first}-{last}"),
    }
}

/// The start and end of a passage's text, which show where the chunker cut; the text in full
/// is the blocks' above.
fn ends_of(text: &str) -> String {
    let text = text.replace('\n', " ⏎ ");
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 90 {
        return text;
    }
    let head: String = chars[..40].iter().collect();
    let tail: String = chars[chars.len() - 40..].iter().collect();
    format!("{head} … {tail}")
}

/// One test per fixture, each compared with its snapshot `formats__<name>.snap`.
macro_rules! fixtures {
    ($($name:ident: $fixture:literal,)*) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(stringify!($name), outline_of($fixture), $fixture);
            }
        )*
    };
}

fixtures! {
    html_article: "html/article.html",
    html_no_main: "html/no-main.html",
    html_large: "html/large.html",
    html_handbook: "html/handbook.html",
    html_latin1: "html/latin1.html",
    markdown_knee_walking: "markdown/knee-walking.md",
    markdown_untitled: "markdown/untitled.md",
    text_seed_shaped: "seed-shaped.txt",
    text_ankle_sprain: "text/ankle-sprain.txt",
    man_walkabout: "man/walkabout.1",
    man_stride_mdoc: "man/stride.1",
    pdf_outline: "pdf/outline.pdf",
    pdf_headings: "pdf/headings.pdf",
}
