//! Ranking: whole documents, every query word, reference lists behind body text, on small
//! generated collections and on the bundled corpus; evaluation against plain BM25, BEIR files as
//! published, and the public collections when `CITEDEX_BEIR` names their folder.

use citedex::eval::{Collection, EvalOptions, EvalReport};
use citedex::{Hit, Index, Query, SearchOptions};
use serde_json::json;

use crate::util::{Sandbox, assert_stderr_has, fixture_path, index_of, shared_file, stderr, stdout};

/// Every matching passage for `query`, best first.
fn ranked(index: &Index, query: &str) -> Vec<Hit> {
    let options = SearchOptions {
        limit: 100,
        explain: false,
    };
    index
        .search(&Query::parse(query).unwrap(), &options)
        .unwrap()
        .results
}

/// Where the passage `id` ranks in `hits`, the results for `query`, from 0.
fn position(hits: &[Hit], query: &str, id: &str) -> usize {
    hits.iter()
        .position(|hit| hit.passage.id == id)
        .unwrap_or_else(|| panic!("{id} not found for {query:?} in {:?}", ids(hits)))
}

fn ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|hit| hit.passage.id.as_str()).collect()
}

#[test]
fn a_passage_holding_every_query_word_ranks_first() {
    // "stimulation" is common here and the short passage repeats the rarer words: on its score
    // alone it would come first.
    let other = "# Senses\n\n## Light\n\nStimulation of the senses with music and light.\n";
    let (_dir, index) = index_of(&[
        (
            "kb/cord.md",
            "# Spinal Cord\n\n## Injury\n\nSpinal cord, spinal cord: the spinal cord injury.\n",
        ),
        (
            "kb/pain.md",
            "# Pain Care\n\n## Devices\n\nFor pain that other care has not eased, a doctor may suggest \
             stimulation of the spinal cord with a small implanted device that sends mild pulses.\n",
        ),
        ("kb/senses-1.md", other),
        ("kb/senses-2.md", other),
        ("kb/senses-3.md", other),
    ]);
    let hits = ranked(&index, "spinal cord stimulation");
    assert_eq!(&ids(&hits)[..2], ["kb/pain.md#0", "kb/cord.md#0"]);
    assert!(hits[1].score > hits[0].score, "{hits:?}");
    // Function words need not be held, and a long query still finds what holds part of it.
    assert_eq!(
        ranked(&index, "what is the stimulation of a cord")[0].passage.id,
        "kb/pain.md#0"
    );
    let partial = ranked(
        &index,
        "injury of the spinal cord after a fall from a ladder at work",
    );
    assert_eq!(&ids(&partial)[..2], ["kb/cord.md#0", "kb/pain.md#0"]);
}

#[test]
fn a_passage_ranks_higher_in_a_document_about_the_query() {
    // The same sentence in two documents; the shorter one would win on its own.
    let (_dir, index) = index_of(&[
        (
            "kb/clinic.md",
            "# Clinic Notes\n\n## Tests\n\nNerve conduction studies measure how fast signals travel; \
             a slow conduction points to damaged nerves.\n\n## Follow-up\n\nThe results of the test will \
             arrive within a week.\n",
        ),
        (
            "kb/office.md",
            "# Office Notes\n\n## Post\n\nResults arrive within a week.\n\n## Lunch\n\nSoup on Fridays.\n",
        ),
    ]);
    let query = "conduction results";
    let hits = ranked(&index, query);
    assert!(
        position(&hits, query, "kb/clinic.md#1") < position(&hits, query, "kb/office.md#0"),
        "{:?}",
        ids(&hits)
    );
}

/// An article whose reference list and author notes name what its body explains once.
const ARTICLE: &str = "---\ntitle: Numb Feet\nkind: article\n---\n## Diagnosis\n\nTo find the cause, a doctor may \
    order blood tests, imaging of the spine, and an electromyography with nerve conduction studies, which \
    show how well the nerves carry signals to the muscles of the feet and legs.\n\n## References\n\n\
    - Electromyography and Nerve Conduction Studies. Health Library.\n\
    - Nerve Conduction Studies Explained. Example Clinic.\n\n## About the Authors\n\n\
    Dr. Doe studies nerve conduction and electromyography at the Example Clinic.\n";
