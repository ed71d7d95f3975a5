//! HTML pages as saved from the web: parsed by a real HTML5 parser (html5ever, through scraper),
//! the main content found the way readability does it (`<main>`, `<article>`, `role=main`, else
//! the container with the most non-link text), site chrome dropped (navigation, headers, footers,
//! sidebars, cookie banners, scripts), and h1-h6 turned into the heading path. Metadata comes
//! from Open Graph and article meta tags, `<title>`, `<time>` and the canonical link.
//!
//! Every walk over the tree is iterative, so a page nested fifty thousand levels deep costs time
//! in proportion to its size and never the stack.

use std::collections::HashMap;

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::node::Element;
use scraper::{Html, Node};

use crate::document::{Block, Document, Kind, Metadata, SectionBuilder, collapse_whitespace};
use crate::references::normalize_date;

/// Nesting below this depth is read as running text, without further structure.
const MAX_STRUCTURE_DEPTH: usize = 512;
/// Tags nested deeper than this are removed (their text kept) before parsing.
const MAX_PARSE_DEPTH: usize = 1_000;

/// Elements that have no end tag.
const VOID_TAGS: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr",
];

/// Elements that never hold article content.
const DROPPED_TAGS: [&str; 20] = [
    "nav", "aside", "footer", "script", "style", "noscript", "form", "iframe", "svg", "button", "template",
    "select", "textarea", "input", "object", "canvas", "dialog", "head", "map", "math",
];

/// Words in an `id` or `class` that mark site chrome rather than content.
const CHROME_WORDS: [&str; 34] = [
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
    "footer",
    "header",
    "masthead",
    "breadcrumb",
    "breadcrumbs",
    "share",
    "sharing",
    "social",
    "related",
    "advert",
    "advertisement",
    "ad",
    "ads",
    "sponsor",
    "promo",
    "newsletter",
    "subscribe",
    "comment",
    "comments",
    "modal",
    "popup",
    "toolbar",
    "skip",
    "headerlink",
];

/// Words that keep an element even when it also names chrome ("article-header", "main-content").
const CONTENT_WORDS: [&str; 8] = [
    "article", "content", "main", "body", "story", "entry", "post", "text",
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
const BLOCK_TAGS: [&str; 24] = [
    "p",
    "div",
    "section",
    "article",
    "main",
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
    "body",
];

/// Parses an HTML page.
pub fn read(text: &str) -> Document {
    // The HTML5 tree builder checks the stack of open elements at every tag, which is quadratic
    // in nesting depth; hostile pages are flattened before it sees them.
    let (flattened, too_deep) = flatten_deep_markup(text, MAX_PARSE_DEPTH);
    let html = Html::parse_document(flattened.as_deref().unwrap_or(text));
    let meta = metadata(&html);
    let root = main_content(&html);
    let mut walker = Walker {
        builder: SectionBuilder::default(),
        buffer: String::new(),
        list_items: Vec::new(),
        list_depth: 0,
        cell_depth: 0,
        title: collapse_whitespace(&meta.title),
        seen_heading: false,
    };
    // Inside an article a <header> holds its title and byline; at page level it is the masthead.
    let keep_headers = root.value().as_element().is_some_and(|e| e.name() != "body");
    let truncated = walker.walk(root, keep_headers);
    let mut warnings = Vec::new();
    if too_deep || truncated {
        let limit = if too_deep {
            MAX_PARSE_DEPTH
        } else {
            MAX_STRUCTURE_DEPTH
        };
        warnings.push(format!(
            "markup nested deeper than {limit} levels read as plain text"
        ));
    }
    Document {
        meta,
        sections: walker.builder.finish(),
        warnings,
    }
}

/// Removes the tags that stand more than `limit` elements deep, keeping all text, by a cheap scan
/// that counts start and end tags; `None` when nothing is that deep. Returns whether it flattened.
fn flatten_deep_markup(text: &str, limit: usize) -> (Option<String>, bool) {
    let mut depth = 0usize;
    let mut out: Option<String> = None;
    let mut copied_to = 0;
    let mut rest_start = 0;
    while let Some(found) = text[rest_start..].find('<') {
        let start = rest_start + found;
        let Some(length) = text[start..].find('>') else {
            break;
        };
        let end = start + length + 1;
        let tag = &text[start + 1..end - 1];
        let closing = tag.starts_with('/');
        let unslashed = tag.trim_start_matches('/');
        let name = &unslashed[..unslashed
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(unslashed.len())];
        let counted = !name.is_empty()
            && !VOID_TAGS.iter().any(|void| void.eq_ignore_ascii_case(name))
            && !tag.ends_with('/');
        let deep = if closing && counted {
            let deep = depth > limit;
            depth = depth.saturating_sub(1);
            deep
        } else if counted {
            depth += 1;
            depth > limit
        } else {
            false
        };
        if deep {
            let buffer = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buffer.push_str(&text[copied_to..start]);
            buffer.push(' ');
            copied_to = end;
        }
        rest_start = end;
    }
    match out {
        Some(mut buffer) => {
            buffer.push_str(&text[copied_to..]);
            (Some(buffer), true)
        }
        None => (None, false),
    }
}

/// Title, publisher, date, url, authors and kind from the page's meta tags.
fn metadata(html: &Html) -> Metadata {
    let mut tags: HashMap<String, String> = HashMap::new();
    let mut title_tag = None;
    let mut first_h1 = None;
    let mut canonical = None;
    let mut first_time = None;
    let mut authors = Vec::new();
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
                    if matches!(key.as_str(), "author" | "citation_author") && !content.is_empty() {
                        authors.push(content.clone());
                    }
                    tags.entry(key).or_insert(content);
                }
            }
            "title" if title_tag.is_none() => title_tag = Some(text_of(node)),
            "h1" if first_h1.is_none() => first_h1 = Some(text_of(node)).filter(|h1| !h1.is_empty()),
            "link" if canonical.is_none() => {
                let canonical_link = element.attr("rel").is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        .any(|word| word.eq_ignore_ascii_case("canonical"))
                });
                if canonical_link {
                    canonical = element.attr("href").map(str::to_string);
                }
            }
            "time" if first_time.is_none() => first_time = element.attr("datetime").map(str::to_string),
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
    .or(first_time)
    .and_then(|date| {
        let day = date.split(['T', ' ']).next().unwrap_or_default().to_string();
        normalize_date(&day).or_else(|| normalize_date(&date))
    });
    authors.dedup();
    Metadata {
        title,
        kind: tag("citedex:kind").as_deref().and_then(Kind::parse),
        publisher,
        date,
        url: canonical.or_else(|| tag("og:url")),
        authors,
        key: None,
        cites: Vec::new(),
    }
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

