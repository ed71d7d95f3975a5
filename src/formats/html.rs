//! HTML pages as saved from the web: parsed by a real HTML5 parser (html5ever, through scraper),
//! the main content found the way readability does it (`<main>`, `<article>`, `role=main`, else
//! the container that holds the page's prose once link lists are set aside), site chrome dropped
//! (navigation, headers, footers, sidebars, cookie banners, comments, scripts), and h1-h6 turned
//! into the heading path. Metadata comes from Open Graph and article meta tags, `<title>`,
//! `<time>` and the canonical link.
//!
//! Every walk over the tree is iterative, so a page nested fifty thousand levels deep costs time
//! in proportion to its size and never the stack. The HTML5 tree builder itself is quadratic in
//! nesting depth, so markup deeper than [`MAX_PARSE_DEPTH`] is flattened to text before it parses.
//! The same scan before parsing cuts out `<nav>` elements, which are dropped anyway: on
//! documentation sites the navigation tree is a quarter of every page, and the parser's time.

use std::collections::HashMap;
use std::sync::LazyLock;

use rustc_hash::{FxHashMap, FxHashSet};

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use scraper::node::Element;
use scraper::{Html, Node};

use crate::document::{
    Block, Document, Kind, Metadata, SectionBuilder, collapse_whitespace, tidy_preformatted,
};
use crate::references::normalize_date;

/// Elements nested deeper than this are read as running text, without further structure.
const MAX_STRUCTURE_DEPTH: usize = 512;
/// Tags that would stand deeper than this are removed (their text kept) before parsing; above the
/// structure limit because implied elements (`tbody`, `tr`) make the tree deeper than the markup.
const MAX_PARSE_DEPTH: usize = 1_000;

/// Below this many characters of content, a walk that honoured id and class words is suspected of
/// having dropped the content itself (a wrapper named `content-with-sidebar`), as readability does.
const SHORT_CONTENT: usize = 500;

/// Elements that have no end tag.
const VOID_TAGS: [&str; 19] = [
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
];

/// Elements whose content is raw text for the tokenizer: no tags inside until their own end tag.
const RAW_TEXT_TAGS: [&str; 10] = [
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
];

/// Elements the parser closes by itself (a new `<p>` ends the open one), so pages routinely leave
/// their end tags out; they only nest through list, table or definition-list elements, which count.
const IMPLIED_END_TAGS: [&str; 21] = [
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "caption",
    "colgroup", "rb", "rt", "rtc", "rp", "html", "head", "body",
];

/// The HTML5 "special" elements: an end tag for an ordinary element never closes past one.
const SPECIAL_TAGS: [&str; 53] = [
    "address",
    "applet",
    "article",
    "aside",
    "blockquote",
    "button",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "listing",
    "main",
    "marquee",
    "menu",
    "nav",
    "object",
    "ol",
    "pre",
    "search",
    "section",
    "select",
    "summary",
    "table",
    "template",
    "ul",
    "math",
    "svg",
    "foreignobject",
    "desc",
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext",
    "annotation-xml",
    "html",
    "body",
];

/// Elements that bound a scope: no end tag closes an element below one of them.
const SCOPE_TAGS: [&str; 8] = [
    "applet",
    "marquee",
    "object",
    "table",
    "template",
    "foreignobject",
    "desc",
    "html",
];

/// Elements that never hold article content.
const DROPPED_TAGS: [&str; 19] = [
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

/// ARIA roles read as a list or an entry of one. An entry becomes one list item however many
/// blocks it holds (a citation's label and its text), as do the notes of an `<aside>`.
const LIST_ROLES: [&str; 5] = [
    "list",
    "listitem",
    "doc-footnote",
    "doc-endnote",
    "doc-biblioentry",
];

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

/// Elements that end a paragraph where they open and close.
const BLOCK_TAGS: [&str; 29] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "hgroup",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "address",
    "dl",
    "dt",
    "dd",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "hr",
    "details",
    "summary",
    "center",
    "fieldset",
    "legend",
    "listing",
    "body",
];

/// Elements whose text keeps its line breaks and indentation.
const PREFORMATTED_TAGS: [&str; 3] = ["pre", "listing", "xmp"];

/// Elements that may hold a page's content, for the search by text density.
const CONTAINER_TAGS: [&str; 9] = [
    "div", "section", "article", "main", "td", "table", "tbody", "tr", "center",
];

/// What the tag lists above say of one tag name.
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
    let html = Html::parse_document(prepared.text.as_deref().unwrap_or(text));
    let meta = metadata(&html);
    let root = main_content(&html);
    // Inside an article a <header> holds its title and byline; at page level it is the masthead.
    let page_level = root.value().as_element().is_none_or(|e| e.name() == "body");
    let strict = Chrome {
        headers: page_level,
        class_words: true,
    };
    let title = collapse_whitespace(&meta.title);
    let mut walked = Walker::new(&title, strict).walk(root);
    if walked.text_length < SHORT_CONTENT {
        let lenient = Walker::new(
            &title,
            Chrome {
                class_words: false,
                ..strict
            },
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
    Document {
        meta,
        sections: walked.sections,
        warnings,
    }
}

/// Removes the tags that would stand more than `limit` elements deep, keeping all text. A linear
/// scan that follows the tree builder's rules closely enough for real pages: comments and raw
/// text hold no tags, elements with implied end tags do not nest by themselves, and an end tag
/// closes what the parser would close.
///
/// The same scan cuts out every outermost `<nav>` that its own end tag closes, unless it holds the
/// page's `<main>`: the reader would drop it, and parsing it first is wasted time.
fn prepare_markup(text: &str, limit: usize) -> Prepared {
    let bytes = text.as_bytes();
    let mut stack = OpenElements::default();
    // Start tags removed for depth whose end tags are still to come.
    let mut excess = 0usize;
    let mut flattened = false;
    // Where the open outermost <nav> starts, and its place on the stack.
    let mut nav: Option<(usize, usize)> = None;
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = text[at..].find('<') {
        let start = at + found;
        let after = &bytes[start + 1..];
        if after.starts_with(b"!--") {
            match text[start + 4..].find("-->") {
                Some(end) => at = start + 4 + end + 3,
                None => break,
            }
            continue;
        }
        if after.starts_with(b"!") || after.starts_with(b"?") {
            match text[start..].find('>') {
                Some(end) => at = start + end + 1,
                None => break,
            }
            continue;
        }
        let closing = after.first() == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // A bare `<` is text ("a < b").
            at = start + 1;
            continue;
        }
        let name_end = bytes[name_start..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
            .map_or(bytes.len(), |length| name_start + length);
        let raw_name = &text[name_start..name_end];
        let Some(end) = tag_end(bytes, name_end) else {
            break;
        };
        at = end;
        let self_closing = end >= 2 && bytes[end - 2] == b'/';
        let tag = stack.intern(raw_name);
        let kind = stack.kinds[tag];
        let is_nav = raw_name.eq_ignore_ascii_case("nav");
        let mut remove = false;
        if closing {
            if excess > 0 && kind.counts_for_depth {
                excess -= 1;
                remove = true;
            } else {
                stack.close(tag);
                if let Some((nav_start, nav_index)) = nav
                    && stack.open.len() <= nav_index
                {
                    nav = None;
                    // A <nav> that another end tag closed is left to the parser.
                    if is_nav && !holds_main(&text[nav_start..end]) {
                        let buffer = out.get_or_insert_with(|| String::with_capacity(text.len()));
                        buffer.push_str(&text[copied..nav_start]);
                        copied = end;
                    }
                }
            }
        } else if kind.raw_text {
            // Leave `at` on its end tag, which closes nothing the stack holds.
            at = find_end_tag(text, end, raw_name).unwrap_or(text.len());
        } else if kind.counts_for_depth && !(self_closing && (stack.foreign > 0 || kind.foreign_root)) {
            if stack.open.len() >= limit {
                excess += 1;
                remove = true;
            } else {
                if is_nav && nav.is_none() && excess == 0 {
                    nav = Some((start, stack.open.len()));
                }
                stack.push(tag);
            }
        }
        if remove {
            flattened = true;
            // Flattening inside a <nav> copies text from within it: it is parsed after all.
            nav = None;
            let buffer = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buffer.push_str(&text[copied..start]);
            buffer.push(' ');
            copied = end;
        }
    }
    let text = out.map(|mut buffer| {
        buffer.push_str(&text[copied..]);
        buffer
    });
    Prepared { text, flattened }
}

/// The markup to parse, when it differs from the page's, and whether deep markup was flattened.
struct Prepared {
    text: Option<String>,
    flattened: bool,
}

/// Whether markup holds a `<main>` or an element with `role="main"`, in any case.
fn holds_main(markup: &str) -> bool {
    let lowercase = markup.to_ascii_lowercase();
    lowercase.contains("<main") || {
        lowercase.match_indices("role=").any(|(at, role)| {
            let value = &lowercase[at + role.len()..];
            let value = value.trim_start_matches(['"', '\'']);
            value
                .split(['"', '\'', '>'])
                .next()
                .is_some_and(|value| value.split_ascii_whitespace().any(|word| word == "main"))
        })
    }
}

/// The index just past the `>` that ends the tag whose attributes start at `from`, skipping
/// quoted attribute values; `None` when the tag never ends.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut index = from;
    let mut after_equals = false;
    while index < bytes.len() {
        match bytes[index] {
            b'>' => return Some(index + 1),
            quote @ (b'"' | b'\'') if after_equals => {
                index += 1 + bytes[index + 1..].iter().position(|&b| b == quote)?;
                after_equals = false;
            }
            b'=' => after_equals = true,
            b if b.is_ascii_whitespace() => {}
            _ => after_equals = false,
        }
        index += 1;
    }
    None
}

