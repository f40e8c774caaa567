"""Mutation check of the access layer: take out one scope or role check at a time and make sure a test fails.

    .venv/bin/python scripts/mutate_access.py                     every check of every view module
    .venv/bin/python scripts/mutate_access.py --only jingzhun/exchange/views.py [--only …]
    .venv/bin/python scripts/mutate_access.py --list              the mutations, without running anything
    .venv/bin/python scripts/mutate_access.py --match visible_to  only mutations whose text contains this
    .venv/bin/python scripts/mutate_access.py --match … --tests PATH::test   does this test kill them?

What counts as a check, in the view modules (``jingzhun/*/views.py``, ``jingzhun/*/views/*.py``) and the
helpers they ask (HELPERS below), and what each is turned into:

- a decorator ``@requires(…)`` or a module-level alias of one (``@edits_policy``, ``@imports`` …): the view
  runs without the check, its declaration kept (so only a behaviour test can notice); ``write=`` also
  dropped on its own; ``@logged_in`` (a declaration only, the login is the middleware's): removed;
- ``x.visible_to(user)`` → ``x.unscoped()``; ``get_visible_or_404(qs, user, …)`` → an unscoped get that
  still 404s when nothing matches;
- ``require_write(…)``, ``require_capability(…)``, ``require_edit_user(…)`` → nothing;
- a scope or role predicate (``can_see_code``, ``can_edit_user``, ``has_capability``, ``can_view_history``,
  ``can_grant``, ``may_grant_unlimited_scope``, ``role_allows_level``) → True;
- a role flag (``user.can_write``, ``can_manage_users``, ``can_read_audit``, ``can_manage_reference_data``)
  in the condition of an ``if`` or a conditional expression → True;
- ``user_scope_prefix(user)`` → ``""`` (the whole country);
- an ownership filter ``created_by=…`` in a query → dropped.

One mutation at a time is written into the file itself (restored afterwards, on Ctrl-C and errors too),
then the URL matrix, the declaration test and the tests of the file's app run (``-x -q -n 2``). A mutation
is caught when a test fails; one that every test survives means a check no test depends on. Not part of
``make test``: it runs the selection once per mutation.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
MATRIX = "jingzhun/portal/tests/test_url_matrix.py"
DECLARED = "jingzhun/portal/tests/test_access_declared.py"
PYTEST_OPTIONS = ["-x", "-q", "-n", "2", "-p", "no:randomly"]

# Modules outside the views that decide access for them, and the functions of theirs that do (None: all).
HELPERS: dict[str, frozenset[str] | None] = {
    "jingzhun/accounts/rules.py": None,
    "jingzhun/audit/search.py": frozenset({"visible_entries", "can_view_history", "search"}),
}
# Tests beyond the file's own app that exercise it: the exchange pages look their jobs up through jobs.views.
EXTRA_TESTS: dict[str, tuple[str, ...]] = {
    "jingzhun/jobs/views.py": ("jingzhun/exchange/tests",),
}

REFUSERS = frozenset({"require_write", "require_capability", "require_edit_user"})
PREDICATES = frozenset(
    {
        "can_see_code",
        "can_edit_user",
        "has_capability",
        "can_view_history",
        "can_grant",
        "may_grant_unlimited_scope",
        "role_allows_level",
    }
)
ROLE_FLAGS = frozenset({"can_write", "can_manage_users", "can_read_audit", "can_manage_reference_data"})
OWNERSHIP_KEYWORDS = frozenset({"created_by"})

# Sites that look like a check but are not one, by (path, top-level function, original text): left alone.
NOT_CHECKS: dict[tuple[str, str, str], str] = {
    ("jingzhun/exchange/views.py", "template_download", "user_scope_prefix(request.user)"): (
        "picks the template's default year from the user's area; it grants nothing"
    ),
    ("jingzhun/audit/views.py", "history", "request.user.can_read_audit"): (
        "only chooses which navigation entry is highlighted"
    ),
}

# Checks that no test can notice because another check of the same thing always refuses first, by
# (path, top-level function, original text): mutated and run like the rest, a survivor here is expected.
REDUNDANT: dict[tuple[str, str, str], str] = {}

MARKER = "# mutate_access: mutant"  # in every mutated file, so a file left mutated is noticed
UNSCOPED_GET = "_mutate_access_unscoped_get_or_404"
UNSCOPED_GET_SOURCE = f"""

