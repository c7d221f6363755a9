"""Readers for what field teams export: tables, their encodings, their column names."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf

# a 0.001° x 0.001° square near Juanjuí: its ellipsoidal area, by the library's own
# geodesic kernel (cross-checked against pyproj.Geod in test_area)
SQUARE = shapely.box(-76.710, -7.180, -76.709, -7.179)
SQUARE_HA = float(agf.area_ha(gpd.GeoSeries([SQUARE], crs=4326)).iloc[0])


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- CSV


def test_spanish_csv_semicolons_decimal_commas_and_names(tmp_path, caplog):
    path = write(
        tmp_path / "puntos.csv",
        "\ufeffcodigo;productor;Longitud;Latitud;area_declarada_ha\r\n"
        "00123;Ana Pérez;-76,7123;-7,1801;2,5\r\n"
        "00124;Luis Ruiz;-76,7001;-7,1902;1,25\r\n",
    )
    with caplog.at_level(logging.INFO, logger="agroforest_geo"):
        out = agf.read_parcels(path)
    assert out["parcel_id"].tolist() == ["00123", "00124"]  # leading zeros kept
    assert out["producer_name"].tolist() == ["Ana Pérez", "Luis Ruiz"]
    assert out["declared_area_ha"].tolist() == [2.5, 1.25]
    assert out.geometry.x.tolist() == [-76.7123, -76.7001]
    assert out.geometry.y.tolist() == [-7.1801, -7.1902]
    assert out.crs.to_epsg() == 4326
    assert out.attrs["column_mapping"] == {
        "Longitud": "geometry.x",
        "Latitud": "geometry.y",
        "codigo": "parcel_id",
        "productor": "producer_name",
        "area_declarada_ha": "declared_area_ha",
    }
    assert "'codigo' as 'parcel_id'" in caplog.text


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separator_is_sniffed(tmp_path, sep):
    rows = [["plot_id", "parcel_id", "system", "lon", "lat"], ["A1", "P1", "x", "-76.7", "-7.2"]]
    path = write(tmp_path / "p.csv", "\n".join(sep.join(r) for r in rows) + "\n")
    out = agf.read_plots(path)
    assert out["plot_id"].tolist() == ["A1"] and out.geometry.x.tolist() == [-76.7]


def test_ids_are_text_as_written(tmp_path):
    path = write(
        tmp_path / "p.csv",
        "parcel_id,member_id,lon,lat,declared_area_ha\n"
        "00123,12345678901234567,-76.7,-7.2,1.5\n"
        "0009,98765432109876543,-76.6,-7.1,\n",
    )
    out = agf.read_parcels(path)
    assert out["parcel_id"].tolist() == ["00123", "0009"]
    assert out["member_id"].tolist() == ["12345678901234567", "98765432109876543"]
    assert out["declared_area_ha"].iloc[0] == 1.5 and np.isnan(out["declared_area_ha"].iloc[1])


def test_other_columns_stay_text(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,lon,lat,ruc,NA\nP1,-76.7,-7.2,0201,NA\n")
    out = agf.read_parcels(path)
    assert out["ruc"].tolist() == ["0201"]  # not 201
    assert out["NA"].tolist() == ["NA"]  # only empty cells are missing


def test_windows_1252_csv(tmp_path):
    path = write(tmp_path / "p.csv", "codigo;productor;lon;lat\n001;Peña;-76,7;-7,2\n", "cp1252")
    assert agf.read_parcels(path)["producer_name"].tolist() == ["Peña"]


def test_utm_este_norte_needs_a_crs(tmp_path):
    path = write(
        tmp_path / "utm.csv",
        'codigo;Este;Norte\n001;"321.456,5";"9.201.345,2"\n002;321500;9201400\n',
    )
    with pytest.raises(agf.MissingCRSError, match=r"projected.*crs='EPSG:32718'") as info:
        agf.read_parcels(path)
    assert "--crs EPSG:32718" in info.value.cli_message
    out = agf.read_parcels(path, crs="EPSG:32718")
    assert out.crs.to_epsg() == 32718
    assert out.geometry.x.tolist() == [321456.5, 321500.0]
    assert out.geometry.y.tolist() == [9201345.2, 9201400.0]


def test_degree_columns_with_a_projected_crs_are_refused(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,Longitud,Latitud\nP1,-76.7,-7.2\n")
    with pytest.raises(agf.UnreadableInputError, match="projected"):
        agf.read_parcels(path, crs=32718)


def test_x_y_columns_in_metres_need_a_crs(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,x,y\nP1,321456.5,9201345.2\n")
    with pytest.raises(agf.MissingCRSError):
        agf.read_parcels(path)
    degrees = write(tmp_path / "d.csv", "parcel_id,x,y\nP1,-76.7,-7.2\n")
    assert agf.read_parcels(degrees).crs.to_epsg() == 4326


def test_explicit_coordinate_columns(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,E_gps,N_gps,x\nP1,321456.5,9201345.2,7\n")
    out = agf.read_parcels(path, columns={"E_gps": "x", "N_gps": "y"}, crs=32718)
    assert out.geometry.x.tolist() == [321456.5]
    assert out["x"].tolist() == ["7"]  # the other x column is an attribute


def test_two_longitude_columns_are_not_guessed(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,lon,Longitud,lat\nP1,-76.7,-76.8,-7.2\n")
    with pytest.raises(agf.AmbiguousColumnError, match=r"'lon'.*'Longitud'"):
        agf.read_parcels(path)


def test_coordinates_that_are_not_numbers_are_named(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,lon,lat\nP1,-76.7,-7.2\nP2,-76.7,7°12'S\n")
    with pytest.raises(agf.UnreadableInputError, match=r"row 1: \"7°12'S\""):
        agf.read_parcels(path)
    mixed = write(tmp_path / "m.csv", 'parcel_id;E;N\nP1;"1.234,5";1\nP2;"1,234.5";2\n')
    with pytest.raises(agf.UnreadableInputError, match="decimal styles"):
        agf.read_parcels(mixed, columns={"E": "x", "N": "y"}, crs=32718)


def test_empty_coordinates_give_a_missing_geometry_not_a_lost_row(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id;lon;lat\nP1;-76,7;-7,2\nP2;;\n")
    out = agf.read_parcels(path)
    assert out["parcel_id"].tolist() == ["P1", "P2"]
    assert out.geometry.isna().tolist() == [False, True]


# --------------------------------------------------------------------------- geometry text


def test_wkt_csv_written_by_write_table_reads_back(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["007", "012"], "declared_area_ha": [1.0, 2.5]},
        geometry=[SQUARE, shapely.MultiPolygon([SQUARE])],
        crs=4326,
    )
    back = agf.read_parcels(agf.write_table(gdf, tmp_path / "p.csv"))
    assert back["parcel_id"].tolist() == ["007", "012"]
    assert back.geometry.geom_equals_exact(gdf.geometry, tolerance=0).all()
    assert back.crs.to_epsg() == 4326


def test_wkt_in_metres_needs_a_crs(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["a"]}, geometry=[shapely.box(5e5, 9.2e6, 5e5 + 100, 9.2e6 + 100)], crs=32718
    )
    path = agf.write_table(gdf, tmp_path / "p.csv")
    with pytest.raises(agf.MissingCRSError, match="not in degrees"):
        agf.read_parcels(path)
    assert agf.area_ha(agf.read_parcels(path, crs=32718)).iloc[0] == pytest.approx(1.0008, abs=1e-4)


def test_geojson_geometry_column(tmp_path):
    text = shapely.to_geojson(SQUARE).replace('"', '""')
    path = write(tmp_path / "p.csv", f'parcel_id,geom\nP1,"{text}"\n')
    out = agf.read_parcels(path)
    assert out.geometry.iloc[0].equals(SQUARE)


def test_terratrac_polygons_are_polygons(tmp_path):
    ring = "[[-76.710, -7.180], [-76.709, -7.180], [-76.709, -7.179], [-76.710, -7.179]]"
    path = write(
        tmp_path / "farms.csv",
        "remote_id,farmer_name,member_id,farm_size,latitude,longitude,polygon\n"
        f'u-1,Juan,M1,1.2,-7.1795,-76.7095,"{ring}"\n'
        'u-2,Rosa,M2,0.5,-7.19,-76.72,"[]"\n',
    )
    out = agf.read_parcels(path)
    assert out.geometry.geom_type.tolist() == ["Polygon", "Point"]
    assert out.geometry.iloc[0].equals(SQUARE)  # the open ring is closed
    assert out.geometry.iloc[1].equals(shapely.Point(-76.72, -7.19))  # lon, lat
    assert agf.area_ha(out).iloc[0] == pytest.approx(SQUARE_HA, rel=1e-12)
    assert out["parcel_id"].tolist() == ["u-1", "u-2"]
    assert out["declared_area_ha"].tolist() == [1.2, 0.5]


def test_sample_terratrac_file_matches_its_parcels():
    farms = agf.read_parcels(agf.datasets.get_path("terratrac_farms"))
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    assert farms.geometry.geom_type.value_counts().to_dict() == {"Polygon": 10, "Point": 2}
    # each farm's point (TerraTrac's latitude/longitude) lies in the parcel it was made from
    where = gpd.GeoDataFrame(
        farms[["parcel_id", "declared_area_ha"]],
        geometry=gpd.points_from_xy(
            farms["longitude"].astype(float), farms["latitude"].astype(float)
        ),
        crs=4326,
    )
    hit = gpd.sjoin(
        where, parcels[["parcel_id", "declared_area_ha", "geometry"]], predicate="within"
    )
    assert len(hit) == 12
    np.testing.assert_array_equal(hit["declared_area_ha_left"], hit["declared_area_ha_right"])
    polys = farms.geom_type.to_numpy() == "Polygon"
    source = parcels.set_index("parcel_id").loc[hit["parcel_id_right"].to_numpy()[polys]]
    # the polygons are the parcels' outlines at 1e-7 degrees (~1 cm): same hectares to 1e-5
    np.testing.assert_allclose(
        agf.area_ha(farms[polys]).to_numpy(),
        agf.area_ha(source.reset_index()).to_numpy(),
        rtol=1e-5,
    )


def test_odk_geoshape_geotrace_and_geopoint(tmp_path):
    shape = (
        "-7.180 -76.710 310 4;-7.180 -76.709 310 4;-7.179 -76.709 310 4;"
        "-7.179 -76.710 310 4;-7.180 -76.710 310 4"
    )
    path = write(
        tmp_path / "kobo.csv",
        f'codigo;parcela_forma;_geolocation\n001;"{shape}";"[-7.18, -76.71]"\n',
    )
    out = agf.read_parcels(path)
    assert out.geometry.iloc[0].equals(SQUARE)  # ODK writes latitude first
    assert out["_geolocation"].tolist() == ["[-7.18, -76.71]"]  # Kobo's [lat, lon]: text
    two = write(
        tmp_path / "two.csv",
        f'codigo;parcela_forma;camino\n001;"{shape}";"-7.18 -76.71 0 0;-7.17 -76.70 0 0"\n',
    )
    with pytest.raises(agf.AmbiguousColumnError, match=r"\['parcela_forma', 'camino'\]"):
        agf.read_parcels(two)
    trace = agf.read_parcels(two, columns={"camino": "geometry"})
    assert trace.geometry.iloc[0].equals(shapely.LineString([(-76.71, -7.18), (-76.70, -7.17)]))
    assert "parcela_forma" in trace.columns  # the other shape is kept as text
    point = write(tmp_path / "pt.csv", 'codigo,gps\n001,"-7.18 -76.71 305.2 4.5"\n')
    assert agf.read_parcels(point).geometry.iloc[0].equals(shapely.Point(-76.71, -7.18))


def test_kobo_point_columns_and_geolocation(tmp_path):
    # KoboToolbox exports a geopoint as its string and as _<name>_latitude/_longitude
    path = write(
        tmp_path / "kobo.csv",
        "codigo,gps,_gps_latitude,_gps_longitude,_geolocation\n"
        '001,"-7.18 -76.71 0 5",-7.18,-76.71,"[-7.18, -76.71]"\n',
    )
    out = agf.read_parcels(path)
    assert out.geometry.iloc[0].equals(shapely.Point(-76.71, -7.18))
    assert out.attrs["column_mapping"]["_gps_longitude"] == "geometry.x"


def test_bad_geometry_text_is_named(tmp_path):
    path = write(
        tmp_path / "p.csv",
        'parcel_id,wkt\nP1,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\nP2,"POLYGON ((0 0"\n',
    )
    with pytest.raises(agf.UnreadableInputError, match=r"WKT.*row 1"):
        agf.read_parcels(path)


# --------------------------------------------------------------------------- Excel, KML


def test_excel_workbook(tmp_path):
    path = tmp_path / "socios.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame(
            {"Código": ["00123", "00124"], "Productor": ["Ana", "Luis"], "Longitud": [-76.7, -76.6],
             "Latitud": ["-7,2", "-7,1"], "Área declarada (ha)": [2.5, 1.0]}
        ).to_excel(xl, sheet_name="parcelas", index=False)  # fmt: skip
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="notas", index=False)
    out = agf.read_parcels(path)
    assert out["parcel_id"].tolist() == ["00123", "00124"]
    assert out.geometry.x.tolist() == [-76.7, -76.6] and out.geometry.y.tolist() == [-7.2, -7.1]
    assert out["declared_area_ha"].tolist() == [2.5, 1.0]
    with pytest.raises(agf.UnreadableInputError, match=r"\['parcelas', 'notas'\]"):
        agf.read_parcels(path, layer="hoja1")
    old = write(tmp_path / "old.xls", "not really")
    with pytest.raises(agf.UnreadableInputError, match=r"save it as \.xlsx"):
        agf.read_parcels(old)


@pytest.mark.parametrize(("suffix", "driver"), [(".kml", "KML"), (".kmz", "LIBKML")])
def test_phone_app_kml_name_is_the_parcel_id(tmp_path, suffix, driver):
    path = tmp_path / f"campo{suffix}"
    gpd.GeoDataFrame({"Name": ["00077"]}, geometry=[SQUARE], crs=4326).to_file(path, driver=driver)
    out = agf.read_parcels(path)
    assert out["parcel_id"].tolist() == ["00077"]
    assert out.attrs["column_mapping"] == {"Name": "parcel_id"}


# --------------------------------------------------------------------------- column names


@pytest.mark.parametrize(
    "name",
    ["codigo_parcela", "Código Parcela", "id_parcela", "COD_PARCELA", "id_parcelle", "remote_id"],
)
def test_common_id_names(name):
    gdf = gpd.GeoDataFrame({name: ["7"]}, geometry=[SQUARE], crs=4326)
    assert agf.read_parcels(gdf)["parcel_id"].tolist() == ["7"]


def test_two_candidates_are_never_guessed():
    gdf = gpd.GeoDataFrame({"codigo": ["1"], "id_parcela": ["2"]}, geometry=[SQUARE], crs=4326)
    with pytest.raises(agf.AmbiguousColumnError) as info:
        agf.read_parcels(gdf)
    msg = str(info.value)
    assert "['codigo', 'id_parcela']" in msg and "id_column='codigo'" in msg
    assert "--id-column codigo or --id-column id_parcela" in info.value.cli_message
    assert agf.read_parcels(gdf, id_column="id_parcela")["parcel_id"].tolist() == ["2"]


def test_canonical_name_wins_over_aliases():
    gdf = gpd.GeoDataFrame({"parcel_id": ["a"], "codigo": ["b"]}, geometry=[SQUARE], crs=4326)
    out = agf.read_parcels(gdf)
    assert out["parcel_id"].tolist() == ["a"] and out["codigo"].tolist() == ["b"]
    assert out.attrs["column_mapping"] == {}


def test_missing_id_error_speaks_python_and_cli():
    gdf = gpd.GeoDataFrame({"user_id": [1]}, geometry=[SQUARE], crs=4326)
    with pytest.raises(agf.MissingColumnError) as info:
        agf.read_parcels(gdf)
    assert "id_column='user_id'" in str(info.value)
    assert "--id-column user_id" in info.value.cli_message
    assert "id_column=" not in info.value.cli_message


def test_sernanp_protected_areas_files(tmp_path):
    files = []
    for name, cat in [
        ("pn_rio_abiseo", "Parque Nacional"),
        ("bp_alto_mayo", "Bosque de Protección"),
    ]:
        path = tmp_path / f"{name}.gpkg"
        gpd.GeoDataFrame(
            {"anp_cate": [cat], "anp_nombre": [name], "anp_sect": [None]},
            geometry=[SQUARE],
            crs=4326,
        ).to_file(path)
        files.append(path)
    pa = agf.read_protected_areas(files)
    assert pa["area_id"].tolist() == ["pn_rio_abiseo-1", "bp_alto_mayo-1"]
    assert pa["name"].tolist() == ["pn_rio_abiseo", "bp_alto_mayo"]
    assert pa["category"].tolist() == ["Parque Nacional", "Bosque de Protección"]
    assert pa["source_file"].tolist() == ["pn_rio_abiseo.gpkg", "bp_alto_mayo.gpkg"]
    assert pa.attrs["column_mapping"]["anp_nombre"] == "name"
    other = tmp_path / "utm.gpkg"
    gpd.GeoDataFrame(
        {"area_id": ["x"], "name": ["n"], "category": ["c"]}, geometry=[SQUARE], crs=4326
    ).to_crs(32718).to_file(other)
    with pytest.raises(agf.CRSMismatchError, match=r"utm\.gpkg"):
        agf.read_protected_areas([files[0], other])


def test_integer_columns_refuse_thousands_separators(tmp_path):
    path = write(
        tmp_path / "p.csv",
        "plot_id;parcel_id;system;lon;lat;trees_planted\nA;P;x;-76,7;-7,2;1.150\n",
    )
    with pytest.raises(agf.UnreadableInputError, match="whole numbers"):
        agf.read_plots(path)


def test_sample_plot_points_types():
    plots = agf.read_plots(agf.datasets.get_path("plot_points"))
    assert plots["trees_planted"].dtype == np.int64
    assert plots["plot_id"].iloc[0] == "AF0121"


def test_sample_spanish_points():
    pts = agf.read_parcels(agf.datasets.get_path("gps_points_es"))
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    assert len(pts) == 24 and pts["parcel_id"].str.fullmatch(r"\d{6}").all()
    parent = "P" + pts["parcel_id"].str[-4:]
    inside = gpd.sjoin(pts, parcels[["parcel_id", "geometry"]], predicate="within")
    assert (inside["parcel_id_right"].to_numpy() == parent.to_numpy()).all()


# --------------------------------------------------------------------------- real files


@pytest.mark.shared
def test_real_sernanp_and_whisp(shared_data):
    anp = sorted((shared_data / "perugeopkg" / "anp").glob("[pb][np]_*.gpkg"))
    pa = agf.read_protected_areas(anp)
    assert len(pa) == len(anp) == 3
    assert set(pa["category"]) == {"Parque Nacional", "Bosque de Protección"}
    assert pa["area_id"].is_unique
    # SERNANP's ACR files have no category field: their layout is the category
    every = sorted((shared_data / "perugeopkg" / "anp").glob("*.gpkg"))
    all_five = agf.read_protected_areas(every)
    assert len(all_five) == 5 and all_five["area_id"].is_unique
    acr = all_five[all_five["source_file"].str.startswith("acr_")]
    assert set(acr["category"]) == {"Área de Conservación Regional"}
    assert set(acr["name"]) == {"Cordillera Escalera", "Bosques de Shunté y Mishollo"}
    whisp = shared_data / "whisp" / "geojson_example.geojson"
    with pytest.raises(agf.MissingColumnError, match="id_column='user_id'"):
        agf.read_parcels(whisp)
    plots = agf.read_parcels(whisp, id_column="user_id")
    assert plots["parcel_id"].tolist()[:3] == ["1", "2", "3"] and len(plots) == 50


def test_sernanp_acr_layout_gets_its_category_and_nothing_else_does(tmp_path):
    acr = gpd.GeoDataFrame(
        {"acr_nomb": ["Cordillera Escalera"], "acr_balec": ["D.S. N° 045-2005-AG"]},
        geometry=[SQUARE], crs=4326,
    )  # fmt: skip
    acr.to_file(tmp_path / "acr_x.gpkg")
    pa = agf.read_protected_areas(tmp_path / "acr_x.gpkg")
    assert pa["category"].tolist() == ["Área de Conservación Regional"]
    assert pa.attrs["column_mapping"]["(SERNANP ACR layout)"] == "category"
    # a category given (or mapped) wins; a layer without the ACR fields is still refused
    own = agf.read_protected_areas(acr.assign(categoria=["ACR"], area_id=["a1"]))
    assert own["category"].tolist() == ["ACR"]
    other = gpd.GeoDataFrame({"nombre": ["X"], "area_id": ["a2"]}, geometry=[SQUARE], crs=4326)
    with pytest.raises(agf.MissingColumnError, match="category"):
        agf.read_protected_areas(other)


def test_naming_the_model_id_still_finds_its_common_names():
    # run_assessment passes id_column="parcel_id" by default: codigo must still be found
    gdf = gpd.GeoDataFrame({"codigo": ["0042"]}, geometry=[SQUARE], crs=4326)
    assert agf.read_parcels(gdf, id_column="parcel_id")["parcel_id"].tolist() == ["0042"]


def test_text_that_only_looks_like_geometry_is_an_attribute(tmp_path):
    path = write(
        tmp_path / "p.csv", "parcel_id,lon,lat,nota,tel\nP1,-76.7,-7.2,POINT of sale,942 123\n"
    )
    out = agf.read_parcels(path)
    assert out.geometry.iloc[0].equals(shapely.Point(-76.7, -7.2))
    assert out[["nota", "tel"]].iloc[0].tolist() == ["POINT of sale", "942 123"]


def test_alias_table_is_consistent():
    from agroforest_geo._names import COLUMN_ALIASES, COORDINATE_ALIASES, normalise_name

    for kind, table in COLUMN_ALIASES.items():
        names = [a for aliases in table.values() for a in aliases]
        assert len(names) == len(set(names)), kind  # one column per name within a kind
        assert all(normalise_name(a) == a for a in names), kind
        assert not set(names) & set(table), kind  # no alias is another column's own name
    coords = [a for aliases in COORDINATE_ALIASES.values() for a in aliases]
    assert len(coords) == len(set(coords))


# --------------------------------------------------------------------------- declared area

# a cooperative's GPS points, Excel in a Spanish locale; PE-003 has latitude and longitude
# swapped (it lies among the others at -76.690, -6.505)
PUNTOS_ES = (
    "codigo;latitud;longitud;area_ha\n"
    "PE-001;-6,512;-76,734;2,5\n"
    "PE-002;-6,498;-76,701;1,8\n"
    "PE-003;-76,690;-6,505;3,1\n"
)


def _circle_m2_by_pyproj(point: shapely.Point, area_ha: float) -> float:
    """The area of a point's circle by pyproj's own geodesic polygon area (another kernel)."""
    import pyproj

    from agroforest_geo._points import points_as_circles

    circles, _ = points_as_circles(np.array([point], dtype=object), 4326, np.array([area_ha]))
    area, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(circles[0])
    return abs(area)


def test_spanish_points_area_ha_is_the_declared_area(tmp_path):
    path = write(tmp_path / "puntos.csv", PUNTOS_ES)
    with pytest.warns(agf.GeometryWarning, match="PE-003") as rec:
        pts = agf.read_parcels(path)
    assert not [w for w in rec if issubclass(w.category, agf.ColumnWarning)]
    assert pts["declared_area_ha"].tolist() == [2.5, 1.8, 3.1]  # decimal commas
    assert pts.attrs["column_mapping"]["area_ha"] == "declared_area_ha"
    assert "area_ha_input" not in pts.columns and "area_ha" not in pts.columns
    # measured as circles of their declared area: 2.5 ha, not the default 4 ha
    measured = agf.area_ha(pts.iloc[:2])
    assert measured.tolist() == pytest.approx([2.5, 1.8], abs=1e-6)
    assert _circle_m2_by_pyproj(pts.geometry.iloc[0], 2.5) == pytest.approx(25_000, abs=1e-2)


@pytest.mark.parametrize(
    ("header", "value", "hectares"),
    [
        ("area_ha", "2.5", 2.5),
        ("Área (ha)", "2.5", 2.5),
        ("AREA", "2.5", 2.5),
        ("superficie_ha", "2.5", 2.5),
        ("hectareas", "2.5", 2.5),
        ("ha", "2.5", 2.5),
        ("area_m2", "25000", 2.5),
        ("Superficie (m2)", "25000", 2.5),
        ("superficie (m²)", "25000", 2.5),
        ("area_km2", "0.025", 2.5),
        ("acres", "5", 5 * 0.40468564224),  # the international acre is 4046.8564224 m²
    ],
)
def test_declared_area_names_and_units(tmp_path, header, value, hectares):
    path = write(
        tmp_path / "farms.csv",
        f'parcel_id,longitude,latitude,"{header}"\nF1,-1.61,6.69,{value}\nF2,-1.62,6.70,\n',
    )
    farms = agf.read_parcels(path)  # F2 has no area: one warning, naming it
    assert farms["declared_area_ha"].iloc[0] == pytest.approx(hectares, rel=1e-15)
    assert np.isnan(farms["declared_area_ha"].iloc[1])
    assert agf.area_ha(farms).iloc[0] == pytest.approx(hectares, abs=1e-6)


def test_an_area_in_an_unknown_unit_is_not_read_as_hectares(tmp_path):
    # manzanas differ by country (0.70 ha in Nicaragua, 0.69 in Honduras): not guessed
    path = write(tmp_path / "fincas.csv", "codigo,lon,lat,area_mz\nN1,-85.9,13.3,3\n")
    with pytest.warns(agf.ColumnWarning, match=r"\['area_mz'\] look like an area") as rec:
        farms = agf.read_parcels(path)
    assert "declared_area_ha" not in farms.columns and farms["area_mz"].tolist() == ["3"]
    assert agf.area_ha(farms).iloc[0] == pytest.approx(4.0, abs=1e-6)  # the default, said
    assert "columns={'area_mz': 'declared_area_ha'}" in str(rec[0].message)


def test_the_model_column_wins_over_a_common_name(tmp_path):
    path = write(
        tmp_path / "p.csv",
        "parcel_id;lon;lat;declared_area_ha;area_ha\nP1;-76,7;-7,2;1,5;2,5\n",
    )
    out = agf.read_parcels(path)
    assert out["declared_area_ha"].tolist() == [1.5]
    assert out["area_ha"].tolist() == ["2,5"]  # kept as it was, an extra column
    assert "area_ha" not in out.attrs["column_mapping"]


def test_two_declared_area_names_stop_the_read(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,lon,lat,area_ha,area_m2\nP1,-76.7,-7.2,2.5,25000\n")
    with pytest.raises(agf.AmbiguousColumnError, match=r"\['area_ha', 'area_m2'\]"):
        agf.read_parcels(path)


def test_a_column_mapped_by_hand_is_converted_by_the_unit_of_its_name(tmp_path):
    path = write(
        tmp_path / "p.csv", "parcel_id,lon,lat,Sup (m2),sup_total\nP1,-76.7,-7.2,25000,9\n"
    )
    out = agf.read_parcels(path, columns={"Sup (m2)": "declared_area_ha"})
    assert out["declared_area_ha"].tolist() == [2.5]
    out = agf.read_parcels(path, columns={"sup_total": "declared_area_ha"})
    assert out["declared_area_ha"].tolist() == [9.0]  # no unit in the name: hectares


def test_square_metres_under_a_name_without_unit_warn(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,lon,lat,area\nP1,-76.7,-7.2,25000\n")
    with pytest.warns(agf.ColumnWarning, match="square metres") as rec:
        out = agf.read_parcels(path)
    assert out["declared_area_ha"].tolist() == [25_000.0]  # as written; the warning says why
    assert "area_m2" in str(rec[0].message)


def test_excel_numbers_in_square_metres(tmp_path):
    path = tmp_path / "socios.xlsx"
    df = pd.DataFrame(
        {"codigo": ["001"], "Longitud": [-76.7], "Latitud": [-7.2], "area_m2": [18000]}
    )
    df.to_excel(path, index=False, engine="openpyxl")
    assert agf.read_parcels(path)["declared_area_ha"].tolist() == [1.8]


def test_a_geodataframe_with_area_m2(recwarn):
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["a"], "area_m2": [31_000.0]}, geometry=[shapely.Point(-76.7, -7.2)], crs=4326
    )
    out = agf.read_parcels(gdf)
    assert out["declared_area_ha"].tolist() == [3.1]
    assert agf.area_ha(out).iloc[0] == pytest.approx(3.1, abs=1e-6)
    assert not recwarn.list


def test_plots_recognise_the_declared_area_too(tmp_path):
    path = write(
        tmp_path / "plots.csv",
        "plot_id,parcel_id,system,longitude,latitude,area_ha\nA1,P1,agroforestry,-76.7,-7.2,0.5\n",
    )
    plots = agf.read_plots(path)
    assert plots["declared_area_ha"].tolist() == [0.5]
    assert agf.area_ha(plots).iloc[0] == pytest.approx(0.5, abs=1e-6)


# --------------------------------------------------------------------------- read warnings


def test_points_without_declared_area_warn_once_with_the_fix(tmp_path):
    path = write(tmp_path / "p.csv", "parcel_id,lon,lat\nP1,-76.7,-7.2\nP2,-76.71,-7.21\n")
    with pytest.warns(agf.ColumnWarning) as rec:
        agf.read_parcels(path)
    assert len(rec) == 1
    text = str(rec[0].message)
    assert "2 point(s) of the parcels layer are measured as circles of 4 ha" in text
    assert "area_ha" in text and "area_m2" in text  # the names recognised
    assert "columns={'COLUMN': 'declared_area_ha'}" in text
    assert "--columns COLUMN=declared_area_ha" in rec[0].message.cli_message


def test_empty_declared_areas_are_named(tmp_path):
    path = write(
        tmp_path / "p.csv", "parcel_id,lon,lat,area_ha\nP1,-76.7,-7.2,1\nP2,-76.71,-7.21,\n"
    )
    with pytest.warns(agf.ColumnWarning, match=r"1 of 2 points .* parcel_id P2\)"):
        agf.read_parcels(path)


def test_polygons_and_declared_points_do_not_warn(recwarn):
    polys = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[SQUARE], crs=4326)
    agf.read_parcels(polys)
    pts = agf.read_parcels(agf.datasets.get_path("gps_points_es"))
    assert pts["declared_area_ha"].notna().all()
    assert not recwarn.list


def test_read_raw_names_the_kind_that_recognises_the_area(tmp_path):
    path = write(
        tmp_path / "puntos.csv", PUNTOS_ES.replace("PE-003;-76,690;-6,505", "PE-003;-6,505;-76,690")
    )
    with pytest.warns(agf.ColumnWarning, match="kind='parcels'") as rec:
        raw = agf.read_raw(path)
    assert raw["area_ha"].tolist() == ["2,5", "1,8", "3,1"]  # as stored
    assert "--kind parcels" in rec[0].message.cli_message
    assert "--columns area_ha=declared_area_ha" in rec[0].message.cli_message


def test_points_that_are_not_plots_are_not_warned_about_area(recwarn):
    # read_raw does not know a layer of points to be plots: a tree inventory is points too
    trees = agf.read_raw(agf.datasets.get_path("tree_inventory"))
    assert (trees.geom_type == "Point").all()
    assert not [w for w in recwarn.list if issubclass(w.category, agf.ColumnWarning)]


def test_a_swapped_row_is_named_with_its_fix_and_kept(tmp_path):
    path = write(tmp_path / "puntos.csv", PUNTOS_ES)
    with pytest.warns(agf.GeometryWarning) as rec:
        pts = agf.read_parcels(path)
    (w,) = [w for w in rec if issubclass(w.category, agf.GeometryWarning)]
    text = str(w.message)
    assert "1 of 3 rows of the parcels layer" in text
    assert "parcel_id PE-003 (x -6.505, y -76.69; swapped: x -76.69, y -6.505)" in text
    assert "'longitud' and 'latitud'" in text and "repair(gdf, swap_axes='auto')" in text
    assert "agroforest-geo validate" in w.message.cli_message
    assert "--kind parcels --repair" in w.message.cli_message
    assert pts.geometry.iloc[2].equals(shapely.Point(-6.505, -76.69))  # never swapped here
    f = agf.validate(pts, kind="parcels").findings
    assert f[["id", "code"]].values.tolist() == [["PE-003", "swapped_lonlat"]]
    assert "swapped, it is at x -76.69, y -6.505" in f["message"].item()


@pytest.mark.shared
def test_real_point_tables_read_without_swap_warnings(shared_data):
    import warnings

    tables = [
        shared_data / "peer-fixtures" / "biomass" / "NouraguesCoords.csv",
        shared_data / "peer-fixtures" / "biomass" / "KarnatakaForest_first5plots.csv",
    ]
    tables = [t for t in tables if t.exists()]
    if not tables:
        pytest.skip("no point tables among the peer fixtures")
    for table in tables:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            layer = agf.read_raw(table)
        assert layer.crs.to_epsg() == 4326 and len(layer) > 3
        assert not [w for w in rec if issubclass(w.category, agf.GeometryWarning)], table.name


def test_square_metres_with_a_dot_every_three_digits_are_refused(tmp_path):
    # "25.000" in a Spanish sheet is 25 000 m² (2.5 ha); parsed as a decimal it is 25 m²
    text = "codigo;lon;lat;area_m2\nP1;-76,7;-7,2;25.000\nP2;-76,7;-7,3;18.500\n"
    path = write(tmp_path / "p.csv", text)
    with pytest.raises(agf.UnreadableInputError, match=r"'25\.000'.*25000"):
        agf.read_parcels(path)
    ok = write(tmp_path / "q.csv", "codigo;lon;lat;area_m2\nP1;-76,7;-7,2;25.000,5\n")
    assert agf.read_parcels(ok)["declared_area_ha"].tolist() == [2.50005]
