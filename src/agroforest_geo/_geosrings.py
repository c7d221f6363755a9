"""Polygon rings read straight from the GEOS geometries shapely holds, without Python's lock.

:func:`scan` and :func:`rings` give the same arrays as ``shapely.get_type_id``,
``shapely.get_num_coordinates`` and the rings of ``area._polygon_rings`` (same
coordinates, same ring order), from one compiled pass over the geometries that
calls the GEOS C API directly. shapely's own calls hold Python's lock while they
build their arrays (``shapely.get_coordinates`` cannot run on two threads at
once); these passes release it, so the area pass uses both cores from the first
vertex to the last. Measured on the area benchmark's 100,000 parcels (1.1 million
vertices, one thread): ``get_coordinates`` plus ``get_num_coordinates`` 12.8 ms,
these passes 12 ms (scan 3.4, rings 8.5), and the two halves run in parallel. :func:`coordinates` is
``shapely.get_coordinates(..., return_index=True)`` for layers of polygons, read
the same way in one pass (as fast on one thread, ~11 ms, and without the lock: the
threads of ``protected_overlap`` read their parcels at the same time).

How the geometries are reached
------------------------------
A shapely geometry is a Python object whose C struct holds the address of its
GEOS geometry (shapely exposes that address as ``_geom``); an object array's
buffer holds the addresses of its objects. The GEOS functions are those of the
very library shapely calls (looked up through shapely's own extension module, so
another copy in the process, such as the one bundled with rasterio's GDAL, is never
used), called through their addresses. All of it is checked once
per process before first use, and any doubt turns this path off (the callers
then use shapely's calls, with the same results):

* CPython on 64-bit Linux (the only platform it is tested on; elsewhere this path
  is off), numba installed (the ``fast`` extra);
* the GEOS found reports the version shapely reports;
* the offset of the GEOS address inside the object found by comparing it with
  ``_geom`` on several geometry types, the same for all;
* a probe set (polygons with holes, empty parts and rings, Z and M coordinates,
  multipolygons, points, lines, missing values) read both ways, identically.

``AGROFOREST_GEO_GEOS_DIRECT=off`` turns the path off by hand. Every row's Python
type is compared with shapely's geometry classes before its struct is read: an
array holding anything else is refused (``None`` returned), and the caller's
shapely path raises its usual error. Each thread uses its own GEOS context handle.

A :class:`Scan` holds the objects it scanned (a copy of the array: the caller's
may change meanwhile), so none of them is freed while it lives and :func:`rings`
reads exactly those, trusting what the scan found of them (shapely geometries are
immutable): it makes three GEOS calls per polygon without holes (shell, its
sequence, the copy), not the five that checking each row again took (12.9 ms). A
row's type is its class's: shapely makes each object of its GEOS type's class, and
the classes are kept in the order of the type ids (the probe set has one row of
each, checked against ``shapely.get_type_id``).
Rows given to :func:`rings` that are not the scanned objects give ``None``.
"""

from __future__ import annotations

import ctypes
import functools
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import shapely

from . import _jit
from ._ringarea import MIN_COMPILED_VERTICES

__all__ = ["ENV_VAR", "MIN_ROWS", "Scan", "available", "coordinates", "rings", "scan"]

#: The GEOS C API functions used, in the order of their addresses in ``_Lib.fns``.
_FUNCTIONS = (
    "GEOSGeomTypeId_r",
    "GEOSGetNumCoordinates_r",
    "GEOSGetExteriorRing_r",
    "GEOSGetNumInteriorRings_r",
    "GEOSGetInteriorRingN_r",
    "GEOSGetNumGeometries_r",
    "GEOSGetGeometryN_r",
    "GEOSGeom_getCoordSeq_r",
    "GEOSGeomGetNumPoints_r",
    "GEOSCoordSeq_copyToArrays_r",
)
(_TYPEID, _NCOORD, _EXT, _NINT, _INTN, _NGEOM, _GEOMN, _SEQ, _NPOINTS, _COPY) = range(10)
#: Offset of ``ob_type`` in a CPython object on a 64-bit build.
_OB_TYPE = 8
#: Fewer rows than this are read through shapely by the callers (a polygon has at least 4
#: vertices: from here on the compiled kernels, and numba, are used anyway when they can be).
MIN_ROWS = MIN_COMPILED_VERTICES // 4  # 12,500
#: Row kinds found by the scan.
NO_RING, SIMPLE, COMPLEX, COLLECTION = 0, 1, 2, 3


