"""Schema migrations (Alembic) driven from gongkai: ``gongkai db upgrade``."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from service.errors import GongkaiError


class SchemaNotReady(GongkaiError):
    code = "schema_not_ready"
    message_zh = "{state}：请先运行 gongkai db upgrade（gongkai serve 启动时会自动完成）"
    message_en = "The database schema is missing or old (at {current}, need {head}): run `gongkai db upgrade`"


class DatabaseUnavailable(GongkaiError):
    code = "database_unavailable"
    message_zh = "无法连接数据库 {where}：{reason}（请检查 GONGKAI_DATABASE_URL 和数据库服务）"
    message_en = "Cannot reach the database {where}: {reason}"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    """The newest migration."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def schema_problem(engine: Engine) -> SchemaNotReady | None:
    """The error to show when the database is not at the newest schema, else None."""
    at = current(engine)
    if at == head():
        return None
    state = "数据库尚未初始化" if at is None else f"数据库结构是旧版本 {at}（需要 {head()}）"
    return SchemaNotReady(state=state, current=at or "none", head=head())
