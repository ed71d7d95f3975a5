#!/usr/bin/env python3
"""MCP server benchmark: one client connection makes many `search` calls to one `citedex mcp`
process, sampling the server's resident memory as it goes, and in the same run whole-process
`citedex search --json` times the same queries. Not a test: run it by hand.

    python3 bench/mcp.py [--data DIR] [--corpus DIR] [--calls N] [--runs N] [--citedex BINARY]

The scale corpus is indexed into a temporary folder first (`--corpus corpus` takes the bundled
one instead). The client writes the JSON-RPC lines itself (standard library only), so a call's
time is the server's and the pipe's, not a client library's; pings before the searches measure
the protocol alone. Resident memory (`VmRSS`) is read after calls 1, 10 and 100 and after every
tenth of the run. Prints Markdown tables on standard output, progress on standard error.
"""
import argparse
import itertools
import json
import pathlib
import subprocess
import time

import common

QUERIES = ["memory management", "asyncio event loop", "pathlib glob pattern", "interrupt handler",
           "kernel module parameters", "numbness in the legs", "thread pool executor",
           "nerve conduction study", "regular expression groups", "herniated disc sciatica"]
LIMIT = 10
PINGS = 100


def ms(seconds):
    """Milliseconds with two decimals: a call takes about one."""
    return f"{1000 * seconds:.2f}"


def rss_mib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise common.CommandFailed(f"no VmRSS for process {pid}")


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
        """Sends a request and returns how long its answer took, with the answer."""
        self.last_id += 1
        start = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": self.last_id, "method": method, "params": params})
        response = json.loads(self.process.stdout.readline())
        elapsed = time.perf_counter() - start
        if "error" in response:
            raise common.CommandFailed(f"{method} {params} failed: {response['error']}")
        return elapsed, response["result"]

    def close(self):
        self.process.stdin.close()
        if self.process.wait() != 0:
            raise common.CommandFailed(f"citedex mcp exited with {self.process.returncode}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_data_argument(parser)
    parser.add_argument("--corpus", type=pathlib.Path,
                        help="index this folder instead of the scale corpus (`corpus` for the bundled one)")
    parser.add_argument("--calls", type=int, default=1000, help="search calls on the connection (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="whole-process rounds of every query (default 5)")
    args = parser.parse_args()
    corpus = args.corpus or common.ensure_docs(args.data)
    citedex = common.citedex_binary(args)
    machine = common.machine_line()
    with common.scratch() as work:
        index = work / "index"
        common.log(f"citedex index --full {corpus}")
        built = common.measure([citedex, "--index", index, "index", "--full", corpus], ok=(0, 2))
        summary = built.proc.stderr.decode().strip().splitlines()[-1].removeprefix("citedex: ")

        common.log(f"{args.calls} search calls on one connection")
        connection = Connection(citedex, index)
        pings = [connection.request("ping", {})[0] for _ in range(PINGS)]
        calls = {query: [] for query in QUERIES}
        samples = {1, 10, 100} | {args.calls * tenth // 10 for tenth in range(1, 11)}
        rss = {}
        for call, query in zip(range(1, args.calls + 1), itertools.cycle(QUERIES)):
            elapsed, _ = connection.request("tools/call", {"name": "search",
                                                           "arguments": {"query": query, "limit": LIMIT}})
            calls[query].append(elapsed)
            if call in samples:
                rss[call] = rss_mib(connection.process.pid)
        connection.close()

        common.log(f"whole-process searches, {args.runs} rounds")
        cells = {query: ([citedex, "--index", index, "search", "--json", "-n", str(LIMIT), query], (0, 1))
                 for query in QUERIES}
        whole = common.time_alternating(cells, args.runs)

    every_call = sorted(itertools.chain(*calls.values()))
    every_run = [wall for runs in whole.values() for wall, _ in runs]
    call_median, whole_median = common.median(every_call), common.median(every_run)
    print("## The MCP server: search calls on one connection\n")
    print(f"{machine}; citedex {common.citedex_label(citedex)}; `{common.command_line()}`; {summary}.\n")
    rows = [[f"`{query}`", ms(common.median(calls[query])),
             ms(common.median(wall for wall, _ in whole[query])),
             f"{common.median(wall for wall, _ in whole[query]) / common.median(calls[query]):.1f}"]
            for query in QUERIES]
    rows.append(["all", ms(call_median), ms(whole_median), f"{whole_median / call_median:.1f}"])
    print(f"Median wall time, ms: {args.calls} calls (each query in turn, `limit` {LIMIT}) against "
          f"{args.runs} whole `citedex search --json -n {LIMIT}` processes of each query, taking turns:\n")
    print(common.markdown_table(["query", "MCP call", "whole process", "ratio"], rows))
    print(f"\nCalls: 90th percentile {ms(every_call[len(every_call) * 9 // 10])} ms, slowest "
          f"{ms(every_call[-1])} ms; a ping (the protocol alone) {ms(common.median(pings))} ms.\n")
    print("Server resident memory (VmRSS), MiB, after call:\n")
    print(common.markdown_table([str(call) for call in sorted(rss)], [[f"{rss[call]:.1f}" for call in sorted(rss)]]))
    if 100 in rss:
        print(f"\nFrom call 100 to call {args.calls}: {rss[args.calls] - rss[100]:+.1f} MiB.")


if __name__ == "__main__":
    common.entry_point(main)
