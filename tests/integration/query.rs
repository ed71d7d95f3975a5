//! The query language on a small index made in memory: field filters, phrases, operators,
//! prefixes, proximity, typo help, learnt abbreviations, score explanations, and queries that
//! are malformed or too large.

use citedex::{Explanation, Index, Query, SearchOptions, SearchResults};
use tempfile::TempDir;

use crate::util::{ids, index_of, search};

/// Two sources and an article citing one.
fn base() -> (TempDir, Index) {
    index_of(&[
        (
            "kb/sources/clots.md",
            "---\ntitle: Blood Clots\npublisher: Vein Institute\n---\n## Overview\n\nA deep vein thrombosis (DVT) is a clot in a deep vein of the leg.\n\n## Risks\n\nLong flights and surgery raise the risk of a clot.\n",
        ),
        (
            "kb/sources/nerves.md",
            "---\ntitle: Nerve Damage\npublisher: Nerve Society\n---\n## Causes\n\nDiabetes can damage nerves in the feet over many years.\n\n## Tests\n\nA DVT scan is not a nerve test; nerves are tested with conduction studies.\n\n## Words\n\nThe feet tingle when nerves misfire, and damage spreads slowly from the toes.\n",
        ),
        (
            "kb/articles/legs.md",
            "---\ntitle: Leg Symptoms\nkind: article\n---\n## Causes\n\nLeg pain has many causes, nerve damage among them.\n\n## References\n\n- Blood Clots. Vein Institute.\n",
        ),
    ])
}

fn sorted_ids(results: &SearchResults) -> Vec<&str> {
    let mut found = ids(results);
    found.sort_unstable();
    found
}

#[test]
fn field_filters_phrases_operators_and_prefixes() {
    let (_dir, index) = base();
    let found = |query: &str| {
        sorted_ids(&search(&index, query))
            .iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        found("source:\"blood clots\""),
        ["kb/sources/clots.md#0", "kb/sources/clots.md#1"]
    );
    assert_eq!(found("section:risks"), ["kb/sources/clots.md#1"]);
    assert_eq!(
        found("kind:article"),
        ["kb/articles/legs.md#0", "kb/articles/legs.md#1"]
    );
    assert_eq!(
        found("publisher:society AND diabetes"),
        ["kb/sources/nerves.md#0"]
    );
    assert_eq!(found("\"conduction studies\""), ["kb/sources/nerves.md#1"]);
    assert_eq!(
        found("nerves AND NOT feet"),
        ["kb/articles/legs.md#0", "kb/sources/nerves.md#1"]
    );
    let excluded = found("damage -diabetes");
    assert!(
        !excluded.contains(&"kb/sources/nerves.md#0".to_string()),
        "{excluded:?}"
    );
    assert!(excluded.contains(&"kb/articles/legs.md#0".to_string()));
    assert_eq!(found("thromb*"), ["kb/sources/clots.md#0"]);
}

#[test]
fn words_close_together_rank_higher() {
    let (_dir, index) = base();
    // Both passages hold "nerves" and "damage"; only the first has them side by side.
    let results = search(&index, "damage nerves");
    let found = ids(&results);
    let at = |id: &str| found.iter().position(|found| *found == id).unwrap();
    assert!(
        at("kb/sources/nerves.md#0") < at("kb/sources/nerves.md#2"),
        "{found:?}"
    );
}

#[test]
fn typos_fall_back_to_the_closest_indexed_word_when_a_query_finds_little() {
    let (_dir, index) = base();
    let results = search(&index, "diabetis");
    assert_eq!(results.notes, ["showing results for \"diabetes\""]);
    assert_eq!(ids(&results), ["kb/sources/nerves.md#0"]);
    // A query that finds plenty as written keeps its words: the correction is only suggested.
    let plenty = search(&index, "nerve diabetis");
    assert_eq!(
        plenty.notes,
        ["\"diabetis\" occurs in no passage; did you mean \"nerve diabetes\"?"]
    );
    assert_eq!(plenty.total_hits, search(&index, "nerve").total_hits);
    // Known words are left alone, and nothing is invented for short or far-off words.
    assert!(search(&index, "diabetes").notes.is_empty());
    assert!(search(&index, "xq").results.is_empty());
}

#[test]
fn abbreviations_learnt_from_the_corpus_expand_both_ways() {
    let (_dir, index) = base();
    let short = search(&index, "DVT");
    assert!(
        short
            .notes
            .contains(&"also searching for \"deep vein thrombosis\"".to_string()),
        "{:?}",
        short.notes
    );
    assert_eq!(short.results[0].passage.id, "kb/sources/clots.md#0");
    let long = search(&index, "deep vein thrombosis");
    assert!(
        long.notes.contains(&"also searching for DVT".to_string()),
        "{:?}",
        long.notes
    );
    // The nerve passage only says "DVT"; the long form finds it through the abbreviation.
    assert!(ids(&long).contains(&"kb/sources/nerves.md#1"), "{:?}", ids(&long));
}

/// Every description and context of an explanation tree, one line each.
fn lines_of(node: &Explanation, lines: &mut Vec<String>) {
    lines.push(format!("{} {}", node.description, node.context.join("; ")));
    for child in &node.details {
        lines_of(child, lines);
    }
}

// Issue 15, defect 5: explanations showed `Term(field=4, type=Str, "lidocain")`.
#[test]
fn explanations_add_up_to_the_score_and_name_their_fields() {
    let (_dir, index) = base();
    let options = SearchOptions {
        limit: 10,
        explain: true,
    };
    let results = index
        .search(&Query::parse("clot leg").unwrap(), &options)
        .unwrap();
    let top = &results.results[0];
    let explanation = top.explanation.as_ref().expect("an explanation");
    assert!(
        (explanation.value - top.score).abs() < 1e-3,
        "{} vs {}",
        explanation.value,
        top.score
    );
    let mut lines = Vec::new();
    lines_of(explanation, &mut lines);
    let text = lines.join("\n");
    assert!(text.contains("idf") && text.contains("TermQuery"), "{text}");
    assert!(text.contains("content:\"clot\""), "{text}");
    assert!(!text.contains("field="), "{text}");
    assert!(search(&index, "clot").results[0].explanation.is_none());
}

#[test]
fn malformed_queries_are_read_leniently_and_oversized_ones_refused() {
    let (_dir, index) = base();
    let unclosed = search(&index, "\"median nerve");
    assert!(
        unclosed.notes.iter().any(|note| note.starts_with("query syntax")),
        "{:?}",
        unclosed.notes
    );
    for query in [
        "title:",
        "((((",
        "[a TO",
        "NOT splint",
        ")))",
        "café",
        "ünïcödé:*",
        "title:é*",
        "text:\u{1}",
        "\"\"",
        "*",
        "^2",
        "a~2",
        "splint^",
        "[* TO *]",
        "AND NOT",
        "source:",
        "日本語 AND NOT 東京*",
        "-(",
        "\\",
    ] {
        let parsed = Query::parse(query).unwrap_or_else(|error| panic!("{query}: {error}"));
        let searched = index.search(&parsed, &SearchOptions::default());
        assert!(searched.is_ok(), "{query}: {searched:?}");
    }
    let deep = Query::parse(&format!("{}splint{}", "(".repeat(100), ")".repeat(100)));
    assert!(
        deep.unwrap_err()
            .to_string()
            .contains("nests parentheses 100 deep")
    );
    let long = Query::parse(&"word ".repeat(500));
    assert!(long.unwrap_err().to_string().contains("the limit is 1000"));
}
