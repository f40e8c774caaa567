"""mypy with a committed baseline that may only shrink.

    python scripts/mypy_baseline.py           check: fails on any error not in the baseline, and on baseline
                                              entries that no longer occur (so fixed errors leave it for good)
    python scripts/mypy_baseline.py --shrink  rewrite the baseline without the errors that are gone; refuses
                                              while there are new errors (they must be fixed, not recorded)

An error is recorded without its line number (``path: [code] message``), so unrelated edits that move lines do
not disturb the baseline; the same error twice in one file is recorded twice.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
TARGETS = ["jingzhun", "conftest.py", "scripts"]
ERROR = re.compile(r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)(?:\s+\[(?P<code>[a-z0-9-]+)\])?$")


def run_mypy() -> tuple[Counter[str], dict[str, list[str]]]:
    """Current errors as baseline keys, with the full lines (line numbers included) for each key."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *TARGETS], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(2)
    found: Counter[str] = Counter()
    lines: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        match = ERROR.match(line)
        if not match:
            continue
        key = f"{match['path']}: [{match['code'] or 'misc'}] {match['message']}"
        found[key] += 1
        lines.setdefault(key, []).append(line)
    return found, lines


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    return Counter(line for line in BASELINE.read_text().splitlines() if line.strip())


def write_baseline(entries: Counter[str]) -> None:
    BASELINE.write_text("".join(f"{key}\n" for key in sorted(entries.elements())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shrink", action="store_true", help="drop fixed errors from the baseline")
    args = parser.parse_args()
    current, lines = run_mypy()
    baseline = read_baseline()
    new = current - baseline
    gone = baseline - current
    if new:
        print(f"mypy: {sum(new.values())} new error(s), not in {BASELINE.name}; fix them:")
        for key in sorted(new):
            for line in lines[key][-new[key] :]:
                print(f"  {line}")
    if args.shrink:
        if new:
            print("mypy: the baseline is not rewritten while there are new errors")
            return 1
        write_baseline(baseline & current)
        print(f"mypy: baseline {sum(baseline.values())} → {sum((baseline & current).values())} errors")
        return 0
    if gone:
        print(f"mypy: {sum(gone.values())} baseline error(s) are fixed; run `make mypy-baseline` to drop them:")
        for key in sorted(gone):
            print(f"  {key}")
    if new or gone:
        return 1
    print(f"mypy: no new errors ({sum(baseline.values())} in the baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
