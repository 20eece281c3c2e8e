"""Readers that survive any file: valid files written by the format's own library, then mutated.

Each case starts from a valid file (h5py for UFF through ``write_uff``'s layout, ``scipy.io.savemat``
for MUST and Verasonics ``.mat``, our ``write_cfl`` / ``write_dca1000``), mutates it (truncation at
any byte, fields removed, renamed, of the wrong type or shape, sizes that overflow, NaN payloads)
and requires that the reader either reads it or raises ``ValueError`` naming the file: no other
exception, no hang, and no allocation beyond what the file's size warrants (tracemalloc peak).
Examples are bounded (``max_examples``) so that the whole module runs in well under a minute.
"""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from csbox.io import read_cfl, read_dca1000, read_mat, read_uff, write_cfl, write_dca1000, write_uff  # noqa: E402
from csbox.ultrasound import Probe, plane_waves  # noqa: E402

h5py = pytest.importorskip("h5py")
scipy_io = pytest.importorskip("scipy.io")

# deadline: a generous bound per example (the machine may be loaded); a reader that hangs fails it
FUZZ = settings(max_examples=25, deadline=20000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
P = Probe.from_parameters(fc=5e6, n_elements=16, bandwidth=65, pitch=3e-4, kerf=3e-5)
FS = 4 * P.fc


def _read_cleanly(read, path: Path, *, field: str | None = None):
    """Call ``read()``: success or ``ValueError`` naming ``path`` (and ``field``); bounded allocation."""
    size = sum(p.stat().st_size for p in path.parent.iterdir() if p.is_file())
    tracemalloc.start()
    try:
        out = read()
    except ValueError as e:
        msg = str(e)
        named = str(path.with_suffix("")) if path.suffix in (".cfl", ".hdr") else str(path)
        assert named in msg, f"the message does not name the file {named}: {msg}"
        if field is not None:
            assert field in msg, f"the message does not name the field {field!r}: {msg}"
        out = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # a few working copies of what the file holds (int16 -> complex128 is 8x), plus fixed overhead
    assert peak <= 40 * size + (8 << 20), f"allocated {peak} bytes for a {size}-byte file"
    return out


def _truncated(src: Path, dst: Path, frac: float) -> int:
    data = src.read_bytes()
    cut = int(frac * len(data))
    dst.write_bytes(data[:cut])
    return cut


# ----------------------------------------------------------------------------- BART .cfl / .hdr
@pytest.fixture(scope="module")
def cfl_file(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cfl")
    write_cfl(d / "x", (np.arange(60) + 1j).reshape(3, 4, 5))
    return d / "x"


@FUZZ
@given(part=st.sampled_from([".cfl", ".hdr"]), frac=st.floats(0, 1, exclude_max=True))
def test_cfl_truncated_anywhere(cfl_file, tmp_path_factory, part, frac):
    d = tmp_path_factory.mktemp("t")
    for ext in (".cfl", ".hdr"):
        shutil.copy(cfl_file.with_suffix(ext), d / ("x" + ext))
    _truncated(cfl_file.with_suffix(part), d / ("x" + part), frac)
    out = _read_cleanly(lambda: read_cfl(d / "x"), d / "x.cfl")
    # a header cut among its trailing singleton sizes still describes the array
    assert out is None or np.array_equal(out, read_cfl(cfl_file))


_HEADERS = st.one_of(
    st.lists(st.integers(-5, 10**13), min_size=0, max_size=20).map(lambda v: " ".join(map(str, v))),
    st.sampled_from(["3 4 5 1e3", "3 4 five", "nan", "3.5 4 5", "", "  ", "\x00\xff\xfe",
                     "99999999999999999999 0"]),
)


@FUZZ
@given(dims=_HEADERS, keyword=st.sampled_from(["# Dimensions", "# dimensions", "#Dimensions", ""]),
       binary=st.booleans())
def test_cfl_header_mutated(cfl_file, tmp_path_factory, dims, keyword, binary):
    d = tmp_path_factory.mktemp("h")
    shutil.copy(cfl_file.with_suffix(".cfl"), d / "x.cfl")
    text = f"{keyword}\n{dims}\n"
    (d / "x.hdr").write_bytes(text.encode("latin-1") + (b"\xff\xfe\x00" if binary else b""))
    out = _read_cleanly(lambda: read_cfl(d / "x"), d / "x.hdr")
    if out is not None:  # only the true sizes (in some spelling) can be read
        assert out.size == 60


@FUZZ
@given(where=st.integers(0, 59), value=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_cfl_nan_payload(cfl_file, tmp_path_factory, where, value):
    d = tmp_path_factory.mktemp("n")
    shutil.copy(cfl_file.with_suffix(".hdr"), d / "x.hdr")
    a = np.fromfile(cfl_file.with_suffix(".cfl"), dtype="<c8")
    a[where] = complex(value, 0)
    a.tofile(d / "x.cfl")
    for mmap in (False, True):
        with pytest.raises(ValueError, match=r"x\.cfl.*(NaN|Inf)"):
            read_cfl(d / "x", mmap=mmap)
    assert np.isnan(read_cfl(d / "x", check_finite=False).ravel(order="F")[where]) == np.isnan(value)


# ----------------------------------------------------------------------------- DCA1000 .bin
@pytest.fixture(scope="module")
def dca_file(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("dca")
    rng = np.random.default_rng(0)
    data = rng.integers(-2000, 2000, (3, 2, 4, 8)) + 1j * rng.integers(-2000, 2000, (3, 2, 4, 8))
    write_dca1000(d / "cap.bin", data)
    return d / "cap.bin"


@FUZZ
@given(frac=st.floats(0, 1, exclude_max=True),
       sizes=st.fixed_dictionaries({"n_samples": st.sampled_from([8, 7, 16, 10**9]),
                                    "n_rx": st.sampled_from([4, 3, 10**6]),
                                    "n_tx": st.sampled_from([2, 1, 10**7])}))
def test_dca1000_truncated_or_wrong_sizes(dca_file, tmp_path_factory, frac, sizes):
    d = tmp_path_factory.mktemp("t")
    _truncated(dca_file, d / "cap.bin", frac)
    out = _read_cleanly(lambda: read_dca1000(d / "cap.bin", **sizes), d / "cap.bin")
    if out is not None:
        assert out.shape[1:] == (sizes["n_tx"], sizes["n_rx"], sizes["n_samples"])


# ----------------------------------------------------------------------------- UFF (HDF5)
@pytest.fixture(scope="module")
def uff_file(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("uff")
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 2, P.n_elements, 64))
    write_uff(d / "cd.uff", data, P, plane_waves([-5, 5]), fs=FS, prf=1000.0, compression=None)
    return d / "cd.uff"


def _uff_paths(path: Path) -> list[str]:
    names: list[str] = []
    with h5py.File(path, "r") as f:
        f.visit(names.append)
    return sorted(names)


_UFF_NAMES: list[str] = []


def _uff_name_strategy(uff_file):
    if not _UFF_NAMES:
        _UFF_NAMES.extend(_uff_paths(uff_file))
    return st.sampled_from(_UFF_NAMES)


@FUZZ
@given(frac=st.floats(0, 1, exclude_max=True))
def test_uff_truncated_anywhere(uff_file, tmp_path_factory, frac):
    d = tmp_path_factory.mktemp("t")
    _truncated(uff_file, d / "cd.uff", frac)
    assert _read_cleanly(lambda: read_uff(d / "cd.uff"), d / "cd.uff") is None


_BAD_VALUES = st.sampled_from(
    ["string", "nan", "inf", "vector", "matrix", "empty", "negative", "huge", "bool"]
)


def _bad(kind: str, old: np.ndarray):
    return {
        "string": np.bytes_(b"not a number"),
        "nan": np.full((1, 1), np.nan),
        "inf": np.full((1, 1), np.inf),
        "vector": np.arange(7.0),
        "matrix": np.ones((3, 5)),
        "empty": np.zeros((0,)),
        "negative": -np.abs(np.asarray(old, float)) - 1 if np.asarray(old).dtype.kind in "iuf" else -1.0,
        "huge": np.full((1, 1), 1e12),
        "bool": np.array([[True]]),
    }[kind]


@FUZZ
@given(data=st.data(), action=st.sampled_from(["remove", "rename", "replace", "overflow"]),
       kind=_BAD_VALUES)
def test_uff_fields_mutated(uff_file, tmp_path_factory, data, action, kind):
    name = data.draw(_uff_name_strategy(uff_file))
    d = tmp_path_factory.mktemp("m")
    path = d / "cd.uff"
    shutil.copy(uff_file, path)
    with h5py.File(path, "r+") as f:
        obj = f[name]
        parent, leaf = obj.parent, name.rsplit("/", 1)[-1]
        if action == "remove":
            del parent[leaf]
        elif action == "rename":
            parent.move(leaf, leaf + "_renamed")
        elif isinstance(obj, h5py.Dataset):
            old = obj[()]
            del parent[leaf]
            if action == "replace":
                parent.create_dataset(leaf, data=_bad(kind, old))
            else:  # a dataset that claims 10^12 elements (no storage written)
                parent.create_dataset(leaf, shape=(10**6, 10**6), dtype="f8", chunks=(1, 1024))
        else:
            for k in list(obj.attrs):
                obj.attrs[k] = np.bytes_(b"garbage")
    _read_cleanly(lambda: read_uff(path), path)


@FUZZ
@given(where=st.integers(0, 2 * 2 * P.n_elements * 64 - 1), value=st.sampled_from([np.nan, np.inf]))
def test_uff_nan_payload(uff_file, tmp_path_factory, where, value):
    d = tmp_path_factory.mktemp("n")
    path = d / "cd.uff"
    shutil.copy(uff_file, path)
    with h5py.File(path, "r+") as f:
        ds = f["channel_data/data"]
        a = ds[()]
        a.reshape(-1)[where] = value
        ds[...] = a
    with pytest.raises(ValueError, match=r"cd\.uff.*data"):
        read_uff(path)


# ----------------------------------------------------------------------------- MATLAB .mat
def _must_vars() -> dict:
    rng = np.random.default_rng(2)
    rf = np.round(1000 * rng.standard_normal((64, P.n_elements, 2))).astype(np.int16)
    param = {"fc": P.fc, "fs": FS, "pitch": P.pitch, "kerf": P.kerf, "Nelements": float(P.n_elements),
             "bandwidth": 65.0, "t0": 1e-6, "TXdelay": np.zeros(P.n_elements), "c": 1540.0, "PRF": 5000.0}
    return {"RF": rf, "param": param}


def _verasonics_vars() -> dict:
    rng = np.random.default_rng(3)
    n_el, ns = P.n_elements, 40
    rcv = np.round(1000 * rng.standard_normal((2 * ns, n_el, 2))).astype(np.int16)
    receive = np.array([{"startSample": 1.0 + k * ns, "endSample": float((k + 1) * ns),
                         "framenum": float(f + 1), "acqNum": float(k + 1), "decimSampleRate": 20.0,
                         "startDepth": 2.0} for f in range(2) for k in range(2)], dtype=object)
    tx = np.array([{"Delay": np.zeros(n_el)}, {"Delay": np.linspace(0, 1, n_el)}], dtype=object)
    trans = {"frequency": 5.0, "numelements": float(n_el), "spacingMm": 0.3, "elementWidth": 0.27,
             "Bandwidth": np.array([3.5, 6.5])}
    return {"RcvData": rcv, "Trans": trans, "Receive": receive, "TX": tx,
            "Resource": {"Parameters": {"speedOfSound": 1540.0}}}


@pytest.fixture(scope="module", params=["must", "verasonics"])
def mat_file(request, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp(request.param)
    path = d / f"{request.param}.mat"
    scipy_io.savemat(path, _must_vars() if request.param == "must" else _verasonics_vars())
    assert read_mat(path).data.shape[0] == 2
    return path


@FUZZ
@given(frac=st.floats(0, 1, exclude_max=True))
def test_mat_truncated_anywhere(mat_file, tmp_path_factory, frac):
    d = tmp_path_factory.mktemp("t")
    path = d / mat_file.name
    cut = _truncated(mat_file, path, frac)
    out = _read_cleanly(lambda: read_mat(path), path)
    assert out is None or cut == mat_file.stat().st_size


def _leaves(v: dict, prefix: str = "") -> list[str]:
    out = []
    for k, x in v.items():
        out.append(prefix + k)
        if isinstance(x, dict):
            out += _leaves(x, prefix + k + ".")
        elif isinstance(x, np.ndarray) and x.dtype == object:
            out += [prefix + k + "[0]." + kk for kk in x[0]]
    return out


def _mutate(v: dict, key: str, action: str, kind: str) -> None:
    parts = key.split(".")
    obj = v
    for p in parts[:-1]:
        obj = obj[p[:-3]][0] if p.endswith("[0]") else obj[p]
    leaf = parts[-1]
    if action == "remove":
        del obj[leaf]
    elif action == "rename":
        obj[leaf + "_renamed"] = obj.pop(leaf)
    elif action == "overflow":
        obj[leaf] = 1e12
    else:
        obj[leaf] = {"string": "not a number", "nan": np.nan, "inf": np.inf, "vector": np.arange(7.0),
                     "matrix": np.ones((3, 5)), "empty": np.zeros((0,)), "negative": -3.0, "huge": 1e12,
                     "bool": True}[kind]


@FUZZ
@given(data=st.data(), action=st.sampled_from(["remove", "rename", "replace", "overflow"]), kind=_BAD_VALUES)
def test_mat_fields_mutated(mat_file, tmp_path_factory, data, action, kind):
    v = _must_vars() if mat_file.stem == "must" else _verasonics_vars()
    key = data.draw(st.sampled_from(_leaves(v)))
    _mutate(v, key, action, kind)
    d = tmp_path_factory.mktemp("m")
    path = d / mat_file.name
    scipy_io.savemat(path, v)
    _read_cleanly(lambda: read_mat(path), path)


@FUZZ
@given(where=st.integers(0, 63), value=st.sampled_from([np.nan, np.inf]))
def test_mat_nan_payload(mat_file, tmp_path_factory, where, value):
    v = _must_vars() if mat_file.stem == "must" else _verasonics_vars()
    key = "RF" if "RF" in v else "RcvData"
    v[key] = v[key].astype(float)
    v[key].reshape(-1)[where * 7] = value
    d = tmp_path_factory.mktemp("n")
    path = d / mat_file.name
    scipy_io.savemat(path, v)
    with pytest.raises(ValueError, match=rf"{path.stem}\.mat.*{key}.*(NaN|Inf)"):
        read_mat(path)