/// Where the end tag `</name` of a raw-text element starts, at or after `from`.
fn find_end_tag(text: &str, from: usize, name: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    while let Some(found) = text[at..].find("</") {
        let start = at + found;
        let name_end = start + 2 + name.len();
        if bytes
            .get(start + 2..name_end)
            .is_some_and(|candidate| candidate.eq_ignore_ascii_case(name.as_bytes()))
            && bytes
                .get(name_end)
                .is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
        {
            return Some(start);
        }
        at = start + 2;
    }
    None
}

/// What the tree builder's rules say about one tag name.
#[derive(Debug, Clone, Copy)]
struct TagKind {
    /// Whether a start tag opens an element that stays open until its end tag.
    counts_for_depth: bool,
    /// Whether its content is raw text, holding no tags.
    raw_text: bool,
    /// Whether it is special: an end tag for an ordinary element never closes past it.
    special: bool,
    /// Whether it bounds a scope: no end tag closes an element below it.
    scope: bool,
    /// Whether it is the root of SVG or MathML, inside which `<x/>` closes itself.
    foreign_root: bool,
}

impl TagKind {
    /// The kind of the lowercase tag name `name`.
    fn of(name: &str) -> TagKind {
        let raw_text = RAW_TEXT_TAGS.contains(&name);
        TagKind {
            counts_for_depth: !VOID_TAGS.contains(&name) && !IMPLIED_END_TAGS.contains(&name) && !raw_text,
            raw_text,
            special: SPECIAL_TAGS.contains(&name),
            scope: SCOPE_TAGS.contains(&name),
            foreign_root: matches!(name, "svg" | "math"),
        }
    }
}

/// The flattening scan's model of the parser's stack of open elements; every operation is
/// amortised constant time, so hostile input cannot make the scan quadratic. Tag names are
/// interned, so a page's thousands of tags cost no allocation each.
#[derive(Default)]
struct OpenElements {
    /// Interned lowercase tag names and their numbers.
    numbers: FxHashMap<String, usize>,
    /// The kind of each interned name, by number.
    kinds: Vec<TagKind>,
    /// For each interned name, the indexes in `open` where it stands, innermost last.
    positions: Vec<Vec<usize>>,
    /// The numbers of the open elements, outermost first.
    open: Vec<usize>,
    /// Indexes of open special elements, which stop the end tag of an ordinary element.
    specials: Vec<usize>,
    /// Indexes of open scope boundaries, which stop every end tag.
    scopes: Vec<usize>,
    /// How many SVG or MathML roots are open.
    foreign: usize,
    /// A reused buffer for lowercasing names.
    lowercase: String,
}

impl OpenElements {
    /// The number of the tag name `name`, in any case.
    fn intern(&mut self, name: &str) -> usize {
        self.lowercase.clear();
        self.lowercase
            .extend(name.chars().map(|c| c.to_ascii_lowercase()));
        if let Some(&number) = self.numbers.get(&self.lowercase) {
            return number;
        }
        let number = self.kinds.len();
        self.kinds.push(TagKind::of(&self.lowercase));
        self.positions.push(Vec::new());
        self.numbers.insert(self.lowercase.clone(), number);
        number
    }

    /// Opens an element of the interned name `tag`.
    fn push(&mut self, tag: usize) {
        let index = self.open.len();
        let kind = self.kinds[tag];
        if kind.special {
            self.specials.push(index);
        }
        if kind.scope {
            self.scopes.push(index);
        }
        self.foreign += usize::from(kind.foreign_root);
        self.positions[tag].push(index);
        self.open.push(tag);
    }

    /// Closes `tag` and everything opened inside it, when the parser would; otherwise nothing.
    fn close(&mut self, tag: usize) {
        let Some(&index) = self.positions[tag].last() else {
            return;
        };
        let barrier = if self.kinds[tag].special {
            self.scopes.last()
        } else {
            self.specials.last()
        };
        if barrier.is_some_and(|&barrier| index < barrier) {
            return;
        }
        while self.open.len() > index {
            let popped = self.open.pop().expect("the stack is longer than index");
            let at = self.open.len();
            self.positions[popped].pop();
            if self.specials.last() == Some(&at) {
                self.specials.pop();
            }
            if self.scopes.last() == Some(&at) {
                self.scopes.pop();
            }
            self.foreign -= usize::from(self.kinds[popped].foreign_root);
        }
    }
}

