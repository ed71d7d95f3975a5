//! Building and updating an index from folders through the library's indexer: updates equal
//! full rebuilds, edits are seen, segments stay bounded, the write lock comes first, progress is
//! told once the files are counted, harmless skips are warnings, damage and other schemas are
//! reported.

use std::fs;
use std::path::{Path, PathBuf};

use citedex::indexer::{self, BuildError, BuildOptions};
use citedex::{Index, IndexError, IndexWriter};

use crate::util::{
    INDEX, Lcg, Recorder, Sandbox, Told, all_ids, ids, live_generation, random_markdown, search,
    when_unlocked,
};

const FULL: BuildOptions = BuildOptions {
    full: true,
    prune: false,
    default_root: None,
};

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
        kb.try_build("inc", &["kb"], BuildOptions::default()).unwrap();
        kb.try_build("full", &["kb"], FULL).unwrap();
        let (incremental, full) = (
            Index::open(&kb.path("inc")).unwrap(),
            Index::open(&kb.path("full")).unwrap(),
        );
        let passages = |index: &Index| -> Vec<_> {
            index
                .passages()
                .unwrap()
                .map(|passage| {
                    let passage = passage.unwrap();
                    (passage.id, passage.section, passage.text)
                })
                .collect()
        };
        assert_eq!(passages(&incremental), passages(&full), "round {round}");
        for query in ["nerve", "\"blood pressure\"", "clot AND vein", "doc"] {
            let sorted = |index: &Index| {
                let mut found: Vec<String> = ids(&search(index, query))
                    .iter()
                    .map(|id| id.to_string())
                    .collect();
                found.sort();
                found
            };
            assert_eq!(
                sorted(&incremental),
                sorted(&full),
                "round {round}, query {query}"
            );
        }
    }
}

#[test]
fn an_edit_of_the_same_size_in_the_same_second_is_seen() {
    let kb = Sandbox::new();
    kb.write("kb/a.md", "# A\n\nThe word is alpha.\n");
    kb.build(&["kb"]);
    kb.write("kb/a.md", "# A\n\nThe word is gamma.\n");
    assert_eq!(kb.build(&["kb"]).counts(), (0, 1, 0, 0));
    let index = kb.open();
    assert_eq!(search(&index, "gamma").results.len(), 1);
    assert!(search(&index, "alpha").results.is_empty());
    assert_eq!(kb.build(&["kb"]).counts(), (0, 0, 0, 1));
}

#[test]
fn many_incremental_runs_keep_segments_bounded_and_leave_no_orphans() {
    let kb = Sandbox::new();
    for run in 0..200 {
        kb.write(
            &format!("kb/doc{}.md", run % 7),
            &format!("# Doc\n\nRun number {run} wrote this.\n"),
        );
        kb.build(&["kb"]);
    }
    let generations: Vec<PathBuf> = fs::read_dir(kb.path(INDEX))
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
    assert_eq!(search(&kb.open(), "run").total_hits, 7);
}

#[test]
fn an_index_from_another_release_is_read_again_in_full() {
    let kb = Sandbox::new();
    kb.write("kb/a.md", "# A\n\nAlpha.\n")
        .write("kb/b.md", "# B\n\nBeta.\n");
    kb.build(&["kb"]);
    let meta_path = live_generation(&kb.path(INDEX)).join("meta.json");
    let meta = fs::read_to_string(&meta_path).unwrap();
    let release = format!("\\\"written_by\\\":\\\"{}\\\"", env!("CARGO_PKG_VERSION"));
    assert!(meta.contains(&release), "{meta}");
    fs::write(
        &meta_path,
        meta.replace(&release, "\\\"written_by\\\":\\\"0.0.1\\\""),
    )
    .unwrap();
    assert_eq!(kb.build(&["kb"]).counts(), (0, 2, 0, 0));
    assert_eq!(kb.build(&["kb"]).counts(), (0, 0, 0, 2));
}

#[test]
fn an_empty_corpus_builds_an_empty_index() {
    let kb = Sandbox::new();
    fs::create_dir_all(kb.path("empty")).unwrap();
    let built = kb.build(&["empty"]);
    assert_eq!((built.report.documents, built.report.passages), (0, 0));
    assert!(search(&kb.open(), "anything").results.is_empty());
}

// Issue 15, defect 9: a second `index` scanned the folder and printed its warnings before it
// reported the lock.
#[test]
fn the_write_lock_is_taken_before_the_walk() {
    let kb = Sandbox::new();
    kb.write("kb/a.md", "# A\n\nThe splint passage.\n");
    kb.write("kb/picture.png", "not read");
    kb.write("kb/empty.md", "\n");
    kb.build(&["kb"]);
    let writer = when_unlocked(|| IndexWriter::update(&kb.path(INDEX))).unwrap();
    let recorder = Recorder::default();
    let second = indexer::build(
        &[kb.path("kb")],
        &kb.path(INDEX),
        BuildOptions::default(),
        &recorder,
    );
    assert!(
        matches!(second, Err(BuildError::Index(IndexError::Locked(_)))),
        "{second:?}"
    );
    assert!(recorder.warnings.lock().unwrap().is_empty(), "the walk ran");
    assert!(recorder.told.lock().unwrap().is_empty(), "the walk ran");
    // Searches do not wait for writers.
    assert_eq!(ids(&search(&kb.open(), "splint")), ["kb/a.md#0"]);
    drop(writer);
    kb.build(&["kb"]);
}

