//! Smoke tests of the binary, end to end in temporary folders: what only the process shows
//! (exit codes, the JSON contract on standard output, text for people, messages on standard
//! error, remembered folders across runs). What the library does is tested on the library.

use std::fs;

use assert_cmd::Command;

use crate::util::{Sandbox, assert_stderr_has, bundled_corpus, stderr, stdout};

const SOURCE: &str = "---\ntitle: Carpal Tunnel Syndrome\nkind: source\npublisher: Example Clinic\ndate: 2024-03-03\nurl: https://example.org/carpal\n---\n## Overview\n\nCarpal tunnel syndrome happens when the median nerve is squeezed at the wrist.\n\n## Treatment\n\nA wrist splint worn at night keeps the wrist straight.\n";

/// An article (plain text, citing the source) and a source, under `kb/`.
fn knowledge_base() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox
        .copy_fixture("seed-shaped.txt", "kb/articles/hands.txt")
        .write("kb/sources/carpal.md", SOURCE);
    sandbox
}

/// Asserts that the command exited with `code`, showing its standard error otherwise.
fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", stderr(output));
}

#[test]
fn search_json_is_the_documented_contract() {
    let kb = knowledge_base();
    let output = kb.citedex(&["index", "kb"]);
    assert_exit(&output, 0);
    assert_stderr_has(&output, "indexed 2 documents");

    let results = kb.search_json("median nerve wrist");
    assert_eq!(results.query, "median nerve wrist");
    let top = &results.results[0];
    assert_eq!((top.rank, top.passage.id.as_str()), (1, "kb/sources/carpal.md#0"));
    assert_eq!(top.passage.section, ["Overview"]);
    assert_eq!(
        (top.passage.line_start, top.passage.line_end),
        (Some(10), Some(10))
    );
    let highlighted: Vec<&str> = top.highlights.iter().map(|[s, e]| &top.snippet[*s..*e]).collect();
    assert_eq!(highlighted, ["median", "nerve", "wrist"]);

    // The raw JSON carries the documented field names, and nothing else on standard output.
    let raw: serde_json::Value =
        serde_json::from_slice(&kb.citedex(&["search", "--json", "splint"]).stdout).unwrap();
    assert_eq!(raw["query"], "splint");
    assert_eq!(raw["total_hits"], 2);
    let hit = &raw["results"][0];
    let mut fields: Vec<&str> = hit.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "cited_by",
            "highlights",
            "id",
            "line_end",
            "line_start",
            "rank",
            "role",
            "score",
            "section",
            "snippet",
            "source",
            "text"
        ]
    );
    assert_eq!(
        (hit["line_start"].as_u64(), hit["line_end"].as_u64()),
        (Some(14), Some(14))
    );
    assert_eq!(
        hit["source"],
        serde_json::json!({"title": "Carpal Tunnel Syndrome", "path": "kb/sources/carpal.md",
            "kind": "source", "publisher": "Example Clinic", "date": "2024-03-03",
            "url": "https://example.org/carpal"})
    );
    assert_eq!(
        hit["cited_by"],
        serde_json::json!([{"title": "Why Do My Hands Tingle?", "path": "kb/articles/hands.txt"}])
    );
}

#[test]
fn text_results_cite_path_and_line_and_say_when_nothing_matched() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let output = stdout(&kb.citedex(&["search", "-n", "1", "splint"]));
    let lines: Vec<&str> = output.lines().collect();
    assert!(
        lines[0].starts_with("1. ") && lines[0].ends_with("Carpal Tunnel Syndrome › Treatment"),
        "{output}"
    );
    assert_eq!(
        lines[1..].iter().map(|line| line.trim()).collect::<Vec<_>>(),
        [
            "Carpal Tunnel Syndrome — Example Clinic, 2024-03-03 (source)",
            "cited by: Why Do My Hands Tingle?",
            "│ A wrist splint worn at night keeps the wrist straight.",
            "kb/sources/carpal.md:14  #1",
            "",
            "1 of 2 matching passages shown",
        ]
    );
    assert!(!output.contains('\x1b'), "NO_COLOR must turn colour off");

    // Nothing found: nothing on standard output, and a line saying so on standard error.
    let none = kb.citedex(&["search", "xylophone"]);
    assert_exit(&none, 1);
    assert!(stdout(&none).is_empty());
    assert_eq!(
        stderr(&none).trim(),
        "citedex: no passage matches: \"xylophone\" occurs nowhere in the index"
    );
    let phrase = kb.citedex(&["search", "\"splint wrist\""]);
    assert_exit(&phrase, 1);
    assert_eq!(stderr(&phrase).trim(), "citedex: no passage matches");
}

