//! End-to-end tests: drive the `citedex` binary on temporary knowledge bases.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

use citedex::{SearchResults, StoredPassage};

use crate::util::{Sandbox, assert_stderr_has, stderr, stdout};

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
    assert_stderr_has(&output, "indexed 2 documents");

    let results = kb.search_json("median nerve wrist");
    assert_eq!(results.query, "median nerve wrist");
    assert!(results.total_hits >= results.results.len());
    let top = &results.results[0];
    assert_eq!(top.rank, 1);
    assert!(top.score > 0.0);
    assert_eq!(top.passage.section, ["Overview"]);
    assert_eq!(top.passage.id, "kb/sources/carpal.md#0");
    assert_eq!(
        top.passage.text,
        "Carpal tunnel syndrome happens when the median nerve is squeezed at the wrist."
    );
    assert_eq!(top.passage.source.title, "Carpal Tunnel Syndrome");
    assert_eq!(top.passage.source.publisher.as_deref(), Some("Example Clinic"));
    assert_eq!(top.passage.source.date.as_deref(), Some("2024-03-03"));
    assert_eq!(
        top.passage.source.url.as_deref(),
        Some("https://example.org/carpal")
    );
    assert_eq!(top.passage.source.kind.as_str(), "source");
    assert_eq!(top.passage.source.path, "kb/sources/carpal.md");
    let cited_by: Vec<&str> = top
        .passage
        .cited_by
        .iter()
        .map(|link| link.path.as_str())
        .collect();
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
        assert_eq!(top.passage.source.path, "kb/articles/hands.txt", "{query}");
        top.passage.section.clone()
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
    assert_eq!(takeaway.results[0].passage.section, ["The Takeaway"]);
    assert!(!takeaway.results[0].passage.text.contains("Example Clinic"));
    // Empty sections make no passage.
    let all = kb.search_json("*");
    assert!(
        all.results
            .iter()
            .all(|hit| hit.passage.section.last().map(String::as_str) != Some("Pinched Nerve"))
    );
    assert!(all.results.iter().all(|hit| !hit.passage.text.trim().is_empty()));
}

#[test]
fn the_seed_article_sections_match_the_issue() {
    let Some(seed) = crate::util::shared_file("CITEDEX_SEED") else {
        return;
    };
    let text = fs::read_to_string(&seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
    let kb = Sandbox::new();
    kb.write("kb/seed.txt", &text);
    assert_eq!(kb.citedex(&["index", "kb"]).status.code(), Some(0));
    let top_section = |query: &str| kb.search_json(query).results[0].passage.section.clone();
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
    let listing: serde_json::Value =
        serde_json::from_slice(&kb.citedex(&["sources", "--json"]).stdout).unwrap();
    let references = listing["documents"][0]["references"].as_array().unwrap();
    assert_eq!(references.len(), 12);
    assert_eq!(
        references
            .iter()
            .map(|r| r["occurrences"].as_u64().unwrap())
            .sum::<u64>(),
        14
    );
    assert_eq!(references.iter().filter(|r| r["problem"].is_string()).count(), 1);
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
    assert_stderr_has(&missing, "nowhere");
}

#[test]
fn malformed_queries_get_a_clear_answer_not_a_panic() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let unclosed = kb.citedex(&["search", "\"median nerve"]);
    assert_eq!(unclosed.status.code(), Some(0), "{}", stderr(&unclosed));
    assert_stderr_has(&unclosed, "query syntax");
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
        let output = kb.citedex(&["search", "--", query]);
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
    // An error's cause is printed once, after it.
    kb.write("blocker", "a file where a folder should be");
    let blocked = kb.citedex(&["--index", "blocker/index", "index", "."]);
    assert_eq!(
        stderr(&blocked).trim(),
        "citedex: error: blocker/index: Not a directory (os error 20)"
    );
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
            && err.contains("1 file of unsupported types ignored"),
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

/// A deterministic pseudo-random sequence, so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

const WORDS: [&str; 16] = [
    "nerve", "blood", "spine", "tingling", "numbness", "pressure", "vitamin", "sugar", "muscle", "reflex",
    "disc", "artery", "vein", "clot", "balance", "posture",
];

fn random_markdown(rng: &mut Lcg, title: usize) -> String {
    let mut text = format!("---\ntitle: Topic {title}\n---\n");
    for section in 0..1 + rng.below(3) {
        text.push_str(&format!("\n## Part {section}\n\n"));
        for _ in 0..1 + rng.below(12) {
            let words: Vec<&str> = (0..4 + rng.below(10))
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect();
            text.push_str(&format!("Doc {title} says {}.\n", words.join(" ")));
        }
    }
    text
}

/// Every passage of the index at `index`, as (id, section, text), from `citedex export`.
fn all_passages(kb: &Sandbox, index: &str) -> Vec<(String, Vec<String>, String)> {
    let output = kb.citedex(&["--index", index, "export"]);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    let mut passages: Vec<_> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str::<StoredPassage>(line).unwrap())
        .map(|passage| (passage.id, passage.section, passage.text))
        .collect();
    passages.sort();
    passages
}

