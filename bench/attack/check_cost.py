#!/usr/bin/env python3
"""What checking an index costs (issue 13, defect 6): `citedex check` on an index of the scale
corpus, and an incremental `index` (which verifies the live generation's checksums before it
builds on it) against a binary without that verification (--compare), taking turns.

    python3 bench/attack/check_cost.py --source DIR [--citedex PATH] [--compare PATH] [--runs 5]

DIR is a corpus folder, such as the 3,715 pages bench/scale.py downloads; it is copied, so that
one file can be changed between runs. Not a test: run it by hand on release builds.
"""
import resource
import shutil
import statistics
import sys
import time

from common import arguments, bench, citedex, parse


def cpu():
    """CPU time (user and system) of the finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(binary, index, *args):
    """Runs citedex; returns its wall time and CPU time, in seconds. On a busy machine the CPU
    time tells small differences apart that the wall time drowns. Not bench.measure(): GNU time
    prints CPU time in hundredths of a second, too coarse for the milliseconds a checksum
    verification costs; the rusage here counts microseconds."""
    start, start_cpu = time.perf_counter(), cpu()
    run = citedex(binary, index, *args)
    seconds = time.perf_counter() - start
    if run.returncode not in (0, 1):  # 1: a search that matched nothing
        sys.exit(f"{args} failed: {run.stderr.decode()}")
    return seconds, cpu() - start_cpu


def describe(times):
    wall = [seconds for seconds, _ in times]
    used = [cpu_seconds for _, cpu_seconds in times]
    return (
        f"wall median {statistics.median(wall):.3f} s ({min(wall):.3f} to {max(wall):.3f}), "
        f"CPU median {statistics.median(used):.3f} s"
    )


def main():
    parser = arguments(__doc__)
    parser.add_argument("--source", required=True)
    parser.add_argument("--compare", help="a citedex that does not verify checksums on update")
    parser.add_argument("--runs", type=int, default=5)
    args = parse(parser)
    with bench.scratch() as work:
        corpus = work / "corpus"
        shutil.copytree(args.source, corpus)
        files = [path for path in corpus.rglob("*") if path.is_file()]
        changed = max(files, key=lambda path: path.stat().st_size)
        original = changed.read_bytes()
        index = work / "index"
        print("full build: " + describe([timed(args.binary, index, "index", "--full", str(corpus))]))
        size = bench.tree_bytes(index)
        print(f"index size: {size / 2**20:.1f} MiB")
        print("check:                  " + describe([timed(args.binary, index, "check") for _ in range(args.runs)]))
        print("search:                 " + describe([timed(args.binary, index, "search", "kernel") for _ in range(args.runs)]))
        binaries = {"this citedex": args.binary}
        if args.compare:
            binaries["--compare"] = args.compare
        unchanged = {name: [] for name in binaries}
        one_change = {name: [] for name in binaries}
        for turn in range(args.runs):
            for name, binary in binaries.items():
                unchanged[name].append(timed(binary, index, "index", str(corpus)))
                changed.write_bytes(original + f"\n\nEdit {turn} by {name}.\n".encode())
                one_change[name].append(timed(binary, index, "index", str(corpus)))
        for name in binaries:
            print(f"update, nothing changed ({name}): " + describe(unchanged[name]))
            print(f"update, one file changed ({name}): " + describe(one_change[name]))


if __name__ == "__main__":
    main()
