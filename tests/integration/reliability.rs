//! Faults and hostile use (issue 13), through the binary where they are the process's: damaged
//! index files, garbled `CURRENT`, folders citedex did not make, file modes, control characters,
//! colliding file names, runaway explanations, readers during rebuilds, builds killed midway.
//! Each test reproduces one defect; the hostile inputs are made here, not kept as fixtures.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use citedex::{Index, SearchResults, StoredPassage};

use crate::util::{
    Lcg, Sandbox, all_ids, assert_stderr_has, live_generation, random_markdown, stderr, stdout,
};

/// The largest file of the live generation whose name ends in `.{extension}`.
fn largest_segment_file(kb: &Sandbox, extension: &str) -> PathBuf {
    fs::read_dir(live_generation(&kb.path(".citedex")))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .max_by_key(|path| fs::metadata(path).unwrap().len())
        .unwrap_or_else(|| panic!("no .{extension} file"))
}

/// How a file of the index is damaged.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Its middle half overwritten with pseudo-random bytes.
    Garbled,
    /// Its second half gone.
    CutShort,
}

fn damage(file: &Path, how: Damage) {
    let mut bytes = fs::read(file).unwrap();
    let length = bytes.len();
    match how {
        Damage::Garbled => {
            let mut state: u32 = 0x2545_f491;
            for byte in &mut bytes[length / 4..length * 3 / 4] {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *byte = state as u8;
            }
        }
        Damage::CutShort => bytes.truncate(length / 2),
    }
    fs::write(file, bytes).unwrap();
}

// Defect 6: a damaged segment file made search panic (exit 101) or print a raw tantivy error, and
// an incremental `index` reported everything unchanged and left the index broken.
#[test]
fn a_damaged_segment_file_is_reported_never_a_panic() {
    let cases = [
        ("pos", Damage::Garbled),
        ("idx", Damage::Garbled),
        ("term", Damage::Garbled),
        ("store", Damage::Garbled),
        ("fast", Damage::Garbled),
        ("fieldnorm", Damage::Garbled),
        ("idx", Damage::CutShort),
        ("store", Damage::CutShort),
    ];
    for (extension, how) in cases {
        let case = format!(".{extension} {how:?}");
        let kb = Sandbox::with_bundled_corpus();
        assert_eq!(kb.citedex(&["index"]).status.code(), Some(0), "{case}");
        assert_eq!(kb.citedex(&["check"]).status.code(), Some(0), "{case}");
        let file = largest_segment_file(&kb, extension);
        damage(&file, how);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();

        for args in [
            &["search", "--", "numbness", "legs"][..],
            &["search", "\"pins and needles\""][..],
            &["search", "--json", "numb*"][..],
            &["export"][..],
            &["sources"][..],
        ] {
            let output = kb.citedex(args);
            let err = stderr(&output);
            assert!(!err.contains("panicked"), "{case} {args:?}: {err}");
            match output.status.code() {
                // Some damage goes unseen by a search that does not read the damaged part.
                Some(0 | 1) => {}
                Some(2) => {
                    assert!(
                        err.contains("the index at .citedex is damaged"),
                        "{case} {args:?}: {err}"
                    );
                    assert!(err.contains("citedex index --full"), "{case} {args:?}: {err}");
                    assert_eq!(err.lines().count(), 1, "{case} {args:?}: {err}");
                }
                other => panic!("{case} {args:?}: exit {other:?}: {err}"),
            }
        }
        // Every damaged file is caught by its checksum, whether or not a search trips on it.
        for args in [&["index"][..], &["check"][..]] {
            let output = kb.citedex(args);
            assert_eq!(output.status.code(), Some(2), "{case} {args:?}");
            assert_stderr_has(&output, &name);
            assert_stderr_has(&output, "the index at .citedex is damaged");
            assert_stderr_has(&output, "rebuild it with `citedex index --full`");
        }
        assert_eq!(kb.citedex(&["index", "--full"]).status.code(), Some(0), "{case}");
        assert_eq!(kb.citedex(&["check"]).status.code(), Some(0), "{case}");
        assert_eq!(
            kb.citedex(&["search", "--", "numbness", "legs"]).status.code(),
            Some(0),
            "{case}"
        );
    }
}

