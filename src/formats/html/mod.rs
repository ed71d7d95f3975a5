//! HTML pages as saved from the web: parsed by a real HTML5 parser (html5ever, through scraper),
//! the main content found the way readability does it, site chrome dropped, and h1-h6 turned into
//! the heading path. This module runs the steps in order; each step is a module of its own:
//!
//! - `scan`: the pass over the markup before parsing that flattens hostile nesting and cuts out
//!   `<nav>` elements;
//! - `metadata`: title, publisher, date, url and authors from meta tags, `<title>`, `<time>`
//!   and the canonical link;
//! - `chrome`: which elements are site chrome (navigation, headers, footers, sidebars, cookie
//!   banners, hidden elements) by tag, role, state and the words of their id and class names;
//! - `content`: which element holds the main content, by text density;
//! - `walker`: the walk from that element to sections and blocks.
//!
//! Every walk over the tree is iterative, so a page nested fifty thousand levels deep costs time
//! in proportion to its size and never the stack.

mod chrome;
mod content;
mod metadata;
mod parse;
mod scan;
#[cfg(test)]
mod tests;
mod walker;

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

use self::chrome::{Chrome, DROPPED_TAGS};
use self::content::{CONTAINER_TAGS, main_content};
use self::metadata::metadata;
use self::parse::parse;
use self::scan::prepare_markup;
use self::walker::{BLOCK_TAGS, PREFORMATTED_TAGS, Walker};
use crate::document::Document;

/// Elements nested deeper than this are read as running text, without further structure.
const MAX_STRUCTURE_DEPTH: usize = 512;
/// Tags that would stand deeper than this are removed (their text kept) before parsing; above the
/// structure limit because implied elements (`tbody`, `tr`) make the tree deeper than the markup.
const MAX_PARSE_DEPTH: usize = 1_000;

/// Below this many characters of content, a walk that honoured id and class words is suspected of
/// having dropped the content itself (a wrapper named `content-with-sidebar`), as readability does.
const SHORT_CONTENT: usize = 500;

/// What the tag lists of the steps (dropped, block, container, preformatted) say of one tag name.
#[derive(Debug, Default, Clone, Copy)]
struct TagTraits {
    dropped: bool,
    block: bool,
    container: bool,
    preformatted: bool,
}

/// The traits of every listed tag name, for one hash lookup per element instead of a scan of
/// each list: this runs for every element of every page.
static TAG_TRAITS: LazyLock<FxHashMap<&'static str, TagTraits>> = LazyLock::new(|| {
    traits_table(&[
        (&DROPPED_TAGS, |traits| traits.dropped = true),
        (&BLOCK_TAGS, |traits| traits.block = true),
        (&CONTAINER_TAGS, |traits| traits.container = true),
        (&PREFORMATTED_TAGS, |traits| traits.preformatted = true),
    ])
});

/// The traits of tag `name`; none for a tag in no list.
fn tag_traits(name: &str) -> TagTraits {
    TAG_TRAITS.get(name).copied().unwrap_or_default()
}

/// A word list and how it marks the traits of its words.
type TraitList<T> = (&'static [&'static str], fn(&mut T));

/// A table from every word of `lists` to its traits: each list marks its own trait on its words.
fn traits_table<T: Default>(lists: &[TraitList<T>]) -> FxHashMap<&'static str, T> {
    let mut table: FxHashMap<&'static str, T> = FxHashMap::default();
    for (words, mark) in lists {
        for word in *words {
            mark(table.entry(word).or_default());
        }
    }
    table
}

/// Parses an HTML page.
pub fn read(text: &str) -> Document {
    let prepared = prepare_markup(text, MAX_PARSE_DEPTH);
    let (html, lines) = parse(prepared.text.as_deref().unwrap_or(text));
    let mut meta = metadata(&html);
    let root = main_content(&html);
    // Inside an article a <header> holds its title and byline; at page level it is the masthead.
    let page_level = root.value().as_element().is_none_or(|e| e.name() == "body");
    let strict = Chrome {
        headers: page_level,
        class_words: true,
    };
    let mut walked = Walker::new(&meta.title, strict, &lines).walk(root);
    if walked.text_length < SHORT_CONTENT {
        let lenient = Walker::new(
            &meta.title,
            Chrome {
                class_words: false,
                ..strict
            },
            &lines,
        )
        .walk(root);
        if lenient.text_length > 10 * walked.text_length {
            walked = lenient;
        }
    }
    let mut warnings = Vec::new();
    let limit = if prepared.flattened {
        Some(MAX_PARSE_DEPTH)
    } else {
        walked.truncated.then_some(MAX_STRUCTURE_DEPTH)
    };
    if let Some(limit) = limit {
        warnings.push(format!(
            "markup nested deeper than {limit} levels read as plain text"
        ));
    }
    // An h1 that the metadata's stricter reading found empty may still have named the page.
    if meta.title.is_empty() {
        meta.title = walked.title;
    }
    Document {
        meta,
        sections: walked.sections,
        warnings,
    }
}

/// The level of an h1-h6 tag.
fn heading_level(tag: &str) -> Option<u8> {
    match tag {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}
