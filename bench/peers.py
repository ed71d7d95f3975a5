#!/usr/bin/env python3
"""Peer benchmark: citedex against other local full-text indexers on the scale corpus.

    python3 bench/peers.py [--data DIR] [--runs N] [--only NAMES] [--citedex BINARY]

Build table: each indexer builds an index of the raw HTML pages from scratch, --runs times
(5 by default), the indexers taking turns in a new order each round; wall time, CPU time
(user + system) and peak resident memory come from GNU time, the index size from the files
written; figures are medians. Search table: one query, whole process, hot cache, top 10, timed
taking turns like bench/search.py. Not a test: run it by hand.

Peers (Debian packages xapian-omega, xapian-tools, recollcmd, ripgrep, sqlite3; pagefind from
the npm registry, installed in the temporary folder unless --pagefind names a binary):
- Xapian omindex, searched with `quest`;
- Recoll `recollindex` with a private configuration folder (spelling dictionary off: its aspell
  step fails under the C locale), searched with `recollq`, with and without abstracts;
- pagefind (its search runs in a browser, so it has no search figure);
- Python's html.parser + SQLite FTS5 (bench/fts5_load.py html);
- SQLite FTS5 on the passages citedex extracted (bench/fts5_load.py passages): indexing alone;
- `rg -il` over the raw HTML: searching without an index.
"""
import argparse
import glob
import pathlib
import random
import shutil
import sqlite3
import subprocess

import common

HERE = pathlib.Path(__file__).resolve().parent
PAGEFIND_VERSION = "1.6.0"
BUILDS = ["citedex", "omindex", "recoll", "pagefind", "html.parser+fts5", "fts5-passages"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_data_argument(parser)
    parser.add_argument("--runs", type=int, default=5, help="builds of each indexer (default 5)")
    parser.add_argument("--search-runs", type=int, default=11,
                        help="timed rounds of searches (default 11)")
    parser.add_argument("--only", default=",".join(BUILDS),
                        help=f"comma-separated builds to run (default: all of {','.join(BUILDS)})")
    parser.add_argument("--query", default="memory management", help="the search query")
    parser.add_argument("--pagefind", type=pathlib.Path,
                        help=f"pagefind binary (default: npm install pagefind@{PAGEFIND_VERSION})")
    args = parser.parse_args()
    chosen = args.only.split(",")
    unknown = set(chosen) - set(BUILDS)
    if unknown:
        parser.error(f"unknown builds {sorted(unknown)}; choose from {BUILDS}")

    docs = common.ensure_docs(args.data)
    citedex = common.citedex_binary(args)
    machine = common.machine_line()
    with common.scratch() as work:
        corpus = common.replicate(docs, work / "corpus", 1)
        pages, html_bytes = common.corpus_size(corpus)
        common.log("reading the corpus once, so that every build starts with it cached")
        for page in corpus.rglob("*.html"):
            page.read_bytes()
        passages = work / "passages.jsonl"
        if "fts5-passages" in chosen:
            common.log("citedex index and export: the passages for FTS5")
            common.measure([citedex, "--index", work / "seed", "index", "--full", corpus], ok=(0, 2))
            common.export_passages(citedex, work / "seed", passages)
            shutil.rmtree(work / "seed")
        pagefind = None
        if "pagefind" in chosen:
            pagefind = args.pagefind.resolve() if args.pagefind else install_pagefind(work / "npm")
        commands = {
            "citedex": lambda out: [citedex, "--index", out, "index", "--full", corpus],
            "omindex": lambda out: ["omindex", "--db", out, "--url", "/", corpus],
            "recoll": lambda out: recoll_command(out, corpus),
            "pagefind": lambda out: [pagefind, "--site", corpus, "--output-path", out, "--quiet"],
            "html.parser+fts5": lambda out: fts5_load_command("html", corpus, out),
            "fts5-passages": lambda out: fts5_load_command("passages", passages, out),
        }
        results = {name: [] for name in chosen}
        last, failed = {}, {}
        order = list(chosen)
        for turn in range(args.runs):
            random.Random(turn).shuffle(order)
            for name in (name for name in order if name not in failed):
                out = work / f"{name}-{turn}"
                common.log(f"round {turn + 1}/{args.runs}: {name}")
                try:
                    run = common.measure(commands[name](out), ok=(0, 2) if name == "citedex" else (0,))
                except common.CommandFailed as error:
                    # One peer that breaks (a missing package) costs its own row, not the run.
                    common.log(f"{name} failed, left out of the next rounds: {error}")
                    failed[name] = str(error).splitlines()[0]
                    continue
                results[name].append((run.wall, run.cpu, run.peak_mib, common.tree_bytes(out)))
                if name in last:
                    shutil.rmtree(last[name], ignore_errors=True)
                last[name] = out

        cells = search_cells(args.query, citedex, corpus, last)
        common.log(f"timing {len(cells)} searches, 2 warm-up + {args.search_runs} rounds")
        samples = common.time_alternating(cells, args.search_runs, warmups=2)
        versions = tool_versions(chosen, citedex, pagefind)

    print("## Build, raw HTML to index\n")
    print(f"{machine}; `{common.command_line()}`; corpus {pages} pages, "
          f"{html_bytes / 2**20:.0f} MiB ({common.package_versions(args.data)}); medians of "
          f"{args.runs} builds taking turns.\n")
    print(common.markdown_table(
        ["build", "wall s", "CPU s", "peak RSS MiB", "index MB"],
        [[f"{LABELS[name]} ({versions[name]})" if versions.get(name) else LABELS[name],
          f"{common.median(r[0] for r in runs):.1f}", f"{common.median(r[1] for r in runs):.1f}",
          f"{common.median(r[2] for r in runs):,.0f}", f"{common.median(r[3] for r in runs) / 1e6:.0f}"]
         for name, runs in results.items() if runs]))
    for name, reason in failed.items():
        print(f"\n{LABELS[name]} failed: {reason}")
    print()
    print(f"## One search, whole process, hot cache, top 10: `{args.query}`\n")
    print(f"Medians of {args.search_runs} rounds taking turns, after 2 warm-up rounds.\n")
    print(common.markdown_table(
        ["search", "wall ms", "CPU ms"],
        [[name, common.ms(common.median(w for w, _ in runs)), common.ms(common.median(c for _, c in runs))]
         for name, runs in samples.items()]))


LABELS = {
    "citedex": "citedex `index --full`",
    "omindex": "Xapian omindex",
    "recoll": "Recoll recollindex",
    "pagefind": "pagefind",
    "html.parser+fts5": "Python html.parser + SQLite FTS5",
    "fts5-passages": "SQLite FTS5 on passages already extracted",
}


def recoll_command(out, corpus):
    """recollindex with a configuration folder of its own (the index goes inside it)."""
    out.mkdir()
    (out / "recoll.conf").write_text(f"topdirs = {corpus}\nnoaspell = 1\n", encoding="utf-8")
    return ["recollindex", "-c", out]


def fts5_load_command(kind, source, out):
    out.mkdir()
    return ["python3", HERE / "fts5_load.py", kind, source, out / "fts5.db"]


def install_pagefind(folder):
    """Installs pagefind from the npm registry into folder; returns the native binary the npm
    runner would pick (the runner is a node script, which would add node's start-up)."""
    folder.mkdir()
    common.log(f"npm install pagefind@{PAGEFIND_VERSION}")
    subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--silent",
                    f"pagefind@{PAGEFIND_VERSION}"], cwd=folder, check=True)
    for name in ("pagefind_extended", "pagefind"):
        native = glob.glob(str(folder / "node_modules" / "@pagefind" / "*" / "bin" / name))
        if native:
            return pathlib.Path(native[0])
    return folder / "node_modules" / ".bin" / "pagefind"