/// Title, publisher, date, url, authors and kind from the page's meta tags.
fn metadata(html: &Html) -> Metadata {
    let mut tags: HashMap<String, String> = HashMap::new();
    let mut title_tag = None;
    let mut first_h1 = None;
    let mut canonical = None;
    let mut first_time = None;
    let mut authors: Vec<String> = Vec::new();
    for node in html.tree.root().descendants() {
        let Some(element) = node.value().as_element() else {
            continue;
        };
        match element.name() {
            "meta" => {
                let key = element
                    .attr("property")
                    .or_else(|| element.attr("name"))
                    .map(str::to_ascii_lowercase);
                if let (Some(key), Some(content)) = (key, element.attr("content")) {
                    let content = collapse_whitespace(content);
                    if matches!(key.as_str(), "author" | "citation_author")
                        && !content.is_empty()
                        && !authors.contains(&content)
                    {
                        authors.push(content.clone());
                    }
                    tags.entry(key).or_insert(content);
                }
            }
            "title" if title_tag.is_none() => title_tag = Some(text_of(node, Chrome::PAGE)),
            "h1" if first_h1.is_none() => {
                first_h1 = Some(text_of(node, Chrome::PAGE)).filter(|h1| !h1.is_empty())
            }
            "link" if canonical.is_none() => {
                let canonical_link = element.attr("rel").is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        .any(|word| word.eq_ignore_ascii_case("canonical"))
                });
                if canonical_link {
                    canonical = element
                        .attr("href")
                        .map(str::trim)
                        .filter(|href| !href.is_empty());
                }
            }
            "time" if first_time.is_none() => first_time = element.attr("datetime"),
            _ => {}
        }
    }
    let tag = |key: &str| tags.get(key).filter(|value| !value.is_empty()).cloned();
    let publisher = tag("og:site_name")
        .or_else(|| tag("publisher"))
        .or_else(|| tag("application-name"));
    // Without og:title, a <title> that is the h1 plus a site suffix ("os.path — Python docs")
    // means the h1 is the title.
    let title = tag("og:title")
        .or_else(|| {
            let title = title_tag.map(|title| strip_site_suffix(&title, publisher.as_deref()))?;
            Some(match &first_h1 {
                Some(h1) if title.starts_with(h1.as_str()) => h1.clone(),
                _ => title,
            })
        })
        .filter(|title| !title.is_empty())
        .or(first_h1)
        .unwrap_or_default();
    let date = [
        "article:published_time",
        "date",
        "citation_publication_date",
        "dc.date",
    ]
    .iter()
    .find_map(|key| tag(key))
    .or_else(|| first_time.map(str::to_string))
    .and_then(|date| normalize_date(iso_day(&date).unwrap_or(&date)));
    Metadata {
        title,
        kind: tag("citedex:kind").as_deref().and_then(Kind::parse),
        publisher,
        date,
        url: canonical.map(str::to_string).or_else(|| tag("og:url")),
        authors,
        key: None,
        cites: Vec::new(),
    }
}

/// The `YYYY-MM-DD` that starts an ISO date-time (`2023-05-04T10:00:00Z`), which `normalize_date`
/// would misread because of the time.
fn iso_day(date: &str) -> Option<&str> {
    let day = date.trim().get(..10)?;
    let shape = day.bytes().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    shape.then_some(day)
}

/// `Numbness | Mayo Clinic` → `Numbness` when the suffix names the site.
fn strip_site_suffix(title: &str, site: Option<&str>) -> String {
    let title = collapse_whitespace(title);
    for separator in [" | ", " - ", " – ", " — ", " :: "] {
        if let Some((head, tail)) = title.rsplit_once(separator)
            && site.is_some_and(|site| tail.eq_ignore_ascii_case(site.trim()))
        {
            return head.trim().to_string();
        }
    }
    title
}

/// The element holding the page's main content: a `<main>` (or `role=main`), else the `<article>`
/// with the most text, provided either holds a fair share of the page's text; else the container
/// found by descending from `<body>` past link lists and stray lines.
fn main_content(html: &Html) -> NodeRef<'_, Node> {
    let elements: Vec<(NodeRef<'_, Node>, &Element)> = html
        .tree
        .root()
        .descendants()
        .filter_map(|node| node.value().as_element().map(|element| (node, element)))
        .collect();
    let body = elements
        .iter()
        .find(|(_, e)| e.name() == "body")
        .map_or_else(|| html.tree.root(), |(node, _)| *node);
    // Through `attrs` rather than `attr`, which makes an atom of the name on every call.
    let is_main = |e: &Element| {
        e.name() == "main"
            || e.attrs()
                .any(|(name, value)| name == "role" && has_word(Some(value), &["main"]))
    };
    // Whatever holds the page's <main> is not chrome, whatever its name: Read the Docs wraps its
    // content in `wy-nav-content-wrap`, ASP.NET pages in a <form>.
    let mut holders = FxHashSet::default();
    for (main, _) in elements.iter().filter(|(_, e)| is_main(e)) {
        for ancestor in main.ancestors() {
            if !holders.insert(ancestor.id()) {
                break;
            }
        }
    }
    let tallies = text_tallies(body, &holders);
    let score = |node: &NodeRef<'_, Node>| tallies.get(&node.id()).map(Tally::score);
    let body_score = score(&body).unwrap_or_default();
    // A <main> or <article> inside chrome has no tally; one with a sliver of the text is a teaser.
    let fair_share = |node: &NodeRef<'_, Node>| score(node).is_some_and(|own| own * 4 >= body_score);
    if let Some((main, _)) = elements.iter().find(|(node, e)| is_main(e) && fair_share(node)) {
        return *main;
    }
    // Several articles (a list of teasers) are not one article: take the one with most text.
    let articles = elements
        .iter()
        .filter(|(node, e)| e.name() == "article" && score(node).is_some());
    if let Some((article, _)) = articles.max_by_key(|(node, _)| score(node))
        && fair_share(article)
    {
        return *article;
    }
    descend_to_content(body, &tallies)
}

/// Walks down from `node` into the child container holding its prose for as long as what the
/// child leaves out is only links, or a line or two with no paragraph or heading of its own.
fn descend_to_content<'a>(
    mut node: NodeRef<'a, Node>,
    tallies: &FxHashMap<NodeId, Tally>,
) -> NodeRef<'a, Node> {
    loop {
        let Some(whole) = tallies.get(&node.id()) else {
            return node;
        };
        let child = node
            .children()
            .filter(|child| {
                child
                    .value()
                    .as_element()
                    .is_some_and(|e| tag_traits(e.name()).container)
            })
            .filter_map(|child| Some((child, tallies.get(&child.id())?)))
            .max_by_key(|(_, tally)| tally.prose());
        let Some((child, part)) = child else {
            return node;
        };
        let rest_prose = whole.prose() - part.prose();
        let rest_links = whole.link_text - part.link_text;
        let rest_has_blocks = whole.paragraphs > part.paragraphs || whole.headings > part.headings;
        let link_list = rest_links >= 2 * rest_prose && rest_prose * 4 <= part.prose();
        let stray_lines = !rest_has_blocks && rest_prose * 20 <= part.prose();
        if part.prose() == 0 || !(link_list || stray_lines) {
            return node;
        }
        node = child;
    }
}

/// How much text an element holds, outside chrome.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Characters of text, white space at the ends of text nodes left out.
    text: usize,
    /// The part of `text` inside links.
    link_text: usize,
    /// `<p>` elements.
    paragraphs: usize,
    /// h2-h6 headings (an h1 is usually the page title).
    headings: usize,
}

impl Tally {
    /// Text outside links.
    fn prose(&self) -> usize {
        self.text - self.link_text
    }

    /// Readability's measure: prose, plus a bonus per paragraph so that running text outscores
    /// a block of the same length that is one long line.
    fn score(&self) -> usize {
        self.prose() + 50 * self.paragraphs
    }
}

