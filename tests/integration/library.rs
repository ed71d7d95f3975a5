//! The library API on documents made in memory: writing, searching, presenting, listing.

use citedex::formats::{self, Format};
use citedex::{Index, IndexInfo, IndexWriter, Note, Query, Ranker, SearchOptions};
use tempfile::TempDir;

use crate::util::{ids, index_of, live_generation, search, when_unlocked};

const ARTICLE: &str = "---\ntitle: Tingling Hands\nkind: article\npublisher: Example Health\n---\n## Causes\n\nTingling in the hands often comes from a pinched nerve in the wrist.\n\n## Diabetes\n\nHigh blood sugar from diabetes damages nerves and causes tingling.\n";
const SOURCE: &str = "---\ntitle: Nerve Health\nkind: source\npublisher: Example Clinic\n---\n## Symptoms\n\nTingling and numbness are early signs of nerve trouble.\n\n## Sugar\n\nDiabetes raises blood sugar.\n\n## Care\n\nA splint holds the wrist still at night.\n\n## More care\n\nRest the hand.\n";

fn base() -> (TempDir, Index) {
    index_of(&[
        ("kb/articles/hands.md", ARTICLE),
        ("kb/sources/nerves.md", SOURCE),
    ])
}

#[test]
fn field_terms_beside_words_filter_the_results() {
    let (_dir, index) = base();
    let results = search(&index, "kind:article tingling");
    let mut found = ids(&results);
    found.sort();
    assert_eq!(found, ["kb/articles/hands.md#0", "kb/articles/hands.md#1"]);
    let by_publisher = search(&index, "publisher:clinic tingling");
    assert_eq!(ids(&by_publisher), ["kb/sources/nerves.md#0"]);
    // A filter alone lists what it matches.
    assert_eq!(search(&index, "section:sugar").results.len(), 1);
    // Explicit logic is the user's own.
    assert_eq!(search(&index, "kind:article OR splint").results.len(), 3);
}

#[test]
fn a_query_that_only_excludes_finds_the_passages_without_the_word() {
    let (_dir, index) = base();
    for query in ["-diabetes", "NOT diabetes"] {
        let results = search(&index, query);
        assert_eq!(results.total_hits, 4, "{query}");
        assert!(
            results
                .results
                .iter()
                .all(|hit| !hit.passage.text.to_lowercase().contains("diabetes")),
            "{query}"
        );
    }
}

#[test]
fn a_query_that_finds_nothing_says_which_words_occur_nowhere() {
    let (_dir, index) = base();
    let ranking = index.rank(&Query::parse("splint zzqxv").unwrap(), 10).unwrap();
    assert_eq!(ranking.total_hits, 1);
    let ranking = index.rank(&Query::parse("qqzzv").unwrap(), 10).unwrap();
    assert_eq!(ranking.total_hits, 0);
    assert_eq!(
        ranking.notes,
        [Note::NothingMatched {
            missing: vec!["qqzzv".into()]
        }]
    );
    assert_eq!(
        ranking.notes[0].to_string(),
        "no passage matches: \"qqzzv\" occurs nowhere in the index"
    );
    // A query that is more than plain words (a phrase) says that nothing matched, not which word
    // is missing.
    let filtered = index
        .rank(&Query::parse("\"splint tingling\"").unwrap(), 10)
        .unwrap();
    assert_eq!(filtered.total_hits, 0);
    assert_eq!(filtered.notes, [Note::NothingMatched { missing: vec![] }]);
    assert_eq!(filtered.notes[0].to_string(), "no passage matches");
    // Ranking documents reads the query the same way, and says so.
    let documents = index
        .rank_documents(&Query::parse("qqzzv").unwrap(), 10, Ranker::Citedex)
        .unwrap();
    assert!(documents.documents.is_empty());
    assert_eq!(documents.notes, ranking.notes);
    let corrected = index
        .rank_documents(&Query::parse("tinglng").unwrap(), 10, Ranker::Citedex)
        .unwrap();
    assert_eq!(
        corrected.notes,
        [Note::Corrected {
            query: "tingling".into()
        }]
    );
    assert_eq!(corrected.documents.len(), 2);
}

