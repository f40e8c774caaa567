"""Uploaded import files are kept under VAR_DIR/uploads/<token>/ between the dry run and the commit (and
for the marked error workbook) until UPLOAD_KEEP_DAYS old; exports made in the background under
VAR_DIR/exports/<job id>.xlsx until they are a week old. Both hold personal data: housekeeping deletes them."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from django.conf import settings

SAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")
UPLOAD_TOKEN = re.compile(r"[0-9a-f]{32}")  # store()'s folder names


def upload_dir() -> Path:
    path = Path(settings.VAR_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(files: list[tuple[str, bytes]]) -> list[dict[str, str]]:
    """Save the files; return descriptors (name, path, sha256) to keep in the job parameters."""
    folder = upload_dir() / uuid.uuid4().hex
    folder.mkdir()
    stored = []
    for index, (name, data) in enumerate(files):
        safe = SAFE.sub("_", Path(name).name)[:80] or f"file{index}"
        path = folder / f"{index}-{safe}"
        path.write_bytes(data)
        stored.append({"name": name, "path": str(path), "sha256": hashlib.sha256(data).hexdigest()})
    return stored


class UploadGone(ValueError):
    """An uploaded file was deleted by housekeeping (or by hand)."""

    user_message = True


def load(stored: list[dict[str, str]]) -> list[tuple[str, bytes]]:
    """Read the files back, refusing any that changed since the dry run."""
    files = []
    root = upload_dir().resolve()
    for item in stored:
        path = Path(item["path"]).resolve()
        if root not in path.parents:
            raise ValueError("导入文件路径无效")
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise UploadGone(f"文件 {item['name']} 已超过保存期限被删除，请重新上传") from exc
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise ValueError(f"文件 {item['name']} 在预检后被修改，请重新上传")
        files.append((item["name"], data))
    return files


EXPORT_KEEP_SECONDS = 7 * 24 * 3600


def export_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(job_id: object) -> Path:
    return export_dir() / f"{uuid.UUID(str(job_id)).hex}.xlsx"


def prune_exports(now: float | None = None) -> int:
    """Delete background exports older than a week (they hold personal data); returns how many."""
    return _prune(export_dir().glob("*.xlsx*"), EXPORT_KEEP_SECONDS, now)


def prune_uploads(now: float | None = None) -> int:
    """Delete uploads older than UPLOAD_KEEP_DAYS, a whole upload (folder) at a time, and other apps'
    files kept under uploads/ (the region import's previews) one by one; returns how many."""
    entries: list[Path] = []
    for path in upload_dir().iterdir():
        if path.is_dir() and not UPLOAD_TOKEN.fullmatch(path.name):
            entries.extend(path.iterdir())  # another app's folder: its files age, not the folder
        else:
            entries.append(path)
    return _prune(entries, settings.UPLOAD_KEEP_DAYS * 24 * 3600, now)


def _prune(paths: Iterable[Path], keep_seconds: float, now: float | None) -> int:
    cutoff = (now or time.time()) - keep_seconds
    removed = 0
    for path in paths:
        if path.stat().st_mtime < cutoff:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


def write_export(job_id: object, write: Callable[[IO[bytes]], object]) -> Path:
    """Write an export beside its final name and move it there when complete: a download never sees a
    half-written file."""
    path = export_path(job_id)
    partial = path.with_suffix(".xlsx.partial")
    try:
        with partial.open("wb") as out:
            write(out)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
