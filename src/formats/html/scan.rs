//! The pass over the markup before it is parsed. The HTML5 tree builder is quadratic in nesting
//! depth, so tags that would stand deeper than a limit are removed (their text kept); the same
//! linear scan cuts out `<nav>` elements, which the reader drops anyway: on documentation sites
//! the navigation tree is a quarter of every page, and of the parser's time.

use rustc_hash::FxHashMap;

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

/// Removes the tags that would stand more than `limit` elements deep, keeping all text. A linear
/// scan that follows the tree builder's rules closely enough for real pages: comments and raw
/// text hold no tags, elements with implied end tags do not nest by themselves, and an end tag
/// closes what the parser would close.
///
/// The same scan cuts out every outermost `<nav>` that its own end tag closes, unless it holds the
/// page's `<main>`: the reader would drop it, and parsing it first is wasted time.
pub(super) fn prepare_markup(text: &str, limit: usize) -> Prepared {
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
                        keep_line_breaks(buffer, &text[nav_start..end]);
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
            // The tag still separates words; its line breaks keep the lines after it in place.
            match line_breaks(&text[start..end]) {
                0 => buffer.push(' '),
                breaks => buffer.extend(std::iter::repeat_n('\n', breaks)),
            }
            copied = end;
        }
    }
    let text = out.map(|mut buffer| {
        buffer.push_str(&text[copied..]);
        buffer
    });
    Prepared { text, flattened }
}

/// How many line feeds `markup` holds.
fn line_breaks(markup: &str) -> usize {
    markup.bytes().filter(|&b| b == b'\n').count()
}

/// Stands in for cut-out markup with a comment holding its line breaks, so that the text after it
/// keeps its line numbers; a comment adds no text and changes no element.
fn keep_line_breaks(buffer: &mut String, cut: &str) {
    let breaks = line_breaks(cut);
    if breaks > 0 {
        buffer.push_str("<!--");
        buffer.extend(std::iter::repeat_n('\n', breaks));
        buffer.push_str("-->");
    }
}

/// The markup to parse, when it differs from the page's, and whether deep markup was flattened.
pub(super) struct Prepared {
    pub(super) text: Option<String>,
    pub(super) flattened: bool,
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