/// For every element under `root` outside chrome, in one iterative pass, the text it holds;
/// elements in `holders` are never taken for chrome.
fn text_tallies(root: NodeRef<'_, Node>, holders: &FxHashSet<NodeId>) -> FxHashMap<NodeId, Tally> {
    let mut tallies = FxHashMap::default();
    let mut open: Vec<Tally> = Vec::new();
    let mut skipping = None;
    let mut link_depth = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skipping.is_none() => match node.value() {
                Node::Element(element)
                    if node.id() != root.id()
                        && !holders.contains(&node.id())
                        && is_dropped(node, element, Chrome::PAGE) =>
                {
                    skipping = Some(node.id());
                }
                Node::Element(element) => {
                    link_depth += usize::from(element.name() == "a");
                    open.push(Tally {
                        paragraphs: usize::from(element.name() == "p"),
                        headings: usize::from(matches!(heading_level(element.name()), Some(2..))),
                        ..Tally::default()
                    });
                }
                Node::Text(chunk) => {
                    if let Some(tally) = open.last_mut() {
                        let length = chunk.trim().chars().count();
                        tally.text += length;
                        tally.link_text += if link_depth > 0 { length } else { 0 };
                    }
                }
                _ => {}
            },
            Edge::Close(node) if skipping == Some(node.id()) => skipping = None,
            Edge::Close(node) if skipping.is_none() => {
                let Some(element) = node.value().as_element() else {
                    continue;
                };
                link_depth = link_depth.saturating_sub(usize::from(element.name() == "a"));
                let tally = open.pop().unwrap_or_default();
                tallies.insert(node.id(), tally);
                if let Some(parent) = open.last_mut() {
                    parent.text += tally.text;
                    parent.link_text += tally.link_text;
                    parent.paragraphs += tally.paragraphs;
                    parent.headings += tally.headings;
                }
            }
            _ => {}
        }
    }
    tallies
}

/// Which elements count as chrome during one walk.
#[derive(Debug, Clone, Copy)]
struct Chrome {
    /// Whether `<header>` and header-like class names are chrome: at page level, not in an article.
    headers: bool,
    /// Whether id and class words mark containers as chrome; off for the retry when a container's
    /// name swallowed the content. Smaller elements (a permalink, a share button) stay chrome.
    class_words: bool,
}

impl Chrome {
    /// The strictest reading, for a whole page.
    const PAGE: Chrome = Chrome {
        headers: true,
        class_words: true,
    };
}

/// Whether an element is chrome to skip with everything inside it.
fn is_dropped(node: NodeRef<'_, Node>, element: &Element, chrome: Chrome) -> bool {
    let name = element.name();
    let dropped_tag = tag_traits(name).dropped && !(name == "aside" && is_note(element));
    dropped_tag || (chrome.headers && name == "header") || is_chrome(node, element, chrome)
}

