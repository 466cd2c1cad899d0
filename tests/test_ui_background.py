"""Computations started early on the worker thread: once per key, errors kept or retried."""

from __future__ import annotations

import threading

import pytest

from ui import background


@pytest.fixture(autouse=True)
def _fresh():
    """No kept results, and the worker idle (pages tested before may have left work)."""
    background.clear()
    background._POOL.submit(lambda: None).result(timeout=120)
    yield
    background.clear()


def test_one_computation_per_key_on_another_thread():
    calls: list[str] = []

    def work(x: int) -> tuple[int, str]:
        calls.append(threading.current_thread().name)
        return x * 2, threading.current_thread().name

    first = background.result(("k", 1), work, 21)
    again = background.result(("k", 1), work, 99)  # same key: the kept result, not a new run
    other = background.result(("k", 2), work, 5)
    assert first == again and first[0] == 42 and other[0] == 10 and len(calls) == 2
    assert background.start(("k", 1), work, 0).result(timeout=10) == first
    assert first[1] != threading.current_thread().name and len(calls) == 2


def test_a_message_for_the_user_is_kept_and_other_errors_are_retried():
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        msg = "Not enough history yet."
        raise ValueError(msg)

    def crash() -> None:
        calls.append(2)
        raise RuntimeError("boom")

    with pytest.raises(ValueError, match="history"):
        background.start("v", refuse).result(timeout=10)
    with pytest.raises(ValueError, match="history"):
        background.start("v", refuse).result(timeout=10)
    with pytest.raises(RuntimeError):
        background.start("r", crash).result(timeout=10)
    with pytest.raises(RuntimeError):
        background.start("r", crash).result(timeout=10)
    assert calls == [1, 2, 2]


def test_the_oldest_results_are_forgotten_past_the_limit():
    calls: list[int] = []

    def work(k: int) -> int:
        calls.append(k)
        return k

    for k in range(background.MAX_KEPT + 1):
        background.start(k, work, k).result(timeout=10)
    background.start(background.MAX_KEPT, work, -1).result(timeout=10)  # still kept
    assert background.start(0, work, 0).result(timeout=10) == 0  # forgotten: run again
    assert calls.count(0) == 2 and -1 not in calls


def test_queued_work_no_page_waits_for_is_dropped_and_waited_work_is_kept():
    gate = threading.Event()
    ran: list[str] = []

    def block() -> str:
        gate.wait(10)
        return "busy"

    def work(name: str) -> str:
        ran.append(name)
        return name

    busy = background.start("busy", block)  # holds the one worker
    for _ in range(500):
        if busy.running():
            break
        threading.Event().wait(0.01)
    stale = background.start("stale", work, "stale")  # a run cut short: nobody waits
    waited: list[str] = []
    waiter = threading.Thread(target=lambda: waited.append(background.result("kept", work, "kept")))
    waiter.start()
    for _ in range(500):  # until the page waits for "kept", started
        if background._WAITED["kept"] and "kept" in background._FUTURES:
            break
        threading.Event().wait(0.01)
    newest = background.start("newest", work, "newest")  # drops "stale", not "kept"
    assert stale.cancelled() and not newest.cancelled()
    gate.set()
    waiter.join(10)
    assert busy.result(timeout=10) == "busy" and newest.result(timeout=10) == "newest"
    assert waited == ["kept"] and sorted(ran) == ["kept", "newest"]
    # Asking again for the dropped one starts it afresh.
    assert background.result("stale", work, "stale") == "stale" and ran.count("stale") == 1
