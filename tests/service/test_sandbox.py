import os

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
    with pytest.raises(ParserFailed):
        run("Segfaults", sample)
    assert os.getpid()  # still here


def test_page_limit_is_enforced_on_what_comes_back(sample):
    with pytest.raises(ResourceLimit):
        run("TooManyPages", sample)


def test_parser_returning_the_wrong_type_fails_cleanly(sample):
    with pytest.raises(ParserFailed):
        run("WrongReturn", sample)


def test_no_child_processes_are_left_behind(sample):
    import multiprocessing

    for target in ("Good", "RaisesTypeError"):
        try:
            run(target, sample)
        except ParserFailed:
            pass
    assert multiprocessing.active_children() == []
