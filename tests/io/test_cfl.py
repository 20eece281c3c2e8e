"""BART .cfl/.hdr: round trips, a file written byte by byte from BART's format, and BART itself."""

import shutil
import struct
import subprocess

import numpy as np
import pytest

from csbox.io import read_cfl, write_cfl


def _bart_bytes(a: np.ndarray) -> bytes:
    """The .cfl payload exactly as BART's format specifies: first index fastest, float32 re/im pairs."""
    out = bytearray()
    for idx in np.ndindex(*a.shape[::-1]):  # last index slowest
        v = a[idx[::-1]]
        out += struct.pack("<ff", float(v.real), float(v.imag))
    return bytes(out)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (4, 3, 1, 2), (2, 1, 3, 1, 1, 2), (1,) * 17 + (2,)])
def test_round_trip_any_dimensions(tmp_path, shape):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    write_cfl(tmp_path / "x", a)
    b = read_cfl(tmp_path / "x.cfl")
    assert b.shape == shape and b.dtype == np.complex64
    np.testing.assert_array_equal(b, a)


def test_against_format_spec(tmp_path):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((3, 4, 1, 2)) + 1j * rng.standard_normal((3, 4, 1, 2))).astype(np.complex64)
    # a hand-written file: header with BART's 16 dimensions and a '# Command' section after them
    (tmp_path / "h.hdr").write_text("# Dimensions\n3 4 1 2 1 1 1 1 1 1 1 1 1 1 1 1 \n# Command\nbart x\n")
    (tmp_path / "h.cfl").write_bytes(_bart_bytes(a))
    np.testing.assert_array_equal(read_cfl(tmp_path / "h"), a)
    # and write_cfl produces exactly those bytes and dimensions
    write_cfl(tmp_path / "w", a)
    assert (tmp_path / "w.cfl").read_bytes() == _bart_bytes(a)
    dims = (tmp_path / "w.hdr").read_text().splitlines()[1].split()
    assert [int(d) for d in dims] == [3, 4, 1, 2] + [1] * 12
    assert read_cfl(tmp_path / "h", squeeze=False).shape == (3, 4, 1, 2) + (1,) * 12
    assert read_cfl(tmp_path / "h", mmap=True)[2, 3, 0, 1] == a[2, 3, 0, 1]


def test_real_and_backend_input(tmp_path, backend):
    a = backend.asarray(np.arange(6.0).reshape(2, 3))
    write_cfl(tmp_path / "r", a)
    np.testing.assert_array_equal(read_cfl(tmp_path / "r"), np.arange(6.0).reshape(2, 3).astype(np.complex64))


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_cfl(tmp_path / "missing")
    (tmp_path / "b.hdr").write_text("# Dimensions\n2 2\n")
    (tmp_path / "b.cfl").write_bytes(b"\0" * 24)
    with pytest.raises(ValueError, match="bytes"):
        read_cfl(tmp_path / "b")
    (tmp_path / "c.hdr").write_text("no dims here\n")
    with pytest.raises(ValueError, match="Dimensions"):
        read_cfl(tmp_path / "c")
    (tmp_path / "d.hdr").write_text("# Dimensions\n2 x\n")
    with pytest.raises(ValueError, match="integers"):
        read_cfl(tmp_path / "d")
    with pytest.raises(TypeError, match="numeric"):
        write_cfl(tmp_path / "e", np.array(["a"]))
    with pytest.raises(ValueError, match="complex64"):
        write_cfl(tmp_path / "f", np.array([1e300]))
    with pytest.raises(TypeError, match="path"):
        read_cfl(3)


@pytest.mark.skipif(shutil.which("bart") is None, reason="BART not installed")
def test_with_bart(tmp_path):
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((6, 5, 1, 3)) + 1j * rng.standard_normal((6, 5, 1, 3))).astype(np.complex64)
    write_cfl(tmp_path / "a", a)
    # BART reads our file, scales it and writes its own; and its unitary centred FFT matches numpy's
    subprocess.run(["bart", "scale", "2", str(tmp_path / "a"), str(tmp_path / "b")], check=True,
                   capture_output=True)
    np.testing.assert_allclose(read_cfl(tmp_path / "b"), 2 * a, rtol=1e-6)
    subprocess.run(["bart", "fft", "-u", "3", str(tmp_path / "a"), str(tmp_path / "k")], check=True,
                   capture_output=True)
    ax = (0, 1)
    ref = np.fft.fftshift(np.fft.fftn(np.fft.ifftshift(a, axes=ax), axes=ax, norm="ortho"), axes=ax)
    # single-precision FFT of O(1) data: errors ~ 1e-6 relative to the largest coefficient
    np.testing.assert_allclose(read_cfl(tmp_path / "k"), ref, atol=1e-5 * np.abs(ref).max())
    subprocess.run(["bart", "ones", "3", "4", "1", "2", str(tmp_path / "o")], check=True, capture_output=True)
    o = read_cfl(tmp_path / "o")
    assert o.shape == (4, 1, 2) and np.all(o == 1)


def test_dotted_names_get_the_suffix_appended(tmp_path):
    """BART appends .cfl/.hdr to the name: ``kspace.v2`` is ``kspace.v2.cfl`` (it was ``kspace.cfl``,
    another array's file, which it could overwrite)."""
    x = np.arange(4, dtype=np.complex64)
    write_cfl(tmp_path / "kspace.v2", x)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kspace.v2.cfl", "kspace.v2.hdr"]
    np.testing.assert_array_equal(read_cfl(tmp_path / "kspace.v2"), x)
    np.testing.assert_array_equal(read_cfl(tmp_path / "kspace.v2.cfl"), x)
    write_cfl(tmp_path / "img.hdr", x)  # an explicit .cfl/.hdr suffix is still the pair's
    assert (tmp_path / "img.cfl").is_file()