#[test]
fn incremental_updates_equal_a_full_rebuild() {
    let kb = Sandbox::new();
    let mut rng = Lcg(7);
    for i in 0..12 {
        kb.write(&format!("kb/doc{i}.md"), &random_markdown(&mut rng, i));
    }
    for round in 0..8 {
        for _ in 0..3 {
            let i = rng.below(16);
            let path = format!("kb/doc{i}.md");
            match rng.below(3) {
                0 => drop(fs::remove_file(kb.path(&path))),
                _ => drop(kb.write(&path, &random_markdown(&mut rng, i))),
            }
        }
        let incremental = kb.citedex(&["--index", "inc", "index", "kb"]);
        assert_eq!(incremental.status.code(), Some(0), "{}", stderr(&incremental));
        let full = kb.citedex(&["--index", "full", "index", "--full", "kb"]);
        assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
        assert_eq!(
            all_passages(&kb, "inc"),
            all_passages(&kb, "full"),
            "round {round}"
        );
        for query in ["nerve", "\"blood pressure\"", "clot AND vein", "doc"] {
            let ids = |index: &str| {
                let output = kb.citedex(&["--index", index, "search", "--json", "-n", "1000", query]);
                let results: SearchResults = serde_json::from_slice(&output.stdout)
                    .unwrap_or_else(|e| panic!("{query}: {e}: {}", stderr(&output)));
                let mut ids: Vec<String> = results.results.into_iter().map(|hit| hit.passage.id).collect();
                ids.sort();
                ids
            };
            assert_eq!(ids("inc"), ids("full"), "round {round}, query {query}");
        }
    }
}

#[test]
fn an_edit_of_the_same_size_in_the_same_second_is_seen() {
    let kb = Sandbox::new();
    kb.write("kb/a.md", "# A\n\nThe word is alpha.\n");
    kb.citedex(&["index", "kb"]);
    kb.write("kb/a.md", "# A\n\nThe word is gamma.\n");
    let output = kb.citedex(&["index", "kb"]);
    assert_stderr_has(&output, "(0 added, 1 changed, 0 removed, 0 unchanged)");
    assert_eq!(kb.citedex(&["search", "gamma"]).status.code(), Some(0));
    assert_eq!(kb.citedex(&["search", "alpha"]).status.code(), Some(1));
    let again = kb.citedex(&["index", "kb"]);
    assert_stderr_has(&again, "(0 added, 0 changed, 0 removed, 1 unchanged)");
}

