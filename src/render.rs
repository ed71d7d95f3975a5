//! Everything citedex prints on standard output: search results and the source list, as text
//! for people (optionally coloured) or as JSON for programs. Writers are generic so tests can
//! render into a buffer.

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

use crate::catalog::{Catalog, Entry};
use crate::cli::ColorChoice;
use crate::document::Kind;
use crate::eval::EvalReport;
use crate::search::{Hit, SearchResults};

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const MATCH: &str = "\x1b[1;31m";
const PATH: &str = "\x1b[35m";
const RESET: &str = "\x1b[0m";

/// Separator between headings of a section path.
pub const PATH_SEPARATOR: &str = " › ";

/// Decides colour for standard output: `auto` means a terminal and no `NO_COLOR`.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Runs `print` on a locked, buffered standard output and flushes it.
pub fn to_stdout(print: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    print(&mut out)?;
    out.flush()
}

/// Wraps `text` in an ANSI style when colour is on.
struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// Writes `value` as one line of JSON.
pub fn json<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// Writes each value as one line of JSON (JSON Lines).
pub fn json_lines<T: Serialize>(out: &mut dyn Write, values: &[T]) -> io::Result<()> {
    for value in values {
        json(out, value)?;
    }
    Ok(())
}

/// Writes search results for people: rank, score, heading path, source, snippet, location.
pub fn search_results(out: &mut dyn Write, results: &SearchResults, color: bool) -> io::Result<()> {
    let paint = Paint { color };
    for (i, hit) in results.results.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_hit(out, hit, &paint)?;
    }
    if results.total_hits > results.results.len() && !results.results.is_empty() {
        let line = format!(
            "\n{} of {} matching passages shown",
            results.results.len(),
            results.total_hits
        );
        writeln!(out, "{}", paint.paint(DIM, &line))?;
    }
    Ok(())
}

fn write_hit(out: &mut dyn Write, hit: &Hit, paint: &Paint) -> io::Result<()> {
    let mut heading = vec![hit.passage.source.title.as_str()];
    heading.extend(hit.passage.section.iter().map(String::as_str));
    writeln!(
        out,
        "{} {}  {}",
        paint.paint(BOLD, &format!("{}.", hit.rank)),
        paint.paint(DIM, &format!("{:.2}", hit.score)),
        paint.paint(BOLD, &heading.join(PATH_SEPARATOR))
    )?;
    writeln!(
        out,
        "   {}",
        describe_source(
            &hit.passage.source.title,
            hit.passage.source.kind,
            hit.passage.source.publisher.as_deref(),
            hit.passage.source.date.as_deref()
        )
    )?;
    if !hit.passage.cited_by.is_empty() {
        let titles: Vec<&str> = hit
            .passage
            .cited_by
            .iter()
            .map(|link| link.title.as_str())
            .collect();
        writeln!(out, "   cited by: {}", titles.join("; "))?;
    }
    for line in highlight(&hit.snippet, &hit.highlights, paint).lines() {
        writeln!(out, "   {} {line}", paint.paint(DIM, "│"))?;
    }
    match hit.passage.page {
        Some(page) => writeln!(out, "   {} (page {page})", paint.paint(PATH, &hit.passage.id))?,
        None => writeln!(out, "   {}", paint.paint(PATH, &hit.passage.id))?,
    }
    if let Some(explanation) = &hit.explanation {
        write_explanation(out, explanation, 1, paint)?;
    }
    Ok(())
}