#[test]
fn typos_are_corrected_into_indexed_words_but_never_into_other_common_words() {
    let (_dir, index) = index_of(&[(
        "kb/notes.md",
        "# Notes\n\nThe tingling will pass. Numbness will pass too. Navigation helps sailors.\n",
    )]);
    let corrected = search(&index, "numbnes");
    assert_eq!(corrected.notes, ["showing results for \"numbness\""]);
    // "willis" is two edits from "will", a different and common word.
    let willis = search(&index, "willis");
    assert!(willis.results.is_empty(), "{willis:?}");
    assert!(!willis.notes.iter().any(|note| note.contains("showing results")));
    // A real word missing from the index is not a typo of a common word.
    assert!(search(&index, "house").results.is_empty());
}

#[test]
fn a_passage_is_shown_with_its_neighbours_in_the_same_section() {
    let long: String = (0..60)
        .map(|i| format!("Sentence {i} speaks of nerves and of the spine at some length here."))
        .collect::<Vec<_>>()
        .join(" ");
    let (_dir, index) = index_of(&[(
        "kb/long.md",
        &format!("# Long\n\n## One\n\n{long}\n\n## Two\n\nAnother section entirely.\n"),
    )]);
    let middle = index.passage_in_context("kb/long.md#2", 1).unwrap().unwrap();
    assert_eq!(middle.passage.id, "kb/long.md#2");
    assert_eq!(middle.before.iter().map(|p| p.ordinal).collect::<Vec<_>>(), [1]);
    assert_eq!(middle.after.iter().map(|p| p.ordinal).collect::<Vec<_>>(), [3]);
    let passages = index.document_passages("kb/long.md").unwrap();
    let last_of_one = passages.iter().filter(|p| p.section == ["One"]).count() - 1;
    assert!(last_of_one >= 3, "{passages:?}");
    let shown = index
        .passage_in_context(&format!("kb/long.md#{last_of_one}"), 9)
        .unwrap()
        .unwrap();
    assert!(shown.after.is_empty(), "the next section is not a neighbour");
    assert_eq!(shown.before.len(), last_of_one);
    assert!(index.passage_in_context("kb/long.md#99", 1).unwrap().is_none());
    assert!(index.passage_in_context("nothing", 1).unwrap().is_none());
    // A line names the first passage that spans it, else the nearest; of two as near, the one
    // below, as the line is then a heading or blank line above it.
    let at_line = |line: u32| {
        index
            .passage_in_context(&format!("kb/long.md:{line}"), 0)
            .unwrap()
            .map(|shown| shown.passage.ordinal)
    };
    let two = passages.len() - 1;
    assert_eq!(passages[two].section, ["Two"]);
    assert_eq!(at_line(5), Some(0));
    // A heading above a paragraph cut into several passages leads to the first of them.
    assert_eq!(at_line(3), Some(0));
    assert_eq!(at_line(7), Some(two));
    assert_eq!(at_line(9), Some(two));
    assert_eq!(at_line(400), Some(two));
    assert!(index.passage_in_context("kb/other.md:5", 0).unwrap().is_none());
}

#[test]
fn status_reports_counts_and_size() {
    let (dir, index) = base();
    let status = index.status().unwrap();
    assert_eq!(status.dir, dir.path());
    assert_eq!((status.info.documents, status.info.passages), (2, 6));
    assert_eq!(status.info.schema_version, citedex::SCHEMA_VERSION);
    assert!(status.bytes > 0);
}