class _Lib(NamedTuple):
    fns: np.ndarray  #: addresses of _FUNCTIONS (int64)
    geom_offset: int  #: offset of the GEOS address in a shapely geometry object
    classes: np.ndarray  #: addresses of shapely's geometry classes (int64)
    none: int  #: address of None
    init: Callable[[], int]  #: GEOS_init_r


class Scan(NamedTuple):
    """What one pass over the rows found (see :func:`scan`)."""

    types: np.ndarray  #: ``shapely.get_type_id`` of every row (-1: missing)
    num_coords: np.ndarray  #: ``shapely.get_num_coordinates`` of every row (0: missing)
    kind: np.ndarray  #: NO_RING, SIMPLE (a Polygon without holes), COMPLEX or COLLECTION
    objs: np.ndarray  #: address of every row's object, as scanned (int64)
    #: the scanned objects themselves, held while the scan lives: none of them is freed,
    #: so no address above can be reused by another object
    held: np.ndarray


def available() -> bool:
    """Tell whether the direct path is on in this process (see the module's checks)."""
    return _lib() is not None


def scan(geoms: np.ndarray) -> Scan | None:
    """Type, coordinate count and kind of every row, or None where the path is off.

    None also when a row is not a shapely geometry (nor None): the caller's shapely
    path then raises its usual error. The scan holds the rows' objects (a copy of the
    array, not of the geometries), so :func:`rings` can read the shells it found.
    """
    lib = _lib()
    if lib is None:
        return None
    with _handle() as h:
        return _scan(lib, h, geoms)


