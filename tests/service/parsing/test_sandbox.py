import contextlib
import os
from pathlib import Path

import pytest

from service.parsers import CorruptFile, ParseContext, ParserFailed, ResourceLimit
from service.parsing.parse_server import run_isolated
from service.parsing.sandbox import Limits

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
    """``pid``'s child processes, less the warm LibreOffice bridge a parse server keeps on
    purpose (plugins/converter.py: started when an earlier test parsed a .doc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            command = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text and b"soffice_bridge.py" not in command:
            found.append(int(status.parent.name))
    return found


def test_no_child_processes_are_left_behind(sample):
    from service.parsing import parse_server

    for target in ("Good", "RaisesTypeError", "Sleeps"):
        with contextlib.suppress(ParserFailed, ResourceLimit):
            run(target, sample, Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=5, wall_seconds=1))
    server = parse_server._client.proc.pid
    assert server in children_of(os.getpid())  # the parse server is ours
    assert children_of(server) == []  # the crashed and the timed-out children are gone (and reaped)
    pid = int(run("Pid", sample).paragraphs[0].text)
    assert children_of(server) == [pid]  # only the one reusable child stays


def parsed_by(target, sample, limits=QUICK) -> int:
    return int(run(target, sample, limits).paragraphs[0].text)


def test_one_child_parses_several_files(sample):
    first = parsed_by("Pid", sample)
    assert parsed_by("Pid", sample) == first
    assert first != os.getpid()


def test_a_coded_refusal_keeps_the_child_but_a_crash_replaces_it(sample):
    first = parsed_by("Pid", sample)
    with pytest.raises(CorruptFile):
        run("RaisesCoded", sample)
    assert parsed_by("Pid", sample) == first  # an ordinary refusal: same process
    with pytest.raises(ParserFailed):
        run("RaisesTypeError", sample)
    assert parsed_by("Pid", sample) != first  # an unexpected exception: never trusted again


def test_a_limit_or_timeout_replaces_the_child(sample):
    first = parsed_by("Pid", sample)
    with pytest.raises(ResourceLimit):
        run("EatsMemory", sample)
    second = parsed_by("Pid", sample)
    assert second != first
    with pytest.raises(ResourceLimit):
        run("Sleeps", sample, Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=5, wall_seconds=1))
    assert parsed_by("Pid", sample, Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=5, wall_seconds=1)) != second


def test_reuse_one_gives_every_file_a_fresh_process(sample):
    once = Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=2, wall_seconds=20, reuse=1)
    pids = {parsed_by("Pid", sample, once) for _ in range(3)}
    assert len(pids) == 3


def test_a_child_is_replaced_after_its_reuse_count(sample):
    twice = Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=2, wall_seconds=20, reuse=2)
    pids = [parsed_by("Pid", sample, twice) for _ in range(4)]
    assert pids[0] == pids[1] and pids[2] == pids[3] and pids[1] != pids[2]


def test_the_cpu_limit_is_per_file_in_a_reused_child(sample):
    budget = Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=2, wall_seconds=30)
    pids = {parsed_by("BurnsASecond", sample, budget) for _ in range(3)}  # 3.6 s in all, 1.2 s each
    assert len(pids) == 1


def test_a_child_whose_memory_grew_is_replaced(sample):
    roomy = Limits(memory_bytes=1024 * 1024 * 1024, cpu_seconds=10, wall_seconds=30)
    leaked_in = parsed_by("Leaks", sample, roomy)
    assert parsed_by("Pid", sample, roomy) != leaked_in


def test_a_crash_is_reported_with_where_it_happened(sample):
    with pytest.raises(ParserFailed) as info:
        run("RaisesTypeError", sample)
    assert "TypeError" in info.value.detail and "sandbox_plugins.py" in info.value.detail
