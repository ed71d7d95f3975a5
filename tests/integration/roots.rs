//! Remembered folders (issue 15, defect 4), through the library's indexer: an index records its
//! roots as canonical paths; indexing a path adds or updates that root alone, or the part of a
//! root it names; an update without paths walks every root; removing a root is explicit.

use std::fs;
use std::path::PathBuf;

use citedex::indexer::{self, BuildError, BuildOptions};
use citedex::{Index, IndexWriter};

use crate::util::{INDEX, Sandbox, all_ids, live_generation, search, when_unlocked};

/// `notes/` (two documents, one in a subfolder) and `papers/` (two documents).
fn two_folders() -> Sandbox {
    let kb = Sandbox::new();
    kb.write(
        "notes/walking.md",
        "# Walking\n\nA brisk walk eases stiff knees.\n",
    )
    .write(
        "notes/sub/sleep.md",
        "# Sleep\n\nCramps wake some sleepers at night.\n",
    )
    .write(
        "papers/gout.txt",
        "Gout\n\nGout pain strikes the big toe first.\n",
    )
    .write(
        "papers/iron.md",
        "# Iron\n\nLow ferritin goes with restless legs.\n",
    );
    kb
}

fn canonical(kb: &Sandbox, folder: &str) -> String {
    fs::canonicalize(kb.path(folder))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_second_folder_is_added_beside_the_first() {
    let kb = two_folders();
    assert_eq!(kb.build(&["notes"]).counts(), (2, 0, 0, 0));
    let second = kb.build(&["papers"]);
    assert_eq!(second.counts(), (2, 0, 0, 0));
    assert_eq!(second.report.documents, 4);
    let roots = [canonical(&kb, "notes"), canonical(&kb, "papers")];
    assert_eq!(second.report.roots, roots);
    assert_eq!(kb.open().info().roots, roots);
    assert_eq!(
        all_ids(&kb.open()),
        [
            "notes/sub/sleep.md#0",
            "notes/walking.md#0",
            "papers/gout.txt#0",
            "papers/iron.md#0"
        ]
    );
    // An update without paths walks both.
    assert_eq!(kb.build(&[]).counts(), (0, 0, 0, 4));
}

#[test]
fn every_spelling_of_a_folder_is_one_root() {
    let kb = two_folders();
    kb.build(&["notes"]);
    let absolute = kb.path("notes").to_string_lossy().into_owned();
    for spelling in ["./notes/", "notes/../notes", "notes//", absolute.as_str()] {
        let again = kb.build(&[spelling]);
        assert_eq!(again.counts(), (0, 0, 0, 2), "{spelling}");
        assert_eq!(again.report.roots, [canonical(&kb, "notes")], "{spelling}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(kb.path("notes"), kb.path("alias")).unwrap();
        assert_eq!(kb.build(&["alias"]).counts(), (0, 0, 0, 2));
        assert_eq!(kb.open().info().roots, [canonical(&kb, "notes")]);
    }
    assert_eq!(kb.open().info().documents, 2);
}

#[test]
fn a_file_or_folder_inside_a_root_updates_only_that_part() {
    let kb = two_folders();
    kb.build(&["notes", "papers"]);
    kb.write(
        "notes/walking.md",
        "# Walking\n\nUphill walks build the calves.\n",
    );
    kb.write(
        "notes/sub/sleep.md",
        "# Sleep\n\nCramps wake some sleepers before dawn.\n",
    );
    let one = kb.build(&["notes/sub/sleep.md"]);
    assert_eq!(one.counts(), (0, 1, 0, 0));
    assert_eq!(one.report.documents, 4);
    assert_eq!(
        one.report.roots.len(),
        2,
        "a file inside a root is no root of its own"
    );
    let index = kb.open();
    assert_eq!(search(&index, "dawn").results.len(), 1);
    assert!(
        search(&index, "calves").results.is_empty(),
        "the other edit waits"
    );

    // A folder inside a root: files gone from it go, the rest of the root stays.
    kb.write("notes/sub/naps.md", "# Naps\n\nShort naps restore attention.\n");
    fs::remove_file(kb.path("notes/sub/sleep.md")).unwrap();
    assert_eq!(kb.build(&["notes/sub"]).counts(), (1, 0, 1, 0));
    assert_eq!(kb.build(&[]).counts(), (0, 1, 0, 3));
}

#[test]
fn a_folder_holding_roots_takes_them_in() {
    let kb = two_folders();
    kb.build(&["notes/sub"]);
    kb.build(&["papers"]);
    let outer = kb.build(&["notes"]);
    // The document of the inner root keeps its name: nothing is read twice or twice indexed.
    assert_eq!(outer.counts(), (1, 0, 0, 1));
    assert_eq!(
        outer.report.roots,
        [canonical(&kb, "notes"), canonical(&kb, "papers")]
    );
}

#[test]
fn documents_are_named_relative_to_the_folder_holding_the_index_when_inside_it() {
    let kb = two_folders();
    let elsewhere = tempfile::tempdir().unwrap();
    fs::write(
        elsewhere.path().join("far.md"),
        "# Far\n\nThe far passage on otters.\n",
    )
    .unwrap();
    let far = fs::canonicalize(elsewhere.path()).unwrap();
    let recorder = crate::util::Recorder::default();
    indexer::build(
        &[kb.path("notes"), far.clone()],
        &kb.path(INDEX),
        BuildOptions::default(),
        &recorder,
    )
    .unwrap();
    let index = kb.open();
    assert_eq!(
        search(&index, "otters").results[0].passage.source.path,
        format!("{}/far.md", far.display())
    );
    assert_eq!(
        search(&index, "knees").results[0].passage.source.path,
        "notes/walking.md"
    );
    // An index inside the folder it holds never indexes its own files.
    let inside = Sandbox::new();
    inside.write("a.md", "# A\n\nThe inner passage.\n");
    inside.try_build("idx", &["."], BuildOptions::default()).unwrap();
    inside.write("idx/stray.md", "# Stray\n\nNot a document.\n");
    let again = inside.try_build("idx", &[], BuildOptions::default()).unwrap();
    assert_eq!(again.counts(), (0, 0, 0, 1));
    // Nor does it walk them: none is reported as a file left out.
    assert!(again.report.skipped.is_empty(), "{:?}", again.report.skipped);
    assert_eq!(all_ids(&Index::open(&inside.path("idx")).unwrap()), ["a.md#0"]);
}

#[test]
fn an_update_of_every_root_removes_documents_of_no_root_and_a_named_one_keeps_them() {
    let kb = two_folders();
    kb.build(&["notes"]);
    let mut writer = when_unlocked(|| IndexWriter::update(&kb.path(INDEX))).unwrap();
    let stray = citedex::formats::read(
        citedex::formats::Format::Markdown,
        b"# Stray\n\nAdded by another program.\n",
        "stray",
    )
    .unwrap();
    writer.add("elsewhere/stray.md", &stray).unwrap();
    writer.commit().unwrap();
    assert_eq!(kb.build(&["notes"]).report.documents, 3);
    let all = kb.build(&[]);
    assert_eq!(all.counts(), (0, 0, 1, 2));
    assert_eq!(all.report.documents, 2);
}

#[test]
fn a_root_that_disappears_is_kept_until_removed_or_pruned() {
    let kb = two_folders();
    kb.build(&["notes", "papers"]);
    let papers = canonical(&kb, "papers");
    fs::remove_dir_all(kb.path("papers")).unwrap();
    let update = kb.build(&[]);
    update.assert_warned("papers no longer exists; its documents are kept until `citedex remove papers`");
    assert_eq!(update.counts(), (0, 0, 0, 2));
    assert_eq!((update.report.documents, update.report.missing.len()), (4, 1));

    let full = BuildOptions {
        full: true,
        ..BuildOptions::default()
    };
    let refused = kb.try_build(INDEX, &[], full).err().expect("refused");
    assert!(matches!(refused, BuildError::MissingRoot(_)), "{refused}");
    assert_eq!(kb.open().info().documents, 4, "a refused rebuild changes nothing");

    let prune = BuildOptions {
        prune: true,
        ..BuildOptions::default()
    };
    let pruned = kb.try_build(INDEX, &[], prune).unwrap();
    assert_eq!(pruned.report.pruned, [papers]);
    assert_eq!((pruned.report.removed, pruned.report.documents), (2, 2));
    assert_eq!(kb.open().info().roots, [canonical(&kb, "notes")]);
}

#[test]
fn remove_forgets_a_root_by_any_spelling_and_refuses_what_is_no_root() {
    let kb = two_folders();
    kb.build(&["notes", "papers"]);
    let index_dir = kb.path(INDEX);
    let not_a_root =
        when_unlocked(|| indexer::remove_roots(&[kb.path("notes/sub")], &index_dir)).unwrap_err();
    assert_eq!(
        not_a_root.to_string(),
        format!(
            "{} is not a root of this index; its roots are: notes, papers",
            kb.path("notes/sub").display()
        )
    );
    let removed = when_unlocked(|| indexer::remove_roots(&[kb.path("papers/./")], &index_dir)).unwrap();
    assert_eq!(
        (removed.roots.as_slice(), removed.removed),
        (&["papers".to_string()][..], 2)
    );
    assert_eq!((removed.info.documents, removed.info.roots.len()), (2, 1));
    // A root that is gone is named by the path it had.
    fs::remove_dir_all(kb.path("notes")).unwrap();
    let gone: PathBuf = kb.path("notes");
    assert_eq!(
        when_unlocked(|| indexer::remove_roots(std::slice::from_ref(&gone), &index_dir))
            .unwrap()
            .removed,
        2
    );
    let index = kb.open();
    assert!(index.info().roots.is_empty() && index.info().documents == 0);
}

#[test]
fn status_counts_each_roots_documents() {
    let kb = two_folders();
    kb.build(&["notes", "papers"]);
    fs::remove_dir_all(kb.path("papers")).unwrap();
    let summaries = indexer::root_summaries(&kb.open()).unwrap();
    let shown: Vec<(&str, usize, bool)> = summaries
        .iter()
        .map(|root| (root.name.as_str(), root.documents, root.exists))
        .collect();
    assert_eq!(shown, [("notes", 2, true), ("papers", 2, false)]);
    assert_eq!(summaries[0].path, canonical(&kb, "notes"));
    let status = kb.open().status().unwrap();
    assert_eq!((status.info.documents, status.info.passages), (4, 4));
    assert!(status.bytes > 0);
}

#[test]
fn a_full_rebuild_of_an_index_this_release_cannot_open_keeps_its_roots() {
    let kb = two_folders();
    kb.build(&["notes"]);
    kb.build(&["papers"]);
    // The index tells the user to rebuild: another schema version.
    let index = kb.path(INDEX);
    let meta_path = live_generation(&index).join("meta.json");
    let meta = fs::read_to_string(&meta_path).unwrap();
    let version = format!("\\\"schema_version\\\":{}", citedex::SCHEMA_VERSION);
    assert!(meta.contains(&version), "{meta}");
    fs::write(&meta_path, meta.replace(&version, "\\\"schema_version\\\":999")).unwrap();
    assert!(Index::open(&index).is_err());
    let full = BuildOptions {
        full: true,
        ..BuildOptions::default()
    };
    let rebuilt = kb.try_build(INDEX, &[], full).unwrap();
    let roots = [canonical(&kb, "notes"), canonical(&kb, "papers")];
    assert_eq!(rebuilt.report.roots, roots);
    assert_eq!(rebuilt.report.documents, 4);
}