#[test]
fn an_update_rewrites_only_what_changed_and_keeps_citation_links() {
    let article = "---\ntitle: Legs\nkind: article\n---\n## Text\n\nLegs go numb.\n\n## References\n\n- Nerve Health. Example Clinic.\n";
    let (dir, _) = index_of(&[("kb/legs.md", article), ("kb/nerves.md", SOURCE)]);
    let cited_by = |dir: &std::path::Path| {
        let index = Index::open(dir).unwrap();
        let record = index.record("kb/nerves.md").unwrap().unwrap();
        record
            .cited_by
            .into_iter()
            .map(|link| link.path)
            .collect::<Vec<_>>()
    };
    assert_eq!(cited_by(dir.path()), ["kb/legs.md"]);
    // Re-adding the source with the same content keeps its record and its links.
    let mut writer = when_unlocked(|| IndexWriter::update(dir.path())).unwrap();
    let source = formats::read(Format::Markdown, SOURCE.as_bytes(), "nerves").unwrap();
    writer.add("kb/nerves.md", &source).unwrap();
    writer.commit().unwrap();
    assert_eq!(cited_by(dir.path()), ["kb/legs.md"]);
    // Removing the article removes the link, and its record.
    let mut writer = when_unlocked(|| IndexWriter::update(dir.path())).unwrap();
    assert!(writer.remove("kb/legs.md"));
    writer.commit().unwrap();
    assert!(cited_by(dir.path()).is_empty());
    let index = Index::open(dir.path()).unwrap();
    assert!(index.record("kb/legs.md").unwrap().is_none());
    assert_eq!(index.catalog().unwrap().documents.len(), 1);
}

#[test]
fn a_snapshot_knows_when_a_newer_commit_was_made() {
    let (dir, index) = base();
    assert!(index.is_current().unwrap());
    // An update commits into the live generation.
    let mut writer = when_unlocked(|| IndexWriter::update(dir.path())).unwrap();
    assert!(writer.remove("kb/sources/nerves.md"));
    writer.commit().unwrap();
    assert!(!index.is_current().unwrap());
    let updated = Index::open(dir.path()).unwrap();
    assert!(updated.is_current().unwrap());
    assert_eq!(updated.info().documents, 1);
    // A full build makes a new generation live; the old snapshots still answer from theirs.
    when_unlocked(|| IndexWriter::create(dir.path()))
        .unwrap()
        .commit()
        .unwrap();
    assert!(!updated.is_current().unwrap());
    assert!(Index::open(dir.path()).unwrap().is_current().unwrap());
    assert_eq!(ids(&search(&index, "splint")), ["kb/sources/nerves.md#2"]);
    assert!(search(&updated, "splint").results.is_empty());
}

#[test]
fn passages_tied_on_score_come_in_document_order_where_the_limit_cuts_through_them() {
    let repeated =
        "---\ntitle: Wrist Care\n---\n".to_string() + &"## Rest\n\nRest the wrist at night.\n\n".repeat(8);
    let (_dir, index) = index_of(&[("kb/care.md", &repeated)]);
    let everything = search(&index, "wrist");
    let all: Vec<String> = (0..8).map(|ordinal| format!("kb/care.md#{ordinal}")).collect();
    assert_eq!(ids(&everything), all);
    assert_eq!(everything.results[0].score, everything.results[7].score);
    for limit in [1, 3, 7] {
        let options = SearchOptions {
            limit,
            explain: false,
        };
        let cut = index.search(&Query::parse("wrist").unwrap(), &options).unwrap();
        assert_eq!(ids(&cut), all[..limit], "limit {limit}");
    }
}

#[test]
fn the_commit_counts_documents_with_a_publisher_and_older_commits_count_as_unknown() {
    let (_dir, index) = base();
    assert_eq!(index.info().documents_with_publisher, Some(2));
    let (_dir, unpublished) = index_of(&[("kb/care.md", "# Wrist Care\n\nRest the wrist.\n")]);
    assert_eq!(unpublished.info().documents_with_publisher, Some(0));
    assert_eq!(ids(&search(&unpublished, "wrist")), ["kb/care.md#0"]);
    let older =
        r#"{"schema_version":8,"written_by":"0.1.0","documents":1,"passages":1,"roots":[],"committed_at":0}"#;
    let info: IndexInfo = serde_json::from_str(older).unwrap();
    assert_eq!(info.documents_with_publisher, None);
}

#[test]
fn every_entry_fills_the_document_columns_so_that_scoring_reads_them_directly() {
    // An abbreviation ("carpal tunnel syndrome (CTS)") and the records sit beside the passages.
    let (dir, _index) = index_of(&[
        ("kb/articles/hands.md", ARTICLE),
        (
            "kb/sources/wrist.md",
            "# Wrist\n\nCarpal tunnel syndrome (CTS) pinches the median nerve. CTS is common.\n",
        ),
    ]);
    let stored = tantivy::Index::open_in_dir(live_generation(dir.path())).unwrap();
    let searcher = stored.reader().unwrap().searcher();
    for segment in searcher.segment_readers() {
        for column in ["document", "ordinal", "passages_after", "document_words"] {
            let cardinality = segment.fast_fields().u64(column).unwrap().get_cardinality();
            assert_eq!(cardinality, tantivy::columnar::Cardinality::Full, "{column}");
        }
    }
}

