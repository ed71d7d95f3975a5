//! Finding the element that holds a page's main content: a `<main>` or an `<article>` holding a
//! fair share of the text, else the container richest in prose found by descending from `<body>`
//! past link lists and stray lines. Text is tallied per element in one iterative pass.

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use rustc_hash::{FxHashMap, FxHashSet};
use scraper::node::Element;
use scraper::{Html, Node};

use super::chrome::{Chrome, has_word, is_dropped};
use super::{heading_level, tag_traits};

/// Elements that may hold a page's content, for the search by text density.
pub(super) const CONTAINER_TAGS: [&str; 9] = [
    "div", "section", "article", "main", "td", "table", "tbody", "tr", "center",
];

/// The element holding the page's main content: a `<main>` (or `role=main`), else the `<article>`
/// with the most text, provided either holds a fair share of the page's text; else the container
/// found by descending from `<body>` past link lists and stray lines.
pub(super) fn main_content(html: &Html) -> NodeRef<'_, Node> {
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
pub(super) fn descend_to_content<'a>(
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
pub(super) struct Tally {
    /// Characters of text, white space at the ends of text nodes left out.
    pub(super) text: usize,
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
pub(super) fn text_tallies(root: NodeRef<'_, Node>, holders: &FxHashSet<NodeId>) -> FxHashMap<NodeId, Tally> {
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
