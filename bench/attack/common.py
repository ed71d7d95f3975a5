"""What the attack scripts share: finding the binary, running it, and writing a synthetic corpus
of Markdown notes (reproducible from a seed, no download needed). The rest (the repository, the
release build, timing a process, temporary folders) comes from bench/common.py, as `bench`."""
import argparse
import importlib.util
import os
import pathlib
import random
import subprocess
import sys

# Loaded from its path under another name: this module is `common` too, and the scripts' own
# folder comes first on sys.path, so `import common` would find this file again.
_spec = importlib.util.spec_from_file_location(
    "bench_common", pathlib.Path(__file__).resolve().parent.parent / "common.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

REPO = bench.REPO
# NO_COLOR: the output is parsed and compared, so no terminal colours in it.
ENV = {**os.environ, "NO_COLOR": "1"}
WORDS = (
    "nerve blood spine tingling numbness pressure vitamin sugar muscle reflex disc artery vein "
    "clot balance posture walking sciatica neuropathy diabetes circulation stretch knee ankle "
    "thigh back tendon joint swelling cramp fatigue rest exercise diagnosis treatment"
).split()


def arguments(doc):
    """A parser of a script's options, described by the first line of its `doc`, with --citedex
    as in bench/*.py. --binary is the same option under its older name, which earlier command
    lines use."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--citedex", "--binary", dest="citedex", type=pathlib.Path,
                        help="citedex binary to try (default: a release build of this "
                             "repository, built with cargo first)")
    return parser


def parse(parser):
    """The parsed options, with args.binary the citedex to run: the one --citedex names, or a
    fresh release build (a stale target/release/citedex would try old code)."""
    args = parser.parse_args()
    args.binary = bench.citedex_binary(args)
    return args


def finish(problems):
    """Lists what went wrong, indented, and exits 1 if anything did."""
    for problem in problems:
        print("  " + problem)
    sys.exit(1 if problems else 0)


def citedex(binary, index, *args, **kwargs):
    """Runs `citedex --index INDEX ARGS...`, capturing its output."""
    return subprocess.run(
        [binary, "--index", str(index), *args],
        capture_output=True,
        env=ENV,
        **kwargs,
    )


def note(rng, number, paragraphs):
    """One Markdown note: a title, a few sections, sentences of medical words."""
    parts = [f"---\ntitle: Note {number}\n---\n"]
    for section in range(1 + paragraphs // 4):
        parts.append(f"\n## Part {section} of note {number}\n")
        for _ in range(4):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            parts.append(f"\nNote {number} says {words}.\n")
    return "".join(parts)


def write_corpus(folder, files, seed=1, paragraphs=12):
    """Writes `files` notes under `folder` (in subfolders of 100) and returns their paths."""
    rng = random.Random(seed)
    paths = []
    for number in range(files):
        path = pathlib.Path(folder) / f"part{number // 100:03d}" / f"note{number:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note(rng, number, paragraphs))
        paths.append(path)
    return paths
