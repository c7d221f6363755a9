"""Evidence sources: one raster with its product, and how several of them give one verdict.

Every raster input of the assessment (``cover``, ``loss``, ``forest_2020``,
``commodity``, ``canopy_height``, ``alerts``) takes one source or a list of them.
A source is a raster (or a precomputed table) with the
:class:`~agroforest_geo.products.Product` it holds; its *label* (the ``name``
given, else the product's name, else the role: results never depend on file
names) names its columns in the evidence (``<label>_<column>``) and is the
source cited in the reasons.

Combining several sources (Method)
----------------------------------
Each source's evidence is measured on its own. The combined column keeps the
name the rules read (``loss_after_cutoff_ha``, ``forest_share_2020`` ...) and is
the **k-th largest** of the sources' values, where ``k`` is the rule-table
parameter ``<role>_sources_required`` (:data:`SOURCE_PARAMS`): ``1`` is *any*
(the largest: a rule ``x >= t`` fires when at least one source reaches ``t``),
``k`` is *at least k of n* (the k-th largest reaches ``t`` exactly when ``k``
sources do), and ``k >= n`` (or ``"all"``) is *all* (the smallest). Sources with
no data over a parcel do not vote: ``k`` is capped at the number that have data,
and the combined value is unknown only when none has. ``valid_share`` combines
by the smallest (the least covered source), dates by the earliest among the
sources that agree.

``<column>_source`` names the source(s) whose value the combined one is (the
product names, comma-joined): the reasons cite them.

Examples
--------
>>> from agroforest_geo.eudr.sources import Source, as_sources
>>> [s.label for s in as_sources([("h.tif", "hansen_lossyear_v1_13"),
...                                Source("tmf.tif", "jrc_tmf_deforestation_year")], "loss")]
['hansen_lossyear_v1_13', 'jrc_tmf_deforestation_year']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SOURCE_PARAMS", "Source", "as_sources", "combine_sources", "sources_required"]

#: Rule-table parameter of each multi-source role: how many sources must agree (k of n).
SOURCE_PARAMS: dict[str, str] = {
    "cover": "cover_sources_required",
    "loss": "loss_sources_required",
    "forest_2020": "forest_2020_sources_required",
    "commodity": "commodity_sources_required",
    "canopy_height": "canopy_height_sources_required",
    "alerts": "alert_sources_required",
}

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Source:
    """One evidence source: a raster (or a precomputed table) and the product it holds.

    Parameters
    ----------
    raster : path, rasterio dataset or DataFrame
        The raster, or a precomputed table of its verb on the parcels' index.
    product : Product or str, optional
        What the raster holds (:mod:`agroforest_geo.products`).
    name : str, optional
        Label of the source in the evidence columns and reasons (default: the
        product's name; without a product, the role, e.g. ``"loss"``).

    Examples
    --------
    >>> Source("maps/bosque_2020.tif", None, "bosque").label
    'bosque'
    >>> Source("gfc.tif", "jrc_gfc2020").label
    'jrc_gfc2020_v3'
    """

    raster: Any
    product: Any = None
    name: str | None = None

    def resolved_product(self) -> Any:
        """Return the :class:`~agroforest_geo.products.Product` (None when not given)."""
        from ..products import _resolve

        return _resolve(self.product, "product")

    @property
    def label(self) -> str:
        """The source's name in column names and reasons."""
        if self.name:
            return str(self.name)
        p = self.resolved_product()
        if p is not None:
            return str(p.name)
        return "raster"  # as_sources names it by its role: results never depend on file names


def _one(item: Any, role: str) -> Source:
    if isinstance(item, Source):
        return item
    if isinstance(item, tuple):
        if len(item) not in (2, 3):
            raise TypeError(
                f"{role}: a source is (raster, product) or (raster, product, name), got a "
                f"tuple of {len(item)}"
            )
        return Source(*item)
    return Source(item)


def as_sources(value: Any, role: str, *, product: Any = None) -> list[Source]:
    """Normalise a raster input to a list of :class:`Source` (once, at the boundary).

    Parameters
    ----------
    value : None, raster, (raster, product) tuple, Source, or a list of these
        A list means several sources; a tuple is one raster with its product.
    role : str
        The input's name, for messages (``"loss"``, ``"forest_2020"`` ...).
    product : Product or str, optional
        The product of a single raster given without one (``cover_product=``).

    Returns
    -------
    list of Source
        Empty for None. Labels are unique (two sources of the same product need ``name=``).

    Examples
    --------
    >>> [s.label for s in as_sources("lossyear.tif", "loss")]
    ['loss']
    >>> as_sources([("a.tif", "radd_alerts"), ("b.tif", "radd_alerts")], "alerts")
    Traceback (most recent call last):
    ...
    ValueError: alerts: two sources are labelled 'radd_alerts'; ...
    """
    if value is None:
        return []
    items = list(value) if isinstance(value, list) else [value]
    out = [_one(x, role) for x in items]
    if product is not None:
        if len(out) != 1 or out[0].product is not None:
            raise ValueError(
                f"{role}_product= is for one {role} raster given alone; with a list give each "
                f"source its product: {role}=[(raster, product), ...]"
            )
        out = [Source(out[0].raster, product, out[0].name)]
    out = [Source(s.raster, s.product, role) if s.label == "raster" else s for s in out]
    labels = [s.label for s in out]
    for s in out:
        if not _LABEL.match(s.label):
            raise ValueError(
                f"{role}: source label {s.label!r} must be letters, digits, '_', '.' or '-'; "
                "pass Source(raster, product, name='...')"
            )
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(
            f"{role}: two sources are labelled {dup[0]!r}; give them names: "
            "Source(raster, product, name='...')"
        )
    return out


def sources_required(thresholds: Mapping[str, float], role: str) -> float:
    """Return ``k`` of the role (how many sources must agree); ``inf`` means all.

    Examples
    --------
    >>> sources_required({"loss_sources_required": 2.0}, "loss")
    2.0
    """
    return float(thresholds.get(SOURCE_PARAMS[role], 1.0))


def _kth_largest(values: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Return, per row, the k-th largest non-NaN value (k capped at the count) and its column."""
    n_rows, n_cols = values.shape
    have = np.isfinite(values)
    count = have.sum(axis=1)
    filled = np.where(have, values, -np.inf)
    order = np.argsort(-filled, axis=1, kind="stable")  # descending, NaN last
    kk = np.minimum(np.maximum(count, 1), int(min(k, n_cols))) - 1
    col = order[np.arange(n_rows), kk]
    out = filled[np.arange(n_rows), col]
    out = np.where(count > 0, out, np.nan)
    return out, np.where(count > 0, col, -1)


def combine_sources(
    per_source: Mapping[str, pd.DataFrame],
    *,
    k: float,
    decide_on: str,
    smallest: Sequence[str] = (),
    earliest: Sequence[str] = (),
) -> pd.DataFrame:
    """Combine the evidence of several sources into the columns the rules read.

    Parameters
    ----------
    per_source : mapping of label to DataFrame
        Each source's evidence, same index (a column a source lacks is unknown).
    k : float
        How many sources must agree: 1 any, ``inf`` all (see the module's Method).
    decide_on : str
        The deciding column; ``<decide_on>_source`` names the sources whose value
        reaches the combined one.
    smallest : sequence of str
        Columns combined by the smallest value (coverage).
    earliest : sequence of str
        Dates or years: the earliest among the sources reporting one (value of
        ``decide_on`` above 0), where the combination reports it too.

    Returns
    -------
    pandas.DataFrame
        One column per column of the sources, and ``<decide_on>_source``.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"loss_ha": [0.0, 0.8, 0.6]})
    >>> b = pd.DataFrame({"loss_ha": [0.7, 0.0, float("nan")]})
    >>> any_ = combine_sources({"a": a, "b": b}, k=1, decide_on="loss_ha")
    >>> any_["loss_ha"].tolist(), any_["loss_ha_source"].tolist()
    ([0.7, 0.8, 0.6], ['b', 'a', 'a'])
    >>> combine_sources({"a": a, "b": b}, k=float("inf"), decide_on="loss_ha")["loss_ha"].tolist()
    [0.0, 0.0, 0.6]
    """
    labels = list(per_source)
    index = per_source[labels[0]].index
    columns = list(dict.fromkeys(c for t in per_source.values() for c in t.columns))
    out = pd.DataFrame(index=index)
    for c in columns:
        if c in earliest:
            continue
        stack = np.column_stack([_num(per_source[s], c) for s in labels])
        if c in smallest:
            have = np.isfinite(stack)
            low = np.min(np.where(have, stack, np.inf), axis=1)
            out[c] = np.where(have.any(axis=1), low, np.nan)
        else:
            out[c] = _kth_largest(stack, k)[0]
    if decide_on not in out.columns:
        out[decide_on] = np.nan
    combined = out[decide_on].to_numpy(dtype=float)
    votes = np.column_stack([_num(per_source[s], decide_on) for s in labels])
    with np.errstate(invalid="ignore"):
        reach = np.isfinite(votes) & (votes >= combined[:, None])
        report = (votes > 0) & (combined[:, None] > 0)
    for c in earliest:
        values = pd.DataFrame(
            {j: per_source[s][c].to_numpy() if c in per_source[s].columns else np.nan
             for j, s in enumerate(labels)},
            index=index,
        )  # fmt: skip
        out[c] = values.where(pd.DataFrame(report, index=index)).min(axis=1)
    out[f"{decide_on}_source"] = [
        ",".join(lab for j, lab in enumerate(labels) if reach[i, j]) for i in range(len(index))
    ]
    return out


def _num(table: pd.DataFrame, column: str) -> np.ndarray:
    if column not in table.columns:
        return np.full(len(table), np.nan)
    col = table[column]
    if col.dtype == "boolean" or col.dtype == bool:
        col = col.astype("Float64")
    return pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
