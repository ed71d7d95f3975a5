#!/usr/bin/env python3
"""Readers during rebuilds (issue 13, defect 1): repeated builds of one index, with two search
loops and one export loop reading it all the while. Every search must succeed and no export may
print an empty or partial list. Not a test: run it by hand on a release build.

    python3 bench/attack/concurrent_rebuilds.py [--citedex PATH] [--builds 100] [--notes N]
                                                 [--updates]

With --notes N the corpus is N generated notes; by default it is a copy of the bundled corpus/.
Builds are `index --full`; with --updates they are incremental updates instead, each after one
note was rewritten (with as many passages as before, so every export has the same length).
"""
import collections
import shutil
import sys
import threading

from common import REPO, arguments, bench, citedex, finish, parse, write_corpus

QUERIES = ["numbness legs", "\"pins and needles\"", "nerve OR vein", "sciatica", "diab*"]


def main():
    parser = arguments(__doc__)
    parser.add_argument("--builds", type=int, default=100)
    parser.add_argument("--notes", type=int, default=0, help="generated notes instead of corpus/")
    parser.add_argument("--updates", action="store_true", help="incremental updates, not --full")
    args = parse(parser)
    with bench.scratch() as work:
        corpus = work / "corpus"
        if args.notes:
            write_corpus(corpus, args.notes)
        else:
            shutil.copytree(REPO / "corpus", corpus)
        edited = corpus / "edited.md"
        edited.write_text("# Edited\n\nEdit 0 of a note about walking.\n")
        index = work / "index"
        first = citedex(args.binary, index, "index", "--full", str(corpus))
        if first.returncode != 0:
            sys.exit(f"the first build failed: {first.stderr.decode()}")
        expected = len(citedex(args.binary, index, "export").stdout.splitlines())

        stop = threading.Event()
        counts = collections.Counter()
        failures = []
        lock = threading.Lock()

        def record(kind, ok, detail=""):
            with lock:
                counts[kind] += 1
                if not ok:
                    counts[kind + " failed"] += 1
                    if len(failures) < 10:
                        failures.append(f"{kind}: {detail.strip()}")

        def search_loop(offset):
            turn = offset
            while not stop.is_set():
                query = QUERIES[turn % len(QUERIES)]
                turn += 1
                run = citedex(args.binary, index, "search", "-n", "5", "--", query)
                record("search", run.returncode in (0, 1), run.stderr.decode())

        def export_loop():
            while not stop.is_set():
                run = citedex(args.binary, index, "export")
                lines = len(run.stdout.splitlines())
                ok = run.returncode == 0 and lines == expected
                record("export", ok, f"exit {run.returncode}, {lines} lines: {run.stderr.decode()}")

        readers = [threading.Thread(target=search_loop, args=(n,)) for n in range(2)]
        readers.append(threading.Thread(target=export_loop))
        for reader in readers:
            reader.start()
        try:
            for build in range(args.builds):
                if args.updates:
                    edited.write_text(f"# Edited\n\nEdit {build + 1} of a note about walking.\n")
                    run = citedex(args.binary, index, "index", str(corpus))
                else:
                    run = citedex(args.binary, index, "index", "--full", str(corpus))
                record("build", run.returncode == 0, run.stderr.decode())
        finally:
            # Also when scratch() stops the run on SIGTERM: the readers must end before their
            # folder goes, and the process would otherwise wait for them forever.
            stop.set()
            for reader in readers:
                reader.join()
        generations = [p.name for p in index.iterdir() if p.name.startswith("gen-")]

    for kind in ("build", "search", "export"):
        print(f"{kind:7} {counts[kind]:6} runs, {counts[kind + ' failed']} failed")
    print(f"export  {expected} passages expected each time")
    print(f"generations left after the last build: {len(generations)}")
    finish(failures)


if __name__ == "__main__":
    main()
