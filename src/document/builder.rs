//! Building a document's sections as a reader walks its source: [`SectionBuilder`] keeps the
//! heading stack and page breaks, [`BlockBuilder`] the running paragraph, list and table row, and
//! the title rule, so that every reader shares them.

use super::{Block, Content, Lines, Role, Section, collapse_whitespace, repeats_title, tidy_preformatted};

/// Builds the section list while a reader walks headings, keeping the heading stack in one place.
#[derive(Debug, Default)]
pub struct SectionBuilder {
    stack: Vec<(u8, String, Role)>,
    sections: Vec<Section>,
    page: Option<u32>,
    /// The last section only continues the one before onto a new page and has no blocks yet.
    continuation_open: bool,
}

impl SectionBuilder {
    /// Opens a section for `heading` at `level` (1 = outermost), closing deeper or equal ones.
    pub fn heading(&mut self, level: u8, heading: &str) {
        let heading = collapse_whitespace(heading);
        // A page that starts with a heading needs no continuation of the section before.
        if std::mem::take(&mut self.continuation_open) {
            self.sections.pop();
        }
        while self.stack.last().is_some_and(|(open, _, _)| *open >= level) {
            self.stack.pop();
        }
        let inherited = self.stack.last().map(|(_, _, role)| *role).unwrap_or_default();
        let role = match Role::from_heading(&heading) {
            Role::Body => inherited,
            own => own,
        };
        self.stack.push((level, heading, role));
        self.sections.push(Section {
            path: self.stack.iter().map(|(_, text, _)| text.clone()).collect(),
            role,
            blocks: Vec::new(),
            page: self.page,
        });
    }

    /// Starts page `page`: what follows continues the current section, as a section of its own.
    pub fn page(&mut self, page: u32) {
        self.page = Some(page);
        match self.sections.last_mut() {
            Some(open) if open.blocks.is_empty() => open.page = Some(page),
            Some(open) => {
                let continued = Section {
                    path: open.path.clone(),
                    role: open.role,
                    blocks: Vec::new(),
                    page: Some(page),
                };
                self.sections.push(continued);
                self.continuation_open = true;
            }
            None => {}
        }
    }

    /// Opens a section whose role is known from the text's shape rather than its heading.
    pub fn heading_with_role(&mut self, level: u8, heading: &str, role: Role) {
        self.heading(level, heading);
        if let Some((_, _, open_role)) = self.stack.last_mut() {
            *open_role = role;
        }
        if let Some(section) = self.sections.last_mut() {
            section.role = role;
        }
    }

    /// Appends a block to the current section (or to the untitled lead section).
    pub fn block(&mut self, block: Block) {
        if block.is_blank() {
            return;
        }
        if self.sections.is_empty() {
            self.sections.push(Section {
                page: self.page,
                ..Section::default()
            });
        }
        self.continuation_open = false;
        let section = self.sections.last_mut().expect("a section was just ensured");
        section.blocks.push(block);
    }

    /// Finishes the walk and returns the sections in document order.
    pub fn finish(self) -> Vec<Section> {
        self.sections
    }
}

/// Gathers running text into paragraphs, list items and table rows, with the source lines they
/// come from, and hands the finished blocks to a [`SectionBuilder`]. Every text reader drives one:
/// it says where text, cells, items, lists and headings start and end, and the builder decides
/// what becomes a block, so the rules are written once.
#[derive(Debug, Default)]
pub struct BlockBuilder {
    sections: SectionBuilder,
    /// The running text of the open paragraph, list item or table row.
    buffer: String,
    /// The lines the running text came from.
    buffer_lines: Option<Lines>,
    /// Cell separators owed before the next text of a table row; the row's last cells leave none.
    owed_separators: usize,
    /// Items of the open list; nested lists flatten into the outermost one.
    items: Vec<String>,
    /// The lines the open list's items came from.
    items_lines: Option<Lines>,
    /// How many lists are open around the running text.
    list_depth: usize,
    /// The document's title, for [`BlockBuilder::heading_or_title`].
    title: String,
    /// Whether a non-empty heading came already.
    seen_heading: bool,
}

impl BlockBuilder {
    /// A builder for a document titled `title` (empty when the document has no title yet).
    pub fn new(title: &str) -> BlockBuilder {
        BlockBuilder {
            title: title.to_string(),
            ..BlockBuilder::default()
        }
    }

