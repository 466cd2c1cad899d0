"""Pure computations started early on a worker thread, kept per key and shared by sessions."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any

__all__ = ["MAX_KEPT", "clear", "result", "start"]

#: Results kept (the oldest are forgotten first).
MAX_KEPT = 16
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beatplan-background")
_LOCK = threading.Lock()
_FUTURES: OrderedDict[Hashable, Future] = OrderedDict()
_WAITED: Counter[Hashable] = Counter()  # keys some page is waiting for


def start(key: Hashable, func: Callable[..., Any], *args: Any) -> Future:
    """Start ``func(*args)`` on the worker thread once per ``key``; return its future.

    A page starts a slow, pure computation (numpy work, no Streamlit call) as soon as its
    inputs are known, draws the rest, then takes it with :func:`result`: the two overlap.
    The key must hold every input the result depends on (database, data version, area,
    selection), as a cache key does. A result, or a ``ValueError`` (a message for the
    user), is kept for the next run with the same key; any other error is raised once and
    forgotten, so the next run tries again. Computations still queued that no page waits
    for (their run was cut short by a newer choice) are dropped when another is started,
    so quick clicks do not queue stale work.

    Parameters
    ----------
    key
        Everything the result depends on.
    func
        A pure function (it must not call Streamlit: it runs outside the script thread).
    *args
        Its arguments.

    Returns
    -------
    concurrent.futures.Future
    """
    with _LOCK:
        future = _FUTURES.get(key)
        if future is not None and not _failed(future):
            _FUTURES.move_to_end(key)
            return future
        for old_key, old in list(_FUTURES.items()):
            if not old.running() and not _WAITED[old_key] and old.cancel():
                del _FUTURES[old_key]
        future = _POOL.submit(func, *args)
        _FUTURES[key] = future
        while len(_FUTURES) > MAX_KEPT:
            _FUTURES.popitem(last=False)
        return future


def result(key: Hashable, func: Callable[..., Any], *args: Any) -> Any:
    """Wait for :func:`start`'s computation of ``key`` (started again if it was dropped).

    Parameters are as for :func:`start`.

    Returns
    -------
    object
        What ``func(*args)`` returned (its ``ValueError`` is raised).
    """
    with _LOCK:
        _WAITED[key] += 1
    try:
        while True:
            try:
                return start(key, func, *args).result()
            except CancelledError:
                continue
    finally:
        with _LOCK:
            _WAITED[key] -= 1
            if not _WAITED[key]:
                del _WAITED[key]


def _failed(future: Future) -> bool:
    """Whether a computation was dropped or ended in an error other than a user message."""
    if future.cancelled():
        return True
    if not future.done():
        return False
    error = future.exception()
    return error is not None and not isinstance(error, ValueError)


def clear() -> None:
    """Forget every kept result (running computations finish unobserved)."""
    with _LOCK:
        _FUTURES.clear()
