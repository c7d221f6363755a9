"""Renamed keyword arguments: the old name still works for one release, with a FutureWarning."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["renamed_keywords"]

F = TypeVar("F", bound=Callable[..., Any])

#: The release in which the old names go away.
REMOVED_IN = "0.3"


def renamed_keywords(**old_to_new: str) -> Callable[[F], F]:
    """Accept ``old=`` for ``new=`` with a :class:`FutureWarning` (one name per role).

    Examples
    --------
    >>> @renamed_keywords(lossyear="loss")
    ... def f(polygons, loss=None):
    ...     return loss
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(1, lossyear=2), w[0].category.__name__
    (2, 'FutureWarning')
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{func.__name__}() got both {old}= and {new}=; use {new}=")
                warnings.warn(
                    f"{func.__name__}({old}=...) is deprecated, use {new}= (the same name in "
                    f"every verb and on the command line); {old}= goes away in {REMOVED_IN}",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
