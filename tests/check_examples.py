#!/usr/bin/env python3
"""Checks that every example in the public headers and in README.md is a compiled program.

Usage: check_examples.py [--root DIR] [--allow-missing FILE]

Rules (the format is the one /work/HELPERS.md and README's "Examples" section describe):

1. In include/coring/**/*.hpp a block

       // Example (examples/<file>.cpp):
       //   <line>
       //   <line>

   quotes, line for line, the region of examples/<file>.cpp between a line
   `// example-begin` and a line `// example-end` (the region's common indentation removed;
   a blank line of the region is quoted as `//`). The block is every following line that
   starts with `//   ` or is exactly `//`; blank `//` lines at its end are not part of it.
   A file may hold several regions; the block must equal one of them.
2. Every public header include/coring/*.hpp (coring.hpp aside) has at least one such
   block, unless the header is named in the --allow-missing file (one name a line, `#`
   starts a comment). A header that is named there but has an example is an error too, so
   the list only shrinks.
3. Every ```cpp fenced block of README.md is preceded (blank lines aside) by a line
   `<!-- example: examples/<file>.cpp -->` and equals a region of that file.
4. Every examples/*.cpp is listed in examples/meson.build (so it is built and run), and
   every example file a header or README.md names exists.

Exit status 0 when every rule holds, 1 otherwise (each failure is printed on its own line
as `path:line: what is wrong`).
"""

import argparse
import pathlib
import re
import sys

EXAMPLE_RE = re.compile(r"^\s*// Example \((examples/[A-Za-z0-9_./-]+\.cpp)\):\s*$")
README_MARK_RE = re.compile(r"^<!-- example: (examples/[A-Za-z0-9_./-]+\.cpp) -->\s*$")
BEGIN, END = "// example-begin", "// example-end"


def dedent(lines):
    """Removes the common leading indentation of the non-blank lines; strips line ends."""
    lines = [l.rstrip() for l in lines]
    widths = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
    cut = min(widths, default=0)
    return [l[cut:] if l.strip() else "" for l in lines]


class Checker:
    def __init__(self, root):
        self.root = root
        self.errors = []
        self.regions_cache = {}

    def error(self, path, line, what):
        rel = path.relative_to(self.root) if path.is_absolute() else path
        self.errors.append(f"{rel}:{line}: {what}")

    def regions(self, name, where, line):
        """The example regions of examples/<file>.cpp, or None (error reported) if unusable."""
        if name in self.regions_cache:
            return self.regions_cache[name]
        path = self.root / name
        result = None
        if not path.is_file():
            self.error(where, line, f"{name} does not exist")
        else:
            result, current, start = [], None, 0
            for no, text in enumerate(path.read_text().splitlines(), 1):
                mark = text.strip()
                if mark == BEGIN:
                    if current is not None:
                        self.error(path, no, f"'{BEGIN}' inside a region opened at line {start}")
                    current, start = [], no
                elif mark == END:
                    if current is None:
                        self.error(path, no, f"'{END}' without '{BEGIN}'")
                    else:
                        result.append(dedent(current))
                        current = None
                elif current is not None:
                    current.append(text)
            if current is not None:
                self.error(path, start, f"'{BEGIN}' is never closed by '{END}'")
            if not result:
                self.error(where, line, f"{name} has no '{BEGIN}' ... '{END}' region")
                result = None
        self.regions_cache[name] = result
        return result

    def compare(self, quoted, name, where, line):
        regions = self.regions(name, where, line)
        if regions is None:
            return
        if any(quoted == r for r in regions):
            return
        # Report the first differing line against the closest region (the first, usually).
        best = regions[0]
        for i in range(max(len(quoted), len(best))):
            q = quoted[i] if i < len(quoted) else "<end of quote>"
            r = best[i] if i < len(best) else "<end of region>"
            if q != r:
                self.error(where, line + 1 + i,
                           f"quote differs from {name} (example line {i + 1}):\n"
                           f"    quoted:  {q!r}\n    in file: {r!r}")
                return

    def check_header(self, path):
        """Returns the number of example blocks in the header."""
        lines = path.read_text().splitlines()
        count = 0
        for i, text in enumerate(lines):
            m = EXAMPLE_RE.match(text)
            if not m:
                if text.lstrip().startswith("// Example ("):
                    self.error(path, i + 1, "malformed: write exactly '// Example (examples/<file>.cpp):'")
                continue
            count += 1
            quoted = []
            for body in lines[i + 1:]:
                s = body.strip()
                if s == "//":
                    quoted.append("")
                elif body.lstrip().startswith("//   "):
                    quoted.append(body.lstrip()[5:].rstrip())
                else:
                    break
            while quoted and quoted[-1] == "":
                quoted.pop()
            if not quoted:
                self.error(path, i + 1, "'// Example (...)' is followed by no quoted line ('//   code')")
                continue
            self.compare(quoted, m.group(1), path, i + 1)
        return count

    def check_readme(self, path):
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() != "```cpp":
                i += 1
                continue
            start = i
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            block = [l.rstrip() for l in lines[start + 1:j]]
            k = start - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            m = README_MARK_RE.match(lines[k].strip()) if k >= 0 else None
            if not m:
                self.error(path, start + 1, "```cpp block without a preceding "
                           "'<!-- example: examples/<file>.cpp -->' line")
            else:
                self.compare(block, m.group(1), path, start + 1)
            i = j + 1

    def check_meson_lists_all(self):
        meson = self.root / "examples" / "meson.build"
        if not meson.is_file():
            self.error(meson, 0, "missing")
            return
        listed = set(re.findall(r"'([A-Za-z0-9_.-]+\.cpp)'", meson.read_text()))
        for f in sorted((self.root / "examples").glob("*.cpp")):
            if f.name not in listed:
                self.error(f, 1, "not listed in examples/meson.build, so it is neither built nor run")
        for name in sorted(listed):
            if not (self.root / "examples" / name).is_file():
                self.error(meson, 1, f"lists {name}, which does not exist")


def read_allowed(path):
    allowed = {}
    for no, text in enumerate(path.read_text().splitlines(), 1):
        name = text.split("#", 1)[0].strip()
        if name:
            allowed[name] = no
    return allowed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent, type=pathlib.Path)
    ap.add_argument("--allow-missing", type=pathlib.Path,
                    help="file naming headers allowed (for now) to have no example")
    args = ap.parse_args()
    root = args.root.resolve()
    c = Checker(root)

    allowed = read_allowed(args.allow_missing) if args.allow_missing else {}
    allow_path = args.allow_missing.resolve() if args.allow_missing else None
    inc = root / "include" / "coring"
    public = sorted(p for p in inc.glob("*.hpp") if p.name != "coring.hpp")
    counts = {p: c.check_header(p) for p in sorted(inc.rglob("*.hpp"))}
    missing = [p.name for p in public if counts[p] == 0]
    for name in missing:
        if name not in allowed:
            c.error(inc / name, 1, "public header with no '// Example (examples/<file>.cpp):' block")
    for name, no in allowed.items():
        if not (inc / name).is_file():
            c.error(allow_path, no, f"names {name}, which is not a public header")
        elif name not in missing:
            c.error(allow_path, no, f"names {name}, which now has an example: remove the line")
    c.check_readme(root / "README.md")
    c.check_meson_lists_all()

    for e in c.errors:
        print(e)
    total = sum(counts.values())
    print(f"check_examples: {total} header example(s) in {len(public) - len(missing)} of "
          f"{len(public)} public headers; {len(missing)} allowed missing for now: "
          f"{' '.join(missing) or '-'}; {len(c.errors)} error(s)")
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
