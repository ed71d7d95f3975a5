#!/usr/bin/env python3
"""Search benchmark: whole-process `citedex search -n 10` (text and --json) against SQLite FTS5
on the very same passages, at 1x and 4x copies of the scale corpus, for a query with hits, a
miss and a typo, all timed in one run and taking turns. Not a test: run it by hand.

    python3 bench/search.py [--data DIR] [--runs N] [--citedex BINARY]

FTS5 runs in the sqlite3 command-line program (a native binary like citedex, so both pay only
process start-up), with the passages `citedex export` prints, bm25() ranking (`rank`) and
snippet(), matching any of the query's words (citedex's semantics) and, as a second figure, all of
them (FTS5's default). Prints Markdown tables of medians on standard output, progress on
standard error.
"""
import argparse
import json
import subprocess

import common

TOOLS = ["citedex text", "citedex --json", "FTS5 any", "FTS5 all"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_data_argument(parser)
    parser.add_argument("--runs", type=int, default=11, help="timed rounds (default 11)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--copies", type=int, default=4, help="the larger corpus (default 4x)")
    parser.add_argument("--limit", type=int, default=10, help="results per search (default 10)")
    parser.add_argument("--hit", default="memory management", help="a query with hits")
    parser.add_argument("--miss", default="flibbertigibbet", help="a word in no document")
    parser.add_argument("--typo", default="interupt", help="a misspelling of a common word")
    args = parser.parse_args()
    queries = {"hit": args.hit, "miss": args.miss, "typo": args.typo}

    docs = common.ensure_docs(args.data)
    citedex = common.citedex_binary(args)
    machine = common.machine_line()
    with common.scratch() as work:
        scales = [1, args.copies]
        # Start-up floors: any process, and the Python a FTS5 search from Python would start.
        setup, cells = [], {"true": (["true"], (0,)),
                            "python3": (["python3", "-c", "import sqlite3"], (0,))}
        for copies in scales:
            corpus = common.replicate(docs, work / f"corpus-{copies}x", copies)
            index, database = work / f"index-{copies}x", work / f"fts5-{copies}x.db"
            common.log(f"{copies}x: citedex index --full")
            build = common.measure([citedex, "--index", index, "index", "--full", corpus], ok=(0, 2))
            exported = work / f"passages-{copies}x.jsonl"
            passages = common.export_passages(citedex, index, exported)
            common.log(f"{copies}x: loading {passages} passages into FTS5")
            db = common.create_fts5(database)
            common.load_passages(db, exported)
            db.close()
            exported.unlink()
            pages, html_bytes = common.corpus_size(corpus)
            hits = []
            for kind, query in queries.items():
                total, notes = citedex_hits(citedex, index, query, args.limit)
                hits.append(f"{kind}: {total} / {common.fts5_count(database, query)} / "
                            f"{common.fts5_count(database, query, any_word=False)}"
                            + (f" ({notes})" if notes else ""))
                cells[(copies, kind, "citedex text")] = (
                    [citedex, "--index", index, "search", "-n", str(args.limit), query], (0, 1))
                cells[(copies, kind, "citedex --json")] = (
                    [citedex, "--index", index, "search", "--json", "-n", str(args.limit), query],
                    (0, 1))
                for tool, any_word in (("FTS5 any", True), ("FTS5 all", False)):
                    cells[(copies, kind, tool)] = (
                        ["sqlite3", "-readonly", database,
                         common.fts5_search_sql(query, args.limit, any_word)], (0,))
            setup.append([f"{copies}x", pages, f"{html_bytes / 2**20:.0f}", passages,
                          f"{build.wall:.1f}", f"{build.peak_mib:.0f}",
                          f"{common.tree_bytes(index) / 2**20:.1f}",
                          f"{common.tree_bytes(database) / 2**20:.1f}", "; ".join(hits)])
        common.log(f"timing {len(cells)} cells, {args.warmups} warm-up + {args.runs} rounds")
        samples = common.time_alternating(cells, args.runs, args.warmups)

    wall = {cell: common.median(w for w, _ in runs) for cell, runs in samples.items()}
    cpu = {cell: common.median(c for _, c in runs) for cell, runs in samples.items()}
    print(f"## Search, whole process, top {args.limit}\n")
    print(f"{machine}; citedex {common.citedex_label(citedex)}; `{common.command_line()}`; medians of "
          f"{args.runs} rounds taking turns (after {args.warmups} warm-up rounds, hot cache); "
          f"start-up floors: `true` {common.ms(wall['true'])} ms, `python3 -c 'import sqlite3'` "
          f"{common.ms(wall['python3'])} ms.\n")
    print(f"Corpus: {common.package_versions(args.data)}, HTML pages only.\n")
    print(f"Queries: hit `{args.hit}`, miss `{args.miss}`, typo `{args.typo}`. \"FTS5 any\" "
          f"matches any of the words, as citedex does; \"FTS5 all\" all of them, FTS5's default "
          f"(the same search for a one-word query).\n")
    print(common.markdown_table(
        ["corpus", "pages", "HTML MiB", "passages", "citedex build s", "build peak MiB",
         "citedex index MiB", "FTS5 db MiB", "matching passages: citedex / FTS5 any / FTS5 all"], setup))
    print()
    rows = []
    for copies in scales:
        for kind in queries:
            figures = [wall[(copies, kind, tool)] for tool in TOOLS]
            ratios = [f"{own / fts5:.2f}" for own in figures[:2] for fts5 in figures[2:]]
            rows.append([f"{copies}x", kind, *map(common.ms, figures), *ratios])
    print("Wall time, ms (median):\n")
    print(common.markdown_table(["corpus", "query", *TOOLS, "text / FTS5 any", "text / FTS5 all",
                                 "--json / FTS5 any", "--json / FTS5 all"], rows))
    print()
    print("CPU time (user + system), ms (median):\n")
    print(common.markdown_table(
        ["corpus", "query", *TOOLS],
        [[f"{copies}x", kind, *(common.ms(cpu[(copies, kind, tool)]) for tool in TOOLS)]
         for copies in scales for kind in queries]))
    print()

    def ratio(cell, other):
        """Wall ratio, with the CPU ratio beside it: the steadier one on a busy machine."""
        return f"{wall[cell] / wall[other]:.2f} (CPU {cpu[cell] / cpu[other]:.2f})"

    big = scales[-1]
    print(f"Growth, {big}x / 1x, medians (wall, and CPU):\n")
    print(common.markdown_table(
        ["query", *TOOLS],
        [[kind, *(ratio((big, kind, tool), (1, kind, tool)) for tool in TOOLS)] for kind in queries]))
    print()
    print("citedex, a miss and a typo against the query with hits, medians (wall, and CPU):\n")
    print(common.markdown_table(
        ["corpus", "output", "miss / hit", "typo / hit"],
        [[f"{copies}x", tool.removeprefix("citedex "),
          ratio((copies, "miss", tool), (copies, "hit", tool)),
          ratio((copies, "typo", tool), (copies, "hit", tool))]
         for copies in scales for tool in TOOLS[:2]]))


def citedex_hits(citedex, index, query, limit):
    """citedex's total hits for a query and the notes it printed (a correction, an expansion)."""
    proc = subprocess.run([citedex, "--index", index, "search", "--json", "-n", str(limit), query],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise common.CommandFailed(f"citedex search {query!r} failed: {proc.stderr}")
    total = json.loads(proc.stdout)["total_hits"]
    notes = [line.removeprefix("citedex: ") for line in proc.stderr.splitlines()]
    return total, "; ".join(notes)


if __name__ == "__main__":
    common.entry_point(main)
