"""The apps' layers (pyproject.toml, [tool.importlinter]): a lower app never imports a higher one.

`make test` runs `lint-imports` on the real code; this test checks the same contract through grimp and shows
that it bites: an upward import, or an import between two apps of one layer, is reported.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[3]


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["id"] == "layers")


def _layers() -> list[grimp.Layer]:
    return [
        grimp.Layer(*(name.strip() for name in line.split("|")), independent=True) for line in _contract()["layers"]
    ]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    graph = grimp.build_graph("jingzhun", cache_dir=None)
    for module in [m for m in graph.modules if ".tests" in m]:  # tests may use any app's factories
        graph.remove_module(module)
    return graph


def _violations(graph: grimp.ImportGraph) -> set[tuple[str, str]]:
    found = graph.find_illegal_dependencies_for_layers(layers=_layers(), containers={"jingzhun"})
    return {(d.importer, d.imported) for d in found}


def test_every_app_is_in_a_layer():
    listed = {name.strip() for line in _contract()["layers"] for name in line.split("|")}
    apps = {p.name for p in (ROOT / "jingzhun").iterdir() if (p / "apps.py").exists()}
    assert apps == listed


def test_the_code_keeps_the_layers(graph):
    assert _violations(graph) == set()


def test_an_upward_import_is_caught(graph):
    graph.add_import(importer="jingzhun.core.scope", imported="jingzhun.registry.models")
    try:
        assert ("jingzhun.core", "jingzhun.registry") in _violations(graph)
    finally:
        graph.remove_import(importer="jingzhun.core.scope", imported="jingzhun.registry.models")


def test_an_import_between_apps_of_one_layer_is_caught(graph):
    graph.add_import(importer="jingzhun.accounts.models", imported="jingzhun.policy.models")
    try:
        assert ("jingzhun.accounts", "jingzhun.policy") in _violations(graph)
    finally:
        graph.remove_import(importer="jingzhun.accounts.models", imported="jingzhun.policy.models")


def test_no_cycles_between_apps(graph):
    apps = sorted({m.split(".")[1] for m in graph.modules if m.count(".") >= 1})
    edges = {
        (a, b)
        for a in apps
        for b in apps
        if a != b and graph.direct_import_exists(importer=f"jingzhun.{a}", imported=f"jingzhun.{b}", as_packages=True)
    }
    # Depth-first search for a back edge.
    state: dict[str, int] = {}

    def visit(app: str, path: list[str]) -> None:
        state[app] = 1
        for a, b in sorted(edges):
            if a != app:
                continue
            assert state.get(b) != 1, f"import cycle: {' → '.join([*path, b])}"
            if b not in state:
                visit(b, [*path, b])
        state[app] = 2

    for app in apps:
        if app not in state:
            visit(app, [app])
