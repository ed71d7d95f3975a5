"""What the benchmark scripts share: the scale corpus (downloaded, extracted, copied), the release
build of citedex, timing a process, the SQLite FTS5 table every script compares with, and
printing tables. Not a test: nothing here runs under .ci/run.
"""
import contextlib
import datetime
import json
import os
import pathlib
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

PACKAGES = ["linux-doc-6.1", "python3.11-doc"]
REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO / "target" / "bench-data"

# One FTS5 table for every comparison: the passage's file (stored, not searched), its document
# title, its heading path and its text. The Porter stemmer because citedex stems English too.
FTS5_TABLE = ("CREATE VIRTUAL TABLE passages USING fts5(path UNINDEXED, title, section, body, "
              "tokenize = 'porter unicode61')")


def log(message):
    """Progress goes to standard error, so that standard output is only the tables."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def add_data_argument(parser):
    parser.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA,
                        help="folder of the scale corpus: reused if it holds docs/ (HTML pages "
                             "only), root/ (extracted packages) or the .deb files; downloaded "
                             f"there otherwise (default: {DEFAULT_DATA})")
    parser.add_argument("--citedex", type=pathlib.Path,
                        help="citedex binary to measure (default: a release build of this "
                             "repository, built with cargo first)")


def ensure_docs(data):
    """Returns data/docs, the HTML pages of the packages only, making it on first use from the
    extracted packages in data/root, from the .deb files in data, or from a fresh download."""
    docs = data / "docs"
    if docs.is_dir():
        return docs
    root = data / "root"
    if not root.is_dir():
        debs = find_debs(data) or download_debs(data)
        partial = data / "root.partial"
        shutil.rmtree(partial, ignore_errors=True)
        for deb in debs:
            log(f"extracting {deb.name}")
            subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True)
        partial.rename(root)
    partial = data / "docs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    copy_html(root / "usr" / "share" / "doc", partial, link=False)
    partial.rename(docs)
    return docs


def find_debs(data):
    """The newest .deb of each package in data, or None unless every package has one."""
    debs = []
    for package in PACKAGES:
        found = sorted(data.glob(f"{package}_*.deb"))
        if not found:
            return None
        debs.append(found[-1])
    return debs


def package_versions(data):
    """The package versions the corpus came from, as far as the .deb files in data tell."""
    debs = find_debs(data)
    if not debs:
        return "packages of unknown version"
    return ", ".join(" ".join(deb.stem.split("_")[:2]) for deb in debs)


def download_debs(data):
    """Downloads the packages with apt-get. A stale package list names versions the mirror no
    longer has (a 404 on the security pool), so on failure the list is updated and the download
    tried once more."""
    data.mkdir(parents=True, exist_ok=True)
    command = ["apt-get", "download", *PACKAGES]
    log(f"downloading {' '.join(PACKAGES)} into {data}")
    if subprocess.run(command, cwd=data).returncode != 0:
        if os.geteuid() != 0:
            sys.exit("bench: apt-get download failed; run `apt-get update` as root, or pass "
                     "--data with a folder that holds the packages")
        log("download failed; running apt-get update and trying again")
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(command, cwd=data, check=True)
    return find_debs(data)


def copy_html(source, destination, link):
    """Copies the .html files under source, and only them, to destination, keeping the folders.
    Symbolic links are left out: the packages link the Python pages a second time under another
    folder. With link, files are hard links where the file system allows."""
    def leave_out(folder, names):
        paths = [pathlib.Path(folder) / name for name in names]
        return [p.name for p in paths if p.is_symlink() or (not p.is_dir() and p.suffix != ".html")]

    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, destination, symlinks=True, ignore=leave_out,
                    copy_function=link_or_copy if link else shutil.copy2)


def replicate(docs, destination, copies, link=True):
    """Makes a corpus of `copies` copies of docs, side by side as copy1, copy2, ..., to be indexed
    as one corpus. Hard links by default: no tool here writes to its corpus."""
    destination.mkdir()
    for number in range(1, copies + 1):
        copy_html(docs, destination / f"copy{number}", link)
    return destination


def corpus_size(folder):
    """(number of HTML pages, their bytes) under folder."""
    pages = list(folder.rglob("*.html"))
    return len(pages), sum(p.stat().st_size for p in pages)


def tree_bytes(path):
    """Bytes of the files under path (or of the file path)."""
    path = pathlib.Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def citedex_binary(args):
    """The binary given with --citedex, or a fresh release build of this repository."""
    if args.citedex:
        return args.citedex.resolve()
    log("cargo build --release --locked")
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=REPO, check=True)
    return REPO / "target" / "release" / "citedex"


@contextlib.contextmanager
def scratch():
    """A temporary folder, removed at the end even when the run is interrupted (Ctrl-C or a
    plain kill): index folders and corpus copies are large."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="citedex-bench-"))

    def stop(signum, _frame):
        raise SystemExit(f"bench: stopped by signal {signum}")
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield folder
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(folder, ignore_errors=True)


class CommandFailed(Exception):
    """A measured command exited with an unexpected code."""