#[test]
fn check_reports_a_sound_index_and_the_lack_of_one() {
    let kb = Sandbox::with_bundled_corpus();
    let output = kb.citedex(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_has(&output, "no index at .citedex");
    kb.citedex(&["index"]);
    let output = kb.citedex(&["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_stderr_has(&output, "the index at .citedex is sound");
    let report = Index::check(&kb.path(".citedex")).unwrap();
    assert!(report.is_sound(), "{report:?}");
    // 126 passages, 13 document records and the abbreviations learnt.
    assert!(report.entries > 126 + 13, "{report:?}");
    assert!(report.files >= 6 * report.segments, "{report:?}");
}

// Defect 1: a full build deleted the generation it replaced while searches still read it.
#[test]
fn a_generation_being_read_outlives_full_rebuilds() {
    let kb = Sandbox::with_bundled_corpus();
    assert_eq!(kb.citedex(&["index"]).status.code(), Some(0));
    let first_generation = live_generation(&kb.path(".citedex"));
    let reader = Index::open(&kb.path(".citedex")).unwrap();
    let before: Vec<StoredPassage> = reader.passages().unwrap().map(Result::unwrap).collect();
    for _ in 0..2 {
        assert_eq!(kb.citedex(&["index", "--full"]).status.code(), Some(0));
    }
    assert_ne!(live_generation(&kb.path(".citedex")), first_generation);
    assert!(first_generation.is_dir(), "a generation in use was removed");
    let after: Vec<StoredPassage> = reader.passages().unwrap().map(Result::unwrap).collect();
    assert_eq!(before, after);
    assert!(!before.is_empty());
    drop(reader);
    // Once nobody reads it, the next build removes it, and only the live generation is left.
    assert_eq!(kb.citedex(&["index", "--full"]).status.code(), Some(0));
    assert!(!first_generation.exists());
    let generations = fs::read_dir(kb.path(".citedex"))
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("gen-")
        })
        .count();
    assert_eq!(generations, 1);
}

// Defect 7: a garbled CURRENT made every command fail, `index --full` included.
#[cfg(unix)]
#[test]
fn a_garbled_current_never_blocks_a_full_rebuild() {
    let kb = Sandbox::with_bundled_corpus();
    assert_eq!(kb.citedex(&["index"]).status.code(), Some(0));
    let current = kb.path(".citedex/CURRENT");
    type Garbling<'a> = (&'a str, &'a dyn Fn(&Path));
    let garblings: [Garbling; 5] = [
        ("invalid UTF-8", &|path| {
            fs::write(path, b"gen-\xff\xfe\x00").unwrap()
        }),
        ("a path out of the index", &|path| {
            fs::write(path, "../../etc").unwrap()
        }),
        ("a generation that does not exist", &|path| {
            fs::write(path, "gen-0-0").unwrap()
        }),
        ("a folder", &|path| {
            fs::remove_file(path).unwrap();
            fs::create_dir_all(path.join("inside")).unwrap();
        }),
        ("a link to nowhere", &|path| {
            fs::remove_file(path).unwrap();
            std::os::unix::fs::symlink("/nonexistent/citedex", path).unwrap();
        }),
    ];
    for (what, garble) in garblings {
        garble(&current);
        let search = kb.citedex(&["search", "numbness"]);
        assert_eq!(search.status.code(), Some(2), "{what}");
        assert_stderr_has(&search, "is damaged");
        let rebuild = kb.citedex(&["index", "--full"]);
        assert_eq!(rebuild.status.code(), Some(0), "{what}: {}", stderr(&rebuild));
        assert_eq!(
            kb.citedex(&["search", "numbness"]).status.code(),
            Some(0),
            "{what}"
        );
        assert_eq!(kb.citedex(&["check"]).status.code(), Some(0), "{what}");
    }
}

// Defect 8: `--index` on a folder citedex did not make deleted whatever looked like a generation.
#[test]
fn a_folder_citedex_did_not_make_is_refused_and_left_alone() {
    let kb = Sandbox::with_bundled_corpus();
    kb.write("proj/gen-notes/a.txt", "important");
    let output = kb.citedex(&["--index", "proj", "index", "--full"]);
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_has(&output, "proj is not empty and is not a citedex index");
    assert_eq!(
        fs::read_to_string(kb.path("proj/gen-notes/a.txt")).unwrap(),
        "important"
    );
    assert_eq!(fs::read_dir(kb.path("proj")).unwrap().count(), 1);

    // In an index of its own, citedex removes only the generations it marked as its own.
    assert_eq!(kb.citedex(&["index"]).status.code(), Some(0));
    kb.write(".citedex/gen-mine/notes.txt", "mine");
    for _ in 0..2 {
        assert_eq!(kb.citedex(&["index", "--full"]).status.code(), Some(0));
    }
    assert_eq!(
        fs::read_to_string(kb.path(".citedex/gen-mine/notes.txt")).unwrap(),
        "mine"
    );

    // An empty folder is taken.
    fs::create_dir(kb.path("empty")).unwrap();
    assert_eq!(kb.citedex(&["--index", "empty", "index"]).status.code(), Some(0));
}

// Defect 9: index files were 0644 (0666 under umask 000) and an existing folder kept 0755.
#[cfg(unix)]
#[test]
fn every_index_file_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let kb = Sandbox::with_bundled_corpus();
    fs::create_dir(kb.path("shared")).unwrap();
    fs::set_permissions(kb.path("shared"), fs::Permissions::from_mode(0o755)).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("citedex");
    let under_umask_000 = |args: &str| {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("umask 000 && exec \"$0\" --index shared {args}"))
            .arg(&binary)
            .current_dir(kb.dir.path())
            .env_remove("CITEDEX_INDEX")
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{args}");
    };
    under_umask_000("index");
    kb.write("corpus/sources/new.md", "# New\n\nA new source on walking.\n");
    under_umask_000("index");
    under_umask_000("search walking");
    under_umask_000("index --full");
    fn assert_private(path: &Path) {
        for entry in fs::read_dir(path).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_dir() {
                assert_eq!(mode, 0o700, "{}", path.display());
                assert_private(&path);
            } else {
                assert_eq!(mode, 0o600, "{}", path.display());
            }
        }
    }
    let root_mode = fs::metadata(kb.path("shared")).unwrap().permissions().mode() & 0o777;
    assert_eq!(root_mode, 0o700);
    assert_private(&kb.path("shared"));
}