def rings(
    geoms: np.ndarray, found: Scan
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Read the polygon rings of ``geoms``, in the order ``area._polygon_rings`` gives them.

    ``found`` is :func:`scan` of the same rows (no GeometryCollection among them;
    a scan of another number of rows raises ValueError). Returns ``(xy, start,
    owner, exterior, n_simple)``, or None if the rows are not the objects scanned
    (a row replaced since: the caller takes shapely's path). The rings are read from
    the objects the scan holds, with what the scan found of them (shapely geometries
    are immutable), and nothing is written past the arrays.
    """
    lib = _lib()
    if lib is None or bool((found.kind == COLLECTION).any()):
        return None
    with _handle() as h:
        return _rings(lib, h, geoms, found)


def _scan(lib: _Lib, h: int, geoms: np.ndarray) -> Scan | None:
    held = np.array(geoms, dtype=object).ravel()  # a copy: the caller's array may change
    objs = _addresses(held)
    n = objs.size
    out = Scan(
        np.empty(n, dtype=np.int32),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int8),
        objs,
        held,
    )
    loop = _compiled("_scan_loop")
    bad = loop(lib.fns, h, objs, lib.none, lib.classes, lib.geom_offset, *out[:3])
    return None if bad >= 0 else out


def _rings(
    lib: _Lib, h: int, geoms: np.ndarray, found: Scan
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int] | None:
    arr = np.ascontiguousarray(geoms, dtype=object).ravel()
    if not (found.kind.size == found.num_coords.size == found.objs.size == arr.size):
        raise ValueError(f"the scan is of {found.kind.size} rows, not of these {arr.size} rows")
    if not np.array_equal(_addresses(arr), found.objs):
        return None  # the scan holds its objects: another object has another address
    res = _compiled("_rings_loop")(
        lib.fns,
        h,
        np.ascontiguousarray(found.objs, dtype=np.int64),
        lib.geom_offset,
        np.ascontiguousarray(found.kind, dtype=np.int8),
        np.ascontiguousarray(found.num_coords, dtype=np.int64),
    )
    xy, start, owner, exterior, n_simple = res
    return None if n_simple < 0 else (xy, start, owner, exterior, int(n_simple))


def _addresses(geoms: np.ndarray) -> np.ndarray:
    """Return the addresses (int64) of the objects of ``geoms``, a contiguous 1-D object array.

    The result is a view of the array's buffer: copy it before the array may change.
    """
    if geoms.size == 0:
        return np.zeros(0, dtype=np.int64)
    if geoms.dtype != object or geoms.ndim != 1 or not geoms.flags.c_contiguous:
        raise ValueError("a contiguous 1-D object array is needed")
    buf = (ctypes.c_int64 * geoms.size).from_address(geoms.__array_interface__["data"][0])
    return np.ctypeslib.as_array(buf)


_HANDLES: queue.SimpleQueue[int] = queue.SimpleQueue()


@contextmanager
def _handle() -> Iterator[int]:
    """Lend a GEOS context handle to this thread's call (created once, then reused)."""
    lib = _lib()
    assert lib is not None
    try:
        h = _HANDLES.get_nowait()
    except queue.Empty:
        h = int(lib.init())
    try:
        yield h
    finally:
        _HANDLES.put(h)


#: Set to ``off`` (or ``0``, ``no``, ``false``) to read rings through shapely's calls only.
ENV_VAR = "AGROFOREST_GEO_GEOS_DIRECT"


@functools.cache
def _lib() -> _Lib | None:
    """Locate and check everything the path relies on (see the module); None if in doubt."""
    if os.environ.get(ENV_VAR, "on").strip().lower() in ("off", "0", "no", "false"):
        return None
    if not (
        sys.platform.startswith("linux")
        and sys.implementation.name == "cpython"
        and sys.maxsize > 2**32
        and _jit.available()
    ):
        return None
    try:
        lib = _located()
    except (OSError, AttributeError, ValueError):
        return None
    if lib is None or not _probe_agrees(lib):
        return None
    return lib


def _located() -> _Lib | None:
    """Find the GEOS library shapely calls, its functions and shapely's object layout."""
    import shapely.lib

    # the handle of shapely's extension module: looking a symbol up through it searches the
    # module and the libraries it was linked with, so it finds the GEOS shapely calls (not
    # another copy in the process, such as the one bundled with rasterio's GDAL)
    clib = ctypes.CDLL(shapely.lib.__file__)
    clib.GEOSversion.restype = ctypes.c_char_p
    clib.GEOSversion.argtypes = []
    version = clib.GEOSversion().decode("ascii", "replace")
    if version.split("-")[0] != shapely.geos_version_string:
        return None
    fns = np.array([ctypes.cast(getattr(clib, n), ctypes.c_void_p).value for n in _FUNCTIONS])
    init = clib.GEOS_init_r
    init.restype = ctypes.c_void_p
    init.argtypes = []
    offset = _geom_offset()
    if offset is None:
        return None
    # in the order of the GEOS type ids: a row's class gives its type (the probe checks it)
    classes = np.array(
        [
            id(c)
            for c in (
                shapely.Point,
                shapely.LineString,
                shapely.LinearRing,
                shapely.Polygon,
                shapely.MultiPoint,
                shapely.MultiLineString,
                shapely.MultiPolygon,
                shapely.GeometryCollection,
            )
        ],
        dtype=np.int64,
    )
    return _Lib(fns.astype(np.int64), offset, classes, id(None), init)


def _geom_offset(probes: list[shapely.Geometry] | None = None) -> int | None:
    """Where a shapely geometry object keeps its GEOS address (the same for every type).

    Only the words inside each probe's struct (``__basicsize__`` bytes) are read.
    """
    if probes is None:
        probes = [
            shapely.Point(1, 2),
            shapely.box(0, 0, 1, 1),
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
            shapely.LineString([(0, 0), (1, 1)]),
        ]
    found = None
    for g in probes:
        target = int(g._geom)
        hits = [
            off
            for off in range(16, type(g).__basicsize__ - 7, 8)
            if ctypes.c_int64.from_address(id(g) + off).value == target
        ]
        if len(hits) != 1 or (found is not None and hits[0] != found):
            return None
        found = hits[0]
    return found


def _probe_geometries() -> np.ndarray:
    wkts = [
        "POLYGON ((0 0, 4 0, 4 3, 0 3, 0 0))",
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2), (6 6, 6 7, 7 7, 6 6))",
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), EMPTY)",
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), EMPTY,"
        " ((5 5, 9 5, 9 9, 5 9, 5 5), (6 6, 7 6, 7 7, 6 6)))",
        "POLYGON Z ((0 0 1, 1 0 2, 1 1 3, 0 0 1))",
        "POLYGON M ((0 0 1, 1 0 2, 1 1 3, 0 0 1))",
        "POLYGON ZM ((0 0 1 5, 1 0 2 6, 1 1 3 7, 0 0 1 5))",
        "POLYGON EMPTY",
        "MULTIPOLYGON EMPTY",
        "POINT (1 2)",
        "LINESTRING (0 0, 1 1)",
        "GEOMETRYCOLLECTION (POINT (0 0), POLYGON ((0 0, 1 0, 1 1, 0 0)))",
        "POLYGON ((-77.1 -7.2, -77 -7.2, -77 -7.1, -77.1 -7.2))",
        "LINEARRING (0 0, 1 0, 1 1, 0 0)",
        "MULTIPOINT ((0 0), (1 1))",
        "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))",
    ]
    geoms = list(shapely.from_wkt(wkts))
    geoms.insert(3, None)
    return np.array(geoms, dtype=object)