#[test]
fn plain_bm25_breaks_ties_at_the_cut_by_path_whatever_order_documents_were_added_in() {
    let names = ["kb/a.md", "kb/b.md", "kb/c.md", "kb/d.md", "kb/e.md"];
    let text = "# Note\n\nRest the wrist at night.\n";
    let forward: Vec<(&str, &str)> = names.iter().map(|name| (*name, text)).collect();
    let backward: Vec<(&str, &str)> = forward.iter().rev().copied().collect();
    let query = Query::parse("wrist").unwrap();
    for documents in [forward, backward] {
        let (_dir, index) = index_of(&documents);
        let ranked = index.rank_documents(&query, 2, Ranker::Bm25).unwrap().documents;
        let paths: Vec<&str> = ranked.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["kb/a.md", "kb/b.md"]);
    }
}

#[test]
fn a_proximity_bonus_reorders_matches_but_never_makes_one() {
    // "wrist-nerve" is the phrase "wrist nerve"; its bonus for the two words standing close
    // must not let a passage with the words apart match.
    let (_dir, index) = index_of(&[
        ("kb/near.md", "# Near\n\nA pinched wrist nerve aches at night.\n"),
        (
            "kb/apart.md",
            "# Apart\n\nThe wrist and its nerve ache at night.\n",
        ),
    ]);
    let found = search(&index, "wrist-nerve");
    assert_eq!(ids(&found), ["kb/near.md#0"]);
    assert_eq!(found.total_hits, 1);
}

#[test]
fn a_documents_passages_sit_side_by_side_in_order_in_one_segment() {
    // Scoring finds a passage's document from its position: doc id plus the passages after it
    // is the last passage. Many documents of many passages go through the writer's threads.
    let documents: Vec<(String, String)> = (0..60)
        .map(|number| {
            let sections: String = (0..1 + number % 9)
                .map(|section| format!("## Part {section}\n\nText {number} of part {section}.\n\n"))
                .collect();
            (
                format!("kb/doc-{number:02}.md"),
                format!("# Doc {number}\n\n{sections}"),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = documents.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let (dir, _index) = index_of(&borrowed);
    let stored = tantivy::Index::open_in_dir(live_generation(dir.path())).unwrap();
    let searcher = stored.reader().unwrap().searcher();
    let mut passages = 0;
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (key, ordinal) = (fast.u64("document").unwrap(), fast.u64("ordinal").unwrap());
        let after = fast.u64("passages_after").unwrap();
        let path = fast.str("path").unwrap().unwrap();
        for doc in 0..segment.max_doc() {
            if path.ords().first(doc).is_none() {
                continue; // a record or an abbreviation
            }
            passages += 1;
            let first = doc - u32::try_from(ordinal.first(doc).unwrap()).unwrap();
            let last = doc + u32::try_from(after.first(doc).unwrap()).unwrap();
            for passage in first..=last {
                assert_eq!(key.first(passage), key.first(doc), "doc {doc}");
                assert_eq!(
                    ordinal.first(passage),
                    Some(u64::from(passage - first)),
                    "doc {doc}"
                );
            }
            assert_eq!(after.first(last), Some(0), "doc {doc}");
        }
    }
    assert_eq!(
        passages,
        documents
            .iter()
            .map(|(_, text)| text.matches("## ").count())
            .sum::<usize>()
    );
}

#[test]
fn a_word_typed_twice_counts_once() {
    let (_dir, index) = base();
    let scores = |query: &str| -> Vec<(String, f32)> {
        search(&index, query)
            .results
            .iter()
            .map(|hit| (hit.passage.id.clone(), hit.score))
            .collect()
    };
    assert_eq!(scores("tingling tingling hands"), scores("tingling hands"));
}
