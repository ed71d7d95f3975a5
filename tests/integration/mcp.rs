//! `citedex mcp`: driven by the official MCP Python SDK when `.ci/run` has installed it, and by
//! JSON-RPC lines written here for following new commits and refusing bad calls.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

use crate::util::{Sandbox, bundled_corpus, stderr};

/// The variable naming the Python of a virtual environment that holds the `mcp` package.
const PYTHON_VARIABLE: &str = "CITEDEX_MCP_PYTHON";

#[test]
fn the_official_python_client_searches_reads_and_is_refused_bad_calls() {
    let Some(python) = std::env::var_os(PYTHON_VARIABLE) else {
        eprintln!(
            "skipped: {PYTHON_VARIABLE} is not set, so the official MCP client does not drive the \
             server (`.ci/run` installs it and sets the variable)"
        );
        return;
    };
    let kb = Sandbox::new();
    let corpus = bundled_corpus();
    let built = kb.citedex(&["index", corpus.to_str().unwrap()]);
    assert_eq!(built.status.code(), Some(0), "{}", stderr(&built));
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py");
    let output = Command::new(python)
        .arg(client)
        .arg(assert_cmd::cargo::cargo_bin("citedex"))
        .arg(kb.path(".citedex"))
        .current_dir(kb.dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    let steps = String::from_utf8_lossy(&output.stdout);
    assert!(
        steps.contains("ok: the server still answers after the bad calls"),
        "{steps}"
    );
}

/// A `citedex mcp` process spoken to in JSON-RPC lines, initialized.
struct Session {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    last_id: u64,
}

impl Session {
    fn start(kb: &Sandbox) -> Session {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("citedex"))
            .arg("mcp")
            .current_dir(kb.dir.path())
            .env_remove("CITEDEX_INDEX")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut session = Session {
            input: child.stdin.take().unwrap(),
            output: BufReader::new(child.stdout.take().unwrap()),
            child,
            last_id: 0,
        };
        let initialized = session.request(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "citedex-tests", "version": "1"}
            }),
        );
        assert_eq!(
            initialized["result"]["serverInfo"]["name"], "citedex",
            "{initialized}"
        );
        session.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        session
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.input, "{message}").unwrap();
        self.input.flush().unwrap();
    }

    /// Sends a request and reads its response: every line the server writes must be JSON-RPC.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.last_id += 1;
        let id = self.last_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        let response: Value = serde_json::from_str(&line).unwrap_or_else(|error| panic!("{error}: {line:?}"));
        assert_eq!(response["jsonrpc"], "2.0", "{response}");
        assert_eq!(response["id"], id, "{response}");
        response
    }

    /// Calls a tool: its structured answer, or the protocol error.
    fn call(&mut self, tool: &str, arguments: Value) -> Result<Value, Value> {
        let mut response = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        match response.get_mut("error") {
            Some(error) => Err(error.take()),
            None => Ok(response["result"]["structuredContent"].take()),
        }
    }

    fn ids(&mut self, query: &str) -> Vec<String> {
        let found = self.call("search", json!({"query": query})).unwrap();
        let results = found["results"].as_array().unwrap();
        results
            .iter()
            .map(|hit| hit["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Closes the connection and returns what the server wrote on standard error.
    fn finish(mut self) -> String {
        drop(self.input);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
        let mut notes = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut notes)
            .unwrap();
        notes
    }
}

const NUMBNESS: &str = "---\ntitle: Numbness\n---\n## Causes\n\nA pinched nerve numbs the leg.\n";
const FISH: &str = "---\ntitle: Fish\n---\n## Models\n\nThe zebrafish regrows its nerves.\n";

/// A knowledge base of one indexed document, and a server over it.
fn serving_one_document() -> (Sandbox, Session) {
    let kb = Sandbox::new();
    kb.write("corpus/sources/numbness.md", NUMBNESS);
    assert_eq!(kb.citedex(&["index"]).status.code(), Some(0));
    let session = Session::start(&kb);
    (kb, session)
}

#[test]
fn the_server_follows_new_commits_without_a_restart() {
    let (kb, mut session) = serving_one_document();
    assert!(session.ids("zebrafish").is_empty());

    // An update commits into the live generation.
    kb.write("corpus/sources/fish.md", FISH);
    assert_eq!(kb.citedex(&["index"]).status.code(), Some(0));
    assert_eq!(session.ids("zebrafish"), ["corpus/sources/fish.md#0"]);
    assert_eq!(session.call("status", json!({})).unwrap()["documents"], 2);

    // A full build makes a new generation live, while the server answers.
    std::fs::remove_file(kb.path("corpus/sources/numbness.md")).unwrap();
    let builds = std::thread::scope(|scope| {
        let builder = scope.spawn(|| {
            (0..3)
                .map(|_| kb.citedex(&["index", "--full"]).status.code())
                .collect::<Vec<_>>()
        });
        while !builder.is_finished() {
            assert!(
                session
                    .ids("zebrafish nerve")
                    .contains(&"corpus/sources/fish.md#0".to_string())
            );
        }
        builder.join().unwrap()
    });
    assert_eq!(builds, [Some(0); 3]);
    assert_eq!(session.ids("zebrafish"), ["corpus/sources/fish.md#0"]);
    assert_eq!(session.call("status", json!({})).unwrap()["documents"], 1);
    let notes = session.finish();
    assert!(notes.contains("changed; now serving 2 documents"), "{notes}");
    assert!(notes.contains("changed; now serving 1 document,"), "{notes}");
}

#[test]
fn bad_calls_are_refused_and_the_server_goes_on() {
    let (_kb, mut session) = serving_one_document();
    let refusals = [
        ("frobnicate", json!({}), "unknown tool \"frobnicate\""),
        (
            "search",
            json!({"query": "nerve", "limit": 51}),
            "limit must be between 1 and 50, not 51",
        ),
        (
            "search",
            json!({"query": "nerve ".repeat(250)}),
            "the limit is 1000",
        ),
        (
            "search",
            json!({"query": "nerve", "limit": "ten"}),
            "bad arguments for search",
        ),
        (
            "search",
            json!({"query": "nerve", "section": "\"\""}),
            "section filter",
        ),
        (
            "show",
            json!({"id": "corpus/sources/numbness.md#7"}),
            "no passage",
        ),
        (
            "sources",
            json!({"limit": 0}),
            "limit must be between 1 and 500, not 0",
        ),
        ("status", json!({"verbose": true}), "unknown field `verbose`"),
    ];
    for (tool, arguments, reason) in refusals {
        let error = session.call(tool, arguments).unwrap_err();
        assert_eq!(error["code"], -32602, "{error}");
        assert!(error["message"].as_str().unwrap().contains(reason), "{error}");
    }
    let unknown_method = session.request("resources/read", json!({"uri": "file:///etc/passwd"}));
    assert!(unknown_method.get("error").is_some(), "{unknown_method}");
    assert_eq!(session.ids("pinched"), ["corpus/sources/numbness.md#0"]);
    let shown = session
        .call(
            "show",
            json!({"id": "corpus/sources/numbness.md#0", "context": 0}),
        )
        .unwrap();
    assert_eq!(shown["heading_path"], json!(["Numbness", "Causes"]));
    session.finish();
}

#[test]
fn filters_hold_whatever_the_query_holds() {
    let kb = Sandbox::new();
    kb.write("corpus/sources/numbness.md", NUMBNESS);
    kb.write(
        "corpus/articles/legs.md",
        "---\ntitle: Legs\n---\n## Nerves\n\nA nerve in the back can numb the leg.\n",
    );
    assert_eq!(kb.citedex(&["index"]).status.code(), Some(0));
    let mut session = Session::start(&kb);
    // Query text that is broken or carries syntax of its own, built from a few pieces.
    let pieces = [
        "\"",
        "(",
        ")",
        "OR",
        "AND",
        "NOT",
        "-",
        "\\",
        "kind:source",
        "title:numbness",
    ];
    let mut found_the_article = 0;
    for first in pieces {
        for second in pieces {
            let query = format!("nerve {first} leg {second}");
            let found = session
                .call(
                    "search",
                    json!({"query": query, "kind": "article", "section": "nerves"}),
                )
                .unwrap_or_else(|error| panic!("{query:?}: {error}"));
            for hit in found["results"].as_array().unwrap() {
                assert_eq!(hit["id"], "corpus/articles/legs.md#0", "{query:?}: {found}");
                found_the_article += 1;
            }
        }
    }
    assert!(found_the_article > pieces.len(), "{found_the_article}");
    // Two documents, listed one at a time in path order.
    let first = session.call("sources", json!({"limit": 1})).unwrap();
    assert_eq!((&first["total"], &first["next_offset"]), (&json!(2), &json!(1)));
    assert_eq!(first["documents"][0]["path"], "corpus/articles/legs.md");
    let second = session.call("sources", json!({"offset": 1})).unwrap();
    assert_eq!(second["documents"][0]["path"], "corpus/sources/numbness.md");
    assert!(second.get("next_offset").is_none(), "{second}");
    session.finish();
}