def _probe_agrees(lib: _Lib) -> bool:
    """Read the probe set both ways: the direct path must give exactly shapely's arrays."""
    from .area import _polygon_rings

    geoms = _probe_geometries()
    h = int(lib.init())
    try:
        found = _scan(lib, h, geoms)
        if found is None:
            return False
        types = shapely.get_type_id(geoms)
        counts = shapely.get_num_coordinates(geoms)
        kind = np.where(
            (types == 6) & (counts > 0), COMPLEX, np.where(types == 7, COLLECTION, NO_RING)
        )
        polygons = np.flatnonzero((types == 3) & (counts > 0))
        holes = shapely.get_num_interior_rings(geoms[polygons]) > 0
        kind[polygons] = np.where(holes, COMPLEX, SIMPLE)
        if not (
            np.array_equal(found.types, types)
            and np.array_equal(found.num_coords, counts)
            and np.array_equal(found.kind, kind)
        ):
            return False
        rows = np.flatnonzero(types != 7)  # the rings of collections are not read here
        got = _rings(lib, h, geoms[rows], Scan(*(a[rows] for a in found)))
    finally:
        _HANDLES.put(h)
    if got is None:
        return False
    xy, start, owner, exterior, n_simple = got
    ref = _polygon_rings(geoms[rows])
    return bool(
        n_simple == ref.n_simple
        and np.array_equal(xy, ref.xy)
        and np.array_equal(start, ref.start)
        and np.array_equal(owner, ref.owner)
        and np.array_equal(exterior, ref.exterior)
    )


_INSTALL_LOCK = threading.Lock()
#: The compiled helpers each loop calls (compiled before it).
_HELPERS = {"_rings_loop": ("_put_ring", "_polygon_ring_count")}


def _compiled(name: str) -> Callable[..., Any]:
    """Return the compiled loop ``name`` (its intrinsics installed first; cached on disk)."""
    if not _INSTALLED:  # no lock after first use (a forked worker could inherit it held)
        with _INSTALL_LOCK:
            if not _INSTALLED:
                _install_intrinsics()
    helpers = _HELPERS.get(name, ("_class_of", "_known"))
    return _jit.kernel(globals(), name, helpers=helpers)


_INSTALLED: list[bool] = []