/// The element holding the page's main content.
fn main_content(html: &Html) -> NodeRef<'_, Node> {
    let elements: Vec<(NodeRef<'_, Node>, &Element)> = html
        .tree
        .root()
        .descendants()
        .filter_map(|node| node.value().as_element().map(|element| (node, element)))
        .collect();
    let main = elements
        .iter()
        .find(|(_, e)| e.name() == "main" || e.attr("role") == Some("main"));
    if let Some((main, _)) = main {
        return *main;
    }
    let body = elements
        .iter()
        .find(|(_, e)| e.name() == "body")
        .map_or_else(|| html.tree.root(), |(node, _)| *node);
    let scores = text_scores(body);
    let score = |node: &NodeRef<'_, Node>| scores.get(&node.id()).copied().unwrap_or_default();
    // Several articles (a list of teasers) are not one article: take the one with most text.
    let articles = elements.iter().filter(|(_, e)| e.name() == "article");
    if let Some((article, _)) = articles.max_by_key(|(node, _)| score(node)) {
        return *article;
    }
    let candidates = elements
        .iter()
        .filter(|(_, e)| matches!(e.name(), "div" | "section" | "td") && !is_chrome(e));
    match candidates.max_by_key(|(node, _)| score(node)) {
        // A container with most of the page's text is the content; otherwise the whole body is.
        Some((best, _)) if score(best) * 2 >= score(&body) => *best,
        _ => body,
    }
}