#[test]
fn many_incremental_runs_keep_segments_bounded_and_leave_no_orphans() {
    let kb = Sandbox::new();
    for run in 0..200 {
        kb.write(
            &format!("kb/doc{}.md", run % 7),
            &format!("# Doc\n\nRun number {run} wrote this.\n"),
        );
        let output = kb.citedex(&["index", "kb"]);
        assert_eq!(output.status.code(), Some(0), "run {run}: {}", stderr(&output));
    }
    let generations: Vec<PathBuf> = fs::read_dir(kb.path(".citedex"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(generations.len(), 1, "{generations:?}");
    let meta = fs::read_to_string(generations[0].join("meta.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let segments: Vec<String> = meta["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["segment_id"].as_str().unwrap().replace('-', ""))
        .collect();
    assert!(segments.len() <= 10, "{} segments after 200 runs", segments.len());
    for file in fs::read_dir(&generations[0]).unwrap() {
        let name = file.unwrap().file_name().to_string_lossy().into_owned();
        let segment_file = name.split('.').next().unwrap().len() == 32;
        assert!(
            !segment_file || segments.iter().any(|s| name.starts_with(s.as_str())),
            "orphan file {name}"
        );
    }
    let results = kb.search_json("run");
    assert_eq!(results.total_hits, 7);
}

#[test]
fn a_second_writer_fails_at_once_naming_the_index() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(kb.path(".citedex/lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let started = std::time::Instant::now();
    let output = kb.citedex(&["index", "kb"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_stderr_has(
        &output,
        "index at .citedex is being written by another citedex process",
    );
    // Searches do not wait for writers.
    assert_eq!(kb.citedex(&["search", "splint"]).status.code(), Some(0));
    drop(lock);
    assert_eq!(kb.citedex(&["index", "kb"]).status.code(), Some(0));
}

fn live_generation(kb: &Sandbox) -> PathBuf {
    kb.path(".citedex")
        .join(fs::read_to_string(kb.path(".citedex/CURRENT")).unwrap().trim())
}

#[test]
fn a_damaged_index_is_reported_and_full_rebuilds_it() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    fs::remove_file(live_generation(&kb).join("meta.json")).unwrap();
    for args in [&["search", "splint"][..], &["index", "kb"][..]] {
        let output = kb.citedex(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_stderr_has(&output, "is damaged");
        assert_stderr_has(&output, "--full");
    }
    assert_eq!(kb.citedex(&["index", "--full", "kb"]).status.code(), Some(0));
    assert_eq!(kb.citedex(&["search", "splint"]).status.code(), Some(0));

    fs::write(kb.path(".citedex/CURRENT"), "../../etc").unwrap();
    assert!(stderr(&kb.citedex(&["search", "splint"])).contains("is damaged"));
}

#[test]
fn another_schema_version_needs_a_rebuild() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let meta_path = live_generation(&kb).join("meta.json");
    let meta = fs::read_to_string(&meta_path).unwrap();
    let version = format!("\\\"schema_version\\\":{}", citedex::SCHEMA_VERSION);
    assert!(meta.contains(&version), "{meta}");
    fs::write(&meta_path, meta.replace(&version, "\\\"schema_version\\\":999")).unwrap();
    let output = kb.citedex(&["search", "splint"]);
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_has(&output, "schema version 999");
    assert_stderr_has(&output, "rebuild needed");
    assert_eq!(kb.citedex(&["index", "kb"]).status.code(), Some(2));
    assert_eq!(kb.citedex(&["index", "--full", "kb"]).status.code(), Some(0));
    assert_eq!(kb.citedex(&["search", "splint"]).status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn the_index_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let mode = fs::metadata(kb.path(".citedex")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[cfg(unix)]
#[test]
fn a_killed_build_leaves_the_previous_index_searchable() {
    let kb = Sandbox::new();
    let mut rng = Lcg(11);
    for i in 0..400 {
        kb.write(&format!("kb/doc{i}.md"), &random_markdown(&mut rng, i));
    }
    kb.write("kb/marker.md", "# Marker\n\nThe zebra passage.\n");
    assert_eq!(kb.citedex(&["index", "kb"]).status.code(), Some(0));
    let binary = assert_cmd::cargo::cargo_bin("citedex");
    // Many short delays: a kill between writing a delete file and committing once left a file
    // that the next writer collided with.
    for (round, delay_ms) in (0..30u64).map(|step| step * 4).enumerate() {
        // Alternate full rebuilds and incremental updates with changed files.
        kb.write(&format!("kb/doc{round}.md"), &random_markdown(&mut rng, round));
        let args: &[&str] = if round % 2 == 0 {
            &["index", "--full", "kb"]
        } else {
            &["index", "kb"]
        };
        let mut child = std::process::Command::new(&binary)
            .current_dir(kb.dir.path())
            .env_remove("CITEDEX_INDEX")
            .args(args)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let search = kb.citedex(&["search", "zebra"]);
        assert_eq!(
            search.status.code(),
            Some(0),
            "round {round}: {}",
            stderr(&search)
        );
        let next = kb.citedex(&["index", "kb"]);
        assert_eq!(next.status.code(), Some(0), "round {round}: {}", stderr(&next));
    }
    assert_eq!(all_passages(&kb, ".citedex").len(), {
        assert_eq!(
            kb.citedex(&["--index", "fresh", "index", "kb"]).status.code(),
            Some(0)
        );
        all_passages(&kb, "fresh").len()
    });
}

#[test]
fn watch_updates_the_index_when_a_file_changes() {
    use std::io::{BufRead, BufReader};
    let kb = knowledge_base();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("citedex"))
        .current_dir(kb.dir.path())
        .env_remove("CITEDEX_INDEX")
        .args(["watch", "kb"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| loop {
        match received.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(line) if line.contains(needle) => break line,
            Ok(_) => continue,
            Err(error) => panic!("no line with {needle:?}: {error}"),
        }
    };
    wait_for("watching kb for changes");
    kb.write("kb/sources/new.md", "# New\n\nThe quokka lives on islands.\n");
    let update = wait_for("indexed");
    assert!(
        update.contains("(1 added, 0 changed, 0 removed, 2 unchanged)"),
        "{update}"
    );
    assert_eq!(kb.citedex(&["search", "quokka"]).status.code(), Some(0));
    fs::remove_file(kb.path("kb/sources/new.md")).unwrap();
    let update = wait_for("indexed");
    assert!(
        update.contains("(0 added, 0 changed, 1 removed, 2 unchanged)"),
        "{update}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The repository's own `corpus/` folder.
fn bundled_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

#[test]
fn every_reference_of_the_bundled_article_resolves_to_a_source_file() {
    let kb = Sandbox::new();
    let corpus = bundled_corpus();
    let output = kb.citedex(&["index", corpus.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("match no document"),
        "{}",
        stderr(&output)
    );
    let listing: serde_json::Value =
        serde_json::from_slice(&kb.citedex(&["sources", "--json"]).stdout).unwrap();
    let documents = listing["documents"].as_array().unwrap();
    let article = documents
        .iter()
        .find(|d| d["kind"] == "article")
        .expect("an article");
    let references = article["references"].as_array().unwrap();
    assert_eq!(references.len(), 12);
    let source_files: Vec<PathBuf> = fs::read_dir(corpus.join("sources"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(source_files.len(), 12);
    for reference in references {
        let resolved = reference["resolved"]
            .as_str()
            .unwrap_or_else(|| panic!("unresolved: {reference}"));
        assert!(
            source_files.iter().any(|file| file.to_str() == Some(resolved)),
            "{resolved}"
        );
    }
    for source in documents.iter().filter(|d| d["kind"] == "source") {
        assert_eq!(
            source["cited_by"][0]["path"], article["path"],
            "{}",
            source["title"]
        );
    }
}

#[test]
fn sources_lists_documents_and_missing_references() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let output = kb.citedex(&["sources"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("articles (1)") && text.contains("sources (1)"),
        "{text}"
    );
    assert!(
        text.contains("cites 3 works: 1 found in the index, 2 missing, 1 malformed"),
        "{text}"
    );
    assert!(text.contains("cited by: Why Do My Hands Tingle?"), "{text}");
    assert!(
        text.contains("missing (2)") && text.contains("Raynaud’s Phenomenon. Example Health Library."),
        "{text}"
    );
    let listing: serde_json::Value =
        serde_json::from_slice(&kb.citedex(&["sources", "--json"]).stdout).unwrap();
    let article = &listing["documents"][0];
    assert_eq!(article["references"][0]["occurrences"], 2);
    assert_eq!(article["references"][2]["publisher"], "Example Health Library");
    assert!(
        article["references"][2]["problem"]
            .as_str()
            .unwrap()
            .contains("placeholder")
    );
    assert_eq!(article["references"][2]["resolved"], serde_json::Value::Null);
}

/// A small knowledge base for the query language: two sources and an article citing one.
fn query_language_base() -> Sandbox {
    let kb = Sandbox::new();
    kb.write(
        "kb/sources/clots.md",
        "---\ntitle: Blood Clots\npublisher: Vein Institute\n---\n## Overview\n\nA deep vein thrombosis (DVT) is a clot in a deep vein of the leg.\n\n## Risks\n\nLong flights and surgery raise the risk of a clot.\n",
    )
    .write(
        "kb/sources/nerves.md",
        "---\ntitle: Nerve Damage\npublisher: Nerve Society\n---\n## Causes\n\nDiabetes can damage nerves in the feet over many years.\n\n## Tests\n\nA DVT scan is not a nerve test; nerves are tested with conduction studies.\n\n## Words\n\nThe feet tingle when nerves misfire, and damage spreads slowly from the toes.\n",
    )
    .write(
        "kb/articles/legs.md",
        "---\ntitle: Leg Symptoms\nkind: article\n---\n## Causes\n\nLeg pain has many causes, nerve damage among them.\n\n## References\n\n- Blood Clots. Vein Institute.\n",
    );
    assert_eq!(kb.citedex(&["index", "kb"]).status.code(), Some(0));
    kb
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results
        .results
        .iter()
        .map(|hit| hit.passage.id.as_str())
        .collect()
}

#[test]
fn field_filters_phrases_operators_and_prefixes() {
    let kb = query_language_base();
    assert_eq!(
        ids(&kb.search_json("source:\"blood clots\"")),
        ["kb/sources/clots.md#0", "kb/sources/clots.md#1"]
    );
    assert_eq!(ids(&kb.search_json("section:risks")), ["kb/sources/clots.md#1"]);
    let mut articles = kb.search_json("kind:article");
    articles.results.sort_by(|a, b| a.passage.id.cmp(&b.passage.id));
    assert_eq!(ids(&articles), ["kb/articles/legs.md#0", "kb/articles/legs.md#1"]);
    assert_eq!(
        ids(&kb.search_json("publisher:society AND diabetes")),
        ["kb/sources/nerves.md#0"]
    );
    assert_eq!(
        ids(&kb.search_json("\"conduction studies\"")),
        ["kb/sources/nerves.md#1"]
    );
    let mut without_feet = ids(&kb.search_json("nerves AND NOT feet"))
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    without_feet.sort();
    assert_eq!(without_feet, ["kb/articles/legs.md#0", "kb/sources/nerves.md#1"]);
    let excluded = kb.citedex(&["search", "--json", "--", "damage", "-diabetes"]);
    let excluded: SearchResults = serde_json::from_slice(&excluded.stdout).unwrap();
    assert!(
        !ids(&excluded).contains(&"kb/sources/nerves.md#0"),
        "{:?}",
        ids(&excluded)
    );
    assert!(ids(&excluded).contains(&"kb/articles/legs.md#0"));
    assert_eq!(ids(&kb.search_json("thromb*")), ["kb/sources/clots.md#0"]);
}

#[test]
fn words_close_together_rank_higher() {
    let kb = query_language_base();
    // Both passages hold "nerves" and "damage"; only the first has them side by side.
    let results = kb.search_json("damage nerves");
    let causes = results
        .results
        .iter()
        .position(|hit| hit.passage.id == "kb/sources/nerves.md#0")
        .unwrap();
    let words = results
        .results
        .iter()
        .position(|hit| hit.passage.id == "kb/sources/nerves.md#2")
        .unwrap();
    assert!(causes < words, "{:?}", ids(&results));
}

#[test]
fn typos_fall_back_to_the_closest_indexed_word_when_a_query_finds_little() {
    let kb = query_language_base();
    let results = kb.search_json("diabetis");
    assert_eq!(results.notes, ["showing results for \"diabetes\""]);
    assert_eq!(ids(&results), ["kb/sources/nerves.md#0"]);
    // A query that finds plenty as written keeps its words: the correction is only suggested.
    let plenty = kb.search_json("nerve diabetis");
    assert_eq!(
        plenty.notes,
        ["\"diabetis\" occurs in no passage; did you mean \"nerve diabetes\"?"]
    );
    assert_eq!(plenty.total_hits, kb.search_json("nerve").total_hits);
    // Known words are left alone, and nothing is invented for short or far-off words.
    assert!(kb.search_json("diabetes").notes.is_empty());
    assert_eq!(kb.citedex(&["search", "xq"]).status.code(), Some(1));
}

#[test]
fn abbreviations_learnt_from_the_corpus_expand_both_ways() {
    let kb = query_language_base();
    let short = kb.search_json("DVT");
    assert!(
        short
            .notes
            .contains(&"also searching for \"deep vein thrombosis\"".to_string()),
        "{:?}",
        short.notes
    );
    assert_eq!(short.results[0].passage.id, "kb/sources/clots.md#0");
    let long = kb.search_json("deep vein thrombosis");
    assert!(
        long.notes.contains(&"also searching for DVT".to_string()),
        "{:?}",
        long.notes
    );
    // The nerve passage only says "DVT"; the long form finds it through the abbreviation.
    assert!(ids(&long).contains(&"kb/sources/nerves.md#1"), "{:?}", ids(&long));
}

#[test]
fn explain_shows_the_parts_of_each_score() {
    let kb = query_language_base();
    let output = kb.citedex(&["search", "--json", "--explain", "clot leg"]);
    let results: SearchResults = serde_json::from_slice(&output.stdout).unwrap();
    let explanation = results.results[0].explanation.as_ref().expect("an explanation");
    let value = explanation.value;
    assert!(
        (value - results.results[0].score).abs() < 1e-3,
        "{value} vs {}",
        results.results[0].score
    );
    assert!(serde_json::to_string(explanation).unwrap().contains("idf"));
    let text = stdout(&kb.citedex(&["search", "--explain", "clot"]));
    assert!(text.contains("TermQuery") && text.contains("idf"), "{text}");
    // Terms name their fields, not tantivy's field numbers.
    assert!(text.contains("content:\"clot\""), "{text}");
    assert!(!text.contains("field="), "{text}");
    assert!(kb.search_json("clot").results[0].explanation.is_none());
}

#[cfg(unix)]
#[test]
fn hostile_files_are_indexed_or_skipped_with_a_reason() {
    use std::os::unix::fs::symlink;
    let kb = Sandbox::new();
    kb.write("kb/good.md", "# Good\n\nA plain healthy passage about walking.\n");
    fs::write(
        kb.path("kb/latin1.txt"),
        b"Caf\xe9 Notes\n\nThe caf\xe9 served walking tours.\n",
    )
    .unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "Wide Notes\n\nA wide passage about stretching.\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    fs::write(kb.path("kb/wide.txt"), utf16).unwrap();
    fs::write(kb.path("kb/empty.md"), "  \n\n").unwrap();
    fs::write(kb.path("kb/binary.md"), b"\x7fELF\x00\x00\x01binary").unwrap();
    // A gigabyte, sparse, so the test writes almost nothing.
    fs::File::create(kb.path("kb/huge.txt"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    symlink("loop.md", kb.path("kb/loop.md")).unwrap();
    symlink("missing.md", kb.path("kb/dangling.md")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(kb.path("kb/pipe.md"))
        .status()
        .unwrap();
    assert!(fifo.success());
    kb.write(
        "outside/secret.md",
        "# Secret\n\nThe outside passage about flamingos.\n",
    );
    symlink(kb.path("outside"), kb.path("kb/escape")).unwrap();
    symlink(kb.path("kb"), kb.path("kb/sub-loop")).unwrap();
    symlink("good.md", kb.path("kb/alias.md")).unwrap();
    let depth = 50_000;
    let deep = format!(
        "<html><body>{}<p>The deep passage about otters.</p>{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    kb.write("kb/deep.html", &deep);
    kb.write(
        "kb/.hidden.md",
        "# Hidden\n\nThe hidden passage about penguins.\n",
    );
    kb.write("kb/.gitignore", "ignored.md\n");
    kb.write(
        "kb/ignored.md",
        "# Ignored\n\nThe ignored passage about pelicans.\n",
    );

    let started = std::time::Instant::now();
    let output = kb.citedex(&["index", "kb"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    for expected in [
        "kb/latin1.txt: not UTF-8; read as windows-1252, the likeliest encoding",
        "skipping kb/empty.md: empty file",
        "skipping kb/binary.md: binary content",
        "skipping kb/huge.txt: larger than 64 MiB",
        "skipping kb/loop.md: symbolic link loop",
        "skipping kb/dangling.md: symbolic link to missing.md, which does not exist",
        "skipping kb/pipe.md: not a regular file",
        "skipping kb/escape: symbolic link to",
        "skipping kb/sub-loop: symbolic link loop back to kb",
        "kb/deep.html: markup nested deeper than 1000 levels read as plain text",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    assert!(err.contains("indexed 5 documents"), "{err}");
    // Links not followed and special or empty files are warnings; the exit code comes from the rest.
    assert!(
        err.contains("2 files skipped (see above); 6 files left out with a warning"),
        "{err}"
    );
    assert_eq!(
        kb.search_json("café").results[0].passage.source.path,
        "kb/latin1.txt"
    );
    assert_eq!(
        kb.search_json("stretching").results[0].passage.source.path,
        "kb/wide.txt"
    );
    let walking: Vec<String> = kb
        .search_json("walking")
        .results
        .into_iter()
        .map(|hit| hit.passage.source.path)
        .collect();
    assert!(
        walking.contains(&"kb/alias.md".to_string()) && walking.contains(&"kb/good.md".to_string()),
        "{walking:?}"
    );
    assert_eq!(
        kb.search_json("otters").results[0].passage.source.path,
        "kb/deep.html"
    );
    for absent in ["flamingos", "penguins", "pelicans"] {
        assert_eq!(kb.citedex(&["search", absent]).status.code(), Some(1), "{absent}");
    }
}

fn copy_binary_fixture(kb: &Sandbox, fixture: &str, relative: &str) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    fs::create_dir_all(kb.path(relative).parent().unwrap()).unwrap();
    fs::copy(source, kb.path(relative)).unwrap();
}

#[test]
fn pdfs_are_indexed_with_sections_and_pages_and_a_crashing_one_is_skipped() {
    let kb = Sandbox::new();
    copy_binary_fixture(&kb, "pdf/outline.pdf", "kb/nerve.pdf");
    copy_binary_fixture(&kb, "pdf/headings.pdf", "kb/circulation.pdf");
    // A two-byte corruption of outline.pdf on which the PDF text extractor panics.
    copy_binary_fixture(&kb, "pdf/crashes-reader.pdf", "kb/crash.pdf");
    let output = kb.citedex(&["index", "kb"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("skipping kb/crash.pdf: the Pdf reader failed on this file (index out of bounds"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("indexed 2 documents"), "{err}");

    let results = kb.search_json("myelin");
    let hit = &results.results[0];
    assert_eq!(
        (hit.passage.source.title.as_str(), hit.passage.page),
        ("Nerve Conduction Basics", Some(3))
    );
    assert_eq!(hit.passage.section, ["Results", "Normal Values"]);
    let walking = kb.search_json("walking");
    assert_eq!(
        (
            walking.results[0].passage.section.as_slice(),
            walking.results[0].passage.page
        ),
        (&["Improving Circulation".to_string()][..], Some(2))
    );
    let text = stdout(&kb.citedex(&["search", "tingling pulse"]));
    assert!(text.contains("kb/nerve.pdf#1 (page 2)"), "{text}");
}

#[test]
fn export_prints_every_passage_in_document_order() {
    let kb = knowledge_base();
    let index = kb.citedex(&["index", "kb"]);
    let passages = all_passages(&kb, ".citedex");
    assert_stderr_has(&index, &format!("{} passages", passages.len()));
    let exported = stdout(&kb.citedex(&["export"]));
    let first: StoredPassage = serde_json::from_str(exported.lines().next().unwrap()).unwrap();
    assert_eq!(first.id, "kb/articles/hands.txt#0");
    assert_eq!(first.source.title, "Why Do My Hands Tingle?");
    let last: StoredPassage = serde_json::from_str(exported.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last.id.as_str(), last.cited_by.len()),
        ("kb/sources/carpal.md#1", 1)
    );
}

#[test]
fn an_index_from_another_release_is_read_again_in_full() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let meta_path = live_generation(&kb).join("meta.json");
    let meta = fs::read_to_string(&meta_path).unwrap();
    let release = format!("\\\"written_by\\\":\\\"{}\\\"", env!("CARGO_PKG_VERSION"));
    assert!(meta.contains(&release), "{meta}");
    fs::write(
        &meta_path,
        meta.replace(&release, "\\\"written_by\\\":\\\"0.0.1\\\""),
    )
    .unwrap();
    let output = kb.citedex(&["index", "kb"]);
    assert_stderr_has(&output, "(0 added, 2 changed, 0 removed, 0 unchanged)");
    let again = kb.citedex(&["index", "kb"]);
    assert_stderr_has(&again, "(0 added, 0 changed, 0 removed, 2 unchanged)");
}

#[test]
fn saved_web_pages_are_indexed_without_their_chrome() {
    let kb = Sandbox::new();
    kb.copy_fixture("html/article.html", "kb/restless-legs.html");
    kb.copy_fixture("html/large.html", "kb/habits.htm");
    let output = kb.citedex(&["index", "kb"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let results = kb.search_json("iron brain");
    let top = &results.results[0];
    assert_eq!(top.passage.section, ["Causes", "Iron and the brain"]);
    assert_eq!(top.passage.source.title, "Restless Legs Syndrome");
    assert_eq!(top.passage.source.publisher.as_deref(), Some("Example Health"));
    assert_eq!(top.passage.source.date.as_deref(), Some("2024-02-12"));
    assert_eq!(
        top.passage.source.url.as_deref(),
        Some("https://health.example.org/conditions/restless-legs")
    );
    for chrome in [
        "cookies",
        "\"Menu topic\"",
        "\"Footer link\"",
        "\"Related story\"",
    ] {
        assert_eq!(kb.citedex(&["search", chrome]).status.code(), Some(1), "{chrome}");
    }
    assert_eq!(
        kb.search_json("\"Checklist item 3.2\"").results[0]
            .passage
            .section,
        ["Chapter 3: Hydration"]
    );
    // Preformatted text keeps its lines and indentation, in JSON as in the terminal.
    let screening = &kb.search_json("transferrin saturation").results[0].passage.text;
    assert!(
        screening
            .contains("\nScreen before treating:\n  ferritin  < 75 ng/mL\n  transferrin saturation < 20 %"),
        "{screening:?}"
    );
}

fn beir_mini() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/beir-mini")
}

#[test]
fn eval_scores_a_beir_collection() {
    let kb = Sandbox::new();
    let dataset = beir_mini();
    let output = kb.citedex(&[
        "eval",
        "--dataset",
        dataset.to_str().unwrap(),
        "--json",
        "--per-query",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: citedex::eval::EvalReport = serde_json::from_slice(&output.stdout).unwrap();
    // q8 has no judgments and is left out, as BEIR does.
    assert_eq!(report.queries, 7);
    let ids: Vec<&str> = report.per_query.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]);
    for query in &report.per_query {
        for value in [query.ndcg_at_10, query.recall_at_100, query.rr_at_10] {
            assert!((0.0..=1.0).contains(&value), "{query:?}");
        }
    }
    let mean = report.per_query.iter().map(|q| q.ndcg_at_10).sum::<f64>() / 7.0;
    assert!((mean - report.ndcg_at_10).abs() < 1e-9);
    // Every query finds its most relevant document first on this small, easy collection.
    assert_eq!(report.mrr_at_10, 1.0);
    assert!(report.ndcg_at_10 > 0.8, "{report:?}");

    let path = |name: &str| dataset.join(name).to_string_lossy().into_owned();
    let (corpus, queries, qrels) = (
        path("corpus.jsonl"),
        path("queries.jsonl"),
        path("qrels/test.tsv"),
    );
    let args = [
        "eval",
        "--corpus",
        &corpus,
        "--queries",
        &queries,
        "--qrels",
        &qrels,
    ];
    let table = stdout(&kb.citedex(&args));
    for metric in ["nDCG@10", "Recall@100", "MRR@10", "7 judged queries"] {
        assert!(table.contains(metric), "{table}");
    }
    assert!(table.contains(&format!("{:.4}", report.ndcg_at_10)), "{table}");
}

#[test]
fn eval_reports_a_malformed_line_with_its_file_and_number() {
    let kb = Sandbox::new();
    let dataset = beir_mini();
    for file in ["corpus.jsonl", "queries.jsonl"] {
        fs::create_dir_all(kb.path("beir/qrels")).unwrap();
        fs::copy(dataset.join(file), kb.path(&format!("beir/{file}"))).unwrap();
    }
    kb.write(
        "beir/qrels/test.tsv",
        "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2 d4 1\n",
    );
    let output = kb.citedex(&["eval", "--dataset", "beir"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim(),
        "citedex: error: beir/qrels/test.tsv:3: expected 3 tab-separated fields, found 1"
    );
    kb.write("beir/qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t2\n");
    kb.write(
        "beir/queries.jsonl",
        "{\"_id\": \"q1\", \"text\": \"numb feet\"}\n{not json}\n",
    );
    let output = kb.citedex(&["eval", "--dataset", "beir"]);
    assert!(
        stderr(&output).starts_with("citedex: error: beir/queries.jsonl:2: "),
        "{}",
        stderr(&output)
    );
    kb.write(
        "beir/queries.jsonl",
        "{\"_id\": \"q1\", \"text\": \"numb feet\"}\n",
    );
    let missing = kb.citedex(&[
        "eval",
        "--corpus",
        "nowhere.jsonl",
        "--queries",
        "beir/queries.jsonl",
        "--qrels",
        "beir/qrels/test.tsv",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert_stderr_has(&missing, "nowhere.jsonl");
}

#[test]
fn a_reader_that_closes_the_pipe_early_is_not_an_error() {
    use std::io::Read;
    let kb = Sandbox::new();
    assert_eq!(
        kb.citedex(&["index", bundled_corpus().to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("citedex"))
        .current_dir(kb.dir.path())
        .env_remove("CITEDEX_INDEX")
        .arg("export")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line's worth, then hang up: the export is far larger than a pipe's buffer.
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

/// nDCG@10, Recall@100 and RR@10 of one ranking, computed afresh from the qrels text.
fn recompute_query_scores(qrels: &str, query: &str, ranking: &[String]) -> (f64, f64, f64) {
    let judged: std::collections::HashMap<&str, f64> = qrels
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|fields| fields[0] == query)
        .map(|fields| (fields[1], fields[2].trim().parse().unwrap()))
        .collect();
    let grade = |id: &String| judged.get(id.as_str()).copied().unwrap_or(0.0);
    let discount = |rank: usize| (rank as f64 + 2.0).log2();
    let dcg: f64 = ranking
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, d)| grade(d) / discount(i))
        .sum();
    let mut ideal: Vec<f64> = judged.values().copied().filter(|&g| g > 0.0).collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let ideal: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| g / discount(i))
        .sum();
    let relevant = judged.values().filter(|&&g| g > 0.0).count() as f64;
    let found = ranking.iter().take(100).filter(|d| grade(d) > 0.0).count() as f64;
    let rr = ranking
        .iter()
        .take(10)
        .position(|d| grade(d) > 0.0)
        .map_or(0.0, |rank| 1.0 / (rank as f64 + 1.0));
    (dcg / ideal, found / relevant, rr)
}

#[test]
fn eval_per_query_figures_follow_from_the_rankings() {
    let kb = Sandbox::new();
    let dataset = beir_mini();
    let output = kb.citedex(&[
        "eval",
        "--dataset",
        dataset.to_str().unwrap(),
        "--json",
        "--per-query",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // q8 has no judgment and q9 only a "not relevant" one: both are left out.
    assert_stderr_has(
        &output,
        "citedex: evaluated 7 queries on 30 documents, 30 passages in ",
    );
    assert_stderr_has(&output, "; 2 queries without a relevant judgment left out");
    let report: citedex::eval::EvalReport = serde_json::from_slice(&output.stdout).unwrap();
    let qrels = fs::read_to_string(dataset.join("qrels/test.tsv")).unwrap();
    for query in &report.per_query {
        let (ndcg, recall, rr) = recompute_query_scores(&qrels, &query.id, &query.ranking);
        assert!((query.ndcg_at_10 - ndcg).abs() < 1e-9, "{query:?}");
        assert!((query.recall_at_100 - recall).abs() < 1e-9, "{query:?}");
        assert!((query.rr_at_10 - rr).abs() < 1e-9, "{query:?}");
        assert!(!query.ranking.is_empty() && query.ranking.len() <= 100);
    }
    // q4 is written in query syntax ("numb fingers" at night -wrist); read as syntax, the phrase
    // and the exclusion would rule out its relevant documents, so it must be searched as words.
    let q4 = report.per_query.iter().find(|q| q.id == "q4").unwrap();
    assert_eq!(q4.ranking[0], "d10");
    // q1's "Glucose control" shares no word with the query: the collection's hard case.
    let q1 = report.per_query.iter().find(|q| q.id == "q1").unwrap();
    assert!(!q1.ranking.contains(&"d3".to_string()), "{q1:?}");

    let averages = kb.citedex(&["eval", "--dataset", dataset.to_str().unwrap(), "--json"]);
    let object: serde_json::Value = serde_json::from_slice(&averages.stdout).unwrap();
    let mut keys: Vec<&str> = object.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "mrr_at_10",
            "ndcg_at_10",
            "queries",
            "recall_at_100",
            "truncated_queries"
        ]
    );
    assert_eq!(object["ndcg_at_10"].as_f64(), Some(report.ndcg_at_10));
}

/// A one-query BEIR folder `beir/` in the sandbox.
fn write_beir(kb: &Sandbox, query: &str) {
    kb.write(
        "beir/corpus.jsonl",
        "{\"_id\": \"a\", \"title\": \"\", \"text\": \"Numb feet are common with diabetes.\"}\n\
         {\"_id\": \"b\", \"title\": \"Gout\", \"text\": \"Gout pain strikes the big toe.\"}\n",
    );
    kb.write(
        "beir/queries.jsonl",
        &format!("{}\n", serde_json::json!({"_id": "q1", "text": query})),
    );
    kb.write("beir/qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\ta\t1\n");
}

#[test]
fn eval_cuts_a_long_query_at_a_word_and_says_so() {
    let kb = Sandbox::new();
    write_beir(&kb, &format!("numb feet {}", "lengthy ".repeat(200)));
    let output = kb.citedex(&["eval", "--dataset", "beir", "--json", "--per-query"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_stderr_has(
        &output,
        "citedex: warning: 1 query over 1000 characters cut at a word boundary",
    );
    let report: citedex::eval::EvalReport = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report.truncated_queries, 1);
    assert_eq!(report.per_query[0].ranking[0], "a");
    assert_eq!(report.mrr_at_10, 1.0);
}

#[test]
fn eval_errors_name_the_file_and_line() {
    let kb = Sandbox::new();
    write_beir(&kb, "numb feet");
    kb.write(
        "beir/corpus.jsonl",
        "{\"_id\": \"a\", \"text\": \"Numb feet.\"}\n{\"_id\": \"b\", \"text\": 3}\n",
    );
    let output = kb.citedex(&["eval", "--dataset", "beir"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("citedex: error: beir/corpus.jsonl:2: invalid type"),
        "{}",
        stderr(&output)
    );

    write_beir(&kb, "numb feet");
    kb.write("beir/qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\ta\t0\n");
    let output = kb.citedex(&["eval", "--dataset", "beir"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim(),
        "citedex: error: no query in beir/queries.jsonl has a relevant document in the qrels"
    );
}
