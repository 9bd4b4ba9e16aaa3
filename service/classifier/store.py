"""Model versions on disk: ``<models_dir>/<taxonomy id>/<version>/``, the active one, rollback.

``ACTIVE`` holds the active version's name; ``history.jsonl`` records every activation
and rollback (who asked is the caller's business; when and why are written down). The
history is replayed as a stack: ``activate`` pushes, ``rollback`` pops, so rolling back
twice goes two versions back. Versions are never deleted here.

Version names are ``YYYY.MM.DD-N`` (the UTC date of training and a counter).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from service import config
from service import taxonomy as T
from service.classifier import artifact as A
from service.classifier import model as M

ACTIVE_FILE, HISTORY_FILE = "ACTIVE", "history.jsonl"
_VERSION = re.compile(r"^\d{4}\.\d{2}\.\d{2}-\d+$")


@dataclass(frozen=True)
class VersionInfo:
    name: str
    path: Path
    created: str
    macro_f1: float | None
    confident_coverage: float | None
    confident_precision: float | None
    data_hash: str
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.name, "created": self.created, "active": self.active,
                "macro_f1": self.macro_f1, "confident_coverage": self.confident_coverage,
                "confident_precision": self.confident_precision, "data_hash": self.data_hash,
                "path": str(self.path)}


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelStore:
    def __init__(self, models_dir: Path, taxonomy: T.Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.root = Path(models_dir) / taxonomy.id

    def path(self, version: str) -> Path:
        if not _VERSION.match(version or ""):
            raise M.ModelNotFound(where=f"{self.root}/{version}")
        return self.root / version

    def versions(self) -> list[VersionInfo]:
        active = self.active_version()
        out = []
        for child in sorted(self.root.glob("*")) if self.root.is_dir() else []:
            if not (_VERSION.match(child.name) and (child / A.METADATA_FILE).is_file()):
                continue
            try:
                meta = A.read_metadata(child)
            except M.ModelError:
                continue
            test = meta.get("evaluation", {}).get("test", {})
            confident = test.get("confident", {})
            out.append(VersionInfo(child.name, child, meta.get("created", ""), test.get("macro_f1"),
                                   confident.get("coverage"), confident.get("precision"),
                                   meta.get("training_data", {}).get("hash", ""), child.name == active))
        return sorted(out, key=lambda v: _version_key(v.name))

    def new_version_name(self, now: datetime | None = None) -> str:
        day = (now or datetime.now(UTC)).strftime("%Y.%m.%d")
        taken = {p.name for p in self.root.glob(f"{day}-*")} if self.root.is_dir() else set()
        n = 1
        while f"{day}-{n}" in taken:
            n += 1
        return f"{day}-{n}"

    # -- activation -----------------------------------------------------------------------
    def active_version(self) -> str | None:
        path = self.root / ACTIVE_FILE
        if not path.is_file():
            return None
        return path.read_text(encoding="utf-8").strip() or None

    def _history(self) -> list[dict[str, Any]]:
        path = self.root / HISTORY_FILE
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def _stack(self) -> list[str]:
        stack: list[str] = []
        for entry in self._history():
            if entry.get("action") == "rollback":
                if stack:
                    stack.pop()
            else:
                stack.append(entry["version"])
        return stack

    def _write(self, action: str, version: str, reason: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        entry = {"action": action, "version": version, "at": _utcnow(), "reason": reason,
                 "previous": self.active_version()}
        with open(self.root / HISTORY_FILE, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        tmp = self.root / (ACTIVE_FILE + ".tmp")
        tmp.write_text(version + "\n", encoding="utf-8")
        tmp.replace(self.root / ACTIVE_FILE)
        load_cached.cache_clear()

    def activate(self, version: str, reason: str = "") -> None:
        """Make ``version`` the active model (it must load for this taxonomy)."""
        A.load(self.path(version), self.taxonomy)
        self._write("activate", version, reason)

    def rollback(self, reason: str = "rollback") -> str:
        """Re-activate the version that was active before the current one; return its name."""
        stack = self._stack()
        if len(stack) < 2:
            raise M.ModelError(what="没有可回滚的上一个版本")
        previous = stack[-2]
        A.load(self.path(previous), self.taxonomy)
        self._write("rollback", previous, reason)
        return previous

    def history(self) -> list[dict[str, Any]]:
        return self._history()

    # -- loading --------------------------------------------------------------------------
    def load(self, version: str | None = None) -> M.Classifier:
        version = version or self.active_version()
        if not version:
            raise M.ModelNotFound(where=f"{self.root}/{ACTIVE_FILE}")
        return load_cached(str(self.root), version, self.taxonomy.source, self.taxonomy.fingerprint)


def _version_key(name: str) -> tuple:
    day, _, n = name.partition("-")
    return (day, int(n) if n.isdigit() else 0)


@lru_cache(maxsize=4)
def load_cached(root: str, version: str, taxonomy_source: str, fingerprint: str) -> M.Classifier:
    """One loaded model per (directory, version, taxonomy) per process."""
    taxonomy = T.load(taxonomy_source or None)
    return A.load(Path(root) / version, taxonomy, name=f"{taxonomy.id}/{version}")


def store_from_settings(settings) -> ModelStore:
    return ModelStore(settings.models_dir, T.from_settings(settings))


def active_classifier(settings=None) -> M.Classifier:
    """The configured deployment's active model, loaded once per process."""

    settings = settings or config.load()
    return store_from_settings(settings).load()