/// Writes tantivy's explanation tree, one indented line per part: value, then what it is.
fn write_explanation(
    out: &mut dyn Write,
    node: &serde_json::Value,
    depth: usize,
    paint: &Paint,
) -> io::Result<()> {
    let value = node["value"].as_f64().unwrap_or_default();
    let description = node["description"].as_str().unwrap_or_default();
    let context: Vec<&str> = node["context"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .collect();
    let context = if context.is_empty() {
        String::new()
    } else {
        format!(" ({})", context.join("; "))
    };
    writeln!(
        out,
        "{}{} {description}{context}",
        "   ".repeat(depth + 1),
        paint.paint(DIM, &format!("{value:.3}"))
    )?;
    for child in node["details"].as_array().into_iter().flatten() {
        write_explanation(out, child, depth + 1, paint)?;
    }
    Ok(())
}

/// `Title — Publisher, date (kind)`, leaving out what is unknown.
fn describe_source(title: &str, kind: Kind, publisher: Option<&str>, date: Option<&str>) -> String {
    let details: Vec<&str> = [publisher, date].into_iter().flatten().collect();
    if details.is_empty() {
        format!("{title} ({})", kind.as_str())
    } else {
        format!("{title} — {} ({})", details.join(", "), kind.as_str())
    }
}

/// Marks the highlighted byte ranges of a snippet.
fn highlight(snippet: &str, ranges: &[[usize; 2]], paint: &Paint) -> String {
    if !paint.color {
        return snippet.to_string();
    }
    let mut marked = String::with_capacity(snippet.len() + ranges.len() * 12);
    let mut at = 0;
    for &[start, end] in ranges {
        let (Some(before), Some(word)) = (snippet.get(at..start), snippet.get(start..end)) else {
            continue;
        };
        marked.push_str(before);
        marked.push_str(&paint.paint(MATCH, word));
        at = end;
    }
    marked.push_str(snippet.get(at..).unwrap_or_default());
    marked
}

/// Writes an evaluation's averages as a small table, then each query's scores if present.
pub fn eval_report(out: &mut dyn Write, report: &EvalReport) -> io::Result<()> {
    writeln!(out, "nDCG@10     {:.4}", report.ndcg_at_10)?;
    writeln!(out, "Recall@100  {:.4}", report.recall_at_100)?;
    writeln!(out, "MRR@10      {:.4}", report.mrr_at_10)?;
    write!(out, "{} judged queries", report.queries)?;
    if report.truncated_queries > 0 {
        write!(
            out,
            " ({} shortened to the query length limit)",
            report.truncated_queries
        )?;
    }
    writeln!(out)?;
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
                query.id, query.ndcg_at_10, query.recall_at_100, query.rr_at_10
            )?;
        }
    }
    Ok(())
}

/// Writes the document list for people: each document with its details, then missing references.
pub fn sources(out: &mut dyn Write, catalog: &Catalog, color: bool) -> io::Result<()> {
    let paint = Paint { color };
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
            paint.paint(BOLD, &format!("{}s ({})", kind.as_str(), documents.len()))
        )?;
        for entry in documents {
            let source = &entry.source;
            writeln!(
                out,
                "  {}",
                describe_source(
                    &source.title,
                    kind,
                    source.publisher.as_deref(),
                    source.date.as_deref()
                )
            )?;
            writeln!(
                out,
                "    {}  {} passages",
                paint.paint(PATH, &entry.source.path),
                entry.passages
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
                    "    cites {} works: {resolved} found in the index, {} missing, {malformed} malformed",
                    entry.references.len(),
                    entry.references.len() - resolved
                )?;
            }
            if !entry.cited_by.is_empty() {
                let titles: Vec<&str> = entry.cited_by.iter().map(|link| link.title.as_str()).collect();
                writeln!(out, "    cited by: {}", titles.join("; "))?;
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
            paint.paint(
                BOLD,
                &format!("missing ({}): references that match no document", missing.len())
            )
        )?;
        for (entry, text) in missing {
            writeln!(
                out,
                "  {text}\n    cited in {}",
                paint.paint(PATH, &entry.source.path)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_marks_ranges_only_with_color() {
        let ranges = [[4, 8], [13, 17]];
        assert_eq!(
            highlight("leg numb and numb", &ranges, &Paint { color: false }),
            "leg numb and numb"
        );
        assert_eq!(
            highlight("leg numb and numb", &ranges, &Paint { color: true }),
            format!("leg {MATCH}numb{RESET} and {MATCH}numb{RESET}")
        );
    }

    #[test]
    fn source_description_leaves_out_unknowns() {
        assert_eq!(
            describe_source("Sciatica", Kind::Source, Some("Cleveland Clinic"), None),
            "Sciatica — Cleveland Clinic (source)"
        );
        assert_eq!(
            describe_source("Legs", Kind::Article, None, None),
            "Legs (article)"
        );
    }
}