const CITED: &str = "---\ntitle: Nerve Conduction Studies Explained\npublisher: Example Clinic\n---\n\
    ## Overview\n\nElectrodes on the skin send small pulses along a nerve.\n";

#[test]
fn reference_lists_and_author_notes_rank_after_body_text() {
    let (_dir, index) = index_of(&[("kb/numb.md", ARTICLE), ("kb/cited.md", CITED)]);
    for query in [
        "nerve conduction",
        "electromyography",
        "conduction studies muscles",
    ] {
        let hits = ranked(&index, query);
        let role = |id: &str| {
            hits.iter()
                .find(|hit| hit.passage.id == id)
                .map(|hit| hit.passage.role)
        };
        assert_eq!(role("kb/numb.md#1"), Some(citedex::document::Role::References));
        let body = position(&hits, query, "kb/numb.md#0");
        assert!(
            body < position(&hits, query, "kb/numb.md#1"),
            "{query}: {:?}",
            ids(&hits)
        );
        assert!(
            body < position(&hits, query, "kb/numb.md#2"),
            "{query}: {:?}",
            ids(&hits)
        );
    }
    // Asked for, they rank as their words say.
    assert_eq!(
        ranked(&index, "role:references conduction")[0].passage.id,
        "kb/numb.md#1"
    );
    let publisher = ranked(&index, "example clinic");
    assert_eq!(
        publisher[0].passage.id,
        "kb/numb.md#1",
        "{:?}",
        publisher
            .iter()
            .map(|h| (&h.passage.id, h.score))
            .collect::<Vec<_>>()
    );
    // A query that names a source and more is about content again.
    let more = "example clinic nerve signals";
    let hits = ranked(&index, more);
    assert!(
        position(&hits, more, "kb/numb.md#0") < position(&hits, more, "kb/numb.md#1"),
        "{:?}",
        ids(&hits)
    );
    let title = "nerve conduction studies explained";
    let hits = ranked(&index, title);
    assert!(
        position(&hits, title, "kb/numb.md#1") < position(&hits, title, "kb/numb.md#0"),
        "{:?}",
        ids(&hits)
    );
}

#[test]
fn an_explanation_adds_up_to_the_score_and_names_the_tiers() {
    let (_dir, index) = index_of(&[("kb/numb.md", ARTICLE), ("kb/cited.md", CITED)]);
    let options = SearchOptions {
        limit: 10,
        explain: true,
    };
    let hits = index
        .search(&Query::parse("nerve conduction muscles").unwrap(), &options)
        .unwrap()
        .results;
    for hit in &hits {
        let explanation = hit.explanation.as_ref().unwrap();
        assert!((explanation.value - hit.score).abs() < 1e-3, "{explanation:?}");
        let parts: f32 = explanation.details.iter().map(|part| part.value).sum();
        assert!((parts - hit.score).abs() < 1e-3, "{explanation:?}");
    }
    let references = hits.iter().find(|hit| hit.passage.id == "kb/numb.md#1").unwrap();
    let context = &references.explanation.as_ref().unwrap().context;
    assert!(
        context.iter().any(|line| line.contains("lacks a word"))
            && context.iter().any(|line| line.contains("reference list")),
        "{context:?}"
    );
}

