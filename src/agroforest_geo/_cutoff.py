"""The cut-off date: one parser and one rule for annual loss, for the whole library.

Every verb that takes a ``cutoff`` (``forest_loss``, ``forest_cover_and_loss``,
the EUDR evidence and assessment, the report) goes through :func:`parse_cutoff`,
and every place that decides whether a loss *year* is after the cut-off asks
:func:`year_is_after_cutoff`.

The rule for annual loss products (Hansen ``lossyear``, JRC TMF deforestation
year): a year is a whole year, so loss in year ``Y`` is *after* a cut-off date
``D`` when ``Y > D.year``, and when ``Y == D.year`` and ``D`` is not the last
day of its year (the year straddles the cut-off: the conservative reading
counts it as after). With the EUDR cut-off, 31 December 2020, loss in 2020 is
before and loss from 2021 on is after.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np

__all__ = ["EUDR_CUTOFF", "last_year_before_cutoff", "parse_cutoff", "year_is_after_cutoff"]

#: The EUDR cut-off date (Regulation (EU) 2023/1115, Art. 2(13)/(14)): 31 December 2020.
EUDR_CUTOFF = dt.date(2020, 12, 31)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_cutoff(cutoff: Any) -> dt.date:
    """Normalise a cut-off date; refuse anything that is not one clear day.

    Accepts an ISO string ``"YYYY-MM-DD"``, a ``datetime.date`` /
    ``datetime.datetime``, a ``pandas.Timestamp`` / ``numpy.datetime64`` or an
    integer year (31 December of that year). Refuses ``None``, ``NaT``, NaN,
    booleans, and day-first or month-first strings such as ``"31/12/2020"``
    (``"01/02/2021"`` means different days in Lima and in Washington).

    Raises
    ------
    ValueError
        Missing (None, NaT, NaN) or unparseable dates.
    TypeError
        Values of another type.

    Examples
    --------
    >>> parse_cutoff("2020-12-31")
    datetime.date(2020, 12, 31)
    >>> import pandas as pd
    >>> parse_cutoff(pd.Timestamp("2020-12-31 15:00"))
    datetime.date(2020, 12, 31)
    >>> parse_cutoff(2020)
    datetime.date(2020, 12, 31)
    >>> parse_cutoff(pd.NaT)
    Traceback (most recent call last):
    ...
    ValueError: cutoff is missing (NaT); give a date such as '2020-12-31'
    >>> parse_cutoff("31/12/2020")
    Traceback (most recent call last):
    ...
    ValueError: cutoff '31/12/2020' is not an ISO date; write it as 'YYYY-MM-DD' ...
    """
    import pandas as pd

    if cutoff is None:
        raise ValueError("cutoff is missing (None); give a date such as '2020-12-31'")
    if isinstance(cutoff, bool | np.bool_):
        raise TypeError(f"cutoff must be a date, an ISO date string or a year, got {cutoff!r}")
    if isinstance(cutoff, int | np.integer):
        year = int(cutoff)
        if not 1 <= year <= 9999:
            raise ValueError(
                f"cutoff {year} is not a year; write the date as an ISO string, e.g. '2020-12-31'"
            )
        return dt.date(year, 12, 31)
    if isinstance(cutoff, float | np.floating):
        if np.isnan(cutoff):
            raise ValueError("cutoff is missing (NaN); give a date such as '2020-12-31'")
        raise TypeError(f"cutoff must be a date, an ISO date string or a year, got {cutoff!r}")
    if isinstance(cutoff, np.datetime64):
        cutoff = pd.Timestamp(cutoff)
    if cutoff is pd.NaT or (isinstance(cutoff, pd.Timestamp) and pd.isna(cutoff)):
        raise ValueError("cutoff is missing (NaT); give a date such as '2020-12-31'")
    if isinstance(cutoff, dt.datetime):
        return cutoff.date()
    if isinstance(cutoff, dt.date):
        return cutoff
    if isinstance(cutoff, str):
        text = cutoff.strip()
        if _ISO_DATE.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError as exc:
                raise ValueError(f"cutoff {cutoff!r} is not a valid date: {exc}") from None
        if text.isdigit() and len(text) == 4:
            return dt.date(int(text), 12, 31)
        raise ValueError(
            f"cutoff {cutoff!r} is not an ISO date; write it as 'YYYY-MM-DD' (e.g. '2020-12-31'), "
            "or pass a datetime.date or pandas.Timestamp (day/month order is ambiguous)"
        )
    raise TypeError(
        "cutoff must be an ISO date string 'YYYY-MM-DD', a datetime.date, a pandas.Timestamp "
        f"or a year, got {type(cutoff).__name__}"
    )


def last_year_before_cutoff(cutoff: dt.date) -> int:
    """Return the last whole year of an annual loss product on or before ``cutoff``.

    Examples
    --------
    >>> import datetime as dt
    >>> last_year_before_cutoff(dt.date(2020, 12, 31))
    2020
    >>> last_year_before_cutoff(dt.date(2020, 6, 30))
    2019
    """
    return cutoff.year if (cutoff.month, cutoff.day) == (12, 31) else cutoff.year - 1


def year_is_after_cutoff(year: Any, cutoff: dt.date) -> Any:
    """Tell whether loss in ``year`` (an annual product) counts as after ``cutoff``.

    Works on a scalar or an array of years; a year that straddles the cut-off
    counts as after it (the conservative reading).

    Examples
    --------
    >>> import datetime as dt
    >>> year_is_after_cutoff([2019, 2020, 2021], dt.date(2020, 12, 31)).tolist()
    [False, False, True]
    >>> year_is_after_cutoff([2019, 2020, 2021], dt.date(2020, 6, 30)).tolist()
    [False, True, True]
    >>> bool(year_is_after_cutoff(2021, dt.date(2020, 12, 31)))
    True
    """
    return np.asarray(year) > last_year_before_cutoff(cutoff)