#[test]
fn exit_codes_and_one_line_errors() {
    let kb = knowledge_base();
    let from_environment = Command::cargo_bin("citedex")
        .unwrap()
        .current_dir(kb.dir.path())
        .env("CITEDEX_INDEX", "elsewhere")
        .args(["index", "kb"])
        .output()
        .unwrap();
    assert_exit(&from_environment, 0);
    assert!(kb.path("elsewhere/CURRENT").is_file() && !kb.path(".citedex").exists());
    let search = |args: &[&str]| kb.citedex(&[&["--index", "elsewhere", "search"], args].concat());
    assert_exit(&search(&["splint"]), 0);
    assert_exit(&search(&["xylophone"]), 1);
    let deep = search(&[&format!("{}splint{}", "(".repeat(100), ")".repeat(100))]);
    assert_exit(&deep, 2);
    assert_eq!(stderr(&deep).lines().count(), 1, "{}", stderr(&deep));
    assert!(stderr(&deep).starts_with("citedex: error: invalid query \"(((((("));
    assert!(
        stderr(&deep).ends_with("… (206 characters): query nests parentheses 100 deep; the limit is 16\n")
    );

    let missing = kb.citedex(&["--index", "no/such/index", "search", "numbness"]);
    assert_exit(&missing, 2);
    assert_eq!(
        stderr(&missing).trim(),
        "citedex: error: no index at no/such/index; build one with `citedex index`"
    );
    let nowhere = kb.citedex(&["index", "nowhere"]);
    assert_exit(&nowhere, 2);
    assert_eq!(stderr(&nowhere).trim(), "citedex: error: nowhere does not exist");
    // An error's cause is printed once, after it.
    kb.write("blocker", "a file where a folder should be");
    let blocked = kb.citedex(&["--index", "blocker/index", "index", "kb"]);
    assert_eq!(
        stderr(&blocked).trim(),
        "citedex: error: blocker/index: Not a directory (os error 20)"
    );
}

#[test]
fn the_first_search_builds_the_default_corpus_and_remembers_it() {
    let kb = Sandbox::new();
    kb.write("corpus/sources/carpal.md", SOURCE);
    let output = kb.citedex(&["search", "splint"]);
    assert_exit(&output, 0);
    assert_stderr_has(&output, "no index at .citedex, building it from corpus/ first");
    assert!(stdout(&output).contains("Carpal Tunnel Syndrome › Treatment"));
    assert!(stdout(&output).contains("corpus/sources/carpal.md:14  #1"));
    let status = stdout(&kb.citedex(&["status"]));
    assert!(status.contains("roots      corpus  (1 document)"), "{status}");
    let update = kb.citedex(&["index"]);
    assert_stderr_has(&update, "(0 added, 0 changed, 0 removed, 1 unchanged)");
}

#[test]
fn a_bad_file_is_reported_and_the_run_goes_on() {
    let kb = knowledge_base();
    kb.write("kb/sources/broken.md", "---\ntitle: [unclosed\n---\nbody\n");
    kb.write_bytes("kb/sources/binary.txt", b"\x00\x01\x02binary");
    kb.write("kb/sources/picture.png", "not read");
    let output = kb.citedex(&["index", "kb"]);
    assert_exit(&output, 2);
    for line in [
        "citedex: warning: skipping kb/sources/binary.txt: binary content (NUL bytes), not a text document",
        "citedex: warning: skipping kb/sources/broken.md: front matter: while parsing a flow sequence",
        "citedex: indexed 2 documents",
        "; 2 files skipped (see above); 1 file of unsupported types ignored;",
    ] {
        assert_stderr_has(&output, line);
    }
    assert_exit(&kb.citedex(&["search", "splint"]), 0);
}