// Defect 10: titles, headings, passage text and file names reached the terminal with their
// escape sequences (clipboard writes, window titles, screen clears) and line breaks.
#[cfg(unix)]
#[test]
fn control_characters_from_the_corpus_are_shown_not_obeyed() {
    let kb = Sandbox::new();
    let clipboard = "\u{1b}]52;c;ZXZpbA==\u{7}";
    let window_title = "\u{1b}]0;owned\u{7}";
    let clear = "\u{1b}[2J";
    kb.write(
        &format!("kb/evil{clear}\nname.md"),
        &format!(
            "---\ntitle: Title {window_title} here\npublisher: Pub {clipboard}\n---\n\n## Heading {clear} one\n\nThe zebra text {clipboard} with a bell \u{7} and a C1 \u{9b}31m escape.\n"
        ),
    );
    kb.write(
        "kb/article.md",
        &format!("# Article\n\nAbout the zebra.\n\n## References\n\n- Unknown {window_title} work. Nobody Press, 2020.\n"),
    );
    // A file skipped with a warning is named on standard error, made visible too.
    kb.write(&format!("kb/empty{window_title}.md"), "");
    let indexed = kb.citedex(&["index", "kb"]);
    assert_stderr_has(&indexed, "indexed 2 documents");
    let obeyable = |text: &str| text.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    assert!(!obeyable(&stderr(&indexed)), "{:?}", stderr(&indexed));
    assert_stderr_has(&indexed, "kb/empty\\e]0;owned\\x07.md");
    let search = kb.citedex(&["search", "zebra"]);
    let sources = kb.citedex(&["sources"]);
    for (args, output) in [(&["search", "zebra"][..], &search), (&["sources"][..], &sources)] {
        let text = stdout(output);
        assert!(!obeyable(&text), "{args:?}: {text:?}");
        assert!(!obeyable(&stderr(output)), "{args:?}: {:?}", stderr(output));
        assert!(
            text.contains("\\e]52;c;ZXZpbA==\\x07") || args[0] == "search",
            "{text}"
        );
    }
    let text = stdout(&search);
    assert!(text.contains("kb/evil\\e[2J\\nname.md:8  #0"), "{text}");
    assert!(text.contains("Title \\e]0;owned\\x07 here"), "{text}");
    // JSON keeps the text as it is, escaped by JSON.
    let results: SearchResults =
        serde_json::from_slice(&kb.citedex(&["search", "--json", "zebra"]).stdout).unwrap();
    let evil = results
        .results
        .iter()
        .find(|hit| hit.passage.source.path.contains("evil"))
        .unwrap();
    assert!(evil.passage.text.contains(clipboard));
    assert_eq!(evil.passage.section, [format!("Heading {clear} one")]);
}

