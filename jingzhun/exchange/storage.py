"""Uploaded import files are kept under VAR_DIR/uploads/<token>/ between the dry run and the commit."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

from django.conf import settings

SAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


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


def load(stored: list[dict[str, str]]) -> list[tuple[str, bytes]]:
    """Read the files back, refusing any that changed since the dry run."""
    files = []
    root = upload_dir().resolve()
    for item in stored:
        path = Path(item["path"]).resolve()
        if root not in path.parents:
            raise ValueError("导入文件路径无效")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise ValueError(f"文件 {item['name']} 在预检后被修改，请重新上传")
        files.append((item["name"], data))
    return files
