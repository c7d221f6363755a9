"""What each verb needs to run partition by partition, declared once.

:mod:`agroforest_geo.distributed` cuts a layer into partitions and runs a verb
on each; how it cuts, what it sends and how it puts the results back together
comes from the verb's declaration here, never from the verb's name. A
declaration says:

``kind``
    ``"rows"``: one result row per feature, from that feature alone (and from
    other inputs sent whole to every worker); ``"halo"``: the same, but a
    feature's result also depends on its neighbours in the layer (each
    partition gets the features of the others whose bounding box meets one of
    its own); ``"pairs"``: a table of pairs of features of the layer that meet
    (with a halo, each pair kept once), or, when the argument named
    ``pairs_with`` is given, pairs of a feature and another layer's (row by
    row); ``"by_id"``: features with equal ids must meet (partitions by a hash
    of the id column), the result is a validation report (``returns="report"``)
    or a repaired layer and its report (``returns="layer_and_report"``).
``rasters``
    Arguments that are rasters: sent to the workers as paths, a list of tiles
    or a glob pattern made a VRT.
``layers``
    Arguments that are other layers: sent whole to every worker once (a Dask
    layer is computed first).
``tables``
    Arguments that may be tables on the layer's index (precomputed evidence):
    cut with the layer, each partition gets its rows.

The verbs of this library are declared in :data:`VERBS` (by qualified name,
so this module imports none of them); any other function, yours included,
with the :func:`verb` decorator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

__all__ = ["VERBS", "VerbSpec", "spec_of", "verb"]

Kind = Literal["rows", "halo", "pairs", "by_id"]
Returns = Literal["table", "report", "layer_and_report"]
F = TypeVar("F", bound=Callable[..., Any])

#: The attribute :func:`verb` sets on the function it declares.
_ATTRIBUTE = "__agroforest_geo_verb__"


@dataclass(frozen=True)
class VerbSpec:
    """What a verb needs to run partition by partition (see the module notes)."""

    kind: Kind
    rasters: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    pairs_with: str | None = None
    returns: Returns = "table"

    def __post_init__(self) -> None:
        if self.kind not in get_args(Kind):
            raise ValueError(f"kind must be one of {get_args(Kind)}, got {self.kind!r}")
        if self.returns not in get_args(Returns):
            raise ValueError(f"returns must be one of {get_args(Returns)}, got {self.returns!r}")
        for name in ("rasters", "layers", "tables"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise TypeError(
                    f"{name} must be a tuple of argument names, e.g. ('raster',), got {value!r}"
                )
            object.__setattr__(self, name, tuple(value))
        if (self.kind == "by_id") != (self.returns != "table"):
            raise ValueError(
                'kind="by_id" returns "report" or "layer_and_report"; the other kinds '
                f'return "table" (got kind={self.kind!r}, returns={self.returns!r})'
            )
        if self.pairs_with is not None and (
            self.kind != "pairs" or self.pairs_with not in self.layers
        ):
            raise ValueError(
                f'pairs_with={self.pairs_with!r} needs kind="pairs" and the argument '
                f"among layers, e.g. layers=({self.pairs_with!r},)"
            )


def verb(
    kind: Kind,
    *,
    rasters: Sequence[str] = (),
    layers: Sequence[str] = (),
    tables: Sequence[str] = (),
    pairs_with: str | None = None,
    returns: Returns = "table",
) -> Callable[[F], F]:
    """Declare what a function needs to run on Dask with :func:`agroforest_geo.distributed.run`.

    The function is returned unchanged (it only gains an attribute); its first
    argument must be the layer.

    Parameters
    ----------
    kind : {"rows", "halo", "pairs", "by_id"}
        ``"rows"``: one result row per feature from that feature alone;
        ``"halo"``: also from the feature's neighbours in the layer;
        ``"pairs"``: pairs of features that meet; ``"by_id"``: features with
        equal ids must be seen together.
    rasters : sequence of str
        Names of the arguments that are rasters (sent as paths; tiles become a VRT).
    layers : sequence of str
        Names of the arguments that are other layers (sent whole to every worker).
    tables : sequence of str
        Names of the arguments that may be tables on the layer's index (cut with it).
    pairs_with : str, optional
        For ``kind="pairs"``: the layer argument that, when given, makes the
        pairs those of a feature and that layer's features (row by row).
    returns : {"table", "report", "layer_and_report"}
        ``"by_id"`` verbs return a validation report, or a repaired layer and
        its report; the others a table (or Series) on the layer's index, or
        a pair table.

    Returns
    -------
    callable
        A decorator returning the function itself.

    Raises
    ------
    ValueError, TypeError
        An unknown kind, or a declaration that does not hold together.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> from agroforest_geo.distributed import run, verb
    >>> @verb("rows", rasters=("raster",))
    ... def mean_cover(parcels, raster):
    ...     return agf.forest_cover(parcels, raster)["mean_cover_pct"]
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> tc = agf.datasets.get_path("treecover")
    >>> got = run(mean_cover, parcels, tc, npartitions=3, scheduler="synchronous")
    >>> bool((got == mean_cover(parcels, tc)).all())
    True
    """
    spec = VerbSpec(
        kind,
        tuple(rasters),
        tuple(layers),
        tuple(tables),
        pairs_with,
        returns,
    )

    def declare(func: F) -> F:
        setattr(func, _ATTRIBUTE, spec)
        return func

    return declare


_ROWS = VerbSpec("rows")

#: The verbs of this library, by ``module.qualname``: one line per verb. A verb added to
#: the library gets its line here (or the :func:`verb` decorator where it is defined).
VERBS: dict[str, VerbSpec] = {
    "agroforest_geo.area.area_ha": _ROWS,
    "agroforest_geo.area.area_m2": _ROWS,
    "agroforest_geo.area.perimeter_m": _ROWS,
    "agroforest_geo.declared.declared_vs_measured": _ROWS,
    "agroforest_geo.overlap.overlaps": VerbSpec("pairs", layers=("other",), pairs_with="other"),
    "agroforest_geo.overlap.containment": VerbSpec("rows", layers=("parcels",)),
    "agroforest_geo.protected.protected_overlap": VerbSpec("rows", layers=("protected",)),
    "agroforest_geo.cover.forest_cover": VerbSpec("rows", rasters=("cover",)),
    "agroforest_geo.cover.class_shares": VerbSpec("rows", rasters=("raster",)),
    "agroforest_geo.cover.forest_loss": VerbSpec("rows", rasters=("loss", "cover")),
    "agroforest_geo.cover.forest_cover_and_loss": VerbSpec("rows", rasters=("cover", "loss")),
    "agroforest_geo.raster.integrate": VerbSpec("rows", rasters=("raster",)),
    "agroforest_geo.alerts.disturbance_alerts": VerbSpec("rows", rasters=("raster",)),
    "agroforest_geo.trees.tree_density": VerbSpec(
        "rows", rasters=("chm", "density_raster"), layers=("trees",)
    ),
    "agroforest_geo.validate.validate": VerbSpec("by_id", returns="report"),
    "agroforest_geo.repair.repair": VerbSpec("by_id", returns="layer_and_report"),
    "agroforest_geo.eudr.assess.assess": VerbSpec(
        "halo",
        rasters=("cover", "loss"),
        layers=("protected", "trees", "plots"),
        tables=("cover", "loss", "protected", "trees"),
    ),
}


def _qualified_name(func: Any) -> str:
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', '')}"


def spec_of(func: Callable[..., Any]) -> VerbSpec | None:
    """Return the declaration of ``func`` (None if it has none).

    Looks through ``functools.partial`` and ``functools.wraps`` wrappers (a
    deprecated alias keeps its verb's declaration).

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> spec_of(agf.forest_cover).rasters
    ('raster',)
    >>> spec_of(print) is None
    True
    """
    seen: set[int] = set()
    f: Any = func
    while f is not None and id(f) not in seen:
        seen.add(id(f))
        spec = getattr(f, _ATTRIBUTE, None)
        if isinstance(spec, VerbSpec):
            return spec
        spec = VERBS.get(_qualified_name(f))
        if spec is not None:
            return spec
        f = getattr(f, "func", None) or getattr(f, "__wrapped__", None)
    return None
