from dataclasses import fields
from pathlib import Path

import pytest

from service import config
from service.errors import ConfigError

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [f.name for f in fields(config.Settings)])
def test_every_setting_is_documented_in_the_readme(name):
    assert f"`GONGKAI_{name.upper()}`" in README


def test_layers_defaults_environment_then_overrides():
    env = {"GONGKAI_WORKERS": "4", "GONGKAI_REDIS_URL": "redis://r:6379/0", "GONGKAI_DATA_DIR": "/srv/gongkai"}
    settings = config.load({"workers": 3}, environ=env)
    assert settings.workers == 3  # the test config wins
    assert settings.redis_url == "redis://r:6379/0"  # then the environment
    assert settings.data_dir == Path("/srv/gongkai")
    assert settings.max_upload_bytes == 50 * 1024 * 1024  # then the default


def test_bad_value_is_a_clear_error():
    with pytest.raises(ConfigError) as info:
        config.load(environ={"GONGKAI_WORKERS": "two"})
    assert "GONGKAI_WORKERS" in info.value.message


@pytest.mark.parametrize("name, value, least", [("GONGKAI_SESSION_IDLE_MINUTES", "-5", 0),
                                                ("GONGKAI_LOGIN_LOCKOUT_MINUTES", "-1", 0),
                                                ("GONGKAI_LOGIN_MAX_FAILURES", "0", 1),
                                                ("GONGKAI_PARSE_CHILD_REUSE", "0", 1)])
def test_numbers_out_of_range_are_refused_at_start(name, value, least):
    """A negative idle limit would end every session at once; 0 failures would lock at the first typo."""
    with pytest.raises(ConfigError) as info:
        config.load(environ={name: value})
    assert info.value.message == f"配置错误：{name}='{value}'，应为不小于 {least} 的整数"
    assert config.load(environ={name: str(least)})


def test_sqlite_in_the_data_directory_by_default(tmp_path):
    url = config.database_url(config.load({"data_dir": str(tmp_path)}, environ={}))
    assert url == f"sqlite:///{tmp_path.resolve() / 'gongkai.db'}"