    /// The title: the one given, or the heading that gave it to an untitled document.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Appends running text read from `lines`.
    pub fn text(&mut self, text: &str, lines: Option<Lines>) {
        if self.owed_separators > 0 && !text.trim().is_empty() {
            for _ in 0..std::mem::take(&mut self.owed_separators) {
                self.buffer.push_str(" | ");
            }
        }
        self.buffer.push_str(text);
        self.buffer_lines = Lines::cover(self.buffer_lines, lines);
    }

    /// Separates words, as a line break or an inline element boundary does.
    pub fn space(&mut self) {
        self.buffer.push(' ');
    }

    /// Ends a table cell: the next cell's text follows a ` | ` separator.
    pub fn end_cell(&mut self) {
        self.owed_separators += 1;
    }

    /// Ends the running paragraph, table row or list item: inside a list it becomes an item,
    /// elsewhere a paragraph.
    pub fn end_paragraph(&mut self) {
        let text = collapse_whitespace(&self.buffer);
        self.buffer.clear();
        self.owed_separators = 0;
        let lines = self.buffer_lines.take();
        if text.is_empty() {
            return;
        }
        if self.list_depth > 0 {
            self.items.push(text);
            self.items_lines = Lines::cover(self.items_lines, lines);
        } else {
            self.sections.block(Block {
                content: Content::Paragraph(text),
                lines,
            });
        }
    }

    /// Opens a list, ending the running paragraph (a nested list ends its parent's item).
    pub fn open_list(&mut self) {
        self.end_paragraph();
        self.list_depth += 1;
    }

    /// Closes a list; when it is the outermost, its items become one list block.
    pub fn close_list(&mut self) {
        self.end_paragraph();
        self.list_depth = self.list_depth.saturating_sub(1);
        if self.list_depth == 0 {
            self.end_list();
        }
    }

    /// Whether a list is open around the running text.
    pub fn in_list(&self) -> bool {
        self.list_depth > 0
    }

    /// Adds one whole list item read from `lines`, for readers that see items rather than lists.
    pub fn item(&mut self, text: &str, lines: Option<Lines>) {
        self.end_paragraph();
        let text = collapse_whitespace(text);
        if !text.is_empty() {
            self.items.push(text);
            self.items_lines = Lines::cover(self.items_lines, lines);
        }
    }

    /// Emits the items gathered so far as one list block; items that follow start another.
    pub fn end_list(&mut self) {
        if !self.items.is_empty() {
            self.sections.block(Block {
                content: Content::List(std::mem::take(&mut self.items)),
                lines: self.items_lines.take(),
            });
        }
    }

    /// Emits preformatted text (tidied by [`tidy_preformatted`]) after the running paragraph and
    /// the items gathered so far, so that the text keeps its order.
    pub fn preformatted(&mut self, text: &str, lines: Option<Lines>) {
        self.end_paragraph();
        self.end_list();
        self.sections.block(Block {
            content: Content::Preformatted(tidy_preformatted(text)),
            lines,
        });
    }

    /// Opens a section for `heading` at `level`, after the running paragraph and list.
    pub fn heading(&mut self, level: u8, heading: &str) {
        self.end_paragraph();
        self.end_list();
        self.sections.heading(level, heading);
    }

    /// Opens a section whose role is known from the text's shape rather than its heading.
    pub fn heading_with_role(&mut self, level: u8, heading: &str, role: Role) {
        self.end_paragraph();
        self.end_list();
        self.sections.heading_with_role(level, heading, role);
    }

    /// Opens a section for a heading of a markup format (Markdown, HTML), unless it is empty or
    /// it is the title: the first heading, when it is at level 1 and [`repeats_title`] or the
    /// document has no title yet (it then becomes the title).
    pub fn heading_or_title(&mut self, level: u8, heading: &str) {
        self.end_paragraph();
        self.end_list();
        let heading = collapse_whitespace(heading);
        if heading.is_empty() {
            return;
        }
        let first = !std::mem::replace(&mut self.seen_heading, true);
        if first && level == 1 {
            if self.title.trim().is_empty() {
                self.title = heading;
                return;
            }
            if repeats_title(&heading, &self.title) {
                return;
            }
        }
        self.sections.heading(level, &heading);
    }

    /// Starts page `page`, after the running paragraph and list.
    pub fn page(&mut self, page: u32) {
        self.end_paragraph();
        self.end_list();
        self.sections.page(page);
    }

    /// Ends the running paragraph and list and returns the sections in document order.
    pub fn finish(mut self) -> Vec<Section> {
        self.end_paragraph();
        self.end_list();
        self.sections.finish()
    }
}
