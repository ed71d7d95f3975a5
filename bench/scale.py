#!/usr/bin/env python3
"""Scale benchmark: index Debian's HTML documentation (linux-doc-6.1 and python3.11-doc, about
3,700 pages) with a release build of citedex, and compare with SQLite FTS5 indexing the very
passages citedex extracted, in the same run. Also times an incremental update after one file
changes, against the full build. Not a test: run it by hand, it downloads two Debian packages.

    python3 bench/scale.py [--data DIR] [--runs N]

Each build is timed --runs times (3 by default), the three kinds taking turns so that a slow
moment of the machine hits all of them; the figures are medians, with the range over runs.
"""
import argparse
import json
import pathlib
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

PACKAGES = ["linux-doc-6.1", "python3.11-doc"]
REPO = pathlib.Path(__file__).resolve().parent.parent


def run(cmd, **kwargs):
    """Runs a command; returns (seconds, peak resident MiB, completed process). The peak comes from
    GNU time: a child's rusage from Python would count the memory of the forked Python too."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M", *cmd], **kwargs)
        seconds = time.perf_counter() - start
        peak_kib = int(report.read().split()[-1])
    return seconds, peak_kib / 1024, proc


def ensure_data(data):
    root = data / "root"
    if root.is_dir():
        return root
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=data, check=True)
    for deb in data.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


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
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(REPO / "target" / "bench-data"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = ensure_data(pathlib.Path(args.data))
    docs = root / "usr" / "share" / "doc"
    pages = sum(1 for _ in docs.rglob("*.html"))
    html_bytes = sum(p.stat().st_size for p in docs.rglob("*.html"))
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=REPO, check=True)
    citedex = REPO / "target" / "release" / "citedex"

    work = pathlib.Path(tempfile.mkdtemp(prefix="citedex-bench-"))
    corpus = work / "docs"
    # Only the HTML pages, once: the packages also ship the .rst sources as .txt, and a link that
    # shows the Python pages a second time under another folder.
    def leave_out(folder, names):
        paths = [pathlib.Path(folder) / name for name in names]
        return [p.name for p in paths if p.is_symlink() or (not p.is_dir() and p.suffix != ".html")]
    shutil.copytree(docs, corpus, symlinks=True, ignore=leave_out)
    index = work / "index"

    def full_build():
        seconds, mib, proc = run([str(citedex), "--index", str(index), "index", "--full", str(corpus)],
                                 capture_output=True)
        if proc.returncode not in (0, 2):
            sys.exit(f"citedex index failed with {proc.returncode}: {proc.stderr.decode()[-2000:]}")
        return seconds, mib, proc.stderr.decode().strip().splitlines()[-1]
    full_runs = [full_build()]

    exported = subprocess.run([str(citedex), "--index", str(index), "export"], capture_output=True, check=True)
    passages = [json.loads(line) for line in exported.stdout.splitlines()]
    passage_bytes = sum(len(p["text"].encode()) for p in passages)
    rows = [(p["source"]["title"], " ".join(p["section"]), p["text"]) for p in passages]

    # The same passages as Markdown files, one per page with its headings: citedex's own indexing
    # cost without HTML parsing, to split the ratio between the parser and the rest.
    markdown = work / "markdown"
    write_markdown(passages, markdown)

    def markdown_build():
        seconds, mib, proc = run([str(citedex), "--index", str(work / "md-index"), "index", "--full",
                                  str(markdown)], capture_output=True)
        if proc.returncode not in (0, 2):
            sys.exit(f"citedex index of the Markdown copy failed with {proc.returncode}")
        return seconds, mib

    def fts5_build():
        database = work / "fts.db"
        database.unlink(missing_ok=True)
        db = sqlite3.connect(str(database))
        db.execute("CREATE VIRTUAL TABLE passages USING fts5(title, section, body)")
        start = time.perf_counter()
        with db:
            db.executemany("INSERT INTO passages VALUES (?, ?, ?)", rows)
        seconds = time.perf_counter() - start
        db.close()
        return seconds

    md_runs, fts_runs = [], []
    for turn in range(args.runs):
        if turn > 0:
            full_runs.append(full_build())
        md_runs.append(markdown_build())
        fts_runs.append(fts5_build())
    full_s = statistics.median(seconds for seconds, _, _ in full_runs)
    full_mib = max(mib for _, mib, _ in full_runs)
    md_s = statistics.median(seconds for seconds, _ in md_runs)
    md_mib = max(mib for _, mib in md_runs)
    fts_s = statistics.median(fts_runs)

    def spread(values):
        return f"{min(values):.2f}-{max(values):.2f} s over {len(values)} runs"

    queries = ["memory management", "asyncio event loop", "pathlib glob pattern", "interrupt handler",
               "kernel module parameters", "unicode normalization", "thread pool executor",
               "page cache writeback", "regular expression groups", "dma mapping"]
    latencies = []
    for query in queries:
        start = time.perf_counter()
        subprocess.run([str(citedex), "--index", str(index), "search", "--json", query], capture_output=True, check=True)
        latencies.append(time.perf_counter() - start)
    latencies.sort()

    changed = sorted(corpus.rglob("*.html"))[len(rows) % 97]
    with open(changed, "a", encoding="utf-8") as f:
        f.write("<p>An added paragraph about benchmarking incremental updates.</p>\n")
    inc_s, inc_mib, proc = run([str(citedex), "--index", str(index), "index", str(corpus)], capture_output=True)
    summary = proc.stderr.decode().strip().splitlines()[-1]

    print(f"corpus: {pages} HTML pages, {html_bytes / 2**20:.0f} MiB; {len(passages)} passages, "
          f"{passage_bytes / 2**20:.1f} MiB of passage text")
    print(f"  {full_runs[0][2]}")
    print(f"citedex full build:     {full_s:7.2f} s ({spread([r[0] for r in full_runs])}), "
          f"peak RSS {full_mib:.0f} MiB")
    print(f"SQLite FTS5 (baseline): {fts_s:7.2f} s ({spread(fts_runs)}; passages already extracted, "
          f"one transaction)")
    print(f"ratio full build / FTS5: {full_s / fts_s:.2f}x (target: at most 1.5x)")
    print(f"citedex on the same passages as Markdown: {md_s:.2f} s ({spread([r[0] for r in md_runs])}), "
          f"peak RSS {md_mib:.0f} MiB; {md_s / fts_s:.2f}x FTS5, so HTML reading is {full_s - md_s:.2f} s "
          f"of the full build")
    print(f"search, whole process, {len(queries)} queries: median {1000 * latencies[len(latencies) // 2]:.0f} ms, "
          f"slowest {1000 * latencies[-1]:.0f} ms")
    print(f"incremental, 1 file changed: {inc_s:.2f} s, peak RSS {inc_mib:.0f} MiB; "
          f"{100 * inc_s / full_s:.1f}% of the full build (target: under 5%)")
    print(f"  {summary}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
