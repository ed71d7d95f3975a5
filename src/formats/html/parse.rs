//! Parsing: html5ever builds scraper's tree through a tree sink that wraps scraper's own and
//! notes, for every text node, the source line where its text ends. The tokenizer counts lines
//! and tells the sink the line of each token before the tree builder hands it on, so the lines
//! cost one table entry per text node and no second pass over the markup.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use ego_tree::{NodeId, NodeRef};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use rustc_hash::FxHashMap;
use scraper::{Html, HtmlTreeSink, Node};

use crate::document::Lines;

/// Parses `markup` as a whole HTML document, with the lines its text nodes stand on.
pub(super) fn parse(markup: &str) -> (Html, TextLines) {
    let sink = LineSink {
        inner: HtmlTreeSink::new(Html::new_document()),
        line: Cell::new(1),
        ends: RefCell::default(),
    };
    html5ever::parse_document(sink, Default::default()).one(markup)
}

/// The source lines of the text nodes of one parsed page.
#[derive(Debug, Default)]
pub(super) struct TextLines {
    /// For every text node, the line where its text ends.
    ends: FxHashMap<NodeId, u32>,
}

impl TextLines {
    /// The lines that the text of node `id`, `text`, stands on from its first to its last
    /// character that is not white space; `None` for white space or a node made after parsing.
    pub(super) fn of(&self, id: NodeId, text: &str) -> Option<Lines> {
        let end = *self.ends.get(&id)?;
        let start = text.len() - text.trim_start().len();
        let stop = text.trim_end().len();
        if start >= stop {
            return None;
        }
        let line_breaks = |part: &str| part.bytes().filter(|&b| b == b'\n').count() as u32;
        let last = end.saturating_sub(line_breaks(&text[stop..]));
        Some(Lines {
            first: last.saturating_sub(line_breaks(&text[start..stop])),
            last,
        })
    }
}

/// scraper's tree sink, with the current line noted for the text nodes it makes or extends.
struct LineSink {
    inner: HtmlTreeSink,
    /// The line of the token being built into the tree.
    line: Cell<u32>,
    /// For every text node, the line of the last token whose text went into it.
    ends: RefCell<FxHashMap<NodeId, u32>>,
}

impl LineSink {
    /// When text was just added, notes that the text node `find` reaches from `node` now ends on
    /// the current line.
    fn note_text(
        &self,
        text: bool,
        node: NodeId,
        find: impl for<'a> FnOnce(NodeRef<'a, Node>) -> Option<NodeRef<'a, Node>>,
    ) {
        if !text {
            return;
        }
        let html = self.inner.0.borrow();
        if let Some(found) = html.tree.get(node).and_then(find) {
            self.ends.borrow_mut().insert(found.id(), self.line.get());
        }
    }
}

impl TreeSink for LineSink {
    type Handle = NodeId;
    type Output = (Html, TextLines);
    type ElemName<'a> = <HtmlTreeSink as TreeSink>::ElemName<'a>;

    fn finish(self) -> Self::Output {
        let lines = TextLines {
            ends: self.ends.into_inner(),
        };
        (self.inner.finish(), lines)
    }

    fn set_current_line(&self, line_number: u64) {
        self.line.set(u32::try_from(line_number).unwrap_or(u32::MAX));
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        let text = matches!(child, NodeOrText::AppendText(_));
        self.inner.append(parent, child);
        // The text became the parent's last child, or was added to it.
        self.note_text(text, *parent, |parent| parent.last_child());
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let text = matches!(new_node, NodeOrText::AppendText(_));
        self.inner.append_before_sibling(sibling, new_node);
        self.note_text(text, *sibling, |sibling| sibling.prev_sibling());
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

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Self::ElemName<'a> {
        self.inner.elem_name(target)
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
        self.inner.same_node(x, y)
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
