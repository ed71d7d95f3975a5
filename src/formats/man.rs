//! Manual pages: roff source with the man macros, and the mdoc macros of BSD-style pages more
//! briefly. `.TH` (mdoc: `.Dt`) gives the title, section, date and source; `.SH` and `.SS` the
//! sections; text lines join into paragraphs; a tagged paragraph's tag (`.TP`, `.IP`) is a
//! paragraph of its own and bulleted or numbered `.IP` paragraphs are list items; no-fill displays
//! (`.nf`, `.EX`) keep their lines and tbl tables give a paragraph a row. Fonts, sizes and motions
//! are removed and special characters and strings (`.ds`) expanded (`roff`); `.if`, `.ie` and
//! `.el` are decided as nroff on a terminal would. Macro definitions (`.de`) are skipped, not run:
//! pages define macros for formatting, seldom for text.

mod mdoc;
mod roff;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::mem;

use self::roff::{Definitions, arguments, strip_comment};
use crate::document::{BlockBuilder, Document, Lines, Metadata, collapse_whitespace};
use crate::references::normalize_date;

/// Parses a manual page's roff source.
pub fn read(text: &str) -> Document {
    let mut page = Page::default();
    let mut lines = text.lines().enumerate();
    while let Some((index, first)) = lines.next() {
        let mut line = Cow::Borrowed(strip_comment(first));
        // A backslash that ends a line joins the next line to it.
        while ends_in_escaped_newline(&line) {
            let Some((_, next)) = lines.next() else {
                break;
            };
            let joined = line.to_mut();
            joined.pop();
            joined.push_str(strip_comment(next));
        }
        page.line(&line, u32::try_from(index + 1).unwrap_or(u32::MAX));
    }
    page.finish()
}

