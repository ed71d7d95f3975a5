//! End-to-end tests: drive the `citedex` binary on temporary knowledge bases.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use citedex::search::SearchResults;
use tempfile::TempDir;

/// A temporary working directory with helpers to write files and run citedex in it.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, content: &str) -> &Sandbox {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self
    }

    fn copy_fixture(&self, fixture: &str, relative: &str) -> &Sandbox {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        self.write(relative, &fs::read_to_string(source).unwrap())
    }

    fn citedex(&self, args: &[&str]) -> Output {
        Command::cargo_bin("citedex")
            .unwrap()
            .current_dir(self.dir.path())
            .env_remove("CITEDEX_INDEX")
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `search --json` and deserializes the contract.
    fn search_json(&self, query: &str) -> SearchResults {
        let output = self.citedex(&["search", "--json", "-n", "50", query]);
        assert!(
            output.status.code() == Some(0) || output.status.code() == Some(1),
            "{output:?}"
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const SOURCE: &str = "---\ntitle: Carpal Tunnel Syndrome\nkind: source\npublisher: Example Clinic\ndate: 2024-03-03\nurl: https://example.org/carpal\n---\n## Overview\n\nCarpal tunnel syndrome happens when the median nerve is squeezed at the wrist.\n\n## Treatment\n\nA wrist splint worn at night keeps the wrist straight.\n";

fn knowledge_base() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox
        .copy_fixture("seed-shaped.txt", "kb/articles/hands.txt")
        .write("kb/sources/carpal.md", SOURCE);
    sandbox
}

#[test]
fn index_then_search_returns_the_json_contract() {
    let kb = knowledge_base();
    let output = kb.citedex(&["index", "kb"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("indexed 2 documents"),
        "{}",
        stderr(&output)
    );

    let results = kb.search_json("median nerve wrist");
    assert_eq!(results.query, "median nerve wrist");
    assert!(results.total_hits >= results.results.len());
    let top = &results.results[0];
    assert_eq!(top.rank, 1);
    assert!(top.score > 0.0);
    assert_eq!(top.section, ["Overview"]);
    assert_eq!(top.id, "kb/sources/carpal.md#0");
    assert_eq!(
        top.text,
        "Carpal tunnel syndrome happens when the median nerve is squeezed at the wrist."
    );
    assert_eq!(top.source.title, "Carpal Tunnel Syndrome");
    assert_eq!(top.source.publisher.as_deref(), Some("Example Clinic"));
    assert_eq!(top.source.date.as_deref(), Some("2024-03-03"));
    assert_eq!(top.source.url.as_deref(), Some("https://example.org/carpal"));
    assert_eq!(top.source.kind.as_str(), "source");
    assert_eq!(top.source.path, "kb/sources/carpal.md");
    let cited_by: Vec<&str> = top.cited_by.iter().map(|link| link.path.as_str()).collect();
    assert_eq!(cited_by, ["kb/articles/hands.txt"]);
    let highlighted: Vec<&str> = top.highlights.iter().map(|[s, e]| &top.snippet[*s..*e]).collect();
    assert_eq!(highlighted, ["median", "nerve", "wrist"]);

    // The raw JSON carries the documented field names.
    let raw: serde_json::Value =
        serde_json::from_slice(&kb.citedex(&["search", "--json", "splint"]).stdout).unwrap();
    let hit = &raw["results"][0];
    for field in [
        "rank", "score", "id", "text", "snippet", "section", "source", "cited_by",
    ] {
        assert!(!hit[field].is_null(), "missing {field} in {hit}");
    }
    for field in ["title", "path", "kind", "publisher", "date", "url"] {
        assert!(
            hit["source"].get(field).is_some(),
            "missing source.{field} in {hit}"
        );
    }
}

#[test]
fn seed_shaped_text_keeps_its_sections() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let section_of = |query: &str| -> Vec<String> {
        let results = kb.search_json(query);
        let top = results
            .results
            .first()
            .unwrap_or_else(|| panic!("no result for {query}"));
        assert_eq!(top.source.path, "kb/articles/hands.txt", "{query}");
        top.section.clone()
    };
    assert_eq!(
        section_of("grip strength denver"),
        ["Common Causes of Hand Tingling", "Nerve Causes"]
    );
    assert_eq!(
        section_of("steroid injections"),
        ["Treating Hand Tingling", "Carpal Tunnel Syndrome"]
    );
    assert_eq!(
        section_of("reduce blood flow fingers"),
        ["Common Causes of Hand Tingling", "Blood Flow Causes"]
    );
    assert_eq!(section_of("prickly buzzing"), Vec::<String>::new());
    assert_eq!(section_of("dropping objects"), ["Getting Help for Hand Tingling"]);
    assert_eq!(section_of("\"Example Health Library\""), ["References"]);
    assert_eq!(
        section_of("neurologist accuracy"),
        ["About the Authors", "Morgan Lee, MD, Medical Reviewer"]
    );
    // The last body section does not swallow the references or the author notes.
    let takeaway = kb.search_json("harmless episodes");
    assert_eq!(takeaway.results[0].section, ["The Takeaway"]);
    assert!(!takeaway.results[0].text.contains("Example Clinic"));
    // Empty sections make no passage.
    let all = kb.search_json("*");
    assert!(
        all.results
            .iter()
            .all(|hit| hit.section.last().map(String::as_str) != Some("Pinched Nerve"))
    );
    assert!(all.results.iter().all(|hit| !hit.text.trim().is_empty()));
}

#[test]
fn the_seed_article_sections_match_the_issue() {
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/what-causes-numbness-in-the-legs.txt");
    let text = fs::read_to_string(&seed)
        .unwrap_or_else(|e| panic!("{}: {e} (CI places shared/ beside the clone)", seed.display()));
    let kb = Sandbox::new();
    kb.write("kb/seed.txt", &text);
    assert_eq!(kb.citedex(&["index", "kb"]).status.code(), Some(0));
    let top_section = |query: &str| kb.search_json(query).results[0].section.clone();
    assert_eq!(
        top_section("A1C"),
        ["Common Causes of Numbness in the Legs", "Nerve-Related Causes"]
    );
    assert_eq!(
        top_section("lidocaine"),
        ["Treatment Options for Numbness in Legs", "Peripheral Neuropathy"]
    );
    assert_eq!(
        top_section("glue sniffing"),
        ["Common Causes of Numbness in the Legs", "Certain Medications"]
    );
    assert_eq!(
        top_section("Tufts"),
        ["About the Authors", "Allison Buttarazzi, MD, Medical Reviewer"]
    );
    assert_eq!(top_section("Stanford"), ["References"]);
}

#[test]
fn exit_codes_follow_found_no_match_error() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    assert_eq!(kb.citedex(&["search", "splint"]).status.code(), Some(0));
    let none = kb.citedex(&["search", "xylophone"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(stdout(&none).is_empty());
    let missing = kb.citedex(&["index", "nowhere"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nowhere"), "{}", stderr(&missing));
}

#[test]
fn malformed_queries_get_a_clear_answer_not_a_panic() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let unclosed = kb.citedex(&["search", "\"median nerve"]);
    assert_eq!(unclosed.status.code(), Some(0), "{}", stderr(&unclosed));
    assert!(
        stderr(&unclosed).contains("query syntax"),
        "{}",
        stderr(&unclosed)
    );
    for query in ["title:", "((((", "[a TO", "NOT splint", ")))"] {
        let output = kb.citedex(&["search", query]);
        assert!(matches!(output.status.code(), Some(0 | 1)), "{query}: {output:?}");
        assert!(!stderr(&output).contains("panicked"), "{query}");
    }
    let deep = kb.citedex(&["search", &format!("{}splint{}", "(".repeat(100), ")".repeat(100))]);
    assert_eq!(deep.status.code(), Some(2));
    assert_eq!(stderr(&deep).lines().count(), 1, "{}", stderr(&deep));
    assert!(stderr(&deep).contains("nests parentheses 100 deep"));
    let long = kb.citedex(&["search", &"word ".repeat(500)]);
    assert_eq!(long.status.code(), Some(2));
    assert!(stderr(&long).contains("the limit is 1000"));
}

#[test]
fn an_empty_corpus_builds_an_empty_index() {
    let kb = Sandbox::new();
    fs::create_dir_all(kb.path("empty")).unwrap();
    let output = kb.citedex(&["index", "empty"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("indexed 0 documents, 0 passages"));
    let search = kb.citedex(&["search", "anything"]);
    assert_eq!(search.status.code(), Some(1));
}

#[test]
fn a_missing_index_is_a_one_line_error() {
    let kb = Sandbox::new();
    let output = kb.citedex(&["--index", "no/such/index", "search", "numbness"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim(),
        "citedex: error: no index at no/such/index; build one with `citedex index`"
    );
    let sources = kb.citedex(&["sources", "--index", "no/such/index"]);
    assert_eq!(sources.status.code(), Some(2));
}

#[test]
fn search_builds_the_default_corpus_on_first_use() {
    let kb = Sandbox::new();
    kb.write("corpus/sources/carpal.md", SOURCE);
    let output = kb.citedex(&["search", "splint"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("building it from corpus/ first"));
    assert!(kb.path(".citedex/CURRENT").is_file());
    assert!(
        stdout(&output).contains("Carpal Tunnel Syndrome › Treatment"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("corpus/sources/carpal.md#1"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn index_location_comes_from_the_environment() {
    let kb = knowledge_base();
    let output = Command::cargo_bin("citedex")
        .unwrap()
        .current_dir(kb.dir.path())
        .env("CITEDEX_INDEX", "elsewhere")
        .args(["index", "kb"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(kb.path("elsewhere/CURRENT").is_file());
    assert!(!kb.path(".citedex").exists());
}

#[test]
fn a_bad_file_is_reported_and_the_run_goes_on() {
    let kb = knowledge_base();
    kb.write("kb/sources/broken.md", "---\ntitle: [unclosed\n---\nbody\n");
    fs::write(kb.path("kb/sources/binary.txt"), b"\x00\x01\x02binary").unwrap();
    kb.write("kb/sources/picture.png", "not read");
    let output = kb.citedex(&["index", "kb"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("skipping kb/sources/broken.md: front matter"),
        "{err}"
    );
    assert!(
        err.contains("skipping kb/sources/binary.txt: binary content"),
        "{err}"
    );
    assert!(
        err.contains("indexed 2 documents")
            && err.contains("2 files skipped")
            && err.contains("1 files of unsupported types ignored"),
        "{err}"
    );
    assert_eq!(kb.citedex(&["search", "splint"]).status.code(), Some(0));
}

#[test]
fn human_output_shows_path_source_and_snippet() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let output = stdout(&kb.citedex(&["search", "splint"]));
    let lines: Vec<&str> = output.lines().collect();
    assert!(
        lines[0].starts_with("1. ") && lines[0].ends_with("Carpal Tunnel Syndrome › Treatment"),
        "{output}"
    );
    assert_eq!(
        lines[1].trim(),
        "Carpal Tunnel Syndrome — Example Clinic, 2024-03-03 (source)"
    );
    assert_eq!(lines[2].trim(), "cited by: Why Do My Hands Tingle?");
    assert!(lines[3].contains("A wrist splint worn at night"), "{output}");
    assert_eq!(lines[4].trim(), "kb/sources/carpal.md#1");
    assert!(!output.contains('\x1b'), "NO_COLOR must turn colour off");
}