/// Copies the bundled corpus into the sandbox's `corpus/`, where citedex looks by default, and
/// indexes it.
fn indexed_bundled_corpus() -> Sandbox {
    let kb = Sandbox::with_bundled_corpus();
    let output = kb.citedex(&["index"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    kb
}

#[test]
fn bundled_corpus_content_queries_put_the_explaining_passage_first() {
    let kb = indexed_bundled_corpus();
    let article = "corpus/articles/what-causes-numbness-in-the-legs.md";
    for query in ["nerve conduction study", "electromyography", "EMG"] {
        let results = kb.search_json(query).results;
        let rank_of = |section: &str| {
            results
                .iter()
                .position(|hit| hit.passage.source.path == article && hit.passage.section == [section])
                .unwrap_or_else(|| panic!("{query}: no {section} passage"))
        };
        assert!(
            rank_of("How Leg Numbness Is Diagnosed") < rank_of("References"),
            "{query}"
        );
    }
    let drugs = kb.search_json("drug-induced nerve damage").results;
    assert!(
        drugs
            .iter()
            .take(3)
            .any(|hit| hit.passage.source.path
                == "corpus/sources/neuropathy-secondary-to-drugs-medlineplus.md"),
        "{:?}",
        drugs
            .iter()
            .take(3)
            .map(|hit| &hit.passage.id)
            .collect::<Vec<_>>()
    );
}

/// A BEIR folder `beir/` written as BEIR publishes its files: CRLF line endings, `metadata`
/// fields, `\u` escapes, a query without judgments, and a document whose id is a query's.
fn write_published_beir(kb: &Sandbox) {
    let corpus = [
        json!({"_id": "d1", "title": "Caf\u{e9} au lait spots", "text": "Flat brown skin patches.", "metadata": {"url": "x"}}),
        json!({"_id": "d2", "title": "Gout", "text": "Gout pain strikes the big toe.", "metadata": {}}),
        // The query's own text: BEIR's evaluator leaves such a document out.
        json!({"_id": "q1", "title": "", "text": "café au lait spots", "metadata": {}}),
    ];
    let lines: Vec<String> = corpus
        .iter()
        .map(|line| serde_json::to_string(line).unwrap().replace('é', "\\u00e9"))
        .collect();
    assert!(lines[0].contains("Caf\\u00e9"));
    kb.write("beir/corpus.jsonl", &(lines.join("\r\n") + "\r\n"));
    // The last query is too long to search whole: cut at a word, and said so.
    let long = json!({"_id": "q4", "text": "big toe ".repeat(200)}).to_string();
    kb.write(
        "beir/queries.jsonl",
        &[
            "{\"_id\": \"q1\", \"text\": \"caf\\u00e9 au lait spots\", \"metadata\": {\"source\": \"x\"}}\r\n\
             {\"_id\": \"q2\", \"text\": \"big toe\"}\r\n\
             {\"_id\": \"q3\", \"text\": \"unjudged query\"}\r\n",
            &long,
            "\r\n",
        ]
        .concat(),
    );
    kb.write(
        "beir/qrels/test.tsv",
        "query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq2\td2\t2\r\nq4\td2\t1\r\n",
    );
}

#[test]
fn beir_files_are_read_as_published() {
    let kb = Sandbox::new();
    write_published_beir(&kb);
    let output = kb.citedex(&["eval", "--dataset", "beir", "--json", "--per-query"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for line in [
        "citedex: warning: 1 query over 1000 characters cut at a word boundary",
        "; 1 query without a relevant judgment left out",
    ] {
        assert_stderr_has(&output, line);
    }
    let report: EvalReport = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((report.queries, report.truncated_queries), (3, 1));
    let q1 = &report.per_query[0];
    assert_eq!(q1.ranking, ["d1"], "the query's own id is left out");
    assert_eq!(
        (report.ndcg_at_10, report.recall_at_100, report.mrr_at_10),
        (1.0, 1.0, 1.0)
    );
}

#[test]
fn eval_compares_with_plain_bm25_on_the_same_index() {
    let kb = Sandbox::new();
    let dataset = fixture_path("beir-mini");
    let dataset = dataset.to_str().unwrap();
    let output = kb.citedex(&[
        "eval",
        "--dataset",
        dataset,
        "--baseline",
        "--json",
        "--per-query",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: EvalReport = serde_json::from_slice(&output.stdout).unwrap();
    let baseline = report.baseline.as_ref().expect("the baseline");
    assert_eq!(baseline.ranker, "bm25");
    let comparison = &baseline.comparison;
    assert_eq!(
        comparison.better + comparison.worse + comparison.same,
        report.queries
    );
    assert_eq!(baseline.per_query.len(), report.queries);
    let better = report
        .per_query
        .iter()
        .zip(&baseline.per_query)
        .filter(|(ours, theirs)| ours.ndcg_at_10 > theirs.ndcg_at_10 + 1e-9)
        .count();
    assert_eq!(comparison.better, better);
    for change in &comparison.largest_gains {
        assert!(change.difference() > 0.0, "{change:?}");
    }
    for change in &comparison.largest_losses {
        assert!(change.difference() < 0.0, "{change:?}");
    }
    let mean = baseline.per_query.iter().map(|q| q.ndcg_at_10).sum::<f64>() / report.queries as f64;
    assert!((mean - baseline.ndcg_at_10).abs() < 1e-9);

    let table = stdout(&kb.citedex(&["eval", "--dataset", dataset, "--baseline"]));
    assert!(table.contains("citedex") && table.contains("BM25"), "{table}");
    assert!(table.contains(&format!("{:.4}", baseline.ndcg_at_10)), "{table}");
    assert!(table.contains("query by query:"), "{table}");
    // Without --baseline, the JSON has no baseline.
    let plain = kb.citedex(&["eval", "--dataset", dataset, "--json"]);
    let object: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(object.get("baseline").is_none(), "{object}");
}

/// The published BM25 figures (Anserini, BM25 flat) each collection must reach: nDCG@10 and
/// Recall@100.
const PUBLISHED_BM25: [(&str, f64, f64); 2] = [("scifact", 0.679, 0.925), ("nfcorpus", 0.325, 0.250)];

#[test]
fn public_collections_rank_at_least_as_well_as_published_bm25() {
    let Some(folder) = shared_file("CITEDEX_BEIR") else {
        return;
    };
    for (name, ndcg, recall) in PUBLISHED_BM25 {
        let options = EvalOptions {
            per_query: false,
            baseline: true,
        };
        let report = citedex::eval::evaluate(&Collection::in_folder(&folder.join(name)), &options)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        eprintln!(
            "{name}: nDCG@10 {:.4}, Recall@100 {:.4}",
            report.ndcg_at_10, report.recall_at_100
        );
        assert!(report.ndcg_at_10 >= ndcg, "{name}: {report:?}");
        assert!(report.recall_at_100 >= recall, "{name}: {report:?}");
        let baseline = report.baseline.as_ref().unwrap();
        assert!(report.ndcg_at_10 > baseline.ndcg_at_10, "{name}: {baseline:?}");
    }
}

#[test]
fn everyday_words_do_not_expand_into_abbreviations_learnt_from_one_document() {
    // A paper abbreviates "osteitis fibrosa" as OF; "of" in a query is still the word.
    let (_dir, index) = index_of(&[
        (
            "kb/bone.md",
            "# Bone\n\n## Kidneys\n\nOsteitis fibrosa (OF) follows long kidney disease.\n",
        ),
        (
            "kb/loss.md",
            "# Loss\n\n## Bone\n\nLoss of bone comes with age.\n",
        ),
    ]);
    let read = |query: &str| {
        index
            .rank(&Query::parse(query).unwrap(), 10)
            .unwrap()
            .notes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert!(read("loss of bone").is_empty(), "{:?}", read("loss of bone"));
    assert_eq!(read("OF bone"), ["also searching for \"osteitis fibrosa\""]);
}

/// A collection of `documents` generated documents whose sections draw words from a small
/// vocabulary, some often and some rarely, with a reference list in every third document.
fn generated_collection(documents: usize) -> Vec<(String, String)> {
    const WORDS: [&str; 16] = [
        "nerve", "wrist", "blood", "sugar", "spine", "disc", "numbness", "tingling", "vitamin", "pressure",
        "muscle", "clinic", "sleep", "posture", "injury", "therapy",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Squaring skews the draw towards the first words of the vocabulary.
        let unit = (state >> 33) as f64 / (1u64 << 31) as f64;
        ((unit * unit) * bound as f64) as usize
    };
    (0..documents)
        .map(|number| {
            let mut text = format!("# Notes {number}\n\n");
            for section in 0..5 {
                text.push_str(&format!("## Part {section} {}\n\n", WORDS[next(WORDS.len())]));
                let length = 6 + next(40);
                let words: Vec<&str> = (0..length).map(|_| WORDS[next(WORDS.len())]).collect();
                text.push_str(&words.join(" "));
                text.push_str(".\n\n");
            }
            if number % 3 == 0 {
                text.push_str("## References\n\n1. Nerve and wrist care. Clinic press; 2020.\n");
            }
            (format!("kb/notes-{number:03}.md"), text)
        })
        .collect()
}

/// Short notes that name the nerve and the wrist apart, whose passages score well on their own;
/// fewer long guides that name them side by side in every section, whose passages score less on
/// their own but gain from the proximity bonus and from their whole document; and memos that
/// name neither, so that the two words are rare.
fn short_and_long_documents() -> Vec<(String, String)> {
    let memos = (0..400).map(|number| {
        let text =
            format!("# Memo {number}\n\nthe splint keeps the joint still while the swelling settles.\n");
        (format!("kb/memo-{number:03}.md"), text)
    });
    let notes = (0..200).map(|number| {
        let text = format!(
            "# Note {number}\n\nnerve pain at night then wrist {}.\n",
            "rest ".repeat(number % 5)
        );
        (format!("kb/note-{number:03}.md"), text)
    });
    let guides = (0..40).map(|number| {
        let mut text = format!("# Guide {number}\n\n");
        for section in 0..8 {
            let padding = "while the swelling settles ".repeat((number + section) % 3);
            text.push_str(&format!(
                "## Step {section}\n\nthe nerve wrist splint keeps the joint still {padding}.\n\n"
            ));
        }
        (format!("kb/guide-{number:03}.md"), text)
    });
    memos.chain(notes).chain(guides).collect()
}

#[test]
fn the_best_passages_are_the_same_whether_few_or_all_are_asked_for() {
    // Hundreds of passages match each query, so that a short list is found by scoring only the
    // passages that can still reach it: it must be the head of the full ranking, exactly.
    for collection in [generated_collection(150), short_and_long_documents()] {
        the_head_of_the_ranking_is_the_short_list(&collection);
    }
}

fn the_head_of_the_ranking_is_the_short_list(collection: &[(String, String)]) {
    let documents: Vec<(&str, &str)> = collection
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_str()))
        .collect();
    let (_dir, index) = index_of(&documents);
    let search = |query: &str, limit: usize| {
        let options = SearchOptions {
            limit,
            explain: false,
        };
        index.search(&Query::parse(query).unwrap(), &options).unwrap()
    };
    for query in [
        "nerve",
        "nerve wrist",
        "wrist nerve",
        "sugar spine therapy",
        "therapy posture",
        "injury",
        "clinic press",
        "the nerve of the wrist",
        "nerve -wrist",
        "\"blood sugar\" nerve",
    ] {
        let everything = search(query, 100_000);
        if everything.total_hits < 100 {
            continue;
        }
        assert_eq!(everything.results.len(), everything.total_hits, "{query}");
        for limit in [1, 3, 10, 40] {
            let few = search(query, limit);
            assert_eq!(few.total_hits, everything.total_hits, "{query}, limit {limit}");
            let ranked = |hits: &[Hit]| -> Vec<(String, f32)> {
                hits.iter()
                    .map(|hit| (hit.passage.id.clone(), hit.score))
                    .collect()
            };
            assert_eq!(
                ranked(&few.results),
                ranked(&everything.results[..limit]),
                "{query}, limit {limit}"
            );
        }
    }
}
