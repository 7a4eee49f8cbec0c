"""`sio.cli.short_run`: a one-shot command runs without the cyclic garbage collector and leaves it
as it was; its process ends like `sys.exit` (status, message, buffered output, atexit handlers)
without the interpreter's teardown, and the usual way while another thread still runs."""

from __future__ import annotations

import gc
import inspect
import subprocess
import sys
import textwrap

import pytest

from sio.cli.short_run import short_run


def test_the_collector_is_off_while_the_command_runs_and_as_it_was_afterwards() -> None:
    seen: list[bool] = []

    @short_run
    def command(x: int) -> int:
        seen.append(gc.isenabled())
        return x + 1

    assert gc.isenabled()
    assert command(1) == 2
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        command(2)
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_a_failing_command_turns_the_collector_back_on() -> None:
    @short_run
    def command() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        command()
    assert gc.isenabled()


def test_the_command_keeps_its_name_and_options_for_typer() -> None:
    def compute(year: int, fmt: str = "table") -> None:
        """Doc."""

    wrapped = short_run(compute)
    assert wrapped.__name__ == "compute"
    assert wrapped.__doc__ == "Doc."
    assert list(inspect.signature(wrapped).parameters) == ["year", "fmt"]


def _run(body: str) -> subprocess.CompletedProcess[str]:
    code = "from sio.cli.short_run import exit_now\nimport atexit, sys, threading, time\n"
    return subprocess.run(
        [sys.executable, "-c", code + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_process_ends_with_the_status_its_output_and_its_atexit_handlers() -> None:
    done = _run(
        """
        atexit.register(lambda: print("atexit ran"))
        print("written", end=" ")  # buffered: a pipe is not a terminal
        sys.stderr.write("to stderr")
        exit_now(3)
        print("not reached")
        """
    )
    assert done.returncode == 3
    assert done.stdout == "written atexit ran\n"
    assert done.stderr == "to stderr"


def test_no_code_is_status_0_and_a_text_code_is_printed_with_status_1() -> None:
    assert _run("exit_now(None)").returncode == 0
    done = _run("exit_now('the message')")
    assert (done.returncode, done.stderr) == (1, "the message\n")


def test_another_running_thread_leaves_the_exit_to_the_caller() -> None:
    done = _run(
        """
        worker = threading.Thread(target=time.sleep, args=(0.5,))
        worker.start()
        exit_now(4)
        print("returned")
        sys.exit(5)
        """
    )
    assert (done.returncode, done.stdout) == (5, "returned\n")


def test_a_profiled_process_exits_the_usual_way_so_that_the_profiler_reports() -> None:
    done = _run(
        """
        sys.setprofile(lambda *a: None)
        exit_now(4)
        sys.setprofile(None)
        print("returned")
        """
    )
    assert (done.returncode, done.stdout) == (0, "returned\n")
