//! Listings for people: the documents and their citations (`sources`), what an index holds
//! (`status`) and an evaluation's figures (`eval`).

use std::borrow::Cow;
use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use citedex::Status;
use citedex::catalog::{Catalog, Entry};
use citedex::document::Kind;
use citedex::eval::EvalReport;
use citedex::indexer::RootSummary;

use super::{BOLD, PATH, count, describe_source, styled, visible};

/// How much of a query's text a comparison line quotes, in characters.
const QUOTED_QUERY_CHARS: usize = 70;

/// Writes what an index holds: where, from which roots, how much, when and with which schema.
pub fn status(out: &mut dyn Write, status: &Status, roots: &[RootSummary]) -> io::Result<()> {
    let info = &status.info;
    writeln!(
        out,
        "{:<10} {}",
        "index",
        visible(&status.dir.display().to_string())
    )?;
    if roots.is_empty() {
        writeln!(out, "{:<10} none recorded", "roots")?;
    }
    for (i, root) in roots.iter().enumerate() {
        let missing = if root.exists { "" } else { ", missing" };
        writeln!(
            out,
            "{:<10} {}  ({}{missing})",
            if i == 0 { "roots" } else { "" },
            styled(PATH, &visible(&root.name)),
            count(root.documents, "document", "documents")
        )?;
    }
    writeln!(out, "{:<10} {}", "documents", info.documents)?;
    writeln!(out, "{:<10} {}", "passages", info.passages)?;
    writeln!(out, "{:<10} {}", "size", size(status.bytes))?;
    let built = UNIX_EPOCH + Duration::from_secs(info.committed_at);
    let ago = SystemTime::now().duration_since(built).unwrap_or_default();
    writeln!(
        out,
        "{:<10} {} ({} ago)",
        "built",
        humantime::format_rfc3339_seconds(built),
        elapsed(ago)
    )?;
    writeln!(
        out,
        "{:<10} {}, written by citedex {}",
        "schema",
        info.schema_version,
        visible(&info.written_by)
    )
}

/// `3 minutes`, `2 days`: the largest whole unit.
fn elapsed(duration: Duration) -> String {
    let seconds = duration.as_secs() as usize;
    match seconds {
        0..60 => count(seconds, "second", "seconds"),
        60..3_600 => count(seconds / 60, "minute", "minutes"),
        3_600..86_400 => count(seconds / 3_600, "hour", "hours"),
        _ => count(seconds / 86_400, "day", "days"),
    }
}

/// `812 bytes`, `40.6 KiB`, `1.2 MiB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return count(bytes as usize, "byte", "bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a writer into a string, without styling.
    fn written(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut anstream::StripStream::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    // Issue 15, defect 6: "1 passages", "cites 1 works".
    #[test]
    fn the_source_list_counts_in_singular_and_plural() {
        let text = "---\ntitle: Legs\nkind: article\n---\n## Text\n\nLegs go numb.\n\n## References\n\n- Nerve Health. Example Clinic.\n";
        let document =
            citedex::formats::read(citedex::formats::Format::Markdown, text.as_bytes(), "legs").unwrap();
        let catalog = Catalog::new(vec![Entry::new("kb/legs.md", "", &document, 1)]);
        let listing = written(|out| sources(out, &catalog));
        assert!(listing.contains("kb/legs.md  1 passage\n"), "{listing}");
        assert!(
            listing.contains("cites 1 work: 0 found in the index, 1 missing, 0 malformed"),
            "{listing}"
        );
        assert!(
            listing.contains("missing (1): reference that matches no document"),
            "{listing}"
        );
    }

    #[test]
    fn sizes_and_ages_read_in_their_largest_unit() {
        assert_eq!(size(812), "812 bytes");
        assert_eq!(size(41_574), "40.6 KiB");
        assert_eq!(size(43_000_000), "41.0 MiB");
        assert_eq!(elapsed(Duration::from_secs(1)), "1 second");
        assert_eq!(elapsed(Duration::from_secs(7_300)), "2 hours");
        assert_eq!(elapsed(Duration::from_secs(3 * 86_400)), "3 days");
    }
}
