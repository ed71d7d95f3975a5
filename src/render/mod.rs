//! Everything citedex prints on standard output: search results, the source list, passages and
//! evaluation figures, as text for people (styled with anstyle; anstream drops the styling where
//! colour is off) or as JSON for programs. Text from the index is shown with its control
//! characters made visible, so a hostile file cannot drive the terminal.

mod listings;

use std::borrow::Cow;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use citedex::{Explanation, Hit, PassageInContext, SearchResults, StoredPassage};
use serde::Serialize;

pub use listings::{eval_report, sources, status};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const MATCH: Style = AnsiColor::Red.on_default().bold();
const PATH: Style = AnsiColor::Magenta.on_default();

/// Separator between headings of a section path.
pub const PATH_SEPARATOR: &str = " › ";

/// Runs `print` on standard output, styled as `color` says, buffered and flushed.
pub fn to_stdout(
    color: anstream::ColorChoice,
    print: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let stdout = io::stdout().lock();
    let color = match color {
        anstream::ColorChoice::Auto => anstream::AutoStream::choice(&stdout),
        chosen => chosen,
    };
    // The buffer sits under the styling: stripping styles writes a piece at a time, and
    // standard output would make a system call of every line.
    let buffered: Box<dyn Write> = Box::new(io::BufWriter::new(stdout));
    let mut out = anstream::AutoStream::new(buffered, color);
    print(&mut out)?;
    out.flush()
}

/// Standard output as the channel of the MCP server (`citedex mcp`): it carries the protocol's
/// messages, which the server's transport writes, and nothing else.
pub fn protocol_output() -> tokio::io::Stdout {
    tokio::io::stdout()
}

/// `text` in `style`.
fn styled(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// `text` with every control character written as a visible escape (`\e`, `\x07`, `\n`, ...),
/// as `ls` and ripgrep show unprintable file names.
pub fn visible(text: &str) -> Cow<'_, str> {
    visible_keeping(text, false)
}

/// Like [`visible`], but line breaks stay line breaks.
fn visible_lines(text: &str) -> Cow<'_, str> {
    visible_keeping(text, true)
}

fn visible_keeping(text: &str, newlines: bool) -> Cow<'_, str> {
    let hidden = |c: char| c.is_control() && !(newlines && c == '\n') && c != '\t';
    if !text.contains(hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            _ if !hidden(c) => shown.push(c),
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\u{1b}' => shown.push_str("\\e"),
            _ if (c as u32) < 0x100 => shown.push_str(&format!("\\x{:02X}", c as u32)),
            _ => shown.push_str(&format!("\\u{{{:X}}}", c as u32)),
        }
    }
    Cow::Owned(shown)
}

/// Writes `value` as one line of JSON.
pub fn json<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// Writes search results for people: rank, score, heading path, source, snippet, location.
pub fn search_results(out: &mut dyn Write, results: &SearchResults) -> io::Result<()> {
    for (i, hit) in results.results.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_hit(out, hit)?;
    }
    if results.total_hits > results.results.len() && !results.results.is_empty() {
        let line = format!(
            "\n{} of {} matching passages shown",
            results.results.len(),
            results.total_hits
        );
        writeln!(out, "{}", styled(DIM, &line))?;
    }
    Ok(())
}

fn write_hit(out: &mut dyn Write, hit: &Hit) -> io::Result<()> {
    let passage = &hit.passage;
    writeln!(
        out,
        "{} {}  {}",
        styled(BOLD, &format!("{}.", hit.rank)),
        styled(DIM, &format!("{:.2}", hit.score)),
        styled(BOLD, &visible(&heading_path(passage).join(PATH_SEPARATOR)))
    )?;
    write_attribution(out, passage, "   ")?;
    let snippet = visible_lines(&hit.snippet);
    // Highlight offsets are those of the snippet as stored; made visible, it only grows where no
    // highlight can stand (a query term never holds a control character).
    let marked = if snippet.len() == hit.snippet.len() {
        highlight(&snippet, &hit.highlights)
    } else {
        snippet.into_owned()
    };
    for line in marked.lines() {
        writeln!(out, "   {} {line}", styled(DIM, "│"))?;
    }
    writeln!(out, "   {}", location(passage))?;
    if let Some(explanation) = &hit.explanation {
        write_explanation(out, explanation, 1)?;
    }
    Ok(())
}

