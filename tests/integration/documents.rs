//! What files become in the index, through the library: sections of plain-text articles, web
//! pages without their chrome, PDFs with their pages, files left out with their reasons, and the
//! citations between the bundled article and its sources.

use std::fs;
use std::path::PathBuf;

use citedex::catalog::Catalog;

use crate::util::{Sandbox, bundled_corpus, fixture_path, index_of, search, shared_file};

const CARPAL: &str = "---\ntitle: Carpal Tunnel Syndrome\nkind: source\npublisher: Example Clinic\n---\n## Overview\n\nCarpal tunnel syndrome happens when the median nerve is squeezed at the wrist.\n\n## Treatment\n\nA wrist splint worn at night keeps the wrist straight.\n";

fn fixture(name: &str) -> String {
    fs::read_to_string(fixture_path(name)).unwrap()
}

#[test]
fn seed_shaped_text_keeps_its_sections() {
    let hands = fixture("seed-shaped.txt");
    let (_dir, index) = index_of(&[
        ("kb/articles/hands.txt", &hands),
        ("kb/sources/carpal.md", CARPAL),
    ]);
    let section_of = |query: &str| -> Vec<String> {
        let results = search(&index, query);
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
    let takeaway = search(&index, "harmless episodes");
    assert_eq!(takeaway.results[0].passage.section, ["The Takeaway"]);
    assert!(!takeaway.results[0].passage.text.contains("Example Clinic"));
    // Empty sections make no passage.
    let all = search(&index, "*");
    assert!(
        all.results
            .iter()
            .all(|hit| hit.passage.section.last().map(String::as_str) != Some("Pinched Nerve"))
    );
    assert!(all.results.iter().all(|hit| !hit.passage.text.trim().is_empty()));
    // The article's references, folded and checked, link it to the source.
    let catalog = index.catalog().unwrap();
    let article = &catalog.documents[0];
    assert_eq!(article.references.len(), 3);
    assert_eq!(article.references[0].cited.occurrences, 2);
    assert_eq!(
        article.references[2].cited.reference.publisher.as_deref(),
        Some("Example Health Library")
    );
    assert!(
        article.references[2]
            .cited
            .reference
            .problem
            .as_deref()
            .unwrap()
            .contains("placeholder")
    );
    assert_eq!(article.references[2].resolved, None);
    let missing: Vec<&str> = catalog
        .missing_references()
        .map(|(_, reference)| reference.cited.reference.text.as_str())
        .collect();
    assert!(
        missing.contains(&"Raynaud’s Phenomenon. Example Health Library."),
        "{missing:?}"
    );
    assert_eq!(catalog.documents[1].cited_by[0].title, "Why Do My Hands Tingle?");
}

#[test]
fn the_seed_article_sections_match_the_issue() {
    let Some(seed) = shared_file("CITEDEX_SEED") else {
        return;
    };
    let text = fs::read_to_string(&seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
    let (_dir, index) = index_of(&[("kb/seed.txt", &text)]);
    let top_section = |query: &str| search(&index, query).results[0].passage.section.clone();
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
    let catalog = index.catalog().unwrap();
    let references = &catalog.documents[0].references;
    assert_eq!(references.len(), 12);
    assert_eq!(references.iter().map(|r| r.cited.occurrences).sum::<usize>(), 14);
    assert_eq!(
        references
            .iter()
            .filter(|r| r.cited.reference.problem.is_some())
            .count(),
        1
    );
}

#[test]
fn saved_web_pages_are_indexed_without_their_chrome() {
    let (article, large) = (fixture("html/article.html"), fixture("html/large.html"));
    let (_dir, index) = index_of(&[("kb/restless-legs.html", &article), ("kb/habits.htm", &large)]);
    let results = search(&index, "iron brain");
    let top = &results.results[0].passage;
    assert_eq!(top.section, ["Causes", "Iron and the brain"]);
    assert_eq!(top.source.title, "Restless Legs Syndrome");
    assert_eq!(top.source.publisher.as_deref(), Some("Example Health"));
    assert_eq!(top.source.date.as_deref(), Some("2024-02-12"));
    assert_eq!(
        top.source.url.as_deref(),
        Some("https://health.example.org/conditions/restless-legs")
    );
    for chrome in [
        "cookies",
        "\"Menu topic\"",
        "\"Footer link\"",
        "\"Related story\"",
    ] {
        assert!(search(&index, chrome).results.is_empty(), "{chrome}");
    }
    assert_eq!(
        search(&index, "\"Checklist item 3.2\"").results[0]
            .passage
            .section,
        ["Chapter 3: Hydration"]
    );
    // Preformatted text keeps its lines and indentation.
    let screening = &search(&index, "transferrin saturation").results[0].passage.text;
    assert!(
        screening
            .contains("\nScreen before treating:\n  ferritin  < 75 ng/mL\n  transferrin saturation < 20 %"),
        "{screening:?}"
    );
}

#[test]
fn pdfs_are_indexed_with_sections_and_pages_and_a_crashing_one_is_skipped() {
    let kb = Sandbox::new();
    kb.copy_fixture("pdf/outline.pdf", "kb/nerve.pdf")
        .copy_fixture("pdf/headings.pdf", "kb/circulation.pdf")
        // A two-byte corruption of outline.pdf on which the PDF text extractor panics.
        .copy_fixture("pdf/crashes-reader.pdf", "kb/crash.pdf");
    let built = kb.build(&["kb"]);
    built.assert_warned("skipping kb/crash.pdf: the Pdf reader failed on this file (index out of bounds");
    assert_eq!((built.report.documents, built.report.failed()), (2, 1));
    let index = kb.open();
    let myelin = &search(&index, "myelin").results[0].passage;
    assert_eq!(
        (myelin.source.title.as_str(), myelin.page),
        ("Nerve Conduction Basics", Some(3))
    );
    assert_eq!(myelin.section, ["Results", "Normal Values"]);
    assert_eq!(myelin.line_start, None, "a PDF has pages, not lines");
    let walking = &search(&index, "walking").results[0].passage;
    assert_eq!(
        (walking.section.as_slice(), walking.page),
        (&["Improving Circulation".to_string()][..], Some(2))
    );
}

#[cfg(unix)]
#[test]
fn hostile_files_are_indexed_or_skipped_with_a_reason() {
    use std::os::unix::fs::symlink;
    let kb = Sandbox::new();
    kb.write("kb/good.md", "# Good\n\nA plain healthy passage about walking.\n");
    kb.write_bytes(
        "kb/latin1.txt",
        b"Caf\xe9 Notes\n\nThe caf\xe9 served walking tours.\n",
    );
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "Wide Notes\n\nA wide passage about stretching.\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    kb.write_bytes("kb/wide.txt", &utf16);
    kb.write("kb/empty.md", "  \n\n");
    kb.write_bytes("kb/binary.md", b"\x7fELF\x00\x00\x01binary");
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

    let built = kb.build(&["kb"]);
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
        built.assert_warned(expected);
    }
    assert_eq!(built.report.documents, 5);
    // Links not followed and special or empty files are warnings; the binary and huge files errors.
    assert_eq!((built.report.failed(), built.report.skipped.len()), (2, 8));
    let index = kb.open();
    let top_path = |query: &str| search(&index, query).results[0].passage.source.path.clone();
    assert_eq!(top_path("café"), "kb/latin1.txt");
    assert_eq!(top_path("stretching"), "kb/wide.txt");
    assert_eq!(top_path("otters"), "kb/deep.html");
    let walking: Vec<String> = search(&index, "walking")
        .results
        .into_iter()
        .map(|hit| hit.passage.source.path)
        .collect();
    assert!(
        walking.contains(&"kb/alias.md".to_string()) && walking.contains(&"kb/good.md".to_string()),
        "{walking:?}"
    );
    for absent in ["flamingos", "penguins", "pelicans"] {
        assert!(search(&index, absent).results.is_empty(), "{absent}");
    }
}

#[test]
fn every_reference_of_the_bundled_article_resolves_to_a_source_file() {
    let kb = Sandbox::new();
    let corpus = bundled_corpus();
    let recorder = crate::util::Recorder::default();
    let report = citedex::indexer::build(
        std::slice::from_ref(&corpus),
        &kb.path(crate::util::INDEX),
        Default::default(),
        &recorder,
    )
    .unwrap();
    assert!(report.unresolved.is_empty(), "{:?}", report.unresolved);
    let catalog: Catalog = kb.open().catalog().unwrap();
    let article = catalog
        .documents
        .iter()
        .find(|d| d.source.kind == citedex::document::Kind::Article)
        .expect("an article");
    assert_eq!(article.references.len(), 12);
    let source_files: Vec<PathBuf> = fs::read_dir(corpus.join("sources"))
        .unwrap()
        .map(|e| fs::canonicalize(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(source_files.len(), 12);
    for reference in &article.references {
        let resolved = reference.resolved.as_deref().expect("resolved");
        assert!(
            source_files.iter().any(|file| file.to_str() == Some(resolved)),
            "{resolved}"
        );
    }
    for source in catalog
        .documents
        .iter()
        .filter(|d| d.source.kind != citedex::document::Kind::Article)
    {
        assert_eq!(
            source.cited_by[0].path, article.source.path,
            "{}",
            source.source.title
        );
    }
}
