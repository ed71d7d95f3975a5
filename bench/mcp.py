#!/usr/bin/env python3
"""MCP server benchmark: one client connection makes many `search` calls to one `citedex mcp`
process (a release build), sampling the server's resident memory as it goes, and in the same run
times whole-process `citedex search --json` on the same queries. Not a test: run it by hand.

    python3 bench/mcp.py [--corpus DIR] [--calls N] [--citedex PATH]

The client writes JSON-RPC lines itself (standard library only), so the latency is the server's
and the pipe's, not a client library's. The corpus (the bundled `corpus/` by default) is indexed
into a temporary folder first.
"""
import argparse
import itertools
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
QUERIES = ["memory management", "asyncio event loop", "pathlib glob pattern", "interrupt handler",
           "kernel module parameters", "numbness in the legs", "thread pool executor",
           "nerve conduction study", "regular expression groups", "herniated disc sciatica"]
# Whole-process searches of each query.
WHOLE_PROCESS_RUNS = 5
# Pings timed before the searches, for the cost of the protocol alone.
PINGS = 100


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


class Connection:
    """A `citedex mcp` process and its initialized JSON-RPC connection."""

    def __init__(self, citedex, index):
        self.process = subprocess.Popen([str(citedex), "--index", str(index), "mcp"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.last_id = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "citedex-bench", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message):
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def request(self, method, params):
        self.last_id += 1
        self.send({"jsonrpc": "2.0", "id": self.last_id, "method": method, "params": params})
        response = json.loads(self.process.stdout.readline())
        if "error" in response:
            sys.exit(f"{method} failed: {response['error']}")
        return response["result"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(REPO / "corpus"))
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--citedex", help="a citedex binary to use instead of building one")
    args = parser.parse_args()
    if args.citedex:
        citedex = pathlib.Path(args.citedex)
    else:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=REPO, check=True)
        citedex = REPO / "target" / "release" / "citedex"
    print("load average at the start: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    work = pathlib.Path(tempfile.mkdtemp(prefix="citedex-mcp-bench-"))
    index = work / "index"
    built = subprocess.run([str(citedex), "--index", str(index), "index", "--full", args.corpus],
                           capture_output=True, text=True)
    if built.returncode not in (0, 2):
        sys.exit(f"citedex index failed with {built.returncode}: {built.stderr[-2000:]}")
    print(built.stderr.strip().splitlines()[-1])

    # Resident memory is sampled after the first calls, then every tenth of the run.
    samples = {1, 10, 100} | {args.calls * tenth // 10 for tenth in range(1, 11)}
    connection = Connection(citedex, index)
    calls = {query: [] for query in QUERIES}
    rss, hits = {}, 0
    pings = []
    for _ in range(PINGS):
        start = time.perf_counter()
        connection.request("ping", {})
        pings.append(time.perf_counter() - start)
    for call, query in zip(range(1, args.calls + 1), itertools.cycle(QUERIES)):
        start = time.perf_counter()
        result = connection.request("tools/call", {"name": "search", "arguments": {"query": query, "limit": 10}})
        calls[query].append(time.perf_counter() - start)
        hits += len(result["structuredContent"]["results"])
        if call in samples:
            rss[call] = rss_kib(connection.process.pid)
    connection.close()

    whole = {query: [] for query in QUERIES}
    for _ in range(WHOLE_PROCESS_RUNS):
        for query in QUERIES:
            start = time.perf_counter()
            subprocess.run([str(citedex), "--index", str(index), "search", "--json", "-n", "10", query],
                           capture_output=True)
            whole[query].append(time.perf_counter() - start)
    shutil.rmtree(work)

    def ms(seconds):
        return f"{1000 * seconds:.2f} ms"

    print(f"\n| query | MCP call, median | whole process, median |\n| --- | --- | --- |")
    for query in QUERIES:
        print(f"| {query} | {ms(statistics.median(calls[query]))} | {ms(statistics.median(whole[query]))} |")
    every_call = sorted(itertools.chain(*calls.values()))
    every_run = list(itertools.chain(*whole.values()))
    median, whole_median = statistics.median(every_call), statistics.median(every_run)
    print(f"| all | {ms(median)} | {ms(whole_median)} |\n")
    print(f"{len(every_call)} search calls on one connection ({hits} passages returned): median {ms(median)}, "
          f"90th percentile {ms(every_call[len(every_call) * 9 // 10])}, slowest {ms(every_call[-1])}; "
          f"a ping (the protocol round trip alone) answers in {ms(statistics.median(pings))}")
    print(f"whole-process `citedex search --json -n 10`, {len(every_run)} runs: median {ms(whole_median)}, "
          f"{whole_median / median:.1f}x the median call")
    print("server RSS after call " + ", ".join(f"{call}: {kib / 1024:.1f} MiB" for call, kib in sorted(rss.items())))
    print(f"growth from call 100 to call {args.calls}: {(rss[args.calls] - rss[100]) / 1024:+.1f} MiB")


if __name__ == "__main__":
    main()
