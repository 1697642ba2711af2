#!/usr/bin/env python3
"""Runs a demo and checks its output, for the meson suite 'demos'.

    check_output.py BINARY [--arg=ARG]... EXPECTED... [-- EXPECTED...]...

Each EXPECTED is one output line. The expected lines must appear in the output in
this order (other lines may come between them); a '--' starts another sequence, checked
on its own from the first line (for lines whose order against the others is not fixed). A plain EXPECTED matches a whole line
(surrounding spaces ignored); one that starts with '~' is a regular expression searched
in the line. The demo must also exit with status 0. Exit 77 (skip) is passed through
for demos that need a kernel feature this machine lacks.
"""
import re
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, expected = sys.argv[1], sys.argv[2:]
    args = []
    while expected and expected[0].startswith("--arg="):  # arguments for the demo itself
        args.append(expected.pop(0)[len("--arg="):])
    proc = subprocess.run([binary] + args, capture_output=True, text=True, timeout=60)
    out = proc.stdout.splitlines()
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode == 77:
        return 77
    if proc.returncode != 0:
        print(f"check_output: {binary} exited with {proc.returncode}", file=sys.stderr)
        return 1
    sequences = [[]]
    for want in expected:
        if want == "--":
            sequences.append([])
        else:
            sequences[-1].append(want)
    return 0 if all(check(out, seq) for seq in sequences) else 1


def check(out: list, expected: list) -> bool:
    pos = 0
    for want in expected:
        if want.startswith("~"):
            pattern = re.compile(want[1:])
            ok = lambda line: pattern.search(line) is not None
        else:
            ok = lambda line: line.strip() == want.strip()
        while pos < len(out) and not ok(out[pos]):
            pos += 1
        if pos == len(out):
            print(f"check_output: expected line not found (in order): {want!r}", file=sys.stderr)
            return False
        pos += 1
    return True


if __name__ == "__main__":
    sys.exit(main())