{MARKER}
def {UNSCOPED_GET}(queryset, user, **lookup):
    from django.http import Http404

    try:
        return queryset.unscoped().get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
"""


@dataclass(frozen=True)
class Mutation:
    path: str  # relative to ROOT
    line: int
    function: str  # the top-level function it lies in
    original: str
    description: str  # what the check becomes
    start: int  # byte offsets of the replaced text
    end: int
    replacement: str
    appendix: str = ""  # definitions the replacement needs, added at the end of the module

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def text(self) -> str:
        return f"{short(self.original)} → {self.description}"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.path, self.function, self.original

    @property
    def redundant(self) -> str | None:
        """Why no test can catch this one, if it is a documented double check."""
        return REDUNDANT.get(self.key)

    def apply(self, source: bytes) -> bytes:
        mutated = source[: self.start] + self.replacement.encode() + source[self.end :]
        return mutated + f"\n\n{MARKER}\n".encode() + self.appendix.encode()


def short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def view_modules() -> list[str]:
    found = [*ROOT.glob("jingzhun/*/views.py"), *ROOT.glob("jingzhun/*/views/*.py")]
    return sorted(str(p.relative_to(ROOT)) for p in found) + sorted(HELPERS)


def call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def is_requires(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and call_name(node.func) == "requires"


def is_role_flag(node: ast.AST) -> bool:
    """``user.can_write`` and the like, or ``getattr(user, "can_write", …)``."""
    if isinstance(node, ast.Attribute):
        return node.attr in ROLE_FLAGS
    return (
        isinstance(node, ast.Call)
        and call_name(node.func) == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in ROLE_FLAGS
    )


class Finder(ast.NodeVisitor):
    """The checks of one module, in source order."""

    def __init__(self, path: str, source: bytes, functions: frozenset[str] | None) -> None:
        self.path = path
        self.source = source
        self.functions = functions
        starts = [0]
        for line in source.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        self.line_starts = starts
        self.top: list[str] = []  # the enclosing function names, outermost first
        self.aliases: set[str] = set()  # module-level names bound to a requires(…) decorator
        self.found: list[Mutation] = []
        self.left_alone: list[tuple[str, str, str]] = []  # NOT_CHECKS entries met

    # ---- positions

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.line_starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end_line, end_col = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
        assert end_line is not None and end_col is not None
        return start, self.line_starts[end_line - 1] + end_col

    def text_of(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end].decode()

    def add(
        self, node: ast.AST, description: str, replacement: str, appendix: str = "", shown: ast.AST | None = None
    ) -> None:
        """Replace ``node`` by ``replacement``; ``shown`` is the check as the table names it (default ``node``)."""
        function = self.top[0] if self.top else ""
        if self.functions is not None and function not in self.functions:
            return
        start, end = self.span(node)
        original = self.text_of(shown or node)
        if (self.path, function, original) in NOT_CHECKS:
            self.left_alone.append((self.path, function, original))
            return
        self.found.append(
            Mutation(self.path, node.lineno, function, original, description, start, end, replacement, appendix)  # type: ignore[attr-defined]
        )

    # ---- visitors

    def visit_Module(self, node: ast.Module) -> None:
        for statement in node.body:
            if isinstance(statement, ast.Assign) and is_requires(statement.value):
                self.aliases.update(t.id for t in statement.targets if isinstance(t, ast.Name))
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.top.append(node.name)
        for decorator in node.decorator_list:
            self.decorator(decorator)
        for child in (node.args, *node.body):
            self.visit(child)
        self.top.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.top.append(node.name)
        for child in (node.args, *node.body):
            self.visit(child)
        self.top.pop()

    def decorator(self, node: ast.expr) -> None:
        checks = is_requires(node) or (isinstance(node, ast.Name) and node.id in self.aliases)
        if checks:
            declared_only = f'(lambda view: setattr(view, "access", ({self.text_of(node)})(view).access) or view)'
            self.add(node, "check skipped, declaration kept", declared_only)
        if isinstance(node, ast.Call) and checks and any(k.arg == "write" for k in node.keywords):
            without = copy.deepcopy(node)
            without.keywords = [k for k in without.keywords if k.arg != "write"]
            self.add(node, "write= dropped", ast.unparse(without))
        if isinstance(node, ast.Name) and node.id == "logged_in":
            self.add(node, "declaration removed", "(lambda view: view)")

    def visit_If(self, node: ast.If) -> None:
        self.condition(node.test)
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.condition(node.test)
        self.generic_visit(node)

    def condition(self, test: ast.expr) -> None:
        for node in ast.walk(test):
            if is_role_flag(node):
                self.add(node, "True", "True")

    def visit_Call(self, node: ast.Call) -> None:
        name = call_name(node.func)
        if name == "visible_to" and isinstance(node.func, ast.Attribute):
            self.add(node, ".unscoped()", f"{self.text_of(node.func.value)}.unscoped()")
        elif name == "get_visible_or_404":
            self.add(node.func, "unscoped get (404 only when absent)", UNSCOPED_GET, UNSCOPED_GET_SOURCE, shown=node)
        elif name in REFUSERS:
            self.add(node, "nothing", "None")
        elif name in PREDICATES:
            self.add(node, "True", "True")
        elif name == "user_scope_prefix":
            self.add(node, '"" (everything)', "str()")  # '""' would read as a literal to ``is None``
        ownership = [k for k in node.keywords if k.arg in OWNERSHIP_KEYWORDS]
        if ownership:
            without = copy.deepcopy(node)
            without.keywords = [k for k in without.keywords if k.arg not in OWNERSHIP_KEYWORDS]
            self.add(node, f"without {', '.join(str(k.arg) for k in ownership)}=", ast.unparse(without))
        self.generic_visit(node)


def find_mutations(paths: Sequence[str]) -> tuple[list[Mutation], list[tuple[str, str, str]]]:
    """The mutations of ``paths``, and the NOT_CHECKS entries met on the way."""
    found: list[Mutation] = []
    left_alone: list[tuple[str, str, str]] = []
    for path in paths:
        source = (ROOT / path).read_bytes()
        finder = Finder(path, source, HELPERS.get(path))
        finder.visit(ast.parse(source, filename=path))
        for mutation in finder.found:
            compile(mutation.apply(source), path, "exec")  # a mutant must still be Python
        found += finder.found
        left_alone += finder.left_alone
    return found, left_alone


def stale_entries(
    paths: Sequence[str], found: Sequence[Mutation], left_alone: Sequence[tuple[str, str, str]]
) -> list[str]:
    """REDUNDANT and NOT_CHECKS entries of the scanned modules that name no site any more (code moved)."""
    keys = {m.key for m in found}
    stale = [f"REDUNDANT {k}" for k in REDUNDANT if k[0] in paths and k not in keys]
    return stale + [f"NOT_CHECKS {k}" for k in NOT_CHECKS if k[0] in paths and k not in left_alone]


def selection(path: str) -> list[str]:
    """The URL matrix first (it fails fastest), the declaration test, then the file's app and its users."""
    app = Path(path).parts[1]
    tests = [MATRIX, DECLARED, f"jingzhun/{app}/tests", *EXTRA_TESTS.get(path, ())]
    return list(dict.fromkeys(tests))