def _install_intrinsics() -> None:
    """Bind the module's intrinsics (numba is imported only when the path is first used).

    The GEOS functions are called through their addresses, passed in as arguments, with
    their C signatures: the compiled loops hold no process-specific constant, so numba
    caches them on disk.
    """
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    i64, i32 = ir.IntType(64), ir.IntType(32)
    vp = ir.IntType(8).as_pointer()

    def call(builder, ret, fn, args, widths):  # type: ignore[no-untyped-def]
        """Call the C function at address ``fn`` with int64 values cast to ``widths``."""
        cargs, ctys = [], []
        for a, w in zip(args, widths, strict=True):
            if w == "p":
                cargs.append(builder.inttoptr(a, vp))
                ctys.append(vp)
            else:
                cargs.append(builder.trunc(a, i32))
                ctys.append(i32)
        fnty = ir.FunctionType(vp if ret == "p" else i32, ctys)
        res = builder.call(builder.inttoptr(fn, fnty.as_pointer()), cargs)
        return builder.ptrtoint(res, i64) if ret == "p" else builder.sext(res, i64)

    def make(ret: str, widths: str):  # type: ignore[no-untyped-def]
        def codegen(context, builder, sig, llargs):  # type: ignore[no-untyped-def]
            return call(builder, ret, llargs[0], llargs[1:], widths)

        sig = types.int64(*([types.int64] * (len(widths) + 1)))
        # numba reads an intrinsic's arguments from its Python signature: one per arity
        if len(widths) == 2:

            def typer2(typingctx, fn, a, b):  # type: ignore[no-untyped-def]
                return sig, codegen

            return typer2
        if len(widths) == 3:

            def typer3(typingctx, fn, a, b, c):  # type: ignore[no-untyped-def]
                return sig, codegen

            return typer3

        def typer6(typingctx, fn, a, b, c, d, e, f):  # type: ignore[no-untyped-def]
            return sig, codegen

        return typer6

    def load(typingctx, addr):  # type: ignore[no-untyped-def]
        def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
            return builder.load(builder.inttoptr(args[0], i64.as_pointer()))

        return types.int64(types.int64), codegen

    g = globals()
    g["_load"] = intrinsic(load)
    # (handle, geometry) -> pointer;  (handle, geometry, int) -> pointer;  (handle, geometry) -> int
    g["_ptr"] = intrinsic(_named(make("p", "pp"), "_ptr"))
    g["_ptr_n"] = intrinsic(_named(make("p", "ppi"), "_ptr_n"))
    g["_int"] = intrinsic(_named(make("i", "pp"), "_int"))
    # GEOSCoordSeq_copyToArrays_r(handle, sequence, double *x, double *y, double *z,
    # double *m) -> int (z and m: NULL)
    g["_copy_arrays"] = intrinsic(_named(make("i", "pppppp"), "_copy_arrays"))
    _INSTALLED.append(True)


def _named(fn, name):  # type: ignore[no-untyped-def]
    fn.__name__ = fn.__qualname__ = name
    return fn


def _load(addr: int) -> int:  # pragma: no cover - replaced by an intrinsic before compiling
    raise RuntimeError("compiled only")


def _ptr(fn: int, h: int, g: int) -> int:  # pragma: no cover - replaced by an intrinsic
    raise RuntimeError("compiled only")


def _ptr_n(fn: int, h: int, g: int, n: int) -> int:  # pragma: no cover - an intrinsic
    raise RuntimeError("compiled only")


def _int(fn: int, h: int, g: int) -> int:  # pragma: no cover - replaced by an intrinsic
    raise RuntimeError("compiled only")


def _copy_arrays(  # pragma: no cover - replaced by an intrinsic
    fn: int, h: int, s: int, x: Any, y: Any, z: int, m: int
) -> int:
    raise RuntimeError("compiled only")


def _scan_loop(  # pragma: no cover - compiled by numba
    fns: np.ndarray,
    h: int,
    objs: np.ndarray,
    none: int,
    classes: np.ndarray,
    offset: int,
    types: np.ndarray,
    num_coords: np.ndarray,
    kind: np.ndarray,
) -> int:
    """Fill the :class:`Scan` arrays; return the first row that is not a geometry, or -1."""
    for i in range(objs.size):
        o = objs[i]
        if o == none:
            types[i] = -1
            continue
        t = _class_of(o, classes)  # shapely makes each object of its GEOS type's class
        if t < 0:
            return i
        g = _load(o + offset)
        types[i] = t
        n = _int(fns[_NCOORD], h, g)
        num_coords[i] = n
        if t == 3 or t == 6:
            if n > 0:
                simple = t == 3 and _int(fns[_NINT], h, g) == 0
                kind[i] = SIMPLE if simple else COMPLEX
        elif t == 7:
            kind[i] = COLLECTION
    return -1