def entry_point(main):
    """Runs a script's main, turning a failed command into a one-line exit message."""
    try:
        main()
    except CommandFailed as error:
        sys.exit(f"bench: {error}")


class Measured:
    """One process run under GNU time: wall seconds, CPU seconds (user + system), peak resident
    MiB, and the completed process."""

    def __init__(self, wall, cpu, peak_mib, proc):
        self.wall, self.cpu, self.peak_mib, self.proc = wall, cpu, peak_mib, proc


def measure(command, ok=(0,), **kwargs):
    """Runs a command under GNU time. The peak comes from GNU time, as the rusage Python could
    read would count the memory of the forked Python too. Raises CommandFailed on an unexpected
    exit code."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%U %S %M", *command],
                              capture_output=True, **kwargs)
        wall = time.perf_counter() - start
        user, system, peak_kib = report.read().split()[-3:]
    if proc.returncode not in ok:
        raise CommandFailed(f"{' '.join(map(str, command))} exited with {proc.returncode}:\n"
                            f"{proc.stderr.decode(errors='replace')[-2000:]}")
    return Measured(wall, float(user) + float(system), int(peak_kib) / 1024, proc)


def time_alternating(cells, runs, warmups=1, seed=12):
    """Times whole processes taking turns: every cell once per round, in a new shuffled order each
    round, so that a slow moment of a shared machine falls on all of them alike. `cells` maps a
    name to (argv, accepted exit codes); output goes to /dev/null. Warm-up rounds (hot cache)
    are not kept. Cells with the same command run once and share their samples. Returns
    name -> list of (wall seconds, CPU seconds) from the child's rusage."""
    commands = {}
    for name, (argv, ok) in cells.items():
        commands.setdefault(tuple(map(str, argv)), (name, ok))
    order = list(commands)
    shuffle = random.Random(seed).shuffle
    timed = {argv: [] for argv in commands}
    for turn in range(warmups + runs):
        shuffle(order)
        for argv in order:
            name, ok = commands[argv]
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode not in ok:
                raise CommandFailed(f"{name} ({' '.join(argv)}) exited with {proc.returncode}")
            if turn >= warmups:
                timed[argv].append((wall, usage.ru_utime + usage.ru_stime))
    return {name: timed[tuple(map(str, argv))] for name, (argv, _) in cells.items()}


def median(values):
    return statistics.median(values)


def ms(seconds):
    return f"{1000 * seconds:.1f}"


def create_fts5(path):
    """A new, empty FTS5 database at path."""
    pathlib.Path(path).unlink(missing_ok=True)
    db = sqlite3.connect(str(path))
    db.execute(FTS5_TABLE)
    return db


def passage_row(passage):
    """A passage of `citedex export` as a row of the FTS5 table."""
    return (passage["source"]["path"], passage["source"]["title"] or "",
            " ".join(passage["section"]), passage["text"])


def export_passages(citedex, index, destination):
    """Writes `citedex export` of index to destination (JSON Lines); returns the passage count."""
    with open(destination, "wb") as out:
        subprocess.run([str(citedex), "--index", str(index), "export"], stdout=out, check=True)
    with open(destination, "rb") as exported:
        return sum(1 for _ in exported)


def load_passages(db, jsonl):
    """Inserts every passage of a `citedex export` file into the FTS5 table, in one transaction."""
    with open(jsonl, encoding="utf-8") as lines, db:
        db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?)",
                       (passage_row(json.loads(line)) for line in lines))


def fts5_match(query, any_word=True):
    """A query of plain words as an FTS5 MATCH expression, each word quoted so that FTS5 reads no
    syntax in it: any of the words (OR, citedex's semantics) or all of them (FTS5's own)."""
    words = ['"' + word.replace('"', '""') + '"' for word in query.split()]
    return (" OR " if any_word else " ").join(words)


def fts5_search_sql(query, limit=10, any_word=True):
    """The FTS5 search: best `limit` passages by bm25() (FTS5's `rank`), each with a snippet()."""
    match = fts5_match(query, any_word).replace("'", "''")
    return (f"SELECT path, title, section, snippet(passages, 3, '[', ']', '…', 24), rank "
            f"FROM passages WHERE passages MATCH '{match}' ORDER BY rank LIMIT {limit};")


def fts5_count(database, query, any_word=True):
    """How many passages the FTS5 search matches (not timed)."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    count = db.execute("SELECT count(*) FROM passages WHERE passages MATCH ?",
                       (fts5_match(query, any_word),)).fetchone()[0]
    db.close()
    return count


def markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line():
    """Date, CPU, core count and load, to print with every table (figures taken on a busy
    machine are noisy)."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    today = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"{today}, {model}, {os.cpu_count()} cores, {platform.system()}; load average {load}"


def command_line():
    return "python3 " + " ".join([os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]])


def citedex_label(binary):
    """Which citedex was measured: this repository's revision for its own build, else the path."""
    if pathlib.Path(binary).resolve() != (REPO / "target" / "release" / "citedex").resolve():
        return str(binary)
    proc = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                          text=True)
    return proc.stdout.strip() or "unknown"