/// Whether an element holds notes (docutils puts footnotes in `<aside>`), by role or name.
fn is_note(element: &Element) -> bool {
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

/// The tag an element is read as: `ul` for a list or an entry of one by its ARIA role, and for
/// an `<aside>` of notes; its own name otherwise.
fn read_as(element: &Element) -> &str {
    let name = element.name();
    let listed = element
        .attrs()
        .any(|(attribute, value)| attribute == "role" && has_word(Some(value), &LIST_ROLES))
        || (name == "aside" && is_note(element));
    if listed { "ul" } else { name }
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
fn hides(style: &str) -> bool {
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
fn has_word(value: Option<&str>, words: &[&str]) -> bool {
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
struct NameWords {
    chrome: bool,
    header: bool,
    content: bool,
    note: bool,
    /// How many words were taken in.
    count: usize,
}

impl NameWords {
    /// Longer words are in none of the lists.
    const LONGEST: usize = 16;

    /// Takes in the names of one `id` or `class` value.
    fn add(&mut self, value: &str) {
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

/// All text under a node except in chrome (such as a heading's permalink mark), white space collapsed.
fn text_of(node: NodeRef<'_, Node>, chrome: Chrome) -> String {
    collapse_whitespace(&gather_text(node, chrome, ' '))
}

/// All text under a node except in chrome, as it stands, with `line_break` for each `<br>`.
fn gather_text(node: NodeRef<'_, Node>, chrome: Chrome, line_break: char) -> String {
    let mut text = String::new();
    let mut skipping = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(inner) if skipping.is_none() => match inner.value() {
                Node::Element(element) if inner.id() != node.id() && is_dropped(inner, element, chrome) => {
                    skipping = Some(inner.id())
                }
                Node::Element(element) if element.name() == "br" => text.push(line_break),
                Node::Text(chunk) => text.push_str(chunk),
                _ => {}
            },
            Edge::Close(inner) if skipping == Some(inner.id()) => skipping = None,
            _ => {}
        }
    }
    text
}

/// What one walk over the content produced.
struct Walked {
    sections: Vec<crate::document::Section>,
    /// Characters of text in all blocks.
    text_length: usize,
    /// Whether structure deeper than [`MAX_STRUCTURE_DEPTH`] was read as plain text.
    truncated: bool,
}

/// Turns the content tree into sections and blocks.
struct Walker<'t> {
    builder: SectionBuilder,
    chrome: Chrome,
    buffer: String,
    list_items: Vec<String>,
    list_depth: usize,
    /// How many table cells are open around the current node.
    cell_depth: usize,
    title: &'t str,
    seen_heading: bool,
    text_length: usize,
}

impl<'t> Walker<'t> {
    /// A walker that takes an h1 equal to `title` for the title and skips `chrome`.
    fn new(title: &'t str, chrome: Chrome) -> Self {
        Walker {
            builder: SectionBuilder::default(),
            chrome,
            buffer: String::new(),
            list_items: Vec::new(),
            list_depth: 0,
            cell_depth: 0,
            title,
            seen_heading: false,
            text_length: 0,
        }
    }

    /// Walks `root` iteratively and returns its sections.
    fn walk(mut self, root: NodeRef<'_, Node>) -> Walked {
        let mut skipping = None;
        let mut depth = 0usize;
        let mut truncated = false;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) if skipping.is_none() => {
                    depth += 1;
                    match node.value() {
                        Node::Text(text) => self.buffer.push_str(text),
                        Node::Element(element)
                            if node.id() != root.id() && is_dropped(node, element, self.chrome) =>
                        {
                            skipping = Some(node.id());
                        }
                        // Past the depth limit only text counts, but a <br> still separates words.
                        Node::Element(_) if depth > MAX_STRUCTURE_DEPTH => {
                            truncated = true;
                            self.buffer.push(' ');
                        }
                        Node::Element(element) => match heading_level(element.name()) {
                            Some(level) => {
                                self.heading(level, node);
                                skipping = Some(node.id());
                            }
                            // In a table cell, code runs on with the row like everything else.
                            None if tag_traits(element.name()).preformatted && self.cell_depth == 0 => {
                                self.preformatted(node);
                                skipping = Some(node.id());
                            }
                            None => self.open(read_as(element)),
                        },
                        _ => {}
                    }
                }
                Edge::Close(node) if skipping == Some(node.id()) => {
                    skipping = None;
                    depth -= 1;
                }
                Edge::Close(node) if skipping.is_none() => {
                    if let Node::Element(element) = node.value() {
                        if depth > MAX_STRUCTURE_DEPTH {
                            self.buffer.push(' ');
                        } else {
                            self.close(read_as(element));
                        }
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        self.flush();
        self.end_list();
        Walked {
            sections: self.builder.finish(),
            text_length: self.text_length,
            truncated,
        }
    }

    /// Handles an element's start: blocks end the running paragraph, lists and cells open.
    fn open(&mut self, tag: &str) {
        // Inside a table cell, paragraphs and lists run on: the row is the paragraph.
        if self.cell_depth > 0 {
            self.cell_depth += usize::from(matches!(tag, "td" | "th"));
            self.buffer.push(' ');
            return;
        }
        match tag {
            "td" | "th" => self.cell_depth += 1,
            "ul" | "ol" | "menu" => {
                self.flush();
                self.list_depth += 1;
            }
            "li" => self.flush(),
            "br" => self.buffer.push(' '),
            // Paragraphs inside a list item belong to the item, as in Markdown.
            _ if tag_traits(tag).block && self.list_depth > 0 => self.buffer.push(' '),
            _ if tag_traits(tag).block => self.flush(),
            _ => {}
        }
    }

    /// Handles an element's end, the mirror of [`Walker::open`].
    fn close(&mut self, tag: &str) {
        if matches!(tag, "td" | "th") {
            self.cell_depth = self.cell_depth.saturating_sub(1);
            self.buffer.push_str(" | ");
            return;
        }
        if self.cell_depth > 0 {
            self.buffer.push(' ');
            return;
        }
        match tag {
            "ul" | "ol" | "menu" => {
                self.flush();
                self.list_depth = self.list_depth.saturating_sub(1);
                if self.list_depth == 0 {
                    self.end_list();
                }
            }
            "li" => self.flush(),
            _ if tag_traits(tag).block && self.list_depth > 0 => self.buffer.push(' '),
            _ if tag_traits(tag).block => self.flush(),
            _ => {}
        }
    }

    /// Opens a section for a heading element, unless it is the title.
    fn heading(&mut self, level: u8, node: NodeRef<'_, Node>) {
        self.flush();
        // A heading inside a list ends the list, so its items stay in the section above.
        self.end_list();
        let text = text_of(node, self.chrome);
        if text.is_empty() {
            return;
        }
        let first = !self.seen_heading;
        self.seen_heading = true;
        // The page's h1 usually repeats the title; it is the title, not a section.
        if level == 1 && first && text.to_lowercase() == self.title.to_lowercase() {
            return;
        }
        self.builder.heading(level, &text);
    }

    /// Emits a `<pre>` as one preformatted block, after the running paragraph and any open list,
    /// so that the text keeps its order.
    fn preformatted(&mut self, node: NodeRef<'_, Node>) {
        self.flush();
        self.end_list();
        let text = tidy_preformatted(&gather_text(node, self.chrome, '\n'));
        self.text_length += text.len();
        self.builder.block(Block::Preformatted(text));
    }

    /// Ends the running paragraph or list item.
    fn flush(&mut self) {
        let text = collapse_whitespace(self.buffer.trim_end_matches([' ', '|']));
        self.buffer.clear();
        if text.is_empty() {
            return;
        }
        self.text_length += text.len();
        if self.list_depth > 0 {
            self.list_items.push(text);
        } else {
            self.builder.block(Block::Paragraph(text));
        }
    }

    /// Emits the items gathered so far as one list.
    fn end_list(&mut self) {
        if !self.list_items.is_empty() {
            self.builder
                .block(Block::List(std::mem::take(&mut self.list_items)));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Section;

    const ARTICLE: &str = include_str!("../../tests/fixtures/html/article.html");
    const NO_MAIN: &str = include_str!("../../tests/fixtures/html/no-main.html");
    const LARGE: &str = include_str!("../../tests/fixtures/html/large.html");
    const HANDBOOK: &str = include_str!("../../tests/fixtures/html/handbook.html");

    fn paths(doc: &Document) -> Vec<String> {
        doc.sections.iter().map(|s| s.path.join(" > ")).collect()
    }

    fn all_text(sections: &[Section]) -> String {
        let mut text = String::new();
        for piece in sections.iter().flat_map(|s| &s.blocks).flat_map(Block::texts) {
            text.push_str(piece);
            text.push('\n');
        }
        text
    }

    fn paragraph(text: &str) -> Block {
        Block::Paragraph(text.to_string())
    }

    #[test]
    fn article_page_keeps_content_and_metadata() {
        let doc = read(ARTICLE);
        assert_eq!(doc.meta.title, "Restless Legs Syndrome");
        assert_eq!(doc.meta.kind, Some(Kind::Source));
        assert_eq!(doc.meta.publisher.as_deref(), Some("Example Health"));
        assert_eq!(doc.meta.date.as_deref(), Some("2024-02-12"));
        assert_eq!(
            doc.meta.url.as_deref(),
            Some("https://health.example.org/conditions/restless-legs")
        );
        assert_eq!(doc.meta.authors, ["Robin Vale", "Ada Lindqvist"]);
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
        assert_eq!(
            paths(&doc),
            [
                "",
                "Symptoms",
                "Causes",
                "Causes > Iron and the brain",
                "Causes > Other conditions"
            ]
        );
        assert_eq!(
            doc.sections[0].blocks,
            [
                paragraph("By Robin Vale, reviewed February 12, 2024"),
                paragraph("Legs resting on a sofa after a long walk."),
                paragraph(
                    "Restless legs syndrome causes an urge to move the legs, usually in the evening. It affects sleep."
                ),
            ]
        );
        assert_eq!(
            doc.sections[1].blocks[1..],
            [
                Block::List(vec![
                    "Walking around the room".into(),
                    "Stretching the calf muscles".into(),
                    "Jiggling the legs".into(),
                    "while seated at a desk".into(),
                    "Massaging the calves with a warm towel".into(),
                ]),
                paragraph("Urge"),
                paragraph("A need to move that grows the longer one sits still."),
            ]
        );
        assert!(doc.sections[2].blocks.is_empty());
        assert_eq!(
            doc.sections[3].blocks,
            [
                paragraph(
                    "Low iron stores in the brain are linked to the condition, even when blood tests look normal."
                ),
                paragraph("Iron tablets are best taken with vitamin C, not with tea."),
            ]
        );
        assert_eq!(
            doc.sections[4].blocks,
            [
                paragraph("Condition | Link"),
                paragraph("Pregnancy | Symptoms often fade after birth"),
                paragraph("Symptoms that wake you every night deserve a visit to a clinician."),
                Block::Preformatted(
                    "Screen before treating:\n  ferritin  < 75 ng/mL\n  transferrin saturation < 20 %".into()
                ),
            ]
        );
        let text = all_text(&doc.sections);
        for chrome in [
            "cookie",
            "Cookie",
            "Skip to",
            "Example Health home",
            "Conditions A to Z",
            "Popular now",
            "Home",
            "Previous condition",
            "Share on social",
            "Advertisement",
            "Hidden tracking",
            "Sign up",
            "Subscribe",
            "Great article",
            "Copyright",
            "JavaScript",
            "tracking code",
            "structured data",
            "font-family",
            "¶",
        ] {
            assert!(!text.contains(chrome), "{chrome:?} leaked into\n{text}");
        }
    }

    #[test]
    fn without_main_or_article_the_densest_container_wins() {
        let doc = read(NO_MAIN);
        assert_eq!(doc.meta.title, "Cold Feet");
        assert_eq!(paths(&doc), ["Why feet get cold", "Keeping them warm"]);
        assert_eq!(doc.sections[0].blocks.len(), 3);
        assert!(
            matches!(&doc.sections[0].blocks[2], Block::Paragraph(p) if p.starts_with("Cold feet at night")),
            "{:?}",
            doc.sections[0].blocks
        );
        let text = all_text(&doc.sections);
        assert!(text.contains("Wool socks"));
        for chrome in [
            "Elsewhere",
            "Link one",
            "hot water bottle",
            "Terms",
            "Home",
            "2024 Cold Feet Notes",
        ] {
            assert!(!text.contains(chrome), "{chrome:?} leaked into\n{text}");
        }
    }

    /// The chapters of the large fixture, in order.
    const CHAPTERS: [&str; 24] = [
        "Why a seed library",
        "Finding a home",
        "Founding volunteers",
        "Collecting the first seeds",
        "Choosing crops to start with",
        "Beans and peas",
        "Tomatoes and peppers",
        "Squash and cross-pollination",
        "Leafy greens",
        "Flowers for pollinators",
        "Drying seeds",
        "Cleaning and winnowing",
        "Germination tests",
        "Labels and records",
        "Storage containers",
        "Temperature and humidity",
        "Lending rules",
        "Returning seeds",
        "Teaching workshops",
        "Working with schools",
        "Sharing with other libraries",
        "Funding on a small budget",
        "Measuring success",
        "Looking ahead",
    ];

    #[test]
    fn a_large_saved_page_drops_its_chrome() {
        assert!(HANDBOOK.len() > 150_000);
        let doc = read(HANDBOOK);
        assert_eq!(doc.meta.title, "The Community Seed Library Handbook");
        assert_eq!(doc.meta.publisher.as_deref(), Some("Fernhill Growers Journal"));
        assert_eq!(doc.meta.date.as_deref(), Some("2022-11-03"));
        assert_eq!(
            doc.meta.url.as_deref(),
            Some("https://journal.fernhill.example/guides/seed-library-handbook")
        );
        assert_eq!(doc.meta.authors, ["Mara Quill", "Tobias Wren"]);
        assert_eq!(doc.meta.kind, None);
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);

        let mut expected = vec![String::new()];
        for (number, chapter) in CHAPTERS.iter().enumerate() {
            expected.push(chapter.to_string());
            expected.push(format!("{chapter} > In practice"));
            if number % 4 == 0 {
                expected.push(format!("{chapter} > In practice > A worked example"));
            }
            expected.push(format!("{chapter} > Pitfalls"));
        }
        assert_eq!(paths(&doc), expected);
        assert_eq!(
            doc.sections[0].blocks,
            [
                paragraph("By Mara Quill and Tobias Wren, 3 November 2022"),
                paragraph("Jars of dried bean seed waiting for labels."),
                paragraph(
                    "This handbook collects what our volunteers learned while running a small seed library from a village hall cupboard."
                ),
            ]
        );

        let text = all_text(&doc.sections);
        assert_eq!(text.matches("Library note").count(), 24 * 11);
        assert_eq!(text.matches("Loose note").count(), 24);
        assert_eq!(text.matches("Volunteer voice").count(), 24);
        assert_eq!(text.matches("Record crop").count(), 6 * 4);
        let lists: Vec<&Vec<String>> = doc
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .filter_map(|block| match block {
                Block::List(items) => Some(items),
                Block::Paragraph(_) | Block::Preformatted(_) => None,
            })
            .collect();
        assert_eq!(lists.len(), 24);
        assert!(lists.iter().all(|items| items.len() == 7));
        assert_eq!(lists[3][5], "Checklist step 3.5: nested reminders");
        assert!(lists[3][6].starts_with("Nested reminder 3: "));
        let worked = &doc.sections[3];
        assert_eq!(worked.path.last().map(String::as_str), Some("A worked example"));
        assert_eq!(worked.blocks[0], paragraph("Crop | Packets out | Packets back"));
        assert_eq!(worked.blocks[1], paragraph("Record crop 0.0 | 10 | 5"));
        assert_eq!(worked.blocks[5], paragraph("Term 0"));
        assert_eq!(
            worked.blocks[7],
            Block::Preformatted("germinated = 6 of 10 seeds".into())
        );

        for chrome in [
            "cookies",
            "Accept everything",
            "seed letter",
            "Newsletter pitch",
            "Skip to",
            "Notes from allotments",
            "Browse topic",
            "Browse subtopic",
            "Search the journal",
            "Journal home",
            "Share by email",
            "Advertisement",
            "planting calendar",
            "Pull quote",
            "Filed under",
            "You may also like",
            "Related story",
            "Teaser text",
            "thoughts on this handbook",
            "Reader reply",
            "Gardener",
            "Leave a reply",
            "Most read",
            "Footer link",
            "Footer column",
            "Copyright",
            "Tracking pixel",
            "Template toast",
            "gtag",
            "loadAdSlot",
            "JSON-LD",
            "Structured body copy",
            "State menu entry",
            "font-family",
            "dataset",
        ] {
            assert!(!text.contains(chrome), "{chrome:?} leaked");
        }
    }

    #[test]
    fn a_large_page_with_a_mega_menu_keeps_its_chapters() {
        let doc = read(LARGE);
        assert_eq!(doc.meta.title, "Everyday Habits for Healthy Legs");
        assert_eq!(doc.meta.publisher.as_deref(), Some("Example Wellness"));
        assert_eq!(doc.meta.date.as_deref(), Some("2023-08-21"));
        assert_eq!(
            doc.meta.url.as_deref(),
            Some("https://wellness.example.org/healthy-legs")
        );
        let chapters = doc.sections.iter().filter(|s| s.path.len() == 1).count();
        let details = doc.sections.iter().filter(|s| s.path.len() == 2).count();
        assert_eq!((chapters, details), (24, 48));
        assert_eq!(doc.sections[1].path, ["Chapter 0: Walking"]);
        assert_eq!(doc.sections[2].path, ["Chapter 0: Walking", "Detail 0.0"]);
        // The end-to-end test searches for this item in this section.
        let hydration = doc.sections.iter().find(|s| s.path == ["Chapter 3: Hydration"]);
        assert!(all_text(std::slice::from_ref(hydration.unwrap())).contains("Checklist item 3.2"));
        let text = all_text(&doc.sections);
        assert_eq!(text.matches("Section note").count(), 24 * 14);
        assert_eq!(text.matches("Checklist item").count(), 24 * 5);
        for chrome in [
            "Menu topic",
            "Subtopic",
            "Related story",
            "Comment 1",
            "Footer link",
            "cookies",
            "var config",
            "structured headline",
        ] {
            assert!(!text.contains(chrome), "{chrome:?} leaked");
        }
    }

    /// Runs `read` on a thread with a small stack, to show nothing in it recurses on nesting depth.
    fn read_on_small_stack(page: String) -> Document {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || read(&page))
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn fifty_thousand_nested_elements_cost_no_stack() {
        let depth = 50_000;
        let page = format!(
            "<html><head><title>Deep</title></head><body>{}<p>The bottom paragraph.</p>{}<p>After.</p></body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let doc = read_on_small_stack(page);
        assert_eq!(all_text(&doc.sections), "The bottom paragraph.\nAfter.\n");
        assert_eq!(
            doc.warnings,
            ["markup nested deeper than 1000 levels read as plain text"]
        );
    }

    #[test]
    fn a_fifty_thousand_deep_tree_is_walked_and_dropped_without_recursion() {
        // Built directly, since parsing it unflattened would take minutes (the tree builder is quadratic).
        let handle = std::thread::Builder::new().stack_size(256 * 1024).spawn(|| {
            let sample = Html::parse_document("<div>bottom text</div>");
            let div = sample
                .tree
                .root()
                .descendants()
                .find(|node| node.value().as_element().is_some_and(|e| e.name() == "div"));
            let div = div.unwrap();
            let (element, text) = (div.value().clone(), div.first_child().unwrap().value().clone());
            let mut tree = ego_tree::Tree::new(Node::Document);
            let mut id = tree.root().id();
            for _ in 0..50_000 {
                id = tree.get_mut(id).unwrap().append(element.clone()).id();
            }
            tree.get_mut(id).unwrap().append(text);
            let root = tree.root();
            let tallies = text_tallies(root, &FxHashSet::default());
            assert_eq!(tallies[&id].text, "bottom text".len());
            let outermost = root.first_child().unwrap();
            assert_eq!(descend_to_content(outermost, &tallies).id(), id);
            assert_eq!(text_of(root, Chrome::PAGE), "bottom text");
            let walked = Walker::new("", Chrome::PAGE).walk(root);
            assert!(walked.truncated);
            assert_eq!(all_text(&walked.sections), "bottom text\n");
            drop(tree);
        });
        handle.unwrap().join().unwrap();
    }

    /// The flattened markup, `None` when nothing was too deep.
    fn flatten_deep_markup(text: &str, limit: usize) -> Option<String> {
        let prepared = prepare_markup(text, limit);
        prepared
            .flattened
            .then(|| prepared.text.expect("flattening rewrites the markup"))
    }

    #[test]
    fn deep_nesting_hidden_behind_stray_end_tags_is_still_flattened() {
        // An end tag for an ordinary element never closes past a <div>, so these divs all nest.
        let page = format!(
            "<body>{}<p>bottom</p></body>",
            "<span><div></span>".repeat(20_000)
        );
        let doc = read_on_small_stack(page);
        assert_eq!(all_text(&doc.sections).trim(), "bottom");
        assert_eq!(doc.warnings.len(), 1);
    }

    #[test]
    fn sloppy_but_shallow_markup_is_not_flattened() {
        // Unclosed paragraphs and list items, `<` in scripts and tags in comments are not depth.
        let mut page = String::from(
            "<html><head><script>for (i = 0; i<n; i++) { s += '<div>'; }</script></head><body><main>",
        );
        for number in 0..1_500 {
            page.push_str(&format!(
                "<p>Paragraph {number}\n<!-- <div> --><ul><li>item {number}</ul><br/>"
            ));
        }
        page.push_str("<h2>Later</h2><p>after the heading</main>");
        assert_eq!(flatten_deep_markup(&page, MAX_PARSE_DEPTH), None);
        let doc = read(&page);
        assert!(doc.warnings.is_empty());
        assert_eq!(paths(&doc), ["", "Later"]);
        assert_eq!(doc.sections[0].blocks.len(), 3_000);
        assert_eq!(doc.sections[1].blocks, [paragraph("after the heading")]);
    }

    #[test]
    fn flattening_keeps_text_and_shallow_markup() {
        let page = "<div><div><b>deep</b> text</div></div><br><img src=x><p>after</p>";
        assert_eq!(flatten_deep_markup(page, 5), None);
        assert_eq!(
            flatten_deep_markup(page, 1).unwrap(),
            "<div>  deep  text </div><br><img src=x><p>after</p>"
        );
        // Quoted `>` in attributes and raw text do not end or open tags.
        let page = r#"<div title="a > b"><textarea><div><div></textarea></div>"#;
        assert_eq!(flatten_deep_markup(page, 1), None);
        // Inside SVG `<path/>` closes itself; in HTML `<div/>` opens a div.
        assert_eq!(flatten_deep_markup("<svg><path/><path/></svg>", 1), None);
        assert!(flatten_deep_markup("<div/><div/>", 1).is_some());
    }

    #[test]
    fn navigation_is_cut_before_parsing_only_when_its_own_end_tag_closes_it() {
        let cut = |page: &str| prepare_markup(page, MAX_PARSE_DEPTH).text;
        assert_eq!(
            cut("<body><NAV class=x><nav><ul><li>a</ul></nav><p>b</Nav><p>text</p>").as_deref(),
            Some("<body><p>text</p>")
        );
        // A <nav> holding the page's main content stays, as does one another end tag closes.
        assert_eq!(cut("<body><nav><main><p>text</main></nav>"), None);
        assert_eq!(
            cut("<body><nav><div ROLE='content main'><p>text</div></nav>"),
            None
        );
        assert_eq!(cut("<div><nav><p>links</div><p>text"), None);
        assert_eq!(cut("<body><nav><p>links, never closed"), None);
        // Tags in comments and raw text neither open nor close one.
        assert_eq!(
            cut("<!-- <nav> --><p>a</p><nav><script>'</nav>'</script></nav><p>b</p>").as_deref(),
            Some("<!-- <nav> --><p>a</p><p>b</p>")
        );
        let page = "<html><body><nav><h1>Site name</h1><p>Links</p></nav><main><p>Body text.</p></main></body></html>";
        let doc = read(page);
        assert_eq!(doc.meta.title, "");
        assert_eq!(all_text(&doc.sections).trim(), "Body text.");
    }

    #[test]
    fn class_words_match_whole_parts_only() {
        let page = r#"<html><body><article>
            <h2>Shapes</h2><div class="shadow badge-header">Shadows stay.</div>
            <div class="download-area">Downloads stay.</div>
            <div class="has-sidebar no-comments">State classes stay.</div>
            <div class="headline">Headlines stay.</div>
            <div class="ad">Gone one.</div><div class="promo_box">Gone two.</div>
            <div id="mainNav">Gone three.</div><div class="related-content">Gone four.</div>
            <div class="article-comments">Gone five.</div><div role="navigation">Gone six.</div>
            <div aria-hidden="true">Gone seven.</div><p hidden>Gone eight.</p>
            </article></body></html>"#;
        let text = all_text(&read(page).sections);
        assert_eq!(
            text,
            "Shadows stay.\nDownloads stay.\nState classes stay.\nHeadlines stay.\n"
        );
    }

    #[test]
    fn name_words_split_at_punctuation_and_camel_case() {
        let words = |value: &str| {
            let mut words = NameWords::default();
            words.add(value);
            (words.chrome, words.header, words.content)
        };
        assert_eq!(words("cookieBanner"), (true, false, false));
        assert_eq!(words("site-header article_body"), (false, true, true));
        assert_eq!(
            words("has-sidebar no-comments is-sticky-header"),
            (false, false, false)
        );
        assert_eq!(words("shadow headline download"), (false, false, false));
        assert_eq!(words("navigationadvertisementcookie ad"), (true, false, false));
        assert_eq!(words("navigationadvertisementcookie"), (false, false, false));
        assert!(hides("color: red; DISPLAY : None"));
        assert!(!hides("display: block; none"));
    }

    #[test]
    fn generated_ids_do_not_make_content_chrome() {
        let page = r#"<html><body><main>
            <section id="overlay-support"><h2>Overlay support</h2><p>Overlays stay.</p></section>
            <dl><dt id="http.cookiejar.DefaultCookiePolicy">class DefaultCookiePolicy</dt><dd>Policies stay.</dd></dl>
            <div id="comments"><h2>Comments</h2><p>A titled block stays.</p></div>
            <div id="comments">Untitled comments go.</div>
            <div id="share-this-page">Sharing goes.</div>
            </main></body></html>"#;
        let text = all_text(&read(page).sections);
        assert_eq!(
            text,
            "Overlays stay.\nclass DefaultCookiePolicy\nPolicies stay.\nA titled block stays.\n"
        );
    }

    #[test]
    fn a_chrome_named_wrapper_around_main_is_not_chrome() {
        // Read the Docs: the whole page sits in `wy-nav-content-wrap`, "nav" being a chrome word.
        let prose = "Sentences of the documentation page that make up its content. ".repeat(12);
        let page = format!(
            r##"<html><head><title>Host bridges</title></head><body>
            <nav class="wy-nav-side">Side menu</nav>
            <section class="wy-nav-content-wrap"><nav class="wy-nav-top">Top menu</nav>
            <div role="main" class="document"><h1>Host bridges<a class="headerlink" href="#h">¶</a></h1>
            <p>{prose}</p><h2>Windows<a class="headerlink" href="#w">¶</a></h2><p>{prose}</p></div>
            <footer>Footer words</footer></section></body></html>"##
        );
        let doc = read(&page);
        assert_eq!(paths(&doc), ["", "Windows"]);
        let text = all_text(&doc.sections);
        assert_eq!(text.matches("Sentences of the documentation").count(), 24);
        for chrome in ["¶", "menu", "Footer"] {
            assert!(!text.contains(chrome), "{chrome:?} leaked");
        }
        // ASP.NET: a <form> around the whole page, which no retry without class words brings back.
        let page = page
            .replace("<body>", "<body><form id=\"aspnetForm\" method=\"post\">")
            .replace("</body>", "</form></body>");
        assert_eq!(all_text(&read(&page).sections), text);
    }

    #[test]
    fn header_words_are_chrome_at_page_level_and_content_inside_an_article() {
        // Prose straight in <body>: the walk starts at page level, where a header-like block is chrome.
        let page = r#"<html><body><div class="site-header">Masthead words</div>
            <p>First paragraph of prose that is long enough to be the content of this page.</p>
            <h2>Second</h2><p>More prose below the second heading.</p></body></html>"#;
        let doc = read(page);
        assert_eq!(paths(&doc), ["", "Second"]);
        assert!(!all_text(&doc.sections).contains("Masthead"));
        // Inside an article the same words name parts of the content.
        let page = page
            .replace("<body>", "<body><article>")
            .replace("</body>", "</article></body>");
        assert!(all_text(&read(&page).sections).starts_with("Masthead words\n"));
    }

    #[test]
    fn content_swallowed_by_a_chrome_name_is_read_again_without_names() {
        let prose = "A wrapper named after its sidebar still holds the article. ".repeat(20);
        let page = format!(
            "<html><body><main><div class=\"content-with-sidebar\"><h2>Only</h2><p>{prose}</p></div></main></body></html>"
        );
        let doc = read(&page);
        assert_eq!(paths(&doc), ["Only"]);
        assert_eq!(doc.sections[0].blocks, [paragraph(prose.trim())]);
        // Only containers are read again: a permalink or a share link is still chrome.
        let page = page.replace(
            "<h2>Only</h2>",
            "<h2>Only<a class=\"headerlink\" href=\"#only\">¶</a></h2><a class=\"share\">Share this</a>",
        );
        let doc = read(&page);
        assert_eq!(paths(&doc), ["Only"]);
        assert_eq!(doc.sections[0].blocks, [paragraph(prose.trim())]);
    }

    #[test]
    fn code_keeps_its_lines_and_its_place_in_a_list() {
        let page = "<html><body><main><p>Set it up:</p><ol><li>Import it:<div class=\"highlight\">\
                    <button class=\"copy\">Copy</button><pre>\n<span class=\"kn\">import</span> asyncio\n\n\n\
                    def main():\n    loop = asyncio.get_running_loop()   \n</pre></div></li>\
                    <li>Run it.</li></ol><pre>a<br>b</pre></main></body></html>";
        let doc = read(page);
        assert_eq!(
            doc.sections[0].blocks,
            [
                paragraph("Set it up:"),
                Block::List(vec!["Import it:".into()]),
                Block::Preformatted(
                    "import asyncio\n\ndef main():\n    loop = asyncio.get_running_loop()".into()
                ),
                Block::List(vec!["Run it.".into()]),
                Block::Preformatted("a\nb".into()),
            ]
        );
    }

    #[test]
    fn footnotes_and_citations_are_content_one_item_each() {
        let page = "<html><body><aside class=\"sidebar\"><p>Site links and more links.</p></aside><main>\
                    <p>Loopback is on by default.<a role=\"doc-noteref\" href=\"#f1\"><span class=\"fn-bracket\">[</span>1\
                    <span class=\"fn-bracket\">]</span></a></p>\
                    <aside class=\"footnote-list brackets\"><aside class=\"footnote brackets\" id=\"f1\" role=\"note\">\
                    <span class=\"label\">[<a role=\"doc-backlink\" href=\"#r1\">1</a>]</span><p>Handy for candump.</p></aside>\
                    <aside class=\"footnote brackets\" id=\"f2\" role=\"note\"><span class=\"label\">[2]</span>\
                    <p>Second note.</p></aside></aside><h2>References</h2><div role=\"list\" class=\"citation-list\">\
                    <div class=\"citation\" id=\"sev\" role=\"doc-biblioentry\"><span class=\"label\">[sev]</span>\
                    <p>Secure Encrypted Virtualization (SEV)</p></div></div><aside class=\"pull-quote\"><p>Quoted.</p></aside>\
                    </main></body></html>";
        let doc = read(page);
        assert_eq!(
            doc.sections[0].blocks,
            [
                paragraph("Loopback is on by default.[1]"),
                Block::List(vec!["[1] Handy for candump.".into(), "[2] Second note.".into()]),
            ]
        );
        assert_eq!(
            doc.sections[1].blocks,
            [Block::List(vec![
                "[sev] Secure Encrypted Virtualization (SEV)".into()
            ])]
        );
        assert!(!all_text(&doc.sections).contains("Site links"));
        assert!(!all_text(&doc.sections).contains("Quoted"));
    }

    #[test]
    fn a_table_row_is_one_paragraph_whatever_its_cells_hold() {
        let page = "<html><body><main><table><tr><td><p>get_loop()</p></td><td><p>Returns the loop.</p>\
                    <ul><li>when running</li></ul></td></tr><tr><td>b</td><td>c</td></tr></table></main></body></html>";
        let doc = read(page);
        assert_eq!(
            doc.sections[0].blocks,
            [
                paragraph("get_loop() | Returns the loop. when running"),
                paragraph("b | c")
            ]
        );
    }

    #[test]
    fn metadata_falls_back_to_title_tag_first_h1_and_time() {
        let page = r#"<html><head><title>Sciatica - Nerve Notes</title>
            <meta name="application-name" content="Nerve Notes"><meta property="og:url" content="https://n.example/s">
            <meta name="dc.date" content="May 4, 2023"></head>
            <body><article><h1>Sciatica</h1><p>Pain along the nerve.</p><time datetime="2020-01-01">x</time></article></body></html>"#;
        let doc = read(page);
        assert_eq!(doc.meta.title, "Sciatica");
        assert_eq!(doc.meta.publisher.as_deref(), Some("Nerve Notes"));
        assert_eq!(doc.meta.url.as_deref(), Some("https://n.example/s"));
        assert_eq!(doc.meta.date.as_deref(), Some("2023-05-04"));
        assert_eq!(paths(&doc), [""]);

        let doc = read(
            "<body><h1>Untitled page</h1><p>Text.</p><time datetime='2021-06-30T23:59:59-07:00'>then</time></body>",
        );
        assert_eq!(doc.meta.title, "Untitled page");
        assert_eq!(doc.meta.date.as_deref(), Some("2021-06-30"));
        assert_eq!(doc.meta.kind, None);
    }

    #[test]
    fn site_suffixes_come_off_titles_only_when_they_name_the_site() {
        assert_eq!(
            strip_site_suffix("Numbness | Mayo Clinic", Some("Mayo Clinic")),
            "Numbness"
        );
        assert_eq!(
            strip_site_suffix("Pros - Cons", Some("Mayo Clinic")),
            "Pros - Cons"
        );
        assert_eq!(iso_day("2023-05-04T10:00:00Z"), Some("2023-05-04"));
        assert_eq!(iso_day("May 4, 2023"), None);
    }
}