def _class_of(o: int, classes: np.ndarray) -> int:  # pragma: no cover - compiled by numba
    """Return which of shapely's geometry classes the object at ``o`` is exactly, else -1.

    ``classes`` are in the order of the GEOS type ids, so the index is the type id.
    """
    cls = _load(o + _OB_TYPE)
    found = -1
    for k in range(classes.size):
        found = k if cls == classes[k] else found
    return found


def _known(o: int, classes: np.ndarray) -> bool:  # pragma: no cover - compiled by numba
    """Tell whether the object at address ``o`` is exactly one of shapely's geometry classes."""
    return _class_of(o, classes) >= 0


def _put_ring(
    fns: np.ndarray, h: int, ring: int, n: int, columns: np.ndarray, pos: int
) -> bool:  # pragma: no cover - compiled by numba
    """Copy the ``n`` x, y of ``ring`` to ``columns[:, pos:]``; False if they do not fit."""
    size = columns.shape[1]
    if n < 0 or pos + n > size:
        return False
    if n > 0:
        seq = _ptr(fns[_SEQ], h, ring)
        x = np.int64(columns.ctypes.data) + 8 * pos
        if _copy_arrays(fns[_COPY], h, seq, x, x + 8 * size, 0, 0) == 0:
            return False
    return True


def _polygon_ring_count(fns: np.ndarray, h: int, g: int, t: int) -> int:  # pragma: no cover
    """Rings of a Polygon (shell and holes) or MultiPolygon (parts with a shell)."""
    if t == 3:
        return 1 + _int(fns[_NINT], h, g)
    total = 0
    for k in range(_int(fns[_NGEOM], h, g)):
        part = _ptr_n(fns[_GEOMN], h, g, k)
        if _int(fns[_NPOINTS], h, _ptr(fns[_EXT], h, part)) > 0:
            total += 1 + _int(fns[_NINT], h, part)
    return total


