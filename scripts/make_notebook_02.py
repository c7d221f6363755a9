"""Write notebooks/02_overlaps_and_protected_areas.ipynb (stored without outputs)."""

from pathlib import Path

import nbformat as nbf

cells = []


def md(text: str) -> None:
    cells.append(nbf.v4.new_markdown_cell(text))


def code(text: str) -> None:
    cells.append(nbf.v4.new_code_cell(text))


md("""# Overlaps, protected areas and plot containment

Where is land claimed twice, which parcels reach into protected forest, and which
agroforestry plots leave the parcel they belong to? All hectares are ellipsoidal
(the same method as `agf.area_ha`), whatever the layers' CRS.""")
code("""import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import agroforest_geo as agf

parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
plots = agf.read_plots(agf.datasets.get_path("plots"))
protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
len(parcels), len(plots), len(protected), parcels.crs.to_epsg()""")
md("""## 1. Parcels claimed twice

`overlaps` reports every unordered pair once. Touching neighbours are not overlaps;
a parcel inside another (`within` / `contains`) and an exact copy (`duplicate`) are.""")
code("""pairs = agf.overlaps(parcels)
pairs.drop(columns="geometry").round(4)""")
code("""pairs.groupby("relation").overlap_ha.agg(["count", "sum"]).round(3)""")
md("""Slivers can be dropped explicitly; the number dropped is kept in `attrs`.""")
code("""big = agf.overlaps(parcels, min_overlap_m2=1_000)
len(big), big.attrs["n_below_min_overlap"]""")
code("""fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, (_, row) in zip(axes, pairs.head(3).iterrows()):
    ids = [row.parcel_id_left, row.parcel_id_right]
    parcels[parcels.parcel_id.isin(ids)].boundary.plot(ax=ax, color="black", linewidth=1)
    pairs.loc[[row.name]].plot(ax=ax, color="tab:red", alpha=0.6)
    ax.set_title(f"{ids[0]} / {ids[1]}: {row.overlap_ha:.3f} ha ({row.relation})", fontsize=9)
    ax.set_axis_off()
fig.tight_layout()""")
md("""## 2. Parcels in protected and REDD+ areas

The national park and its buffer zone overlap each other: `protected_ha` is measured
inside their union, so nothing is counted twice. `distance_to_protected_m` is the
geodesic distance between the closest points (0 when touching or inside);
`in_buffer_band` flags parcels outside every area but within `buffer_m` of one.""")
code("""res = agf.protected_overlap(parcels, protected, buffer_m=500)
res[res.protected_ha > 0].sort_values("protected_share", ascending=False).head(10).round(3)""")
code("""summary = res.groupby("protected_categories").agg(
    parcels=("area_ha", "size"), parcel_ha=("area_ha", "sum"), protected_ha=("protected_ha", "sum")
)
summary["share"] = summary.protected_ha / summary.parcel_ha  # sum areas, then divide
summary.round(3)""")
code("""print("parcels within 500 m of a protected area:", int(res.in_buffer_band.sum()))
res.distance_to_protected_m.describe().round(1)""")
code("""fig, ax = plt.subplots(figsize=(8, 8))
colors = {"redd_plus": "tab:green", "national_park": "darkgreen", "buffer_zone": "yellowgreen"}
for cat, grp in protected.groupby("category"):
    grp.plot(ax=ax, color=colors.get(cat, "lightgrey"), alpha=0.35, label=cat)
status = res.protected_ha.gt(0).map({True: "in protected area", False: "outside"})
status[res.in_buffer_band] = "within 500 m"
palette = {"in protected area": "red", "within 500 m": "orange", "outside": "steelblue"}
for label, color in palette.items():
    sel = parcels[status == label]
    if len(sel):
        sel.plot(ax=ax, color=color, edgecolor="black", linewidth=0.2)
x0, y0, x1, y1 = parcels.total_bounds
ax.set_xlim(x0 - 0.02, x1 + 0.02)
ax.set_ylim(y0 - 0.02, y1 + 0.02)
ax.set_title("Parcels by protected-area status (red: inside, orange: within 500 m)")
ax.set_xlabel("longitude")
ax.set_ylabel("latitude");""")
md("""## 3. Plots and their parent parcel

`containment` uses the declared `parcel_id` of each plot and compares it with the
parcel that holds most of the plot.""")
code("""cont = agf.containment(plots, parcels)
flagged = cont[cont.parent_mismatch | (cont.outside_ha > 1e-6)]
flagged.join(plots[["plot_id"]]).round(4)""")
code("""fig, axes = plt.subplots(1, len(flagged), figsize=(5 * len(flagged), 4), squeeze=False)
for ax, (i, row) in zip(axes[0], flagged.iterrows()):
    ids = [row.parent_parcel_id, row.majority_parcel_id]
    parcels[parcels.parcel_id.isin(ids)].plot(ax=ax, color="wheat", edgecolor="black")
    plots.loc[[i]].plot(ax=ax, color="tab:blue", alpha=0.6)
    ax.set_title(
        f"{plots.plot_id[i]}: declared {row.parent_parcel_id}, mostly in "
        f"{row.majority_parcel_id}\\ninside share {row.inside_share:.2f}, "
        f"outside {row.outside_ha:.3f} ha",
        fontsize=9,
    )
    ax.set_axis_off()
fig.tight_layout()""")
md("""The same three analyses are available on the command line:

```
agroforest-geo overlaps parcels.gpkg --min-overlap-m2 10 --output overlaps.gpkg
agroforest-geo protected parcels.gpkg protected_areas.gpkg --buffer-m 500 --output protected.csv
agroforest-geo containment plots.gpkg parcels.gpkg --output containment.csv
```""")

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
nbf.write(
    nb, Path(__file__).resolve().parents[1] / "notebooks" / "02_overlaps_and_protected_areas.ipynb"
)
