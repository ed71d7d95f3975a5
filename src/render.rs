//! Everything citedex prints on standard output: search results, the source list, passages and
//! evaluation figures, as text for people (styled with anstyle; anstream drops the styling where
//! colour is off) or as JSON for programs. Text from the index is shown with its control
//! characters made visible, so a hostile file cannot drive the terminal.

use std::borrow::Cow;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use citedex::catalog::{Catalog, Entry};
use citedex::document::Kind;
use citedex::eval::EvalReport;
use citedex::{Explanation, Hit, SearchResults};
use serde::Serialize;

const BOLD: Style = Style::new().bold();
/// How much of a query's text a comparison line quotes, in characters.
const QUOTED_QUERY_CHARS: usize = 70;
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
    let stdout = anstream::AutoStream::new(io::stdout().lock(), color);
    let mut out = io::BufWriter::new(stdout);
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
    let mut heading = vec![passage.source.title.as_str()];
    heading.extend(passage.section.iter().map(String::as_str));
    writeln!(
        out,
        "{} {}  {}",
        styled(BOLD, &format!("{}.", hit.rank)),
        styled(DIM, &format!("{:.2}", hit.score)),
        styled(BOLD, &visible(&heading.join(PATH_SEPARATOR)))
    )?;
    writeln!(out, "   {}", visible(&describe_source(&passage.source)))?;
    if !passage.cited_by.is_empty() {
        let titles: Vec<&str> = passage.cited_by.iter().map(|link| link.title.as_str()).collect();
        writeln!(out, "   cited by: {}", visible(&titles.join("; ")))?;
    }
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
    let location = visible(&passage.id);
    match passage.page {
        Some(page) => writeln!(out, "   {} (page {page})", styled(PATH, &location))?,
        None => writeln!(out, "   {}", styled(PATH, &location))?,
    }
    if let Some(explanation) = &hit.explanation {
        write_explanation(out, explanation, 1)?;
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

/// Writes an evaluation's averages as a small table (beside the baseline's, when there is one),
/// the comparison with the baseline, then each query's scores if present.
pub fn eval_report(out: &mut dyn Write, report: &EvalReport) -> io::Result<()> {
    let ours = [report.ndcg_at_10, report.recall_at_100, report.mrr_at_10];
    let names = ["nDCG@10", "Recall@100", "MRR@10"];
    match &report.baseline {
        None => {
            for (name, value) in names.iter().zip(ours) {
                writeln!(out, "{name:<11} {value:.4}")?;
            }
        }
        Some(baseline) => {
            let theirs = [baseline.ndcg_at_10, baseline.recall_at_100, baseline.mrr_at_10];
            writeln!(out, "{:<11} {:>7} {:>7} {:>7}", "", "citedex", "BM25", "change")?;
            for ((name, value), base) in names.iter().zip(ours).zip(theirs) {
                writeln!(out, "{name:<11} {value:>7.4} {base:>7.4} {:>+7.4}", value - base)?;
            }
        }
    }
    write!(out, "{}", count(report.queries, "judged query", "judged queries"))?;
    if report.truncated_queries > 0 {
        write!(
            out,
            " ({} shortened to the query length limit)",
            report.truncated_queries
        )?;
    }
    writeln!(out)?;
    if let Some(baseline) = &report.baseline {
        let comparison = &baseline.comparison;
        writeln!(
            out,
            "\nnDCG@10 against BM25, query by query: {} better, {} worse, {} the same",
            comparison.better, comparison.worse, comparison.same
        )?;
        for (title, changes) in [
            ("largest gains", &comparison.largest_gains),
            ("largest losses", &comparison.largest_losses),
        ] {
            if changes.is_empty() {
                continue;
            }
            writeln!(out, "{title}:")?;
            for change in changes {
                writeln!(
                    out,
                    "  {:+.4}  {:.4} (BM25 {:.4})  {}  {}",
                    change.difference(),
                    change.ndcg_at_10,
                    change.baseline_ndcg_at_10,
                    visible(&change.id),
                    visible(&shortened(&change.query, QUOTED_QUERY_CHARS))
                )?;
            }
        }
    }
    if !report.per_query.is_empty() {
        writeln!(
            out,
            "\n{:<24} {:>8} {:>10} {:>7}",
            "query", "nDCG@10", "Recall@100", "RR@10"
        )?;
        for query in &report.per_query {
            writeln!(
                out,
                "{:<24} {:>8.4} {:>10.4} {:>7.4}",
                visible(&query.id),
                query.ndcg_at_10,
                query.recall_at_100,
                query.rr_at_10
            )?;
        }
    }
    Ok(())
}

/// `text` cut to `limit` characters, with an ellipsis when cut.
fn shortened(text: &str, limit: usize) -> Cow<'_, str> {
    match text.char_indices().nth(limit) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

/// Writes the document list for people: each document with its details, then missing references.
pub fn sources(out: &mut dyn Write, catalog: &Catalog) -> io::Result<()> {
    for kind in [Kind::Article, Kind::Source] {
        let documents: Vec<&Entry> = catalog
            .documents
            .iter()
            .filter(|d| d.source.kind == kind)
            .collect();
        if documents.is_empty() {
            continue;
        }
        writeln!(
            out,
            "{}",
            styled(BOLD, &format!("{}s ({})", kind.as_str(), documents.len()))
        )?;
        for entry in documents {
            writeln!(out, "  {}", visible(&describe_source(&entry.source)))?;
            writeln!(
                out,
                "    {}  {}",
                styled(PATH, &visible(&entry.source.path)),
                count(entry.passages, "passage", "passages")
            )?;
            if !entry.references.is_empty() {
                let resolved = entry.references.iter().filter(|r| r.resolved.is_some()).count();
                let malformed = entry
                    .references
                    .iter()
                    .filter(|r| r.cited.reference.problem.is_some())
                    .count();
                writeln!(
                    out,
                    "    cites {}: {resolved} found in the index, {} missing, {malformed} malformed",
                    count(entry.references.len(), "work", "works"),
                    entry.references.len() - resolved
                )?;
            }
            if !entry.cited_by.is_empty() {
                let titles: Vec<&str> = entry.cited_by.iter().map(|link| link.title.as_str()).collect();
                writeln!(out, "    cited by: {}", visible(&titles.join("; ")))?;
            }
        }
    }
    let missing: Vec<(&Entry, &str)> = catalog
        .missing_references()
        .map(|(entry, reference)| (entry, reference.cited.reference.text.as_str()))
        .collect();
    if !missing.is_empty() {
        writeln!(
            out,
            "{}",
            styled(
                BOLD,
                &format!(
                    "missing ({}): {} no document",
                    missing.len(),
                    if missing.len() == 1 {
                        "reference that matches"
                    } else {
                        "references that match"
                    }
                )
            )
        )?;
        for (entry, text) in missing {
            writeln!(
                out,
                "  {}\n    cited in {}",
                visible(text),
                styled(PATH, &visible(&entry.source.path))
            )?;
        }
    }
    Ok(())
}

/// `1 passage`, `2 passages`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

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