def _rings_loop(  # pragma: no cover - compiled by numba
    fns: np.ndarray,
    h: int,
    objs: np.ndarray,
    offset: int,
    kind: np.ndarray,
    num_coords: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Read the rings of the rows: every SIMPLE row's shell first, then the COMPLEX rows'.

    The rows are the objects :func:`_scan_loop` scanned, alive and unchanged (the scan
    holds them): its kinds and counts are theirs (a SIMPLE row's count is its shell's).
    The arrays are sized from the counts, and a ring that would not fit gives -1, never a
    write past them.
    """
    n_vert = 0
    n_simple = 0
    n_ring = 0
    for i in range(objs.size):
        if kind[i] == SIMPLE:
            n_vert += num_coords[i]
            n_simple += 1
        elif kind[i] == COMPLEX:
            n_vert += num_coords[i]
            g = _load(objs[i] + offset)
            n_ring += _polygon_ring_count(fns, h, g, _int(fns[_TYPEID], h, g))
    n_ring += n_simple
    # x then y, each contiguous (xy is its transpose): the kernels read x and y as columns
    columns = np.empty((2, n_vert))
    xy = columns.T
    start = np.empty(n_ring + 1, dtype=np.int64)
    owner = np.empty(n_ring, dtype=np.int64)
    exterior = np.zeros(n_ring, dtype=np.bool_)
    pos = 0
    r = 0
    for i in range(objs.size):
        if kind[i] == SIMPLE:
            n = num_coords[i]
            ring = _ptr(fns[_EXT], h, _load(objs[i] + offset))
            if not _put_ring(fns, h, ring, n, columns, pos):
                return xy, start, owner, exterior, -1
            start[r], owner[r], exterior[r] = pos, i, True
            pos += n
            r += 1
    for i in range(objs.size):
        if kind[i] != COMPLEX:
            continue
        g = _load(objs[i] + offset)
        t = _int(fns[_TYPEID], h, g)
        n_parts = 1 if t == 3 else _int(fns[_NGEOM], h, g)
        for k in range(n_parts):
            part = g if t == 3 else _ptr_n(fns[_GEOMN], h, g, k)
            shell_k = _ptr(fns[_EXT], h, part)
            if _int(fns[_NPOINTS], h, shell_k) <= 0:
                continue
            for j in range(-1, _int(fns[_NINT], h, part)):
                ring = shell_k if j < 0 else _ptr_n(fns[_INTN], h, part, j)
                n = _int(fns[_NPOINTS], h, ring)
                if r >= n_ring or not _put_ring(fns, h, ring, n, columns, pos):
                    return xy, start, owner, exterior, -1
                start[r], owner[r], exterior[r] = pos, i, j < 0
                pos += n
                r += 1
    if r != n_ring or pos != n_vert:
        return xy, start, owner, exterior, -1
    start[n_ring] = pos
    return xy, start, owner, exterior, n_simple


def coordinates(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``shapely.get_coordinates(geoms, return_index=True)``, without Python's lock if it can.

    For arrays of at least :data:`MIN_ROWS` rows that hold only polygons,
    multipolygons, empties and missing values, the coordinates are read straight
    from GEOS in one pass (the same values, in the same order: row by row, each
    shell then its holes, part after part); any other array goes to shapely.

    Examples
    --------
    >>> import shapely
    >>> xy, index = coordinates(np.array([shapely.box(0, 0, 1, 1), None], dtype=object))
    >>> xy.shape, index.tolist()
    ((5, 2), [0, 0, 0, 0, 0])
    """
    arr = np.asarray(geoms, dtype=object)
    lib = _lib() if arr.ndim == 1 and arr.size >= MIN_ROWS else None
    if lib is not None:
        held = np.array(arr, dtype=object)  # a copy: the caller's array may change
        with _handle() as h:
            xy, index, ok = _compiled("_coords_loop")(
                lib.fns, h, _addresses(held), lib.none, lib.classes, lib.geom_offset
            )
        del held
        if ok:
            return xy, index
    xy, index = shapely.get_coordinates(arr, return_index=True)
    return xy, index


def _coords_loop(  # pragma: no cover - compiled by numba
    fns: np.ndarray, h: int, objs: np.ndarray, none: int, classes: np.ndarray, offset: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Every row's coordinates in row order (shell, holes, part after part), in one pass.

    False (and the caller asks shapely) at the first row that is neither missing, nor
    a shapely Polygon or MultiPolygon. The arrays grow by doubling.
    """
    cap = max(16 * objs.size, 16)
    columns = np.empty((2, cap))
    index = np.empty(cap, dtype=np.int64)
    pos = 0
    for i in range(objs.size):
        o = objs[i]
        if o == none:
            continue
        if not _known(o, classes):
            return columns.T[:0], index[:0], False
        g = _load(o + offset)
        t = _int(fns[_TYPEID], h, g)
        if t != 3 and t != 6:
            return columns.T[:0], index[:0], False
        n_parts = 1 if t == 3 else _int(fns[_NGEOM], h, g)
        for k in range(n_parts):
            part = g if t == 3 else _ptr_n(fns[_GEOMN], h, g, k)
            for j in range(-1, _int(fns[_NINT], h, part)):
                ring = _ptr(fns[_EXT], h, part) if j < 0 else _ptr_n(fns[_INTN], h, part, j)
                n = _int(fns[_NPOINTS], h, ring)
                if n <= 0:
                    continue
                if pos + n > cap:
                    cap = max(2 * cap, pos + n)
                    grown = np.empty((2, cap))
                    grown[:, :pos] = columns[:, :pos]
                    columns = grown
                    more = np.empty(cap, dtype=np.int64)
                    more[:pos] = index[:pos]
                    index = more
                x = np.int64(columns.ctypes.data) + 8 * pos
                seq = _ptr(fns[_SEQ], h, ring)
                if _copy_arrays(fns[_COPY], h, seq, x, x + 8 * cap, 0, 0) == 0:
                    return columns.T[:0], index[:0], False
                for v in range(pos, pos + n):
                    index[v] = i
                pos += n
    return columns[:, :pos].T, index[:pos], True