# ---- running


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    caught: bool
    detail: str  # the failing test, or why the run did not count
    seconds: float


FAILED = re.compile(r"^FAILED (\S+)", re.MULTILINE)


def pytest(tests: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *PYTEST_OPTIONS, *tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def run_mutation(mutation: Mutation, env: dict[str, str], tests: Sequence[str] = ()) -> Outcome:
    path = ROOT / mutation.path
    original = path.read_bytes()
    stat = path.stat()
    began = time.monotonic()
    try:
        path.write_bytes(mutation.apply(original))
        # A different mtime, so no cached bytecode of the original can stand in for the mutant.
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
        result = pytest(tests or selection(mutation.path), env)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    seconds = time.monotonic() - began
    failed = FAILED.findall(result.stdout)
    if result.returncode == 0:
        return Outcome(mutation, False, "", seconds)
    # With -n, -x ends the session as "interrupted" (2) once a test has failed: a failure is what counts.
    if result.returncode in (1, 2) and failed and "error during collection" not in result.stdout:
        return Outcome(mutation, True, failed[0], seconds)
    # Errors only, nothing collected, an internal error: the mutant proved nothing.
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
    raise RuntimeError(f"pytest exited with {result.returncode} for {mutation.where} ({mutation.text}):\n{tail}")


def left_mutated(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if MARKER.encode() in (ROOT / p).read_bytes()]


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM too: the finally blocks restore the file being mutated


def verdict(outcome: Outcome) -> str:
    if outcome.caught:
        return f"yes  {outcome.detail}"
    reason = outcome.mutation.redundant
    return f"no, redundant: {reason}" if reason else "NO"


def table(outcomes: Sequence[Outcome]) -> Iterator[str]:
    where_width = max((len(o.mutation.where) for o in outcomes), default=10)
    text_width = max((len(o.mutation.text) for o in outcomes), default=10)
    yield f"{'file:line':<{where_width}}  {'mutation':<{text_width}}  caught?"
    for o in outcomes:
        yield f"{o.mutation.where:<{where_width}}  {o.mutation.text:<{text_width}}  {verdict(o)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", action="append", metavar="PATH", help="a module to mutate (repeatable)")
    parser.add_argument(
        "--match", action="append", metavar="TEXT", help="only mutations whose file:line or text contains TEXT (any)"
    )
    parser.add_argument("--list", action="store_true", help="list the mutations and stop")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the unmutated selection first")
    parser.add_argument(
        "--tests", action="append", metavar="NODE", help="run these tests instead (does a new test kill a mutant?)"
    )
    args = parser.parse_args(argv)

    paths = view_modules()
    if args.only:
        wanted = [str(Path(p).resolve().relative_to(ROOT)) if Path(p).is_absolute() else p for p in args.only]
        unknown = sorted(set(wanted) - set(paths))
        if unknown:
            parser.error(f"not a view module or access helper: {', '.join(unknown)}")
        paths = [p for p in paths if p in wanted]
    mutated = left_mutated(view_modules())
    if mutated:
        print(f"left mutated by an interrupted run (restore with git checkout): {', '.join(mutated)}")
        return 2
    mutations, left_alone = find_mutations(paths)
    for entry in stale_entries(paths, mutations, left_alone):
        print(f"stale entry, no such check any more: {entry}")
    if args.match:
        mutations = [m for m in mutations if any(text in f"{m.where} {m.text}" for text in args.match)]
    if args.list:
        for m in mutations:
            note = f"  (redundant: {m.redundant})" if m.redundant else ""
            print(f"{m.where:<46} {m.function:<26} {m.text}{note}")
        print(f"mutations: {len(mutations)}")
        return 0

    signal.signal(signal.SIGTERM, raise_interrupt)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("JINGZHUN_VAR_DIR", tempfile.mkdtemp(prefix="mutate-access-"))
    outcomes: list[Outcome] = []
    try:
        if not args.skip_baseline:
            tests = args.tests or list(dict.fromkeys(t for m in mutations for t in selection(m.path)))
            print(f"baseline: {len(tests)} test paths, unmutated …", flush=True)
            result = pytest(tests, env)
            if result.returncode != 0:
                print(result.stdout[-4000:] + result.stderr[-2000:])
                print("the tests fail without any mutation: fix that first")
                return 2
        for number, mutation in enumerate(mutations, 1):
            print(f"[{number}/{len(mutations)}] {mutation.where} {mutation.text} …", end=" ", flush=True)
            outcome = run_mutation(mutation, env, args.tests or ())
            outcomes.append(outcome)
            print(f"{'caught' if outcome.caught else 'SURVIVED'} ({outcome.seconds:.0f} s)", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted; no file is left mutated")
        return 130
    print()
    for line in table(outcomes):
        print(line)
    for o in outcomes:
        if o.caught and o.mutation.redundant:
            print(f"listed as redundant but caught, drop it from REDUNDANT: {o.mutation.where} {o.mutation.text}")
    for (path, function, original), reason in NOT_CHECKS.items():
        if path in paths:
            print(f"left alone, not a check: {path} {function}: {original} ({reason})")
    caught = sum(o.caught for o in outcomes)
    redundant = sum(not o.caught and o.mutation.redundant is not None for o in outcomes)
    survived = len(outcomes) - caught - redundant
    summary = f"mutations: {len(outcomes)}, caught: {caught}, survived: {survived}"
    print(summary + (f", redundant: {redundant}" if redundant else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
