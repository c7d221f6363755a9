"""Compile the package's numba kernels on first use (cached on disk), never at import.

One place for the options every kernel is compiled with (no fast-math: the
kernels' results are the same bits as their numpy or GEOS twins) and for the
lock that makes threads calling a kernel at once compile it once (taken on first
use only, so a process forked at any time later never inherits it held). numba is the
optional ``fast`` extra: :func:`available` tells whether it is installed, and
every caller keeps a path without it.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

__all__ = ["available", "kernel", "loaded"]

_LOCK = threading.Lock()
_KERNELS: dict[tuple[str, str], Callable[..., Any]] = {}


@functools.cache
def available() -> bool:
    """Tell whether numba (the ``fast`` extra) is installed and imports.

    Importing it is the only sure test (a numba older than the installed numpy
    refuses to import); callers ask only when they are about to use it.
    """
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def loaded() -> bool:
    """Tell whether numba is already imported in this process (using it costs no import)."""
    return "numba" in sys.modules


def kernel(
    namespace: MutableMapping[str, Any], name: str, *, helpers: Sequence[str] = ()
) -> Callable[..., Any]:
    """Return the function ``namespace[name]`` compiled, once per process.

    numba finds a compiled function's callees among its module's globals by
    name, so ``helpers`` are rebound there to their compiled versions (which
    Python can call too, with the same results) before the kernel is compiled.
    Pass the module's ``globals()``.
    """
    key = (str(namespace.get("__name__")), name)
    found = _KERNELS.get(key)
    if found is not None:
        # no lock after first use: a process forked while another thread held it would
        # inherit it held, and hang at its first kernel
        return found
    with _LOCK:
        found = _KERNELS.get(key)
        if found is None:
            import numba
            from numba.core.dispatcher import Dispatcher

            jit = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")
            for helper in helpers:
                if not isinstance(namespace[helper], Dispatcher):
                    namespace[helper] = jit(namespace[helper])
            found = _KERNELS[key] = jit(namespace[name])
        return found
