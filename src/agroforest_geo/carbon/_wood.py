"""Wood density per tree from a wood-density table: species → genus → family → stand mean.

Method
------
The table holds either *records* (one measured value per row: ``family``,
``genus``, ``species``, ``wd``, optionally ``region``; the Global Wood Density
Database as published on Dryad, or its copies) or *taxon summaries* (``wd``
and ``sd`` per taxon, with ``level`` species/genus/family, as GWDD v.2's
taxon estimates). From records, restricted to ``region``:

* species value: mean of the species' records;
* genus value: mean of the genus' species values (each species counts once);
* family value: mean of the family's genus values;
* stand value: mean of the values found for the other trees of the same stand
  (plot), else of every tree found.

The standard deviation attached to a tree is that of its level: the mean,
over the taxa of that level with at least ten records, of the standard
deviation of their records (Réjou-Méchain et al. 2017's ``sd_10`` rule). A
stand-level tree gets the standard deviation of the species values of the table
(an unknown tree can be any species).

No table is bundled: the licence of the Global Wood Density Database copy could
not be confirmed, so pass your own (``table=``), e.g. the Dryad file
(Zanne et al. 2009, doi:10.5061/dryad.234) read with :func:`read_wood_density_table`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MissingColumnError, TaxonFallbackWarning, UnreadableInputError

__all__ = ["read_wood_density_table", "wood_density"]

#: Taxa with at least this many records give the level's standard deviation.
MIN_RECORDS_FOR_SD = 10
_UNKNOWN_EPITHETS = re.compile(r"^(sp|spp|sp\d+|indet|cf|aff|nd|unknown|\?)\.?$", re.IGNORECASE)
_UNKNOWN_GENERA = re.compile(r"^(indet|unknown|nd|n/?a|\?|-)\.?$", re.IGNORECASE)
_WD_NAMES = ("wd", "wsg", "wood_density", "wood_density_g_cm3", "meanwd")


def _norm_region(value: object) -> str:
    return re.sub(r"[\s_]+", " ", str(value)).strip().lower()


def _find(columns: Sequence[str], *names: str, prefix: str | None = None) -> str | None:
    low = {c.lower().strip(): c for c in columns}
    for n in names:
        if n in low:
            return low[n]
    if prefix is not None:
        for key, c in low.items():
            if key.startswith(prefix):
                return c
    return None


def read_wood_density_table(source: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    """Read a wood-density table into the columns :func:`wood_density` uses.

    Accepts the Global Wood Density Database as published (``Family``,
    ``Binomial``, ``Wood density (g/cm^3)...``, ``Region``), record tables with
    ``family, genus, species, wd[, region]`` (``species`` the epithet or the
    binomial) and taxon summaries with ``wsg`` or ``wd``, ``sd`` and ``level_tax``.

    Parameters
    ----------
    source : DataFrame or path
        A table, or a ``.csv`` / ``.parquet`` / ``.xlsx`` file.

    Returns
    -------
    pandas.DataFrame
        ``family``, ``genus``, ``species`` (epithet; NaN for genus/family rows),
        ``wd`` (g/cm³), ``region`` (lower case, NaN when absent), and ``sd`` and
        ``level`` for taxon summaries.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> t = agf.carbon.read_wood_density_table(agf.datasets.get_path("wood_density"))
    >>> list(t.columns)
    ['family', 'genus', 'species', 'wd', 'region']
    """
    if isinstance(source, pd.DataFrame):
        raw = source.copy()
    else:
        path = Path(source)
        if not path.exists():
            raise UnreadableInputError(f"wood-density table {path} does not exist")
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            raw = pd.read_parquet(path)
        elif suffix in (".xls", ".xlsx"):
            raw = pd.read_excel(path, sheet_name=-1)
        else:
            raw = pd.read_csv(path)
    cols = list(map(str, raw.columns))
    wd_col = _find(cols, *_WD_NAMES, prefix="wood density")
    if wd_col is None:
        raise MissingColumnError(
            f"the wood-density table has no wood density column ({list(_WD_NAMES)} or "
            f"'Wood density ...'); its columns are {cols}"
        )
    fam, gen, sp = _find(cols, "family"), _find(cols, "genus"), _find(cols, "species")
    binomial = _find(cols, "binomial")
    out = pd.DataFrame(index=raw.index)
    out["family"] = raw[fam].astype("string").str.strip() if fam else pd.NA
    if gen is None and binomial is None and sp is None:
        raise MissingColumnError(
            f"the wood-density table needs genus/species or Binomial; has {cols}"
        )
    names = raw[binomial] if binomial else raw[sp] if sp else None
    genus = raw[gen].astype("string").str.strip() if gen else None
    if names is not None:
        parts = names.astype("string").str.strip().str.split(r"\s+", n=1, expand=True)
        first = parts[0]
        second = parts[1] if parts.shape[1] > 1 else pd.Series(pd.NA, index=raw.index)
        if genus is None:
            genus, epithet = first, second
        else:  # species is the epithet, or a binomial starting with the genus
            is_binomial = first.str.lower() == genus.str.lower()
            epithet = second.where(is_binomial & second.notna(), first.where(~is_binomial))
    else:
        epithet = pd.Series(pd.NA, index=raw.index, dtype="string")
    out["genus"] = genus
    out["species"] = epithet.astype("string").str.lower()
    out.loc[
        out["species"].fillna("").str.fullmatch(_UNKNOWN_EPITHETS.pattern, case=False), "species"
    ] = pd.NA
    out["wd"] = pd.to_numeric(raw[wd_col], errors="coerce").astype(float)
    reg = _find(cols, "region")
    out["region"] = raw[reg].map(_norm_region) if reg else np.nan
    sd = _find(cols, "sd", "sdwd")
    if sd is not None:
        out["sd"] = pd.to_numeric(raw[sd], errors="coerce").astype(float)
        lvl = _find(cols, "level_tax", "level")
        if lvl is not None:
            out["level"] = raw[lvl].astype(str).str.lower()
        else:
            out["level"] = np.where(
                out["species"].notna(), "species", np.where(out["genus"].notna(), "genus", "family")
            )
    out = out[out["wd"].notna()].reset_index(drop=True)
    if out.empty:
        raise UnreadableInputError("the wood-density table has no numeric wood density value")
    return out


class _Levels:
    """Per-taxon means and per-level standard deviations of a normalised table."""

    def __init__(self, table: pd.DataFrame, region: str | None) -> None:
        t = table
        if region is not None and t["region"].notna().any():
            key = _norm_region(region)
            if key not in ("world", "all"):
                t = t[t["region"] == key]
                if t.empty:
                    known = sorted(set(table["region"].dropna()))
                    raise ValueError(
                        f"no wood density for region {region!r}; the table has {known}"
                    )
        self.summary = "sd" in t.columns
        g = t["genus"].str.lower()
        t = t.assign(_g=g, _s=t["species"], _f=t["family"].str.lower())
        if self.summary:
            self._from_summary(t)
        else:
            self._from_records(t)
        fam = t.dropna(subset=["_g", "_f"]).groupby("_g")["_f"].agg(lambda s: s.mode().iloc[0])
        self.genus_family = fam

    def _from_records(self, t: pd.DataFrame) -> None:
        sp = t.groupby(["_f", "_g", "_s"], dropna=False)["wd"].agg(["mean", "size", "std"])
        sp = sp.reset_index()
        named = sp[sp["_s"].notna()]
        self.species = named.set_index(["_g", "_s"])["mean"]
        self.species = self.species[~self.species.index.duplicated()]
        ge = (
            sp.dropna(subset=["_g"])
            .groupby(["_f", "_g"], dropna=False)["mean"]
            .mean()
            .reset_index()
        )
        self.genus = ge.groupby("_g")["mean"].mean()
        self.family = ge.dropna(subset=["_f"]).groupby("_f")["mean"].mean()
        self.sd = {
            "species": _level_sd(t, ["_g", "_s"]),
            "genus": _level_sd(t, ["_g"]),
            "family": _level_sd(t, ["_f"]),
        }
        self.sd["stand"] = float(named["mean"].std()) if len(named) > 1 else self.sd["family"]
        self.species_sd: pd.Series | None = None

    def _from_summary(self, t: pd.DataFrame) -> None:
        lv = t["level"]
        s = t[lv == "species"].dropna(subset=["_g", "_s"]).drop_duplicates(["_g", "_s"])
        self.species = s.set_index(["_g", "_s"])["wd"]
        self.species_sd = s.set_index(["_g", "_s"])["sd"]
        gdf = t[lv == "genus"].dropna(subset=["_g"]).drop_duplicates("_g").set_index("_g")
        fdf = t[lv == "family"].dropna(subset=["_f"]).drop_duplicates("_f").set_index("_f")
        self.genus, self.genus_sd = gdf["wd"], gdf["sd"]
        self.family, self.family_sd = fdf["wd"], fdf["sd"]
        self.sd = {
            "species": float(s["sd"].mean()),
            "genus": float(gdf["sd"].mean()),
            "family": float(fdf["sd"].mean()),
            "stand": float(s["wd"].std()) if len(s) > 1 else float(fdf["sd"].mean()),
        }


def _level_sd(t: pd.DataFrame, keys: list[str]) -> float:
    g = t.dropna(subset=keys).groupby(keys)["wd"]
    sizes = g.size()
    sds = g.std()[sizes >= MIN_RECORDS_FOR_SD]
    if sds.empty:  # a small table: taxa with at least two records
        sds = g.std()[sizes >= 2]
    return float(sds.mean()) if not sds.empty else np.nan


def _parse_taxa(taxa: Sequence[Any]) -> tuple[pd.Series, pd.Series]:
    s = pd.Series(list(taxa), dtype="object").astype("string").str.strip()
    parts = s.str.split(r"[\s_]+", n=2, expand=True)
    genus = parts[0].str.lower() if 0 in parts else pd.Series(pd.NA, index=s.index)
    genus = genus.where(~genus.fillna("").str.fullmatch(_UNKNOWN_GENERA.pattern, case=False))
    genus = genus.where(genus.fillna("") != "")
    epithet = (
        parts[1].str.lower() if 1 in parts else pd.Series(pd.NA, index=s.index, dtype="string")
    )
    epithet = epithet.where(
        ~epithet.fillna("sp").str.fullmatch(_UNKNOWN_EPITHETS.pattern, case=False)
    )
    return genus.astype(object), epithet.astype(object)


def wood_density(
    taxa: Sequence[Any] | pd.Series,
    *,
    region: str | None = "South America (tropical)",
    table: pd.DataFrame | str | os.PathLike[str] | None = None,
    families: Sequence[Any] | pd.Series | None = None,
    stand: Sequence[Any] | pd.Series | None = None,
) -> pd.DataFrame:
    """Wood density (g/cm³) of each tree from its taxon, with the level used and its sd.

    Each tree takes the mean of its species in the table; failing that of its
    genus, then of its family (from ``families`` or the table's genus → family),
    then of its stand (the other trees of ``stand``), then of all trees found.
    See the module docstring for how means and standard deviations are computed.
    A :class:`~agroforest_geo.TaxonFallbackWarning` reports how many trees
    took each coarser level.

    Parameters
    ----------
    taxa : sequence or Series of str
        ``"Genus species"``, ``"Genus"``, ``"Genus sp."``, or NaN / ``"Indet."``
        for unidentified trees.
    region : str or None
        Restrict table records to a region (e.g. ``"South America (tropical)"``,
        underscores or spaces, any case); ``None`` or ``"World"``: every record.
        Ignored when the table has no region column.
    table : DataFrame or path
        Wood-density table (see :func:`read_wood_density_table`). Required: no
        table is bundled with the package (see ``docs/carbon.md``).
    families : sequence of str, optional
        Family of each tree, used when its genus is not in the table.
    stand : sequence, optional
        Stand (plot) of each tree, for the stand-mean fallback.

    Returns
    -------
    pandas.DataFrame
        On the taxa's index (a RangeIndex for a list): ``wood_density_g_cm3``,
        ``wood_density_sd``, ``wood_density_level`` (species, genus, family, stand,
        dataset). All NaN with level ``none`` if nothing at all was found.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> table = agf.datasets.get_path("wood_density")
    >>> wd = agf.carbon.wood_density(["Inga edulis", "Inga sp.", "Indet."], table=table)
    >>> wd["wood_density_level"].tolist()
    ['species', 'genus', 'dataset']
    >>> bool(wd["wood_density_g_cm3"].iloc[0] == wd["wood_density_g_cm3"].iloc[1])
    True
    """
    if table is None:
        raise ValueError(
            "a wood-density table is needed (table=, or --wood-density on the command line): none "
            "is bundled with agroforest_geo. "
            "Download the Global Wood Density Database (Zanne et al. 2009, Dryad, "
            "doi:10.5061/dryad.234) and pass its path or agf.carbon.read_wood_density_table(path)"
        )
    index = taxa.index if isinstance(taxa, pd.Series) else pd.RangeIndex(len(taxa))
    norm = read_wood_density_table(table)
    lv = _Levels(norm, region)
    genus, epithet = _parse_taxa(list(taxa))
    n = len(genus)
    wd = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    level = np.full(n, "none", dtype=object)
    _fill_species(lv, genus, epithet, wd, sd, level)
    _fill_genus(lv, genus, wd, sd, level)
    fam = _families(lv, genus, families, n)
    _fill_family(lv, fam, wd, sd, level)
    _fill_stand(lv, stand, wd, sd, level, n)
    _warn_levels(level)
    return pd.DataFrame(
        {"wood_density_g_cm3": wd, "wood_density_sd": sd, "wood_density_level": level}, index=index
    )


def _fill_species(lv: _Levels, genus: pd.Series, epithet: pd.Series, wd, sd, level) -> None:
    keys = pd.MultiIndex.from_arrays([genus.fillna(""), epithet.fillna("")])
    vals = lv.species.reindex(keys).to_numpy(dtype=float)
    hit = np.isfinite(vals)
    wd[hit], level[hit] = vals[hit], "species"
    if lv.species_sd is not None:
        sd[hit] = lv.species_sd.reindex(keys).to_numpy(dtype=float)[hit]
    else:
        sd[hit] = lv.sd["species"]


def _fill_genus(lv: _Levels, genus: pd.Series, wd, sd, level) -> None:
    todo = level == "none"
    vals = lv.genus.reindex(genus.fillna("")).to_numpy(dtype=float)
    hit = todo & np.isfinite(vals)
    wd[hit], level[hit] = vals[hit], "genus"
    if lv.summary:
        sd[hit] = lv.genus_sd.reindex(genus.fillna("")).to_numpy(dtype=float)[hit]
    else:
        sd[hit] = lv.sd["genus"]


def _families(lv: _Levels, genus: pd.Series, families: Any, n: int) -> pd.Series:
    fam = lv.genus_family.reindex(genus.fillna("")).reset_index(drop=True)
    if families is not None:
        given = pd.Series(list(families), dtype="object").astype("string").str.strip().str.lower()
        if len(given) != n:
            raise ValueError(f"families has {len(given)} values for {n} taxa")
        fam = given.where(given.notna() & (given != ""), fam)
    return fam.astype(object)


def _fill_family(lv: _Levels, fam: pd.Series, wd, sd, level) -> None:
    todo = level == "none"
    vals = lv.family.reindex(fam.fillna("")).to_numpy(dtype=float)
    hit = todo & np.isfinite(vals)
    wd[hit], level[hit] = vals[hit], "family"
    if lv.summary:
        sd[hit] = lv.family_sd.reindex(fam.fillna("")).to_numpy(dtype=float)[hit]
    else:
        sd[hit] = lv.sd["family"]


def _fill_stand(lv: _Levels, stand: Any, wd, sd, level, n: int) -> None:
    todo = level == "none"
    if not todo.any() or not np.isfinite(wd).any():
        return
    if stand is not None:
        st = pd.Series(list(stand), dtype="object")
        if len(st) != n:
            raise ValueError(f"stand has {n} values expected, got {len(st)}")
        means = pd.Series(wd).groupby(st.to_numpy()).mean()
        vals = st.map(means).to_numpy(dtype=float)
        hit = todo & np.isfinite(vals)
        wd[hit], level[hit], sd[hit] = vals[hit], "stand", lv.sd["stand"]
        todo = level == "none"
    found = np.isfinite(wd) & (level != "none")
    wd[todo], level[todo], sd[todo] = float(np.mean(wd[found])), "dataset", lv.sd["stand"]


def _warn_levels(level: np.ndarray) -> None:
    counts = pd.Series(level).value_counts()
    coarse = {k: int(counts.get(k, 0)) for k in ("genus", "family", "stand", "dataset", "none")}
    if any(coarse.values()):
        text = ", ".join(f"{v} at {k} level" for k, v in coarse.items() if v)
        warnings.warn(
            f"wood density: {int(counts.get('species', 0))} of {len(level)} tree(s) found at "
            f"species level, {text} (see the wood_density_level column)",
            TaxonFallbackWarning,
            stacklevel=3,
        )