// Defect 12: `a\xff.md` and `a\xfe.md` got one path, and every update said "1 changed".
#[cfg(unix)]
#[test]
fn file_names_that_differ_only_in_invalid_bytes_stay_two_documents() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let kb = Sandbox::new();
    fs::create_dir(kb.path("kb")).unwrap();
    for (byte, animal) in [(0xff_u8, "otter"), (0xfe, "beaver")] {
        let name = [b"a".as_slice(), &[byte], b".md"].concat();
        fs::write(
            kb.path("kb").join(OsStr::from_bytes(&name)),
            format!("# Note\n\nThe {animal} swims.\n"),
        )
        .unwrap();
    }
    let first = kb.citedex(&["index", "kb"]);
    assert_stderr_has(&first, "indexed 2 documents");
    let second = kb.citedex(&["index", "kb"]);
    assert_stderr_has(&second, "(0 added, 0 changed, 0 removed, 2 unchanged)");
    let ids: Vec<String> = stdout(&kb.citedex(&["export"]))
        .lines()
        .map(|line| serde_json::from_str::<StoredPassage>(line).unwrap().id)
        .collect();
    assert_eq!(ids, ["kb/a\\xFE.md#0", "kb/a\\xFF.md#0"]);
}

// Defect 13: `--explain` over thousands of results took minutes and gigabytes, and a long
// query's error repeated the whole query.
#[test]
fn explanations_are_capped_and_a_long_query_is_quoted_in_part() {
    let kb = Sandbox::new();
    for i in 0..30 {
        let paragraphs: Vec<String> = (0..5)
            .map(|p| format!("## Part {p}\n\nThe walking note {i} part {p} tells of a walk."))
            .collect();
        kb.write(
            &format!("kb/n{i}.md"),
            &format!("# Note {i}\n\n{}\n", paragraphs.join("\n\n")),
        );
    }
    kb.citedex(&["index", "kb"]);
    let output = kb.citedex(&["search", "-n", "10000", "--json", "--explain", "--", "walk*"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let results: SearchResults = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.results.len(), 150);
    let explained = results
        .results
        .iter()
        .filter(|hit| hit.explanation.is_some())
        .count();
    assert_eq!(explained, 100);
    assert!(results.results[..100].iter().all(|hit| hit.explanation.is_some()));
    assert_stderr_has(&output, "scores are explained for the first 100 results only");

    let long_query = "walk ".repeat(20_000);
    let output = kb.citedex(&["search", &long_query]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stderr.len() < 300, "{}", stderr(&output));
    assert_stderr_has(&output, "(100000 characters)");
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
        let mut child = Command::new(&binary)
            .current_dir(kb.dir.path())
            .env_remove("CITEDEX_INDEX")
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
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
    kb.try_build("fresh", &["kb"], Default::default()).unwrap();
    let fresh = Index::open(&kb.path("fresh")).unwrap();
    assert_eq!(all_ids(&kb.open()), all_ids(&fresh));
}