/// Whether a line ends in a backslash that is not itself escaped.
fn ends_in_escaped_newline(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// What the next line of text is.
#[derive(Debug, Default)]
enum Next {
    /// Running text.
    #[default]
    Text,
    /// The text of a `.SH` or `.SS` given on the line after it, at this level.
    Heading(u8),
    /// The tag of a `.TP` paragraph.
    Tag,
}

/// Lines the reader passes over.
#[derive(Debug, Default)]
enum Skip {
    /// None: every line is read.
    #[default]
    Nothing,
    /// The block of a false condition, this many `\{` deep.
    Block(usize),
    /// A macro definition or ignored block, up to a `..` line.
    Definition,
}

/// A tbl table being read (`.TS` to `.TE`).
#[derive(Debug)]
struct Table {
    /// Whether the options and format lines, the last of which ends in `.`, are still to come.
    format: bool,
    /// The cell separator: a tab, unless the options say `tab(x)`.
    separator: char,
    /// The cells of the row being read, which a `T{` text block spreads over lines.
    row: Vec<String>,
    /// The lines the row stands on.
    row_lines: Option<Lines>,
    /// Whether a `T{` text block is open in the row's last cell.
    text_block: bool,
}

impl Table {
    /// Adds text from line `number` to the text block open in the row's last cell.
    fn extend_cell(&mut self, text: &str, number: u32) {
        if let Some(cell) = self.row.last_mut() {
            cell.push(' ');
            cell.push_str(text);
        }
        self.row_lines = Lines::cover(self.row_lines, Some(Lines::at(number)));
    }
}

/// The state of the walk over a page's lines.
#[derive(Debug, Default)]
struct Page {
    builder: BlockBuilder,
    meta: Metadata,
    warnings: Vec<String>,
    definitions: Definitions,
    next: Next,
    skip: Skip,
    /// The text of an open no-fill display and the lines it stands on.
    display: Option<(String, Option<Lines>)>,
    /// Whether a list of bulleted or numbered `.IP` items is open.
    list: bool,
    /// The value of the last `.ie`, whose `.el` takes the other branch.
    last_condition: bool,
    table: Option<Table>,
    /// Whether the last text ended in `\c`, which joins the next text to it without a space.
    glued: bool,
    /// The address of an open `.UR` or `.MT` link.
    link: Option<String>,
    /// Whether the page uses the mdoc macros (it has `.Dd` or `.Dt`).
    mdoc: bool,
    /// The page's name, which mdoc's `.Nm` without arguments stands for.
    name: Option<String>,
}

impl Page {
    /// Reads one input line, numbered `number`.
    fn line(&mut self, line: &str, number: u32) {
        match &mut self.skip {
            Skip::Definition => {
                // `..`, or `.  .` as indented pages write it.
                if line.strip_prefix(['.', '\'']).map(str::trim) == Some(".") {
                    self.skip = Skip::Nothing;
                }
                return;
            }
            Skip::Block(depth) => {
                *depth = (*depth + line.matches("\\{").count()).saturating_sub(line.matches("\\}").count());
                if *depth == 0 {
                    self.skip = Skip::Nothing;
                }
                return;
            }
            Skip::Nothing => {}
        }
        match line.strip_prefix(['.', '\'']) {
            Some(request) => self.request(request, number),
            None if self.table.is_some() => self.table_row(line, number),
            None => self.text_line(line, number),
        }
    }

    /// Reads a line of text: a blank line ends the paragraph.
    fn text_line(&mut self, line: &str, number: u32) {
        if line.trim().is_empty() && self.display.is_none() {
            self.paragraph_break();
            return;
        }
        let text = self.definitions.expand(line);
        self.emit(&text, number);
        self.glued = line.ends_with("\\c");
    }

    /// Places text from line `number` where the page's state says it goes.
    fn emit(&mut self, text: &str, number: u32) {
        let lines = Some(Lines::at(number));
        if let Some((display, display_lines)) = &mut self.display {
            display.push_str(text);
            display.push('\n');
            *display_lines = Lines::cover(*display_lines, lines);
            return;
        }
        match mem::take(&mut self.next) {
            Next::Heading(level) => self.heading(level, text),
            Next::Tag => {
                self.builder.text(text, lines);
                self.builder.end_paragraph();
            }
            Next::Text => {
                if !mem::take(&mut self.glued) {
                    self.builder.space();
                }
                self.builder.text(text, lines);
            }
        }
    }

    /// Reads a request or macro line (without its `.`).
    fn request(&mut self, request: &str, number: u32) {
        let request = request.trim_start();
        let end = request
            .find(|c: char| c.is_whitespace() || c == '\\')
            .unwrap_or(request.len());
        let (name, rest) = (&request[..end], request[end..].trim_start());
        if let Some(table) = &mut self.table {
            match name {
                "TE" => self.table = None,
                "T&" => table.format = true,
                // Font macros in a cell's text block hold text of the cell.
                _ if table.text_block && is_text_macro(name) => {
                    let text = self.macro_text(name, rest);
                    self.table
                        .as_mut()
                        .expect("a table is open")
                        .extend_cell(&text, number);
                }
                _ => {}
            }
            return;
        }
        match name {
            "TH" => self.title(&arguments(rest)),
            "Dt" => {
                self.mdoc = true;
                self.title(&arguments(rest));
            }
            "Dd" => {
                self.mdoc = true;
                let date = self
                    .definitions
                    .expand(&rest.replace("$Mdocdate:", "").replace('$', ""));
                self.meta.date = normalize_date(&date);
            }
            "SH" | "Sh" | "SS" | "Ss" => {
                let level = if matches!(name, "SH" | "Sh") { 1 } else { 2 };
                let text = self.macro_text(name, rest);
                if text.trim().is_empty() {
                    self.next = Next::Heading(level);
                } else {
                    self.heading(level, &text);
                }
            }
            // In a display, a paragraph macro leaves an empty line.
            "PP" | "LP" | "P" | "HP" | "sp" | "Sp" | "Pp" | "Lp" if self.display.is_some() => {
                self.emit("", number);
            }
            "PP" | "LP" | "P" | "HP" | "sp" | "Sp" | "YS" | "Pp" | "Lp" => self.paragraph_break(),
            "TP" | "TQ" => {
                self.paragraph_break();
                self.next = Next::Tag;
            }
            "IP" => self.indented_paragraph(&arguments(rest), number),
            "br" if self.display.is_none() => self.builder.space(),
            "nf" | "EX" | "Vb" => self.open_display(),
            "fi" | "EE" | "Ve" => self.close_display(),
            "Bd" if rest.contains("-literal") || rest.contains("-unfilled") => self.open_display(),
            "Bd" | "Ed" if self.display.is_none() => self.paragraph_break(),
            "Ed" => self.close_display(),
            "Bl" => {
                self.paragraph_break();
                self.builder.open_list();
            }
            "El" => self.builder.close_list(),
            "Nd" if self.mdoc => self.emit_macro_text(name, rest, number),
            "It" => {
                self.builder.end_paragraph();
                self.emit_macro_text(name, rest, number);
            }
            "UR" | "MT" => self.link = arguments(rest).into_iter().next(),
            // The link macros that DocBook and Asciidoctor define in their pages: address, text
            // and the punctuation after it.
            "URL" | "MTO" => {
                let arguments: Vec<String> = arguments(rest)
                    .iter()
                    .map(|argument| self.definitions.expand(argument))
                    .collect();
                let [address, text, punctuation] =
                    [0, 1, 2].map(|i| arguments.get(i).map_or("", String::as_str));
                let text = if text.is_empty() { address } else { text };
                self.emit(&format!("{text} <{address}>{punctuation}"), number);
            }
            "UE" | "ME" => {
                let punctuation = self.definitions.expand(&arguments(rest).concat());
                if let Some(address) = self.link.take() {
                    self.emit(&format!("<{address}>{punctuation}"), number);
                }
            }
            "ds" | "as" => self.define_string(name == "as", rest),
            "nr" => {
                let mut parts = rest.splitn(2, char::is_whitespace);
                let (register, value) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                let value = self.definitions.evaluate(value.trim());
                self.definitions.registers.insert(register.to_string(), value);
            }
            "de" | "de1" | "dei" | "am" | "am1" | "ami" | "ig" => self.skip = Skip::Definition,
            "if" | "ie" => {
                let (value, body) = self.definitions.condition(rest);
                if name == "ie" {
                    self.last_condition = value;
                }
                self.conditional(value, body, number);
            }
            "el" => self.conditional(!self.last_condition, rest, number),
            "so" => self
                .warnings
                .push(format!("the page is in {rest}, which is not read (.so)")),
            "TS" => {
                self.paragraph_break();
                self.table = Some(Table {
                    format: true,
                    separator: '\t',
                    row: Vec::new(),
                    row_lines: None,
                    text_block: false,
                });
            }
            _ if is_text_macro(name) || (self.mdoc && mdoc::is_mdoc_macro(name)) => {
                self.emit_macro_text(name, rest, number);
            }
            // Formatting requests, and macros the page defined for itself.
            _ => {}
        }
    }

    /// Emits the text a macro line stands for, if any.
    fn emit_macro_text(&mut self, name: &str, rest: &str, number: u32) {
        let text = self.macro_text(name, rest);
        if !text.trim().is_empty() {
            self.emit(&text, number);
            self.glued = rest.ends_with("\\c");
        }
    }

    /// The text of a macro line: the arguments of a font or synopsis macro, or the words of an
    /// mdoc line.
    fn macro_text(&mut self, name: &str, rest: &str) -> String {
        let arguments: Vec<String> = arguments(rest)
            .iter()
            .map(|argument| self.definitions.expand(argument))
            .collect();
        if self.mdoc && (mdoc::is_mdoc_macro(name) || matches!(name, "Sh" | "Ss" | "It" | "Nd")) {
            return self.mdoc_words(name, &arguments);
        }
        match name {
            // Alternating fonts join their arguments without spaces.
            "BI" | "IB" | "BR" | "RB" | "IR" | "RI" => arguments.concat(),
            "OP" => format!("[{}]", arguments.join(" ")),
            _ => arguments.join(" "),
        }
    }

    /// `.TH name section date source manual`, or mdoc's `.Dt name section`.
    fn title(&mut self, arguments: &[String]) {
        let argument = |index: usize| {
            arguments
                .get(index)
                .map(|argument| collapse_whitespace(&self.definitions.expand(argument)))
                .unwrap_or_default()
        };
        let (name, section) = (argument(0), argument(1));
        // mdoc names the page with its first `.Nm`; `.Dt` gives it in capitals.
        if !self.mdoc {
            self.name = Some(name.clone());
        }
        self.meta.title = if section.is_empty() {
            name.clone()
        } else {
            format!("{name}({section})")
        };
        // mdoc's `.Dt` has no date and source: its `.Dd` came before it.
        if !self.mdoc {
            self.meta.date = normalize_date(&argument(2));
            // The source (`GNU coreutils 9.1`), or the manual's name where the source is only a
            // version number, as in pages made by pod2man.
            let source = [argument(3), argument(4)]
                .into_iter()
                .find(|source| source.chars().any(char::is_alphabetic));
            self.meta.publisher = source;
        }
    }

    /// Opens a section, after the running paragraph and list.
    fn heading(&mut self, level: u8, text: &str) {
        self.close_list();
        let text = collapse_whitespace(text);
        if !text.is_empty() {
            self.builder.heading(level, &text);
        }
    }

    /// Ends the running paragraph, and the `.IP` list if one is open.
    fn paragraph_break(&mut self) {
        self.next = Next::Text;
        self.glued = false;
        if self.list {
            self.close_list();
        } else {
            self.builder.end_paragraph();
        }
    }

    fn close_list(&mut self) {
        if mem::take(&mut self.list) {
            self.builder.close_list();
        }
    }

    /// `.IP tag indent`: a list item when the tag is a bullet or a number, else a paragraph with
    /// its tag as a paragraph before it.
    fn indented_paragraph(&mut self, arguments: &[String], number: u32) {
        let tag = arguments
            .first()
            .map(|tag| collapse_whitespace(&self.definitions.expand(tag)))
            .unwrap_or_default();
        if is_bullet(&tag) {
            if self.list {
                self.builder.end_paragraph();
            } else {
                self.paragraph_break();
                self.builder.open_list();
                self.list = true;
            }
            return;
        }
        self.paragraph_break();
        if !tag.is_empty() {
            self.next = Next::Tag;
            self.emit(&tag, number);
        }
    }

    fn open_display(&mut self) {
        self.builder.end_paragraph();
        self.display.get_or_insert_default();
    }

    fn close_display(&mut self) {
        if let Some((text, lines)) = self.display.take() {
            self.builder.preformatted(&text, lines);
        }
    }

    /// `.if`, `.ie` or `.el` decided `value`: reads the body that follows the condition, or skips
    /// it and the `\{` block it opens.
    fn conditional(&mut self, value: bool, body: &str, number: u32) {
        let (block, body) = match body.strip_prefix("\\{") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, body),
        };
        if value {
            if !body.is_empty() {
                self.line(body, number);
            }
        } else if block {
            let depth = (1 + body.matches("\\{").count()).saturating_sub(body.matches("\\}").count());
            if depth > 0 {
                self.skip = Skip::Block(depth);
            }
        }
    }

    /// `.ds name value` (or `.as`, which appends); a leading quote only marks where the value starts.
    fn define_string(&mut self, append: bool, rest: &str) {
        let mut parts = rest.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default().to_string();
        let value = parts.next().unwrap_or_default().trim_start();
        let value = value.strip_prefix('"').unwrap_or(value);
        let strings = &mut self.definitions.strings;
        if append {
            strings.entry(name).or_default().push_str(value);
        } else {
            strings.insert(name, value.to_string());
        }
    }

    /// Reads a line of a tbl table: options and format lines, then rows of cells.
    fn table_row(&mut self, line: &str, number: u32) {
        let Some(table) = &mut self.table else {
            return;
        };
        let trimmed = line.trim_end();
        if table.format {
            if trimmed.ends_with(';') {
                if let Some(at) = trimmed.find("tab(") {
                    table.separator = trimmed[at + 4..].chars().next().unwrap_or('\t');
                }
            } else if trimmed.ends_with('.') {
                table.format = false;
            }
            return;
        }
        if !table.text_block && matches!(trimmed.trim(), "_" | "=") {
            return;
        }
        if table.text_block && !line.starts_with("T}") {
            let text = self.definitions.expand(line);
            table.extend_cell(&text, number);
            return;
        }
        table.row_lines = Lines::cover(table.row_lines, Some(Lines::at(number)));
        let mut cells = line.split(table.separator);
        if mem::take(&mut table.text_block) {
            cells.next();
        }
        for cell in cells {
            if cell.trim_end() == "T{" {
                table.text_block = true;
                table.row.push(String::new());
            } else {
                table.row.push(self.definitions.expand(cell));
            }
        }
        if !table.text_block {
            let lines = table.row_lines.take();
            for cell in mem::take(&mut table.row) {
                self.builder.text(&cell, lines);
                self.builder.end_cell();
            }
            self.builder.end_paragraph();
        }
    }

    /// Ends what is open and returns the document.
    fn finish(mut self) -> Document {
        self.close_display();
        self.close_list();
        Document {
            meta: self.meta,
            sections: self.builder.finish(),
            warnings: self.warnings,
        }
    }
}

/// Whether an `.IP` tag marks a list item: a bullet, or a number or letter with `.` or `)`.
fn is_bullet(tag: &str) -> bool {
    let enumerator = tag
        .trim_start_matches('(')
        .strip_suffix(['.', ')'])
        .is_some_and(|label| {
            !label.is_empty()
                && (label.chars().all(|c| c.is_ascii_digit())
                    || (label.len() == 1 && label.chars().all(|c| c.is_ascii_alphabetic())))
        });
    matches!(tag, "•" | "-" | "*" | "o" | "·" | "+" | "−" | "–") || enumerator
}

/// The man macros whose arguments are text (fonts, synopsis).
fn is_text_macro(name: &str) -> bool {
    matches!(
        name,
        "B" | "I" | "SM" | "SB" | "BI" | "IB" | "BR" | "RB" | "IR" | "RI" | "SY" | "OP"
    )
}
