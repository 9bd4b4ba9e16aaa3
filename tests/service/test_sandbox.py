import os
from pathlib import Path

import pytest

from service.parsers import CorruptFile, ParseContext, ParserFailed, ResourceLimit
from service.sandbox import Limits, run_isolated

CTX = ParseContext(media_type="application/x-test")
QUICK = Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=2, wall_seconds=20)


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("正文", encoding="utf-8")
    return path


def run(target, path, limits=QUICK):
    return run_isolated(f"sandbox_plugins:{target}", path, CTX, limits)


def test_good_parser_result_crosses_the_process_boundary(sample):
    doc = run("Good", sample)
    assert doc.paragraphs[0].text == "正文"


def test_bare_type_error_becomes_parser_failed(sample):
    with pytest.raises(ParserFailed) as info:
        run("RaisesTypeError", sample)
    assert info.value.code == "parser_failed"
    assert "Traceback" not in info.value.message


def test_coded_error_keeps_its_code(sample):
    with pytest.raises(CorruptFile) as info:
        run("RaisesCoded", sample)
    assert info.value.detail == "xref broken"


def test_memory_hog_hits_the_address_space_limit(sample):
    with pytest.raises(ResourceLimit):
        run("EatsMemory", sample)


def test_busy_loop_hits_the_cpu_limit(sample):
    with pytest.raises(ResourceLimit) as info:
        run("Spins", sample)
    assert "CPU" in info.value.message


def test_sleeper_hits_the_wall_clock_limit(sample):
    with pytest.raises(ResourceLimit):
        run("Sleeps", sample, Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=5, wall_seconds=1))


def test_segfault_in_a_native_library_does_not_kill_the_caller(sample):
    with pytest.raises(ParserFailed) as info:
        run("Segfaults", sample)
    assert "signal 11" in info.value.detail
    assert run("Good", sample).paragraphs[0].text == "正文"  # the next parse works


def test_page_limit_is_enforced_on_what_comes_back(sample):
    with pytest.raises(ResourceLimit):
        run("TooManyPages", sample)


def test_parser_returning_the_wrong_type_fails_cleanly(sample):
    with pytest.raises(ParserFailed):
        run("WrongReturn", sample)


def children_of(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def test_no_child_processes_are_left_behind(sample):
    from service import zygote

    for target in ("Good", "RaisesTypeError", "Sleeps"):
        try:
            run(target, sample, Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=5, wall_seconds=1))
        except (ParserFailed, ResourceLimit):
            pass
    server = zygote._client.proc.pid
    assert server in children_of(os.getpid())  # the parse server is ours
    assert children_of(server) == []  # and every parse child it forked is gone


def test_a_crash_is_reported_with_where_it_happened(sample):
    with pytest.raises(ParserFailed) as info:
        run("RaisesTypeError", sample)
    assert "TypeError" in info.value.detail and "sandbox_plugins.py" in info.value.detail