#[test]
fn a_reader_that_closes_the_pipe_early_is_not_an_error() {
    use std::io::Read;
    let kb = Sandbox::new();
    assert_exit(&kb.citedex(&["index", bundled_corpus().to_str().unwrap()]), 0);
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
    assert_exit(&output, 0);
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

/// Issue 15's "done when": two folders of one's own, indexed one after another, both in
/// `status`, both searched, one edit re-indexed alone, results as `path:line`.
#[test]
fn two_folders_of_ones_own_are_remembered_and_updated_one_change_at_a_time() {
    let kb = Sandbox::new();
    kb.write(
        "notes/walking.md",
        "# Walking\n\nA brisk walk eases stiff knees.\n",
    );
    kb.write(
        "notes/sleep.md",
        "# Sleep\n\nCramps wake some sleepers at night.\n",
    );
    kb.write(
        "papers/gout.txt",
        "Gout\n\nGout pain strikes the big toe first.\n",
    );
    kb.write(
        "papers/iron.md",
        "# Iron\n\nLow ferritin goes with restless legs.\n",
    );
    kb.write("papers/figure.png", "not read");
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", kb.path("papers/outside.md")).unwrap();

    let first = kb.citedex(&["index", "notes"]);
    assert_exit(&first, 0);
    assert_stderr_has(&first, "indexed 2 documents");
    // Another spelling of another folder: its files are added, the first folder's kept.
    let second = kb.citedex(&["index", "./papers/"]);
    assert_exit(&second, 0);
    assert_stderr_has(&second, "indexed 4 documents");
    assert_stderr_has(&second, "(2 added, 0 changed, 0 removed, 0 unchanged)");
    #[cfg(unix)]
    assert_stderr_has(&second, "; 1 file left out with a warning (see above)");

    let status = stdout(&kb.citedex(&["status"]));
    assert!(status.contains("roots      notes  (2 documents)"), "{status}");
    assert!(status.contains("           papers  (2 documents)"), "{status}");
    assert!(status.contains("documents  4"), "{status}");
    let json: serde_json::Value = serde_json::from_slice(&kb.citedex(&["status", "--json"]).stdout).unwrap();
    let canonical = |folder: &str| {
        fs::canonicalize(kb.path(folder))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    assert_eq!(
        json["roots"],
        serde_json::json!([canonical("notes"), canonical("papers")])
    );

    // Where the best result starts, as its location line says.
    let first_line = |query: &str| {
        let output = stdout(&kb.citedex(&["search", query]));
        output
            .lines()
            .find(|line| line.contains("  #"))
            .map(str::to_string)
    };
    assert_eq!(first_line("knees").as_deref(), Some("   notes/walking.md:3  #0"));
    assert_eq!(first_line("toe").as_deref(), Some("   papers/gout.txt:3  #0"));

    // One edit in one folder: an update of every folder re-reads that file alone.
    kb.write(
        "notes/walking.md",
        "# Walking\n\nA brisk walk eases stiff knees.\n\nUphill walks build the calves.\n",
    );
    let update = kb.citedex(&["index"]);
    assert_exit(&update, 0);
    assert_stderr_has(&update, "(0 added, 1 changed, 0 removed, 3 unchanged)");
    assert_eq!(first_line("calves").as_deref(), Some("   notes/walking.md:3  #0"));
    // A file named by its absolute path is the same document, updated alone.
    kb.write(
        "notes/sleep.md",
        "# Sleep\n\nCramps wake some sleepers before dawn.\n",
    );
    let one = kb.citedex(&["index", kb.path("notes/sleep.md").to_str().unwrap()]);
    assert_stderr_has(&one, "indexed 4 documents");
    assert_stderr_has(&one, "(0 added, 1 changed, 0 removed, 0 unchanged)");

    let removed = kb.citedex(&["remove", "papers"]);
    assert_exit(&removed, 0);
    assert_stderr_has(&removed, "removed papers and 2 documents from .citedex");
    assert_exit(&kb.citedex(&["search", "toe"]), 1);
    assert!(!stdout(&kb.citedex(&["status"])).contains("papers"));
}

#[test]
fn show_prints_a_passage_in_its_section_by_id_or_line() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let by_id = kb.citedex(&["show", "kb/sources/carpal.md#1"]);
    assert_exit(&by_id, 0);
    assert_eq!(
        stdout(&by_id),
        "Carpal Tunnel Syndrome › Treatment\n\
         Carpal Tunnel Syndrome — Example Clinic, 2024-03-03 (source)\n\
         cited by: Why Do My Hands Tingle?\n\
         \n\
         kb/sources/carpal.md:14  #1\n\
         ┃ A wrist splint worn at night keeps the wrist straight.\n"
    );
    assert_eq!(
        stdout(&kb.citedex(&["show", "kb/sources/carpal.md:13"])),
        stdout(&by_id)
    );
    let json: serde_json::Value = serde_json::from_slice(
        &kb.citedex(&["show", "--json", "-C", "1", "kb/articles/hands.txt#2"])
            .stdout,
    )
    .unwrap();
    assert_eq!(json["passage"]["id"], "kb/articles/hands.txt#2");
    assert_eq!(json["heading_path"][0], "Why Do My Hands Tingle?");
    // Neighbours come from the passage's own section only, and "Nerve Causes" holds no other:
    // #1 and #3 lie in the sections around it.
    assert_eq!(json["before"], serde_json::json!([]), "{json}");
    assert_eq!(json["after"], serde_json::json!([]), "{json}");
    let unknown = kb.citedex(&["show", "kb/sources/carpal.md#9"]);
    assert_exit(&unknown, 1);
    assert_stderr_has(&unknown, "no passage \"kb/sources/carpal.md#9\" in the index");
}

#[test]
fn search_files_lists_the_matching_files_best_first() {
    let kb = knowledge_base();
    kb.citedex(&["index", "kb"]);
    let files = kb.citedex(&["search", "--files", "wrist splint"]);
    assert_exit(&files, 0);
    assert_eq!(stdout(&files), "kb/sources/carpal.md\nkb/articles/hands.txt\n");
    assert_eq!(
        stdout(&kb.citedex(&["search", "-l", "-n", "1", "wrist splint"])),
        "kb/sources/carpal.md\n"
    );
    let none = kb.citedex(&["search", "--files", "xylophone"]);
    assert_exit(&none, 1);
    assert!(stdout(&none).is_empty());
}

#[test]
fn completions_and_manual_pages_come_from_the_command_line_definitions() {
    let kb = Sandbox::new();
    let bash = kb.citedex(&["completions", "bash"]);
    assert_exit(&bash, 0);
    assert!(stdout(&bash).contains("_citedex()"), "{}", stdout(&bash));
    assert!(stdout(&bash).contains("--files"));
    let page = stdout(&kb.citedex(&["man"]));
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH citedex 1"),
        "{page}"
    );
    assert!(page.contains("citedex\\-search(1)"), "{page}");
    let written = kb.citedex(&["man", "--dir", "man1"]);
    assert_exit(&written, 0);
    for page in [
        "citedex.1",
        "citedex-index.1",
        "citedex-show.1",
        "citedex-status.1",
    ] {
        assert!(kb.path("man1").join(page).is_file(), "{page}");
    }
    let search_page = fs::read_to_string(kb.path("man1/citedex-search.1")).unwrap();
    assert!(search_page.contains("\\-\\-files"), "{search_page}");
}