/// Writes the passage's source and the articles that cite it, each line after `indent`.
fn write_attribution(out: &mut dyn Write, passage: &StoredPassage, indent: &str) -> io::Result<()> {
    writeln!(out, "{indent}{}", visible(&describe_source(&passage.source)))?;
    if !passage.cited_by.is_empty() {
        let titles: Vec<&str> = passage.cited_by.iter().map(|link| link.title.as_str()).collect();
        writeln!(out, "{indent}cited by: {}", visible(&titles.join("; ")))?;
    }
    Ok(())
}

/// Where a passage starts, as editors and terminals open it: `path:line` (as ripgrep prints it),
/// `path (page N)` for a PDF, then the passage's number within its document (`#2`: its id is
/// `path#2`).
fn location(passage: &StoredPassage) -> String {
    let path = visible(&passage.source.path);
    let place = match (passage.line_start, passage.page) {
        (Some(line), _) => format!("{path}:{line}"),
        (None, Some(page)) => format!("{path} (page {page})"),
        (None, None) => path.into_owned(),
    };
    format!(
        "{}  {}",
        styled(PATH, &place),
        styled(DIM, &format!("#{}", passage.ordinal))
    )
}

/// Writes one path a line, as `rg -l` does.
pub fn files<'a>(out: &mut dyn Write, paths: impl Iterator<Item = &'a str>) -> io::Result<()> {
    for path in paths {
        writeln!(out, "{}", visible(path))?;
    }
    Ok(())
}

/// `citedex show --json`: the passage and its neighbours, with the full heading path.
#[derive(Serialize)]
pub struct Shown<'a> {
    /// The document title, then the passage's headings.
    heading_path: Vec<&'a str>,
    #[serde(flatten)]
    context: &'a PassageInContext,
}