/// For every element under `root`, in one pass: characters of text outside links and chrome,
/// plus a bonus per paragraph, so dense prose outscores menus and link lists.
fn text_scores(root: NodeRef<'_, Node>) -> HashMap<ego_tree::NodeId, usize> {
    #[derive(Default)]
    struct Tally {
        text: usize,
        link_text: usize,
        paragraphs: usize,
    }
    let mut scores = HashMap::new();
    let mut open: Vec<Tally> = Vec::new();
    let mut skipping = None;
    let mut link_depth = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skipping.is_none() => match node.value() {
                Node::Element(element)
                    if node.id() != root.id() && (is_dropped(element) || element.name() == "header") =>
                {
                    skipping = Some(node.id());
                }
                Node::Element(element) => {
                    link_depth += usize::from(element.name() == "a");
                    open.push(Tally {
                        paragraphs: usize::from(element.name() == "p"),
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
                scores.insert(node.id(), tally.text - tally.link_text + 50 * tally.paragraphs);
                if let Some(parent) = open.last_mut() {
                    parent.text += tally.text;
                    parent.link_text += tally.link_text;
                    parent.paragraphs += tally.paragraphs;
                }
            }
            _ => {}
        }
    }
    scores
}

/// Whether an element is chrome to skip with everything inside it.
fn is_dropped(element: &Element) -> bool {
    DROPPED_TAGS.contains(&element.name()) || is_chrome(element)
}

/// Chrome by role, hidden state, or the words of its id and classes.
fn is_chrome(element: &Element) -> bool {
    if element
        .attr("role")
        .is_some_and(|role| CHROME_ROLES.contains(&role.to_ascii_lowercase().as_str()))
        || element.attr("hidden").is_some()
        || element.attr("aria-hidden") == Some("true")
        || element
            .attr("style")
            .is_some_and(|style| style.replace(' ', "").contains("display:none"))
    {
        return true;
    }
    let words = || {
        let names = element.attr("id").into_iter().chain(element.attr("class"));
        names
            .flat_map(|name| name.split(|c: char| !c.is_ascii_alphanumeric()))
            .filter(|word| !word.is_empty())
    };
    let named_in =
        |list: &[&str]| words().any(|word| list.iter().any(|known| known.eq_ignore_ascii_case(word)));
    named_in(&CHROME_WORDS) && !named_in(&CONTENT_WORDS)
}

/// All text under a node except in chrome (such as a heading's permalink mark), white space collapsed.
fn text_of(node: NodeRef<'_, Node>) -> String {
    let mut text = String::new();
    let mut skipping = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(inner) if skipping.is_none() => match inner.value() {
                Node::Element(element) if inner.id() != node.id() && is_dropped(element) => {
                    skipping = Some(inner.id())
                }
                Node::Text(chunk) => text.push_str(chunk),
                _ => {}
            },
            Edge::Close(inner) if skipping == Some(inner.id()) => skipping = None,
            _ => {}
        }
    }
    collapse_whitespace(&text)
}

/// Turns the content tree into sections and blocks.
struct Walker {
    builder: SectionBuilder,
    buffer: String,
    list_items: Vec<String>,
    list_depth: usize,
    /// How many table cells are open around the current node.
    cell_depth: usize,
    title: String,
    seen_heading: bool,
}

