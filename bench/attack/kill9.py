#!/usr/bin/env python3
"""Crash safety (issue 13): kill -9 at random moments during full and incremental builds. After
each kill a normal `index` must succeed, and the index must then export exactly what a clean
build of the same files exports, and pass `check`. Not a test: run it by hand on a release build.

    python3 bench/attack/kill9.py [--citedex PATH] [--kills 40] [--notes 1500] [--seed 13]

Each round first edits the corpus (a few notes changed, one removed, one added) so that an
incremental build has work to do, then starts a build, kills it after a random delay within
that kind of build's measured duration, and recovers. Kills that land after the build finished
are counted apart and do not count towards --kills.
"""
import random
import subprocess
import sys
import time

from common import ENV, arguments, bench, citedex, finish, note, parse, write_corpus


def edit_corpus(rng, corpus, paths, next_number):
    """Changes three notes, removes one and adds one; returns the next free note number."""
    for path in rng.sample(paths, 3):
        path.write_text(note(rng, rng.randrange(10**6), 12))
    gone = rng.choice(paths)
    gone.unlink()
    paths.remove(gone)
    added = corpus / "added" / f"note{next_number:05d}.md"
    added.parent.mkdir(exist_ok=True)
    added.write_text(note(rng, next_number, 12))
    paths.append(added)
    return next_number + 1


def timed_build(binary, index, corpus, full):
    """Wall seconds of one build, which must succeed."""
    args = ["index", "--full", str(corpus)] if full else ["index", str(corpus)]
    try:
        return bench.measure([binary, "--index", str(index), *args], env=ENV).wall
    except bench.CommandFailed as error:
        sys.exit(f"a build failed: {error}")


def main():
    parser = arguments(__doc__)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--notes", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=13)
    args = parse(parser)
    rng = random.Random(args.seed)
    with bench.scratch() as work:
        corpus = work / "corpus"
        paths = write_corpus(corpus, args.notes, seed=args.seed)
        next_number = args.notes
        index = work / "index"
        duration = {True: timed_build(args.binary, index, corpus, True)}
        next_number = edit_corpus(rng, corpus, paths, next_number)
        duration[False] = timed_build(args.binary, index, corpus, False)
        print(f"calibration: full build {duration[True]:.2f} s, incremental {duration[False]:.2f} s")

        kills = {True: 0, False: 0}
        late = 0
        rounds = 0
        problems = []
        while sum(kills.values()) < args.kills:
            rounds += 1
            next_number = edit_corpus(rng, corpus, paths, next_number)
            full = rng.random() < 0.5
            command = [args.binary, "--index", str(index), "index", str(corpus)]
            if full:
                command.insert(4, "--full")
            build = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, duration[full] * 1.1))
            if build.poll() is None:
                build.kill()
                kills[full] += 1
            else:
                late += 1
            build.wait()

            recovery = citedex(args.binary, index, "index", str(corpus))
            if recovery.returncode != 0:
                problems.append(f"round {rounds}: recovery failed: {recovery.stderr.decode().strip()}")
                continue
            check = citedex(args.binary, index, "check")
            if check.returncode != 0:
                problems.append(f"round {rounds}: check failed: {check.stderr.decode().strip()}")
            clean = work / f"clean{rounds}"
            timed_build(args.binary, clean, corpus, True)
            recovered = citedex(args.binary, index, "export").stdout
            expected = citedex(args.binary, clean, "export").stdout
            subprocess.run(["rm", "-rf", str(clean)], check=True)
            if recovered != expected:
                problems.append(
                    f"round {rounds}: export differs from a clean build "
                    f"({len(recovered.splitlines())} vs {len(expected.splitlines())} lines)"
                )
            elif not expected:
                problems.append(f"round {rounds}: empty export")

    print(f"rounds {rounds}: {kills[True]} kills during --full, {kills[False]} during incremental "
          f"builds, {late} builds finished before their kill")
    print(f"recoveries whose export equals a clean build's: {rounds - len(problems)} of {rounds}")
    finish(problems)


if __name__ == "__main__":
    main()
