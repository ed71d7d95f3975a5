//! Parsing: html5ever builds scraper's tree through a tree sink that wraps scraper's own and
//! notes, for every text node that holds more than white space, the source lines its text
//! stands on. The tokenizer counts lines and tells the sink the line of each token before the
//! tree builder adds the token's text, so the lines cost a glance at each piece of text and one
//! entry per text node, and no second pass over the markup.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};

use ego_tree::NodeId;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use scraper::node::Text;
use scraper::{Html, HtmlTreeSink, Node};

use crate::document::Lines;

/// Parses `markup` as a whole HTML document, with the lines its text nodes stand on.
pub(super) fn parse(markup: &str) -> (Html, TextLines) {
    let sink = LineSink {
        inner: HtmlTreeSink::new(Html::new_document()),
        line: Cell::new(1),
        // Room for a text node every hundred bytes or so, which pages seldom outgrow.
        lines: RefCell::new(TextLines {
            spans: Vec::with_capacity(markup.len() / 100),
        }),
    };
    html5ever::parse_document(sink, Default::default()).one(markup)
}

/// The source lines of the text nodes of one parsed page.
#[derive(Debug, Default)]
pub(super) struct TextLines {
    /// Every text node that holds more than white space, in the order of their ids (the order
    /// the parser made them in), with the lines from its first to its last character that is
    /// not white space.
    spans: Vec<(NodeId, Lines)>,
}

impl TextLines {
    /// The lines text node `id` stands on; `None` for white space or a node made after parsing.
    pub(super) fn of(&self, id: NodeId) -> Option<Lines> {
        let at = self.spans.binary_search_by_key(&id, |&(node, _)| node).ok()?;
        Some(self.spans[at].1)
    }

    /// Notes that text standing on `added` went into text node `id`.
    fn note(&mut self, id: NodeId, added: Lines) {
        match self.spans.last_mut() {
            Some((last, lines)) if *last == id => lines.last = added.last,
            Some((last, _)) if *last > id => match self.spans.binary_search_by_key(&id, |&(node, _)| node) {
                Ok(at) => self.spans[at].1.last = added.last,
                Err(at) => self.spans.insert(at, (id, added)),
            },
            _ => self.spans.push((id, added)),
        }
    }
}

/// The lines a piece of text stands on, from its first to its last character that is not HTML
/// white space, given the line where the piece ends; `None` for white space. Bytes are read,
/// not characters, as this runs for every piece of text of every page.
fn span(text: &str, end: u32) -> Option<Lines> {
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let stop = bytes.iter().rposition(|b| !b.is_ascii_whitespace())? + 1;
    let line_breaks = |part: &[u8]| part.iter().filter(|&&b| b == b'\n').count() as u32;
    let last = end.saturating_sub(line_breaks(&bytes[stop..]));
    Some(Lines {
        first: last.saturating_sub(line_breaks(&bytes[start..stop])),
        last,
    })
}

/// scraper's tree sink, with the current line noted for the text nodes it makes or extends.
struct LineSink {
    inner: HtmlTreeSink,
    /// The line of the token being built into the tree.
    line: Cell<u32>,
    /// The lines of the text nodes made or extended so far.
    lines: RefCell<TextLines>,
}

impl TreeSink for LineSink {
    type Handle = NodeId;
    type Output = (Html, TextLines);
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Self::Output {
        (self.inner.finish(), self.lines.into_inner())
    }

    fn set_current_line(&self, line_number: u64) {
        self.line.set(u32::try_from(line_number).unwrap_or(u32::MAX));
    }

    // Text is added here rather than passed on, to know the text node without looking for it;
    // as in scraper's sink, text next to text joins it.
    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        let NodeOrText::AppendText(text) = child else {
            return self.inner.append(parent, child);
        };
        let added = span(&text, self.line.get());
        let mut html = self.inner.0.borrow_mut();
        let mut parent = html
            .tree
            .get_mut(*parent)
            .expect("the tree builder adds to nodes it made");
        let joined = parent.last_child().and_then(|mut last| match last.value() {
            Node::Text(before) => {
                before.text.push_tendril(&text);
                Some(last.id())
            }
            _ => None,
        });
        let id = joined.unwrap_or_else(|| parent.append(Node::Text(Text { text })).id());
        if let Some(added) = added {
            self.lines.borrow_mut().note(id, added);
        }
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let added = match &new_node {
            NodeOrText::AppendText(text) => span(text, self.line.get()),
            NodeOrText::AppendNode(_) => None,
        };
        self.inner.append_before_sibling(sibling, new_node);
        // The text became the sibling's previous sibling, or was added to it.
        let html = self.inner.0.borrow();
        let text_node = html.tree.get(*sibling).and_then(|s| s.prev_sibling());
        if let (Some(added), Some(text_node)) = (added, text_node) {
            self.lines.borrow_mut().note(text_node.id(), added);
        }
    }

    // scraper's version calls its own `append` methods, which would pass by the notes.
    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        let has_parent = self
            .inner
            .0
            .borrow()
            .tree
            .get(*element)
            .is_some_and(|e| e.parent().is_some());
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn parse_error(&self, message: Cow<'static, str>) {
        self.inner.parse_error(message);
    }

    fn get_document(&self) -> NodeId {
        self.inner.get_document()
    }

    // Written here rather than passed on, as the tree builder asks for names all the time and
    // scraper's version is not inlined across crates.
    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Self::ElemName<'a> {
        Ref::map(self.inner.0.borrow(), |html| {
            let element = html.tree.get(*target).and_then(|node| node.value().as_element());
            &element.expect("the tree builder names elements only").name
        })
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.inner.create_element(name, attrs, flags)
    }

    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.inner.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.inner.create_pi(target, data)
    }

    fn append_doctype_to_document(&self, name: StrTendril, public_id: StrTendril, system_id: StrTendril) {
        self.inner.append_doctype_to_document(name, public_id, system_id);
    }

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.inner.get_template_contents(target)
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode);
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.inner.add_attrs_if_missing(target, attrs);
    }

    fn remove_from_parent(&self, target: &NodeId) {
        self.inner.remove_from_parent(target);
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.inner.reparent_children(node, new_parent);
    }
}
