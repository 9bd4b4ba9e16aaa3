import logging
from importlib.metadata import EntryPoint

import pytest

from service.parsers import UnsupportedType
from service.parsing.registry import ENTRY_POINT_GROUP, load_registry


def ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


BUILTINS = [ep("pdf", "plugins.pdf:PdfParser"), ep("word", "plugins.word:WordParser"),
            ep("text", "plugins.text:TextParser")]


def test_installed_builtins_register_through_entry_points():
    registry = load_registry()
    names = {e.name for e in registry}
    assert {"pdf", "word", "text", "legacy_word", "ofd"} <= names
    assert all(e.builtin for e in registry if e.name in {"pdf", "word", "text", "legacy_word", "ofd"})
    assert registry.select("application/pdf").name == "pdf"
    assert registry.select("text/plain").name == "text"
    assert registry.select("application/ofd").name == "ofd" and registry.select("application/ofd").builtin
    assert registry.select("application/msword").name == "legacy_word"
    assert registry.select("application/rtf").name == "legacy_word"


def test_third_party_beats_builtin_on_equal_priority():
    registry = load_registry(BUILTINS + [ep("acme", "registry_plugins:ThirdPartyPdf")])
    chosen = registry.select("application/pdf")
    assert chosen.name == "acme-pdf" and not chosen.builtin


def test_higher_priority_wins():
    registry = load_registry(BUILTINS + [ep("acme", "registry_plugins:ThirdPartyPdf"),
                                         ep("fast", "registry_plugins:HighPriorityPdf")])
    assert registry.select("application/pdf").name == "zz-fast-pdf"


def test_broken_plugins_are_logged_and_skipped(caplog):
    caplog.set_level(logging.ERROR)
    registry = load_registry(BUILTINS + [
        ep("broken", "registry_plugins:BrokenOnInit"),
        ep("missing", "no_such_module_anywhere:Parser"),
        ep("shape", "registry_plugins:NotAParser"),
    ])
    assert {e.name for e in registry} == {"pdf", "word", "text"}
    logged = caplog.text
    assert "broken" in logged and "missing" in logged and "shape" in logged


def test_no_parser_for_a_type_is_unsupported():
    with pytest.raises(UnsupportedType):
        load_registry(BUILTINS).select("image/gif")
