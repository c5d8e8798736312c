from __future__ import annotations

from timberyard.agent.multiline import Joiner


def join(text: str, mode: str = "auto") -> list[str]:
    joiner, out = Joiner(mode, 1.0, 1 << 20), []
    offset = 0
    for line in text.split("\n"):
        joiner.feed(line, offset, None, 0.0, out)
        offset += len(line) + 1
    joiner.emit(out)
    return [record[0] for record in out]


def test_python_traceback_with_a_chained_exception_is_one_record() -> None:
    text = ("ERROR failed\nTraceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    f()\nKeyError: 'x'\n\n"
            "During handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n"
            "  File \"a.py\", line 3, in <module>\n    g()\nValueError: y\nINFO next")
    records = join(text)
    assert len(records) == 2 and records[0].endswith("ValueError: y") and records[1] == "INFO next"


def test_java_and_go_traces() -> None:
    java = "Exception in thread \"main\" java.lang.RuntimeException: x\n\tat a.B.c(B.java:1)\nCaused by: java.io.IOException\n\t... 3 more"
    go = "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:8 +0x1d\nexit status 2"
    assert join(java + "\nINFO after") == [java, "INFO after"]
    assert join(go) == ["panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:8 +0x1d", "exit status 2"]


def test_a_start_pattern_and_off() -> None:
    text = "2026-01-01 a\n continued\nnot indented but continued\n2026-01-02 b"
    assert join(text, r"^\d{4}-") == ["2026-01-01 a\n continued\nnot indented but continued", "2026-01-02 b"]
    assert join("a\n  b\n\nc", "off") == ["a", "  b", "c"]


def test_a_record_waits_for_the_timeout_and_keeps_its_offset() -> None:
    joiner, out = Joiner("auto", 0.5, 1 << 20), []
    joiner.feed("ERROR x", 100, None, 10.0, out)
    assert (out, joiner.held_from, joiner.due(10.4), joiner.due(10.5)) == ([], 100, False, True)
