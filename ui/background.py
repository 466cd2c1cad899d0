"""Pure computations started early on a worker thread, kept per key and shared by sessions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["MAX_KEPT", "clear", "start"]

#: Results kept (the oldest are forgotten first).
MAX_KEPT = 16
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beatplan-background")
_LOCK = threading.Lock()
_FUTURES: OrderedDict[Hashable, Future] = OrderedDict()


def start(key: Hashable, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Start ``func(*args, **kwargs)`` on the worker thread once per ``key``; return its future.

    A page starts a slow, pure computation (numpy work, no Streamlit call) as soon as its
    inputs are known, draws the rest, then waits on ``future.result()``: the two overlap.
    The key must hold every input the result depends on (database, data version, area,
    selection), as a cache key does. A result, or a ``ValueError`` (a message for the
    user), is kept for the next run with the same key; any other error is raised once and
    forgotten, so the next run tries again.

    Parameters
    ----------
    key
        Everything the result depends on.
    func
        A pure function (it must not call Streamlit: it runs outside the script thread).
    *args, **kwargs
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
        future = _POOL.submit(func, *args, **kwargs)
        _FUTURES[key] = future
        while len(_FUTURES) > MAX_KEPT:
            _FUTURES.popitem(last=False)
        return future


def _failed(future: Future) -> bool:
    """Whether a computation ended in an error other than a message for the user."""
    if not future.done():
        return False
    error = future.exception()
    return error is not None and not isinstance(error, ValueError)


def clear() -> None:
    """Forget every kept result (running computations finish unobserved)."""
    with _LOCK:
        _FUTURES.clear()
