"""Reading and writing the interchange format: lossless round trips, determinism, PostGIS."""

import os
import uuid

import geopandas as gpd
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from gis import load_grid, write_grid
from gis.format import normalise, read_layers

KEY = {"line_types": "type", "meta": "key", "profiles": ["profile", "day_type", "minute_of_day"]}


def canonical(layers):
    out, issues = normalise(layers)
    assert not issues
    result = {}
    for name, df in out.items():
        key = KEY.get(name, "id")
        df = df.sort_values(key).reset_index(drop=True)
        result[name] = df[sorted(df.columns)]
    return result


def assert_same(a, b):
    a, b = canonical(a), canonical(b)
    assert set(a) == set(b)
    for name in a:
        left, right = a[name], b[name]
        if isinstance(left, gpd.GeoDataFrame):
            assert left.geometry.geom_equals_exact(right.geometry, tolerance=0).all(), name
            assert left.crs == right.crs
            left, right = pd.DataFrame(left.drop(columns="geometry")), pd.DataFrame(right.drop(columns="geometry"))
        assert_frame_equal(left, right, check_dtype=False, obj=name)


@pytest.mark.parametrize("suffix", [".gpkg", ""])
def test_round_trip_is_lossless(ring_layers, tmp_path, suffix):
    ring_layers["customers"]["name"] = ring_layers["customers"]["name"]  # accents and CJK included
    ring_layers["nodes"]["extra_note"] = "kept"  # columns the format does not define survive
    path = tmp_path / f"grid{suffix}"
    write_grid(ring_layers, path)
    back = read_layers(path)
    assert_same(ring_layers, back)
    assert "海景公寓" in set(back["customers"]["name"])
    # and through a second format
    path2 = tmp_path / ("again" if suffix else "again.gpkg")
    write_grid(back, path2)
    assert_same(ring_layers, read_layers(path2))


@pytest.mark.parametrize("suffix", [".gpkg", ""])
def test_empty_optional_layer_round_trips(ring_layers, tmp_path, suffix):
    ring_layers["depots"] = ring_layers["depots"].iloc[0:0]
    write_grid(ring_layers, tmp_path / f"g{suffix}")
    grid = load_grid(tmp_path / f"g{suffix}")
    assert grid.depots.empty and "id" in grid.depots.columns


def test_grid_layers_round_trip_through_both_forms(ring, tmp_path):
    write_grid(ring.layers(), tmp_path / "g.gpkg")
    write_grid(ring.layers(), tmp_path / "g")
    a, b = load_grid(tmp_path / "g.gpkg"), load_grid(tmp_path / "g")
    assert a.summary() == b.summary() == ring.summary()
    assert_same(a.layers(), b.layers())


def test_geopackage_is_byte_identical_when_rewritten(ring_layers, tmp_path):
    write_grid(ring_layers, tmp_path / "a.gpkg")
    write_grid(ring_layers, tmp_path / "b.gpkg")
    assert (tmp_path / "a.gpkg").read_bytes() == (tmp_path / "b.gpkg").read_bytes()


def test_geopackage_has_every_layer(ring_layers, tmp_path):
    import pyogrio

    write_grid(ring_layers, tmp_path / "g.gpkg")
    names = {row[0] for row in pyogrio.list_layers(tmp_path / "g.gpkg")}
    assert names == set(ring_layers)


def test_not_a_grid(tmp_path):
    from gis import InputError

    with pytest.raises(InputError):
        load_grid(tmp_path / "missing.gpkg")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError):
        load_grid(tmp_path / "x.txt")
    (tmp_path / "bad.gpkg").write_text("not sqlite")
    with pytest.raises(InputError):
        load_grid(tmp_path / "bad.gpkg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError):
        load_grid(tmp_path / "empty")


def test_write_refuses_other_crs(ring_layers, tmp_path):
    from gis import InputError

    ring_layers["nodes"] = ring_layers["nodes"].to_crs("EPSG:32632")
    with pytest.raises(InputError):
        write_grid(ring_layers, tmp_path / "g.gpkg")


@pytest.fixture()
def postgis_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL not set: PostGIS round trip needs a PostgreSQL server")
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as con:
            con.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostGIS here"
        engine.dispose()
        pytest.skip(f"PostGIS not available on {engine.url.host}: {type(exc).__name__}")
    schema = f"grid_{uuid.uuid4().hex[:8]}"
    with engine.begin() as con:
        con.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield url, engine, schema
    with engine.begin() as con:
        con.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_postgis_round_trip(ring, postgis_url):
    url, engine, schema = postgis_url
    layers = ring.layers()
    for name, df in layers.items():
        if isinstance(df, gpd.GeoDataFrame):
            df.to_postgis(name, engine, schema=schema, index=False)
        else:
            df.to_sql(name, engine, schema=schema, index=False)
    grid = load_grid(url, schema=schema)
    assert grid.summary() == ring.summary()
    assert_same(grid.layers(), layers)
    assert sorted(grid.affected_customers(open_switches=["S1"])["id"]) == ["C1", "C2", "C3", "C7"]
