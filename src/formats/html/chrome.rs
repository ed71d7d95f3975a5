//! Site chrome: which elements are navigation, headers, footers, sidebars, banners, share
//! buttons, comments or hidden, by tag name, ARIA role, hidden state and the words of their id
//! and class names; and which are notes (footnotes, citation entries), content even where chrome
//! usually stands.

use std::sync::LazyLock;

use ego_tree::NodeRef;
use rustc_hash::FxHashMap;
use scraper::Node;
use scraper::node::Element;

use super::{heading_level, tag_traits, traits_table};

/// Elements that never hold article content.
pub(super) const DROPPED_TAGS: [&str; 19] = [
    "nav", "aside", "footer", "script", "style", "noscript", "form", "iframe", "svg", "button", "template",
    "select", "textarea", "input", "object", "canvas", "dialog", "head", "map",
];

/// Words in an `id` or `class` that mark site chrome wherever they appear.
const CHROME_WORDS: [&str; 43] = [
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "banner",
    "sidebar",
    "nav",
    "navbar",
    "navigation",
    "menu",
    "megamenu",
    "footer",
    "breadcrumb",
    "breadcrumbs",
    "share",
    "sharing",
    "sharebar",
    "social",
    "related",
    "advert",
    "adverts",
    "advertisement",
    "advertising",
    "ad",
    "ads",
    "sponsor",
    "sponsored",
    "promo",
    "promoted",
    "newsletter",
    "subscribe",
    "subscription",
    "comment",
    "comments",
    "disqus",
    "modal",
    "popup",
    "overlay",
    "toolbar",
    "skip",
    "headerlink",
    "pagination",
    "pager",
];

/// Words that mark a page header: chrome at page level, but inside an article a `header-image` or a
/// `section-header` around an h2 is content.
const HEADER_WORDS: [&str; 3] = ["header", "masthead", "topbar"];

/// Words that keep a page-level header-like element ("article-header", "entry-header").
const CONTENT_WORDS: [&str; 8] = [
    "article", "content", "main", "body", "story", "entry", "post", "text",
];

/// First words of class names that describe a state of the element rather than what it is
/// (`has-sidebar`, `no-comments`, `is-sticky-header`).
const STATE_WORDS: [&str; 9] = [
    "has", "with", "without", "no", "is", "show", "hide", "enable", "disable",
];

/// ARIA roles of notes: footnotes and citation entries, content even in an `<aside>`.
const NOTE_ROLES: [&str; 6] = [
    "note",
    "doc-footnote",
    "doc-endnote",
    "doc-endnotes",
    "doc-biblioentry",
    "doc-bibliography",
];

/// Words in an `id` or `class` that mark footnotes, content even in an `<aside>`.
const NOTE_WORDS: [&str; 4] = ["footnote", "footnotes", "endnote", "endnotes"];

/// ARIA roles of chrome.
const CHROME_ROLES: [&str; 8] = [
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
    "menu",
];

/// What the word lists above say of one word of an id or class name.
#[derive(Debug, Default, Clone, Copy)]
struct WordTraits {
    chrome: bool,
    header: bool,
    content: bool,
    state: bool,
    note: bool,
}

/// The traits of every listed word, for one hash lookup per word of a name.
static WORD_TRAITS: LazyLock<FxHashMap<&'static str, WordTraits>> = LazyLock::new(|| {
    traits_table(&[
        (&CHROME_WORDS, |traits| traits.chrome = true),
        (&HEADER_WORDS, |traits| traits.header = true),
        (&CONTENT_WORDS, |traits| traits.content = true),
        (&STATE_WORDS, |traits| traits.state = true),
        (&NOTE_WORDS, |traits| traits.note = true),
    ])
});

/// Which elements count as chrome during one walk.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chrome {
    /// Whether `<header>` and header-like class names are chrome: at page level, not in an article.
    pub(super) headers: bool,
    /// Whether id and class words mark containers as chrome; off for the retry when a container's
    /// name swallowed the content. Smaller elements (a permalink, a share button) stay chrome.
    pub(super) class_words: bool,
}

impl Chrome {
    /// The strictest reading, for a whole page.
    pub(super) const PAGE: Chrome = Chrome {
        headers: true,
        class_words: true,
    };
}

/// Whether an element is chrome to skip with everything inside it.
pub(super) fn is_dropped(node: NodeRef<'_, Node>, element: &Element, chrome: Chrome) -> bool {
    let name = element.name();
    let dropped_tag = tag_traits(name).dropped && !(name == "aside" && is_note(element));
    dropped_tag || (chrome.headers && name == "header") || is_chrome(node, element, chrome)
}

/// Whether an element holds notes (docutils puts footnotes in `<aside>`), by role or name.
pub(super) fn is_note(element: &Element) -> bool {
    element.attrs().any(|(name, value)| match name {
        "role" => has_word(Some(value), &NOTE_ROLES),
        "class" | "id" => {
            let mut words = NameWords::default();
            words.add(value);
            words.note
        }
        _ => false,
    })
}

