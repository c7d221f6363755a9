"""The docs site: the CLI page is generated from the parsers, roles become links, notebooks in."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_page_is_up_to_date():
    make = _load(ROOT / "scripts" / "make_cli_docs.py")
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page == make.render(), "docs/cli.md is stale: run python scripts/make_cli_docs.py"
    # every subcommand and every option of one of them is on the page
    assert "## `assess`" in page and "`--lang LANG`" in page and "## `validate`" in page


def test_roles_become_autorefs_links():
    roles = _load(ROOT / "docs" / "hooks" / "roles.py")
    html = (
        "see :func:<code>agroforest_geo.run_assessment</code>, "
        ":class:<code>~agroforest_geo.Assessment</code> and :meth:<code>Assessment.report()</code>"
    )
    out = roles.convert(html)
    assert ":func:" not in out and ":class:" not in out and ":meth:" not in out
    assert '<autoref identifier="agroforest_geo.run_assessment" optional>' in out
    assert "<code>Assessment</code></autoref>" in out
    assert '<autoref identifier="agroforest_geo.Assessment.report" optional>' in out


def _yaml_loader():
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may hold python tags (e.g. !!python/name:); ignore them here
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *a: None)
    return Loader


def test_notebooks_and_cli_are_in_the_site():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_yaml_loader())
    nav = str(config["nav"])
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{nb.name}" in nav, nb.name
        assert (ROOT / "docs" / "notebooks" / nb.name).exists(), nb.name
    assert "cli.md" in nav
    assert any("mkdocs-jupyter" in str(p) for p in config["plugins"])
    assert "docs/hooks/roles.py" in config["hooks"]