def search_cells(query, citedex, corpus, built):
    """The searches on the last index each tool built; rg needs none."""
    cells = {"start-up floor (`true`)": (["true"], (0,))}
    if "citedex" in built:
        index = built["citedex"]
        cells["citedex (text)"] = ([citedex, "--index", index, "search", "-n", "10", query], (0, 1))
        cells["citedex --json"] = ([citedex, "--index", index, "search", "--json", "-n", "10", query],
                                   (0, 1))
    if "fts5-passages" in built:
        database = built["fts5-passages"] / "fts5.db"
        for label, any_word in (("any word", True), ("all words", False)):
            cells[f"sqlite3 FTS5 bm25() + snippet(), {label}"] = (
                ["sqlite3", "-readonly", database, common.fts5_search_sql(query, 10, any_word)], (0,))
    if "omindex" in built:
        cells["Xapian `quest -m 10`"] = (["quest", "-d", built["omindex"], "-m", "10", query], (0,))
    if "recoll" in built:
        config = built["recoll"]
        cells["`recollq -o -n 10`"] = (["recollq", "-c", config, "-o", "-n", "10", query], (0,))
        cells["`recollq -o -n 10 -A` (abstracts)"] = (
            ["recollq", "-c", config, "-o", "-n", "10", "-A", query], (0,))
    cells["`rg -il` over the raw HTML (no index)"] = (["rg", "-il", query, corpus], (0, 1))
    return cells


def tool_versions(chosen, citedex, pagefind):
    def first_line(command):
        proc = subprocess.run(command, capture_output=True, text=True)
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else ""
    versions = {"citedex": common.citedex_label(citedex)}
    if "omindex" in chosen:
        versions["omindex"] = first_line(["omindex", "--version"]).split()[-1]
    if "recoll" in chosen:
        versions["recoll"] = first_line(["recollq", "-v"]).split()[1]
    if pagefind:
        versions["pagefind"] = first_line([pagefind, "--version"]).split()[-1]
    for name in ("html.parser+fts5", "fts5-passages"):
        versions[name] = f"SQLite {sqlite3.sqlite_version}"
    return versions


if __name__ == "__main__":
    common.entry_point(main)