/// Chrome by role, hidden state, or the words of its id and classes. One pass over the
/// attributes without allocating: this runs for every element of every page.
fn is_chrome(node: NodeRef<'_, Node>, element: &Element, chrome: Chrome) -> bool {
    let mut words = NameWords::default();
    let class_words = chrome.class_words || !tag_traits(element.name()).container;
    for (name, value) in element.attrs() {
        let hidden = match name {
            "role" => has_word(Some(value), &CHROME_ROLES),
            "hidden" => true,
            "aria-hidden" => value == "true",
            "style" => hides(value),
            "class" if class_words => {
                words.add(value);
                false
            }
            "id" if class_words => {
                let mut id_words = NameWords::default();
                id_words.add(value);
                words.content |= id_words.content;
                if (id_words.chrome || id_words.header) && is_chosen_id(node, value, id_words.count) {
                    words.chrome |= id_words.chrome;
                    words.header |= id_words.header;
                }
                false
            }
            _ => false,
        };
        if hidden {
            return true;
        }
    }
    words.chrome || (chrome.headers && words.header && !words.content)
}

/// Whether an inline style says `display: none`, spaces and case aside.
pub(super) fn hides(style: &str) -> bool {
    const HIDDEN: &[u8] = b"display:none";
    let mut matched = 0;
    for byte in style.bytes().filter(|b| !b.is_ascii_whitespace()) {
        let byte = byte.to_ascii_lowercase();
        matched = if byte == HIDDEN[matched] {
            matched + 1
        } else {
            usize::from(byte == HIDDEN[0])
        };
        if matched == HIDDEN.len() {
            return true;
        }
    }
    false
}

/// Whether a space-separated attribute value (such as `role`) holds one of `words`.
pub(super) fn has_word(value: Option<&str>, words: &[&str]) -> bool {
    value.is_some_and(|value| {
        value
            .split_ascii_whitespace()
            .any(|word| words.iter().any(|known| known.eq_ignore_ascii_case(word)))
    })
}

/// Whether an id was chosen by the page's author, rather than made by a generator from a heading
/// (`<section id="overlay-support">`, `<div id="comments"><h2>Comments</h2>`) or an API name
/// (`<dt id="http.cookiejar.DefaultCookiePolicy">`): only chosen ids say what an element is.
fn is_chosen_id(node: NodeRef<'_, Node>, id: &str, words: usize) -> bool {
    let is_section = node.value().as_element().is_some_and(|e| e.name() == "section");
    let starts_with_heading = || {
        node.children()
            .find_map(|child| child.value().as_element())
            .is_some_and(|first| heading_level(first.name()).is_some())
    };
    words <= 3 && !id.contains('.') && !is_section && !starts_with_heading()
}

/// Which of the word lists an element's id and class names draw on. Names are split into
/// lowercase words at punctuation and camel case (`cookieBanner`, `site-header`, `ad_slot`), so
/// that `shadow` or `header-image` never contain `ad`; a name that starts with a state word
/// (`has-sidebar`, `no-comments`) describes a state, not the element, and is left out.
#[derive(Debug, Default)]
pub(super) struct NameWords {
    pub(super) chrome: bool,
    pub(super) header: bool,
    pub(super) content: bool,
    note: bool,
    /// How many words were taken in.
    count: usize,
}

impl NameWords {
    /// Longer words are in none of the lists.
    const LONGEST: usize = 16;

    /// Takes in the names of one `id` or `class` value.
    pub(super) fn add(&mut self, value: &str) {
        for name in value.split_ascii_whitespace() {
            let mut buffer = [0u8; Self::LONGEST];
            let mut length = 0;
            let mut first = true;
            let mut previous_lower = false;
            let mut bytes = name.bytes().peekable();
            while let Some(byte) = bytes.next() {
                if byte.is_ascii_alphanumeric() {
                    if length < Self::LONGEST {
                        buffer[length] = byte.to_ascii_lowercase();
                    }
                    length += 1;
                    previous_lower = byte.is_ascii_lowercase() || byte.is_ascii_digit();
                }
                let ends_word = match bytes.peek() {
                    None => true,
                    Some(next) => {
                        !next.is_ascii_alphanumeric() || (next.is_ascii_uppercase() && previous_lower)
                    }
                };
                if !byte.is_ascii_alphanumeric() {
                    previous_lower = false;
                }
                if !ends_word || length == 0 {
                    continue;
                }
                let word = if length > Self::LONGEST {
                    ""
                } else {
                    std::str::from_utf8(&buffer[..length]).unwrap_or_default()
                };
                length = 0;
                let traits = WORD_TRAITS.get(word).copied().unwrap_or_default();
                if first && bytes.peek().is_some() && traits.state {
                    break;
                }
                first = false;
                self.count += 1;
                self.chrome |= traits.chrome;
                self.header |= traits.header;
                self.content |= traits.content;
                self.note |= traits.note;
            }
        }
    }
}
