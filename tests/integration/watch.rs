//! `citedex watch`, through the binary: an update after each change, a watched folder deleted
//! and made again.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use crate::util::Sandbox;

/// A running `citedex watch` whose standard error lines can be waited for.
struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    fn start(kb: &Sandbox, root: &str) -> Watch {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("citedex"))
            .current_dir(kb.dir.path())
            .env_remove("CITEDEX_INDEX")
            .args(["watch", root])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (sender, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                if sender.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        let watch = Watch { child, lines };
        watch.wait_for(&format!("watching {root} for changes"));
        watch
    }

    /// The next line holding `needle`; a generous wait, as the machine may be busy.
    fn wait_for(&self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => continue,
                Err(error) => panic!("no line with {needle:?}: {error}"),
            }
        }
    }

    /// Waits for the next update's summary and checks what it counts.
    fn expect_update(&self, counts: &str) {
        let update = self.wait_for("indexed");
        assert!(update.contains(counts), "{update}");
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// Defect 11: after `rm -rf kb; mkdir kb`, watch kept running but never updated again.
#[test]
fn watch_follows_its_folder_when_it_is_deleted_and_made_again() {
    let kb = Sandbox::new();
    kb.write("kb/one.md", "# One\n\nThe heron waits.\n");
    kb.write("kb/two.md", "# Two\n\nThe egret waits.\n");
    let watch = Watch::start(&kb, "kb");

    // Deleted, noticed, then made again.
    fs::remove_dir_all(kb.path("kb")).unwrap();
    watch.wait_for("kb is gone; waiting for it to come back");
    kb.write("kb/three.md", "# Three\n\nThe quokka hops.\n");
    watch.wait_for("kb is back; watching it again");
    watch.expect_update("(1 added, 0 changed, 2 removed, 0 unchanged)");
    kb.write("kb/four.md", "# Four\n\nThe wombat digs.\n");
    watch.expect_update("(1 added, 0 changed, 0 removed, 1 unchanged)");

    // Replaced at once (the new folder may even get the old one's inode number).
    fs::remove_dir_all(kb.path("kb")).unwrap();
    kb.write("kb/five.md", "# Five\n\nThe numbat eats.\n");
    watch.expect_update("(1 added, 0 changed, 2 removed, 0 unchanged)");
    kb.write("kb/six.md", "# Six\n\nThe bilby burrows.\n");
    watch.expect_update("(1 added, 0 changed, 0 removed, 1 unchanged)");
    assert_eq!(kb.citedex(&["search", "bilby"]).status.code(), Some(0));
}

#[test]
fn watch_updates_the_index_when_a_file_changes() {
    let kb = Sandbox::new();
    kb.write("kb/one.md", "# One\n\nThe heron waits.\n");
    kb.write("kb/two.md", "# Two\n\nThe egret waits.\n");
    let watch = Watch::start(&kb, "kb");
    kb.write("kb/new.md", "# New\n\nThe quokka lives on islands.\n");
    watch.expect_update("(1 added, 0 changed, 0 removed, 2 unchanged)");
    assert_eq!(kb.citedex(&["search", "quokka"]).status.code(), Some(0));
    fs::remove_file(kb.path("kb/new.md")).unwrap();
    watch.expect_update("(0 added, 0 changed, 1 removed, 2 unchanged)");
}
