"""Write notebooks/01_quickstart.ipynb (stored without outputs)."""

from pathlib import Path

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell(
        "# Quick start: parcels, validation, repair and exact hectares\n\n"
        "This notebook runs on the synthetic sample data shipped with the package "
        "(a cocoa cooperative around Juanjuí, San Martín, Peru). It reads the member "
        "parcels, validates and repairs them, computes true ellipsoidal hectares and "
        "compares them with the areas the members declared."
    ),
    nbf.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n\n"
        "import agroforest_geo as agf\n\n"
        "agf.datasets.available()"
    ),
    nbf.v4.new_markdown_cell("## Read the layers\nIds are kept as given (strings)."),
    nbf.v4.new_code_cell(
        'parcels = agf.read_parcels(agf.datasets.get_path("parcels"))\n'
        'plots = agf.read_plots(agf.datasets.get_path("plots"))\n'
        'protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))\n'
        "print(len(parcels), 'parcels,', len(plots), 'plots,', len(protected), 'protected areas')\n"
        "parcels.head()"
    ),
    nbf.v4.new_markdown_cell(
        "## Validate a messy layer\n"
        "The `parcels_messy` layer has the defects field data usually has: bow-ties, swapped "
        "coordinates, duplicate ids, duplicate vertices, a wrongly oriented hole, a point "
        "instead of a polygon, an empty geometry. Every finding has a stable rule code."
    ),
    nbf.v4.new_code_cell(
        'messy = agf.read_parcels(agf.datasets.get_path("parcels_messy"))\n'
        'report = agf.validate(messy, kind="parcels")\n'
        "report.summary"
    ),
    nbf.v4.new_code_cell("report.findings.head(15)"),
    nbf.v4.new_markdown_cell(
        "## Repair\n`repair` never drops a row and records every change it makes."
    ),
    nbf.v4.new_code_cell(
        'repaired, changes = agf.repair(messy, kind="parcels")\n'
        "assert len(repaired) == len(messy) and repaired.index.equals(messy.index)\n"
        "changes.findings.head(15)"
    ),
    nbf.v4.new_code_cell(
        'after = agf.validate(repaired, kind="parcels")\n'
        "after.summary  # what repair cannot fix (a point, an empty geometry, duplicate ids)"
    ),
    nbf.v4.new_markdown_cell(
        "## Exact hectares\n`area_ha` is the area on the WGS 84 ellipsoid with geodesic edges: "
        "the same number whatever the CRS of the layer."
    ),
    nbf.v4.new_code_cell(
        "area = agf.area_ha(parcels)\n"
        "utm = parcels.to_crs(32718)\n"
        "print('ellipsoidal ha :', round(area.sum(), 4))\n"
        "print('same, from UTM :', round(agf.area_ha(utm).sum(), 4))\n"
        "print('planar UTM map :', round(utm.area.sum() / 1e4, 4))  # off by the scale factor\n"
        "area.describe()"
    ),
    nbf.v4.new_markdown_cell("## Declared versus measured area"),
    nbf.v4.new_code_cell(
        "dvm = agf.declared_vs_measured(parcels)\n"
        "print(int(dvm['declared_off'].sum()), 'parcels declared more than 10 % off')\n"
        "dvm.sort_values('declared_ratio').head(10)"
    ),
    nbf.v4.new_code_cell(
        "fig, ax = plt.subplots(figsize=(5, 5))\n"
        "ax.scatter(dvm['area_ha'], dvm['declared_area_ha'], s=8, c=dvm['declared_off'])\n"
        "lim = [0, float(dvm[['area_ha', 'declared_area_ha']].max().max()) * 1.05]\n"
        "ax.plot(lim, lim, 'k--', lw=0.8)\n"
        "ax.set_xlabel('measured (ellipsoidal) ha'); ax.set_ylabel('declared ha');"
    ),
    nbf.v4.new_markdown_cell("## A map"),
    nbf.v4.new_code_cell(
        "ax = protected.plot(column='category', alpha=0.3, legend=True, figsize=(8, 8))\n"
        "parcels.plot(ax=ax, column='province', edgecolor='k', linewidth=0.3)\n"
        "plots.plot(ax=ax, color='darkgreen', markersize=4)\n"
        "ax.set_xlim(*parcels.total_bounds[[0, 2]]); ax.set_ylim(*parcels.total_bounds[[1, 3]]);"
    ),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
out = Path(__file__).resolve().parents[1] / "notebooks" / "01_quickstart.ipynb"
nbf.write(nb, out)
print(out)
