from __future__ import annotations

from pathlib import Path

import pytest

from jingzhun.audit.anchors import ANCHOR_DIR_ENV


@pytest.fixture(autouse=True)
def _private_anchor_dir(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # verify_audit reads every anchor it finds: never those another test (or the demo) wrote.
    monkeypatch.delenv(ANCHOR_DIR_ENV, raising=False)
    settings.VAR_DIR = tmp_path