// Issue 15, defect 7: the progress bar showed a full `0/0 files` while the walk ran, then reset.
#[test]
fn progress_starts_once_the_files_are_counted() {
    let kb = Sandbox::new();
    for i in 0..5 {
        kb.write(&format!("kb/{i}.md"), &format!("# Doc {i}\n\nText {i}.\n"));
    }
    kb.write("kb/picture.png", "not read");
    let recorder = Recorder::default();
    indexer::build(
        &[kb.path("kb")],
        &kb.path(INDEX),
        BuildOptions::default(),
        &recorder,
    )
    .unwrap();
    let told = recorder.told.into_inner().unwrap();
    let mut expected = vec![Told::Start(5)];
    expected.extend([Told::Advance; 5]);
    assert_eq!(told, expected);
}

// Issue 15, defect 8: indexing /usr/share/doc exited 2 because links pointed outside it.
#[cfg(unix)]
#[test]
fn links_out_and_unsupported_files_are_warnings_not_errors() {
    let kb = Sandbox::new();
    kb.write("kb/a.md", "# A\n\nThe passage.\n");
    kb.write("kb/picture.png", "not read");
    kb.write("outside.md", "# Outside\n\nNot in the corpus.\n");
    std::os::unix::fs::symlink(kb.path("outside.md"), kb.path("kb/link.md")).unwrap();
    let built = kb.build(&["kb"]);
    built.assert_warned("skipping kb/link.md: symbolic link to");
    assert_eq!(built.report.failed(), 0);
    assert_eq!(built.report.skipped.len(), 2);
    assert!(built.report.skipped.iter().all(|skip| !skip.reason.is_error()));
}

#[test]
fn a_damaged_index_is_reported_and_a_full_rebuild_repairs_it() {
    let kb = Sandbox::new();
    kb.write("kb/a.md", "# A\n\nThe splint passage.\n");
    kb.build(&["kb"]);
    fs::remove_file(live_generation(&kb.path(INDEX)).join("meta.json")).unwrap();
    let damaged = |error: String| {
        assert!(
            error.contains("is damaged") && error.contains("--full"),
            "{error}"
        );
    };
    damaged(Index::open(&kb.path(INDEX)).err().unwrap().to_string());
    damaged(
        kb.try_build(INDEX, &["kb"], BuildOptions::default())
            .err()
            .unwrap()
            .to_string(),
    );
    kb.try_build(INDEX, &["kb"], FULL).unwrap();
    assert_eq!(ids(&search(&kb.open(), "splint")), ["kb/a.md#0"]);

    fs::write(kb.path(".citedex/CURRENT"), "../../etc").unwrap();
    damaged(Index::open(&kb.path(INDEX)).err().unwrap().to_string());
}

#[test]
fn another_schema_version_needs_a_rebuild() {
    let kb = Sandbox::new();
    kb.write("kb/a.md", "# A\n\nThe splint passage.\n");
    kb.build(&["kb"]);
    let meta_path = live_generation(&kb.path(INDEX)).join("meta.json");
    let meta = fs::read_to_string(&meta_path).unwrap();
    let version = format!("\\\"schema_version\\\":{}", citedex::SCHEMA_VERSION);
    assert!(meta.contains(&version), "{meta}");
    fs::write(&meta_path, meta.replace(&version, "\\\"schema_version\\\":999")).unwrap();
    let error = Index::open(&kb.path(INDEX)).err().unwrap().to_string();
    assert!(
        error.contains("schema version 999") && error.contains("rebuild needed"),
        "{error}"
    );
    let error = kb
        .try_build(INDEX, &["kb"], BuildOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("schema version 999") && error.contains("rebuild needed"),
        "{error}"
    );
    // A full rebuild reads it afresh (roots.rs: and keeps the roots it records).
    kb.try_build(INDEX, &["kb"], FULL).unwrap();
    assert_eq!(all_ids(&kb.open()), ["kb/a.md#0"]);
}

#[test]
fn export_reads_every_passage_in_document_order_with_citations() {
    let kb = Sandbox::new();
    kb.copy_fixture("seed-shaped.txt", "kb/articles/hands.txt").write(
        "kb/sources/carpal.md",
        "---\ntitle: Carpal Tunnel Syndrome\npublisher: Example Clinic\n---\n## Overview\n\nThe median nerve.\n\n## Treatment\n\nA splint.\n",
    );
    let built = kb.build(&["kb"]);
    let index = kb.open();
    let passages: Vec<_> = index.passages().unwrap().map(Result::unwrap).collect();
    assert_eq!(passages.len(), built.report.passages);
    assert_eq!(passages[0].id, "kb/articles/hands.txt#0");
    assert_eq!(passages[0].source.title, "Why Do My Hands Tingle?");
    let last = passages.last().unwrap();
    assert_eq!(
        (last.id.as_str(), last.cited_by.len()),
        ("kb/sources/carpal.md#1", 1)
    );
    let path = |passage: &citedex::StoredPassage| Path::new(&passage.source.path).to_path_buf();
    assert!(passages.windows(2).all(|pair| path(&pair[0]) <= path(&pair[1])));
}
