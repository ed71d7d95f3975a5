#!/usr/bin/env python3
"""Scale benchmark: index Debian's HTML documentation (linux-doc-6.1 and python3.11-doc, about
3,700 pages) with a release build of citedex, and compare with SQLite FTS5 indexing the very
passages citedex extracted, in the same run. Also times an incremental update after one file
changes, against the full build. Not a test: run it by hand.

    python3 bench/scale.py [--data DIR] [--runs N] [--citedex BINARY]

Each build is timed --runs times (3 by default), the three kinds taking turns so that a slow
moment of the machine hits all of them; the figures are medians, with the range over runs.
"""
import argparse
import json
import statistics
import subprocess
import time

import common


def write_markdown(passages, folder):
    """Writes the passages of each page, in order, as one Markdown file with its title in front
    matter and its heading path as headings."""
    pages = {}
    for passage in passages:
        pages.setdefault(passage["source"]["path"], []).append(passage)
    folder.mkdir()
    for number, page in enumerate(pages.values()):
        parts = [f"---\ntitle: {json.dumps(page[0]['source']['title'])}\n---\n"]
        open_headings = []
        for passage in page:
            section = passage["section"]
            shared = 0
            while shared < min(len(section), len(open_headings)) and section[shared] == open_headings[shared]:
                shared += 1
            for level in range(shared, len(section)):
                heading = " ".join(section[level].split())
                parts.append(f"{'#' * min(level + 1, 6)} {heading}\n")
            open_headings = section
            parts.append(passage["text"] + "\n")
        (folder / f"{number:05}.md").write_text("\n".join(parts), encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_data_argument(parser)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    docs = common.ensure_docs(args.data)
    citedex = common.citedex_binary(args)
    print(f"{common.machine_line()}; {common.package_versions(args.data)}")
    with common.scratch() as work:
        measure(citedex, docs, work, args.runs)


def measure(citedex, docs, work, runs):
    # Real copies, not links: the incremental update below changes a file of the corpus.
    corpus = common.replicate(docs, work / "docs", 1, link=False)
    pages, html_bytes = common.corpus_size(corpus)
    index = work / "index"

    def full_build():
        return common.measure([citedex, "--index", index, "index", "--full", corpus], ok=(0, 2))
    full_runs = [full_build()]
    first_summary = full_runs[0].proc.stderr.decode().strip().splitlines()[-1]

    exported = work / "passages.jsonl"
    common.export_passages(citedex, index, exported)
    with open(exported, encoding="utf-8") as lines:
        passages = [json.loads(line) for line in lines]
    passage_bytes = sum(len(p["text"].encode()) for p in passages)
    rows = [common.passage_row(p) for p in passages]

    # The same passages as Markdown files, one per page with its headings: citedex's own indexing
    # cost without HTML parsing, to split the ratio between the parser and the rest.
    markdown = work / "markdown"
    write_markdown(passages, markdown)

    def markdown_build():
        return common.measure([citedex, "--index", work / "md-index", "index", "--full", markdown],
                              ok=(0, 2))

    def fts5_build():
        db = common.create_fts5(work / "fts.db")
        start, cpu_start = time.perf_counter(), time.process_time()
        with db:
            db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?)", rows)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        db.close()
        return seconds, cpu

    md_runs, fts_runs = [], []
    for turn in range(runs):
        if turn > 0:
            full_runs.append(full_build())
        md_runs.append(markdown_build())
        fts_runs.append(fts5_build())
    full_s = statistics.median(run.wall for run in full_runs)
    full_cpu = statistics.median(run.cpu for run in full_runs)
    full_mib = max(run.peak_mib for run in full_runs)
    md_s = statistics.median(run.wall for run in md_runs)
    md_cpu = statistics.median(run.cpu for run in md_runs)
    md_mib = max(run.peak_mib for run in md_runs)
    fts_s = statistics.median(seconds for seconds, _ in fts_runs)
    fts_cpu = statistics.median(cpu for _, cpu in fts_runs)

    def spread(values):
        values = list(values)
        return f"{min(values):.2f}-{max(values):.2f} s over {len(values)} runs"

    queries = ["memory management", "asyncio event loop", "pathlib glob pattern", "interrupt handler",
               "kernel module parameters", "unicode normalization", "thread pool executor",
               "page cache writeback", "regular expression groups", "dma mapping"]
    latencies = []
    for query in queries:
        start = time.perf_counter()
        subprocess.run([citedex, "--index", index, "search", "--json", query], capture_output=True,
                       check=True)
        latencies.append(time.perf_counter() - start)
    latencies.sort()

    changed = sorted(corpus.rglob("*.html"))[len(rows) % 97]
    with open(changed, "a", encoding="utf-8") as f:
        f.write("<p>An added paragraph about benchmarking incremental updates.</p>\n")
    update = common.measure([citedex, "--index", index, "index", corpus], ok=(0, 2))
    summary = update.proc.stderr.decode().strip().splitlines()[-1]

    print(f"corpus: {pages} HTML pages, {html_bytes / 2**20:.0f} MiB; {len(passages)} passages, "
          f"{passage_bytes / 2**20:.1f} MiB of passage text")
    print(f"  {first_summary}")
    print(f"citedex full build:     {full_s:7.2f} s ({spread(r.wall for r in full_runs)}), "
          f"CPU {full_cpu:.2f} s, peak RSS {full_mib:.0f} MiB")
    print(f"SQLite FTS5 (baseline): {fts_s:7.2f} s ({spread(r[0] for r in fts_runs)}), CPU "
          f"{fts_cpu:.2f} s; passages already extracted, one transaction")
    print(f"ratio full build / FTS5: {full_s / fts_s:.2f}x wall, {full_cpu / fts_cpu:.2f}x CPU "
          f"(target: at most 1.5x)")
    print(f"citedex on the same passages as Markdown: {md_s:.2f} s ({spread(r.wall for r in md_runs)}), "
          f"CPU {md_cpu:.2f} s, peak RSS {md_mib:.0f} MiB; {md_s / fts_s:.2f}x FTS5, so HTML reading "
          f"is {full_s - md_s:.2f} s ({full_cpu - md_cpu:.2f} s of CPU) of the full build")
    print(f"search, whole process, {len(queries)} queries: median "
          f"{1000 * latencies[len(latencies) // 2]:.0f} ms, slowest {1000 * latencies[-1]:.0f} ms")
    print(f"incremental, 1 file changed: {update.wall:.2f} s, peak RSS {update.peak_mib:.0f} MiB; "
          f"{100 * update.wall / full_s:.1f}% of the full build (target: under 5%)")
    print(f"  {summary}")


if __name__ == "__main__":
    common.entry_point(main)