impl<'a> Shown<'a> {
    /// The answer for `context`.
    pub fn new(context: &'a PassageInContext) -> Shown<'a> {
        Shown {
            heading_path: heading_path(&context.passage),
            context,
        }
    }
}

/// The document title, then the passage's headings.
fn heading_path(passage: &StoredPassage) -> Vec<&str> {
    std::iter::once(passage.source.title.as_str())
        .chain(passage.section.iter().map(String::as_str))
        .collect()
}

/// Writes a passage for people with its neighbours: the heading path and source once, then each
/// passage with where it starts, the neighbours' text dimmed.
pub fn shown(out: &mut dyn Write, context: &PassageInContext) -> io::Result<()> {
    let passage = &context.passage;
    writeln!(
        out,
        "{}",
        styled(BOLD, &visible(&heading_path(passage).join(PATH_SEPARATOR)))
    )?;
    write_attribution(out, passage, "")?;
    let neighbours = context.before.iter().map(|p| (p, false));
    let all = neighbours
        .chain([(passage, true)])
        .chain(context.after.iter().map(|p| (p, false)));
    for (shown, asked) in all {
        writeln!(out, "\n{}", location(shown))?;
        let (bar, style) = if asked {
            ("┃", Style::new())
        } else {
            ("│", DIM)
        };
        for line in visible_lines(&shown.text).lines() {
            writeln!(out, "{} {}", styled(DIM, bar), styled(style, line))?;
        }
    }
    Ok(())
}

/// Writes an explanation tree, one indented line per part: value, then what it is.
fn write_explanation(out: &mut dyn Write, node: &Explanation, depth: usize) -> io::Result<()> {
    let context = if node.context.is_empty() {
        String::new()
    } else {
        format!(" ({})", node.context.join("; "))
    };
    writeln!(
        out,
        "{}{} {}{}",
        "   ".repeat(depth + 1),
        styled(DIM, &format!("{:.3}", node.value)),
        node.description,
        visible(&context)
    )?;
    for child in &node.details {
        write_explanation(out, child, depth + 1)?;
    }
    Ok(())
}

/// `Title — Publisher, date (kind)`, leaving out what is unknown.
fn describe_source(source: &citedex::catalog::SourceInfo) -> String {
    let details: Vec<&str> = [source.publisher.as_deref(), source.date.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if details.is_empty() {
        format!("{} ({})", source.title, source.kind.as_str())
    } else {
        format!(
            "{} — {} ({})",
            source.title,
            details.join(", "),
            source.kind.as_str()
        )
    }
}

/// Marks the highlighted byte ranges of a snippet.
fn highlight(snippet: &str, ranges: &[[usize; 2]]) -> String {
    let mut marked = String::with_capacity(snippet.len() + ranges.len() * 12);
    let mut at = 0;
    for &[start, end] in ranges {
        let (Some(before), Some(word)) = (snippet.get(at..start), snippet.get(start..end)) else {
            continue;
        };
        marked.push_str(before);
        marked.push_str(&styled(MATCH, word));
        at = end;
    }
    marked.push_str(snippet.get(at..).unwrap_or_default());
    marked
}

/// `1 passage`, `2 passages`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use citedex::document::Kind;

    #[test]
    fn highlight_marks_ranges() {
        let ranges = [[4, 8], [13, 17]];
        assert_eq!(
            highlight("leg numb and numb", &ranges),
            format!("leg {MATCH}numb{MATCH:#} and {MATCH}numb{MATCH:#}")
        );
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("plain title"), "plain title");
        assert_eq!(visible("a\u{1b}]52;c;aGk=\u{7}b\nc"), "a\\e]52;c;aGk=\\x07b\\nc");
        assert_eq!(visible_lines("one\ntwo\u{1b}[2J"), "one\ntwo\\e[2J");
        assert_eq!(visible("\u{9b}31m"), "\\x9B31m");
    }

    /// Runs a writer into a string, without styling.
    fn written(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut anstream::StripStream::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn passage(line_start: Option<u32>, page: Option<u32>) -> StoredPassage {
        StoredPassage {
            id: "kb/a.md#2".into(),
            ordinal: 2,
            text: "Text.".into(),
            section: vec!["Part".into()],
            role: citedex::document::Role::Body,
            page,
            line_start,
            line_end: line_start,
            source: citedex::catalog::SourceInfo {
                title: "A".into(),
                path: "kb/a.md".into(),
                kind: Kind::Source,
                publisher: None,
                date: None,
                url: None,
            },
            cited_by: Vec::new(),
        }
    }

    #[test]
    fn locations_read_as_editors_open_them() {
        let shown = |line, page| written(|out| writeln!(out, "{}", location(&passage(line, page))));
        assert_eq!(shown(Some(12), None), "kb/a.md:12  #2\n");
        assert_eq!(shown(None, Some(3)), "kb/a.md (page 3)  #2\n");
        assert_eq!(shown(None, None), "kb/a.md  #2\n");
    }

    #[test]
    fn source_description_leaves_out_unknowns() {
        let source = |publisher: Option<&str>| citedex::catalog::SourceInfo {
            title: "Sciatica".into(),
            path: "s.md".into(),
            kind: Kind::Source,
            publisher: publisher.map(String::from),
            date: None,
            url: None,
        };
        assert_eq!(
            describe_source(&source(Some("Cleveland Clinic"))),
            "Sciatica — Cleveland Clinic (source)"
        );
        assert_eq!(describe_source(&source(None)), "Sciatica (source)");
    }
}