impl Walker {
    /// Walks `root`; returns whether structure was flattened for depth.
    fn walk(&mut self, root: NodeRef<'_, Node>, keep_headers: bool) -> bool {
        let mut skipping = None;
        let mut depth = 0usize;
        let mut truncated = false;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) if skipping.is_none() => {
                    depth += 1;
                    match node.value() {
                        Node::Text(text) => self.buffer.push_str(text),
                        Node::Element(_) if depth > MAX_STRUCTURE_DEPTH => truncated = true,
                        Node::Element(element)
                            if node.id() != root.id()
                                && (is_dropped(element) || (!keep_headers && element.name() == "header")) =>
                        {
                            skipping = Some(node.id());
                        }
                        Node::Element(element) => {
                            if let Some(level) = heading_level(element.name()) {
                                self.heading(level, node);
                                skipping = Some(node.id());
                            } else {
                                self.open(element.name());
                            }
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) if skipping == Some(node.id()) => {
                    skipping = None;
                    depth -= 1;
                }
                Edge::Close(node) if skipping.is_none() => {
                    if let Node::Element(element) = node.value()
                        && depth <= MAX_STRUCTURE_DEPTH
                    {
                        self.close(element.name());
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        self.flush();
        truncated
    }

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
            _ if BLOCK_TAGS.contains(&tag) => self.flush(),
            _ => {}
        }
    }

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
                if self.list_depth == 0 && !self.list_items.is_empty() {
                    self.builder
                        .block(Block::List(std::mem::take(&mut self.list_items)));
                }
            }
            "li" => self.flush(),
            _ if BLOCK_TAGS.contains(&tag) => self.flush(),
            _ => {}
        }
    }

    fn heading(&mut self, level: u8, node: NodeRef<'_, Node>) {
        self.flush();
        let text = text_of(node);
        if text.is_empty() {
            return;
        }
        let first = !self.seen_heading;
        self.seen_heading = true;
        // The page's h1 usually repeats the title; it is the title, not a section.
        if level == 1 && first && text == self.title {
            return;
        }
        self.builder.heading(level, &text);
    }

    /// Ends the running paragraph or list item.
    fn flush(&mut self) {
        let text = collapse_whitespace(self.buffer.trim_end_matches([' ', '|']));
        self.buffer.clear();
        if text.is_empty() {
            return;
        }
        if self.list_depth > 0 {
            self.list_items.push(text);
        } else {
            self.builder.block(Block::Paragraph(text));
        }
    }
}

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

    #[test]
    fn article_page_keeps_content_and_metadata() {
        let doc = read(ARTICLE);
        assert_eq!(doc.meta.title, "Restless Legs Syndrome");
        assert_eq!(doc.meta.publisher.as_deref(), Some("Example Health"));
        assert_eq!(doc.meta.date.as_deref(), Some("2024-02-12"));
        assert_eq!(
            doc.meta.url.as_deref(),
            Some("https://health.example.org/conditions/restless-legs")
        );
        assert_eq!(doc.meta.authors, ["Robin Vale"]);
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
            doc.sections[1].blocks[1],
            Block::List(vec![
                "Walking around the room".into(),
                "Stretching the calf muscles".into(),
                "Jiggling the legs".into(),
                "while seated at a desk".into(),
            ])
        );
        assert_eq!(
            doc.sections[3].blocks,
            [Block::Paragraph(
                "Low iron stores in the brain are linked to the condition, even when blood tests look normal.".into()
            )]
        );
        assert_eq!(
            doc.sections[4].blocks[1],
            Block::Paragraph("Pregnancy | Symptoms often fade after birth".into())
        );
        let text = all_text(&doc.sections);
        assert!(
            text.contains("By Robin Vale, reviewed February 12, 2024"),
            "{text}"
        );
        for chrome in [
            "cookies",
            "Conditions A to Z",
            "Popular now",
            "Share on social",
            "Great article",
            "Copyright",
            "tracking",
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
        let text = all_text(&doc.sections);
        assert!(text.contains("Wool socks"));
        assert!(
            !text.contains("Link one") && !text.contains("Terms") && !text.contains("Home"),
            "{text}"
        );
    }

    #[test]
    fn a_large_saved_page_drops_its_chrome() {
        let doc = read(LARGE);
        assert_eq!(doc.meta.title, "Everyday Habits for Healthy Legs");
        assert_eq!(doc.meta.date.as_deref(), Some("2023-08-21"));
        let chapters = doc.sections.iter().filter(|s| s.path.len() == 1).count();
        let details = doc.sections.iter().filter(|s| s.path.len() == 2).count();
        assert_eq!((chapters, details), (24, 48));
        assert_eq!(doc.sections[1].path, ["Chapter 0: Walking"]);
        assert_eq!(doc.sections[2].path, ["Chapter 0: Walking", "Detail 0.0"]);
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

    #[test]
    fn fifty_thousand_nested_elements_cost_no_stack() {
        let depth = 50_000;
        let page = format!(
            "<html><head><title>Deep</title></head><body>{}<p>The bottom paragraph.</p>{}</body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        // A small stack shows that nothing here recurses on nesting depth.
        let doc = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || read(&page))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(all_text(&doc.sections).trim(), "The bottom paragraph.");
        assert!(
            doc.warnings.iter().any(|w| w.contains("nested deeper than 1000")),
            "{:?}",
            doc.warnings
        );
    }

    #[test]
    fn a_table_row_is_one_paragraph_whatever_its_cells_hold() {
        let page = "<html><body><main><table><tr><td><p>get_loop()</p></td><td><p>Returns the loop.</p>\
                    <ul><li>when running</li></ul></td></tr><tr><td>b</td><td>c</td></tr></table></main></body></html>";
        let doc = read(page);
        assert_eq!(
            doc.sections[0].blocks,
            [
                Block::Paragraph("get_loop() | Returns the loop. when running".into()),
                Block::Paragraph("b | c".into())
            ]
        );
    }

    #[test]
    fn flattening_keeps_text_and_shallow_markup() {
        let page = "<div><div><b>deep</b> text</div></div><br><img src=x><p>after</p>";
        assert_eq!(flatten_deep_markup(page, 5), (None, false));
        let (flat, flattened) = flatten_deep_markup(page, 1);
        assert!(flattened);
        assert_eq!(
            flat.unwrap(),
            "<div>  deep  text </div><br><img src=x><p>after</p>"
        );
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
    }
}
