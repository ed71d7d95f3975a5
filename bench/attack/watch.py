#!/usr/bin/env python3
"""`citedex watch` at rest and under a burst of deletions (issue 13 defect 11, issue 15 defect 1).

1. Idle: over a tree of --notes notes, the CPU time watch uses in --seconds of quiet, measured
   from /proc/PID/stat, once after it starts and once after it handled a change (an update reads
   every file, which must not schedule the next update). Target: under 1% of a core.
2. Burst: a subfolder of --burst notes is deleted file by file (--pause ms apart); watch must
   commit once, after the burst, with every file removed, never a half-deleted snapshot.

Linux only. Not a test: run it by hand on a release build.

    python3 bench/attack/watch.py [--citedex PATH] [--notes 600] [--seconds 30] [--burst 1000]
"""
import os
import pathlib
import queue
import subprocess
import sys
import threading
import time

from common import ENV, arguments, bench, parse, write_corpus

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU time of a process so far."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Watch:
    """A running `citedex watch` whose standard error lines can be waited for."""

    def __init__(self, binary, index, root):
        self.process = subprocess.Popen(
            [binary, "--index", str(index), "watch", str(root)],
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, needle, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if needle in line:
                return line

    def drain(self):
        """The lines printed since the last look."""
        lines = []
        while not self.lines.empty():
            lines.append(self.lines.get())
        return lines

    def idle_cpu(self, seconds):
        """Percent of one core used over `seconds` of quiet, and the updates printed meanwhile."""
        self.drain()
        before = cpu_seconds(self.process.pid)
        time.sleep(seconds)
        used = cpu_seconds(self.process.pid) - before
        updates = [line for line in self.drain() if "indexed" in line]
        return 100 * used / seconds, updates

    def stop(self):
        self.process.kill()
        self.process.wait()


def main():
    parser = arguments(__doc__)
    parser.add_argument("--notes", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--pause", type=float, default=2, help="ms between deletions")
    args = parse(parser)
    with bench.scratch() as work:
        tree = work / "tree"
        paths = write_corpus(tree, args.notes)
        watch = Watch(args.binary, work / "index", tree)
        try:
            watch.wait_for("watching")
            time.sleep(2)  # let the first build's own events pass
            percent, updates = watch.idle_cpu(args.seconds)
            print(f"idle after start:  {percent:.2f}% of a core over {args.seconds:.0f} s, "
                  f"{len(updates)} updates")
            idle = [percent]
            paths[0].write_text(paths[0].read_text() + "\nOne more sentence about walking.\n")
            print("after one change: " + watch.wait_for("indexed"))
            time.sleep(2)
            percent, updates = watch.idle_cpu(args.seconds)
            print(f"idle after update: {percent:.2f}% of a core over {args.seconds:.0f} s, "
                  f"{len(updates)} updates")
            idle.append(percent)

            burst = tree / "burst"
            write_corpus(burst, args.burst, seed=2)
            print("burst folder added: " + watch.wait_for("indexed"))
            time.sleep(2)
            watch.drain()
            started = time.monotonic()
            for path in sorted(burst.rglob("*.md")):
                path.unlink()
                time.sleep(args.pause / 1000)
            took = time.monotonic() - started
            time.sleep(5)
            updates = [line for line in watch.drain() if "indexed" in line]
            print(f"burst of {args.burst} deletions over {took:.1f} s: {len(updates)} updates")
            for line in updates:
                print("  " + line)
            whole = len(updates) == 1 and f"{args.burst} removed" in updates[0]
        finally:
            watch.stop()
    sys.exit(0 if whole and max(idle) < 1 else 1)


if __name__ == "__main__":
    main()
