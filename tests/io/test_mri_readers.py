"""MRI raw-data readers: ISMRMRD (through the ismrmrd package's own writer), fastMRI (h5py in the
dataset's layout) and Siemens twix (twixtools' writer); RawMRI; every reader's validation."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest

from csbox.io import MRIHeader, RawMRI, read_fastmri, read_ismrmrd, read_twix, write_ismrmrd

h5py = pytest.importorskip("h5py")


# ---------------------------------------------------------------------------- ISMRMRD
def _xml(ismrmrd, *, nx=64, ny=48, nz=1, rx=32, limits=None, traj="cartesian", fov_x=(256.0, 128.0)):
    xsd = ismrmrd.xsd
    lim = xsd.encodingLimitsType()
    for name, v in (limits or {}).items():
        setattr(lim, name, xsd.limitType(minimum=v[0], maximum=v[1], center=v[2]))

    def space(x, fx):
        return xsd.encodingSpaceType(matrixSize=xsd.matrixSizeType(x=x, y=ny, z=nz),
                                     fieldOfView_mm=xsd.fieldOfViewMm(x=fx, y=192.0, z=5.0))

    enc = xsd.encodingType(encodedSpace=space(nx, fov_x[0]), reconSpace=space(rx, fov_x[1]),
                           encodingLimits=lim, trajectory=xsd.trajectoryType(traj))
    hdr = xsd.ismrmrdHeader(
        experimentalConditions=xsd.experimentalConditionsType(H1resonanceFrequency_Hz=127_700_000),
        acquisitionSystemInformation=xsd.acquisitionSystemInformationType(
            systemVendor="SIEMENS", systemFieldStrength_T=3.0, receiverChannels=4,
            relativeReceiverNoiseBandwidth=0.79),
        sequenceParameters=xsd.sequenceParametersType(TR=[5.0], TE=[2.1, 4.2]), encoding=[enc])
    return xsd.ToXML(hdr)


def _acq(ismrmrd, data, *, flags=(), center=None, dwell=5.0, traj=None, **counters):
    a = ismrmrd.Acquisition.from_array(data.astype(np.complex64), trajectory=traj)
    a.center_sample = data.shape[1] // 2 if center is None else center
    a.sample_time_us = dwell
    for f in flags:
        a.set_flag(f)
    for k, v in counters.items():
        setattr(a.idx, k, v)
    return a


def _cartesian_file(path, rng):
    """A 2-slice, 2-repetition, 4-coil scan with partial Fourier (lines 0-7 not acquired), asymmetric
    echo (56 of 64 samples, centre at 24), 2x readout oversampling, a noise scan, a navigator and a
    separate calibration line; returns the k-space and mask it must read as."""
    import ismrmrd

    nc, nx, ny = 4, 64, 48
    lim = {"kspace_encoding_step_1": (8, 47, 24), "slice": (0, 1, 0), "repetition": (0, 1, 0)}
    k = np.zeros((2, 2, nc, ny, nx), np.complex64)  # (repetition, slice, coil, ky, kx)
    m = np.zeros((2, 2, ny, nx), bool)
    noise = (rng.standard_normal((nc, 256)) + 1j * rng.standard_normal((nc, 256))).astype(np.complex64)
    cal = np.zeros_like(k)
    with ismrmrd.Dataset(str(path), "dataset", create_if_needed=True) as d:
        d.write_xml_header(_xml(ismrmrd, limits=lim))
        for s in range(2):
            d.append_acquisition(_acq(ismrmrd, noise[:, 128 * s:128 * (s + 1)], dwell=2.5,
                                      flags=[ismrmrd.ACQ_IS_NOISE_MEASUREMENT]))
        d.append_acquisition(_acq(ismrmrd, np.ones((nc, 56)), flags=[ismrmrd.ACQ_IS_NAVIGATION_DATA]))
        for r in range(2):
            for s in range(2):
                for line in range(8, 48):
                    v = (rng.standard_normal((nc, 56)) + 1j * rng.standard_normal((nc, 56))).astype("c8")
                    flags = [ismrmrd.ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING] if line == 24 else []
                    d.append_acquisition(_acq(ismrmrd, v, flags=flags, center=24, kspace_encode_step_1=line,
                                              slice=s, repetition=r))
                    k[r, s, :, line, 8:] = v
                    m[r, s, line, 8:] = True
                    if line == 24:
                        cal[r, s, :, line, 8:] = v
        v = rng.standard_normal((nc, 56)).astype(np.complex64)
        d.append_acquisition(_acq(ismrmrd, v, flags=[ismrmrd.ACQ_IS_PARALLEL_CALIBRATION], center=24,
                                  kspace_encode_step_1=25, slice=1, repetition=0))
        cal[0, 1, :, 25, 8:] = v
    return k, m, noise, cal


def test_read_ismrmrd_places_lines_by_counters(tmp_path):
    pytest.importorskip("ismrmrd")
    k, m, noise, cal = _cartesian_file(tmp_path / "scan.h5", np.random.default_rng(0))
    raw = read_ismrmrd(tmp_path / "scan.h5")
    assert raw.axes == ("repetition", "slice", "coil", "ky", "kx")
    assert raw.kspace.dtype == np.complex64
    np.testing.assert_array_equal(raw.kspace, k)  # exact: samples are copied, never computed
    np.testing.assert_array_equal(raw.mask, m)
    np.testing.assert_array_equal(raw.noise, noise)
    np.testing.assert_array_equal(raw.calibration, cal)
    assert raw.calibration_mask.sum() == 4 * 56 + 56
    h = raw.header
    assert h.matrix == (64, 48, 1) and h.recon_matrix == (32, 48, 1)
    assert h.readout_oversampling == 2.0
    assert h.field_strength_t == 3.0 and h.tr_ms == (5.0,) and h.te_ms == (2.1, 4.2)
    assert h.encoding_center == (24, 0) and h.noise_bandwidth == pytest.approx(0.79)
    assert h.dwell_us == 5.0 and h.noise_dwell_us == 2.5
    assert h.skipped == {"navigation": 1}
    assert raw.n_coils == 4 and raw.path == str(tmp_path / "scan.h5")
    assert "repetition=2" in repr(raw)
    one = raw.select(slice=1, repetition=0)
    assert one.axes == ("coil", "ky", "kx")
    np.testing.assert_array_equal(one.kspace, k[0, 1])
    np.testing.assert_array_equal(one.calibration, cal[0, 1])


def test_ismrmrd_round_trip_is_exact(tmp_path):
    ismrmrd = pytest.importorskip("ismrmrd")
    _cartesian_file(tmp_path / "a.h5", np.random.default_rng(1))
    raw = read_ismrmrd(tmp_path / "a.h5")
    write_ismrmrd(tmp_path / "b.h5", raw)
    back = read_ismrmrd(tmp_path / "b.h5")
    for f in ("kspace", "mask", "noise", "calibration", "calibration_mask"):
        np.testing.assert_array_equal(getattr(back, f), getattr(raw, f), err_msg=f)
    assert back.axes == raw.axes
    for f in ("matrix", "recon_matrix", "fov_mm", "recon_fov_mm", "field_strength_t", "tr_ms", "te_ms",
              "encoding_center", "dwell_us", "noise_dwell_us", "noise_bandwidth", "trajectory"):
        assert getattr(back.header, f) == getattr(raw.header, f), f
    # the ismrmrd package reads what we wrote: schema-valid XML, acquisitions with our counters
    with ismrmrd.Dataset(str(tmp_path / "b.h5"), "dataset", create_if_needed=False) as d:
        hdr = ismrmrd.xsd.CreateFromDocument(d.read_xml_header())
        assert hdr.encoding[0].encodingLimits.kspace_encoding_step_1.minimum == 8
        n = d.number_of_acquisitions()
        acqs = [d.read_acquisition(i) for i in range(n)]
    noise = [a for a in acqs if a.is_flag_set(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)]
    np.testing.assert_array_equal(np.concatenate([a.data for a in noise], axis=1), raw.noise)
    a = next(a for a in acqs
             if a.idx.kspace_encode_step_1 == 30 and a.idx.slice == 1 and a.idx.repetition == 1)
    np.testing.assert_array_equal(a.data, raw.kspace[1, 1, :, 30, 8:])
    assert a.center_sample == 24
    assert sum(a.is_flag_set(ismrmrd.ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING) for a in acqs) == 4
    assert sum(a.is_flag_set(ismrmrd.ACQ_IS_PARALLEL_CALIBRATION) for a in acqs) == 1
    assert acqs[-1].is_flag_set(ismrmrd.ACQ_LAST_IN_MEASUREMENT)


def test_ismrmrd_remove_oversampling_crops_the_readout_fov(tmp_path):
    ismrmrd = pytest.importorskip("ismrmrd")
    # a point at image x = +5 (of 64, oversampled); after the crop it sits at +5 of 32
    nx, ny = 64, 8
    x = np.arange(nx) - nx // 2
    line = np.exp(-2j * np.pi * x * 5 / nx) / np.sqrt(nx)  # centred ortho FFT of a delta at +5
    with ismrmrd.Dataset(str(tmp_path / "os.h5"), "dataset") as d:
        d.write_xml_header(_xml(ismrmrd, nx=nx, ny=ny, limits={"kspace_encoding_step_1": (0, 7, 4)}))
        for i in range(ny):
            d.append_acquisition(_acq(ismrmrd, np.tile(line, (4, 1)), kspace_encode_step_1=i))
    raw = read_ismrmrd(tmp_path / "os.h5", remove_oversampling=True)
    assert raw.kspace.shape == (4, 8, 32) and raw.header.oversampling_removed and raw.mask.all()
    img = np.fft.fftshift(np.fft.ifft(np.fft.ifftshift(raw.kspace, axes=-1), axis=-1, norm="ortho"), axes=-1)
    assert np.argmax(np.abs(img[0, 0])) == 16 + 5
    # the energy of an object inside the reconstructed FOV is kept (ortho FFT, crop of zeros only)
    np.testing.assert_allclose(np.sum(np.abs(raw.kspace) ** 2), 4 * ny, rtol=1e-5)
    write_ismrmrd(tmp_path / "os2.h5", raw)
    back = read_ismrmrd(tmp_path / "os2.h5")
    np.testing.assert_array_equal(back.kspace, raw.kspace)
    assert back.header.matrix == (32, 8, 1)


def test_ismrmrd_radial_keeps_the_trajectory(tmp_path):
    ismrmrd = pytest.importorskip("ismrmrd")
    rng = np.random.default_rng(2)
    n_spokes, ns = 6, 32
    with ismrmrd.Dataset(str(tmp_path / "rad.h5"), "dataset") as d:
        d.write_xml_header(_xml(ismrmrd, nx=32, ny=32, rx=32, traj="radial",
                                limits={"kspace_encoding_step_1": (0, n_spokes - 1, 0)},
                                fov_x=(200.0, 200.0)))
        spokes, trajs = [], []
        for i in range(n_spokes):
            t = rng.standard_normal((ns, 2)).astype(np.float32)
            v = (rng.standard_normal((4, ns)) + 1j * rng.standard_normal((4, ns))).astype(np.complex64)
            d.append_acquisition(_acq(ismrmrd, v, traj=t, kspace_encode_step_1=i))
            spokes.append(v)
            trajs.append(t)
    raw = read_ismrmrd(tmp_path / "rad.h5")
    assert raw.axes == ("coil", "readout", "sample") and raw.header.trajectory == "radial"
    np.testing.assert_array_equal(raw.kspace, np.stack(spokes, axis=1))
    np.testing.assert_array_equal(raw.trajectory, np.stack(trajs))
    write_ismrmrd(tmp_path / "rad2.h5", raw)
    back = read_ismrmrd(tmp_path / "rad2.h5")
    np.testing.assert_array_equal(back.kspace, raw.kspace)
    np.testing.assert_array_equal(back.trajectory, raw.trajectory)
    with pytest.raises(ValueError, match="Cartesian"):
        read_ismrmrd(tmp_path / "rad.h5", remove_oversampling=True)


def test_write_ismrmrd_builds_a_header_when_there_is_none(tmp_path):
    ismrmrd = pytest.importorskip("ismrmrd")
    rng = np.random.default_rng(3)
    k = (rng.standard_normal((2, 3, 8, 10)) + 1j * rng.standard_normal((2, 3, 8, 10))).astype(np.complex64)
    m = np.zeros((2, 8, 10), bool)
    m[:, ::2] = True
    raw = RawMRI(kspace=k * m[:, None], mask=m, axes=("slice", "coil", "ky", "kx"),
                 header=MRIHeader(matrix=(10, 8, 1), field_strength_t=1.5, te_ms=(3.0,)))
    write_ismrmrd(tmp_path / "new.h5", raw)
    back = read_ismrmrd(tmp_path / "new.h5")
    np.testing.assert_array_equal(back.kspace, raw.kspace)
    np.testing.assert_array_equal(back.mask, m)
    assert back.header.field_strength_t == 1.5 and back.header.te_ms == (3.0,)
    with ismrmrd.Dataset(str(tmp_path / "new.h5"), "dataset", create_if_needed=False) as d:
        ismrmrd.xsd.CreateFromDocument(d.read_xml_header())  # schema-valid
    with pytest.raises(TypeError, match="raw must be a RawMRI"):
        write_ismrmrd(tmp_path / "x.h5", k)


def _patch_xml(path, old, new):
    with h5py.File(path, "r+") as f:
        xml = f["dataset/xml"][0].decode()
        assert old in xml
        f["dataset/xml"][0] = xml.replace(old, new, 1).encode()


def test_read_ismrmrd_rejects_bad_files(tmp_path):
    pytest.importorskip("ismrmrd")
    good = tmp_path / "good.h5"
    _cartesian_file(good, np.random.default_rng(4))
    with pytest.raises(FileNotFoundError):
        read_ismrmrd(tmp_path / "missing.h5")
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"cut\.h5"):
        read_ismrmrd(cut)
    with pytest.raises(ValueError, match="no ISMRMRD group 'other'"):
        read_ismrmrd(good, dataset="other")
    for old, new, msg in [("<x>64</x>", "<x>0</x>", "matrixSize/x = 0"),
                          ("<maximum>47</maximum>", "<maximum>20</maximum>", "step_1 maximum 20"),
                          ("<center>24</center>", "<center>40</center>", "outside the encoded matrix"),
                          ("<maximum>1</maximum>", "<maximum>0</maximum>", "counter"),
                          ("<x>256.0</x>", "<x>nan</x>", "fieldOfView_mm/x must be finite"),
                          ("<encoding>", "<encodingX>", "")]:
        bad = tmp_path / "bad.h5"
        bad.write_bytes(good.read_bytes())
        if old == "<encoding>":
            with h5py.File(bad, "r+") as f:
                f["dataset/xml"][0] = b"<ismrmrdHeader><broken"
            msg = "does not parse"
        else:
            _patch_xml(bad, old, new)
        with pytest.raises(ValueError, match=msg) as e:
            read_ismrmrd(bad)
        assert "bad.h5" in str(e.value)
    bad = tmp_path / "huge.h5"
    bad.write_bytes(good.read_bytes())
    _patch_xml(bad, "<y>48</y>", "<y>60000</y>")
    _patch_xml(bad, "<x>64</x>", "<x>60000</x>")
    with pytest.raises(ValueError, match="impossible"):
        read_ismrmrd(bad)
    with h5py.File(bad, "w") as f:
        f.create_group("dataset")
    with pytest.raises(ValueError, match="no XML header"):
        read_ismrmrd(bad)


def test_read_ismrmrd_rejects_a_sample_count_that_lies(tmp_path):
    ismrmrd = pytest.importorskip("ismrmrd")
    p = tmp_path / "lie.h5"
    _cartesian_file(p, np.random.default_rng(5))
    with h5py.File(p, "r+") as f:
        row = f["dataset/data"][5]
        row["head"]["number_of_samples"] = 1000
        f["dataset/data"][5] = row
    with pytest.raises(ValueError, match="acquisition 5 holds"):
        read_ismrmrd(p)
    assert ismrmrd  # the file came from the ismrmrd package's writer


def test_rawmri_validates_its_fields():
    k = np.zeros((2, 4, 4), np.complex64)
    h = MRIHeader(matrix=(4, 4, 1))
    with pytest.raises(TypeError, match="complex64"):
        RawMRI(kspace=k.astype(np.complex128), mask=np.ones((4, 4), bool), header=h,
               axes=("coil", "ky", "kx"))
    with pytest.raises(ValueError, match="mask must have shape"):
        RawMRI(kspace=k, mask=np.ones((2, 4, 4), bool), header=h, axes=("coil", "ky", "kx"))
    with pytest.raises(ValueError, match="noise must be"):
        RawMRI(kspace=k, mask=np.ones((4, 4), bool), header=h, axes=("coil", "ky", "kx"),
               noise=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="axes must name"):
        RawMRI(kspace=k, mask=np.ones((4, 4), bool), header=h, axes=("ky", "kx"))
    with pytest.raises(ValueError, match="matrix must be three ints"):
        MRIHeader(matrix=(0, 4, 1))
    raw = RawMRI(kspace=k, mask=np.ones((4, 4), bool), header=h, axes=("coil", "ky", "kx"))
    with pytest.raises(ValueError, match="not a leading axis"):
        raw.select(slice=0)
    assert dataclasses.replace(raw).n_coils == 2


# ---------------------------------------------------------------------------- fastMRI
def _fastmri_file(path, *, coils=4, slices=3, rows=20, cols=12, mask=None, ref=True, rng=None):
    """A file in the fastMRI layout (kspace (slices, coils, rows, cols), the readout along rows)."""
    rng = rng or np.random.default_rng(0)
    shape = (slices, coils, rows, cols) if coils else (slices, rows, cols)
    k = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    k[..., :, 0] = 0  # a zero-padded edge column, as in the knee files
    if mask is not None:
        k = k * mask
    import ismrmrd

    xml = _xml(ismrmrd, nx=rows, ny=cols, rx=rows // 2,
               limits={"kspace_encoding_step_1": (0, cols - 1, cols // 2)})
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=k)
        f.create_dataset("ismrmrd_header", data=xml.encode())
        if ref:
            f.create_dataset("reconstruction_rss" if coils else "reconstruction_esc",
                             data=rng.random((slices, 8, 8)).astype(np.float32))
        if mask is not None:
            f.create_dataset("mask", data=mask.astype(np.float32))
            f.attrs["acceleration"] = 4
            f.attrs["num_low_frequency"] = 2
        f.attrs["acquisition"] = "CORPD_FBK"
        f.attrs["max"] = 1.5
    return k


def test_read_fastmri_multicoil_puts_the_readout_last(tmp_path):
    pytest.importorskip("ismrmrd")
    with h5py.File(tmp_path / "none.h5", "w"):
        pass
    k = _fastmri_file(tmp_path / "f.h5")
    raw = read_fastmri(tmp_path / "f.h5")
    assert raw.axes == ("slice", "coil", "ky", "kx")
    np.testing.assert_array_equal(raw.kspace, np.swapaxes(k, -1, -2))
    assert not raw.mask[:, 0].any() and raw.mask[:, 1:].all()  # the all-zero column is not sampled
    with h5py.File(tmp_path / "f.h5") as f:
        np.testing.assert_array_equal(raw.reference, np.swapaxes(f["reconstruction_rss"][()], -1, -2))
    assert raw.header.matrix == (20, 12, 1) and raw.header.field_strength_t == 3.0
    assert raw.header.extra["acquisition"] == "CORPD_FBK" and raw.header.extra["max"] == 1.5
    one = read_fastmri(tmp_path / "f.h5", slices=1)
    assert one.axes == ("coil", "ky", "kx")
    np.testing.assert_array_equal(one.kspace, np.swapaxes(k[1], -1, -2))
    np.testing.assert_array_equal(one.reference, raw.reference[1])
    two = read_fastmri(tmp_path / "f.h5", slices=slice(0, 2))
    assert two.kspace.shape == (2, 4, 12, 20)


def test_read_fastmri_single_coil_and_test_mask(tmp_path):
    pytest.importorskip("ismrmrd")
    mask = np.zeros(12, bool)
    mask[[2, 5, 6, 9]] = True
    k = _fastmri_file(tmp_path / "s.h5", coils=0, mask=mask, ref=False)
    raw = read_fastmri(tmp_path / "s.h5")
    assert raw.axes == ("slice", "coil", "ky", "kx") and raw.n_coils == 1
    np.testing.assert_array_equal(raw.kspace[:, 0], np.swapaxes(k, -1, -2))
    np.testing.assert_array_equal(raw.mask[0, :, 0], mask)
    assert raw.reference is None and raw.header.extra["acceleration"] == 4


def test_read_fastmri_rejects_bad_files(tmp_path):
    pytest.importorskip("ismrmrd")
    _fastmri_file(tmp_path / "g.h5")
    with h5py.File(tmp_path / "nok.h5", "w") as f:
        f.create_dataset("image", data=np.zeros(3))
    with pytest.raises(ValueError, match=r"nok\.h5: no field 'kspace'"):
        read_fastmri(tmp_path / "nok.h5")
    with h5py.File(tmp_path / "real.h5", "w") as f:
        f.create_dataset("kspace", data=np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="'kspace' must be complex"):
        read_fastmri(tmp_path / "real.h5")
    with h5py.File(tmp_path / "nan.h5", "w") as f:
        f.create_dataset("kspace", data=np.full((1, 2, 3, 4), np.nan, np.complex64))
    with pytest.raises(ValueError, match="NaN"):
        read_fastmri(tmp_path / "nan.h5")
    with h5py.File(tmp_path / "mask.h5", "w") as f:
        f.create_dataset("kspace", data=np.ones((1, 2, 3, 4), np.complex64))
        f.create_dataset("mask", data=np.ones(7))
    with pytest.raises(ValueError, match="field 'mask' must be 4 values"):
        read_fastmri(tmp_path / "mask.h5")
    good = (tmp_path / "g.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"cut\.h5"):
        read_fastmri(tmp_path / "cut.h5")
    with pytest.raises(ValueError, match="slices must index"):
        read_fastmri(tmp_path / "g.h5", slices=3)
    with pytest.raises(TypeError, match="slices must be"):
        read_fastmri(tmp_path / "g.h5", slices=1.0)


# ---------------------------------------------------------------------------- twix
DATA = Path(__file__).resolve().parents[2] / "data"
GRE = DATA / "twix_gre_phantom_2ch.dat"


def test_read_twix_on_the_real_gre_file():
    """A 2-D GRE of a phantom on a 2.89 T Skyra (body coil, 2 channels), twixtools' example file."""
    twixtools = pytest.importorskip("twixtools")
    raw = read_twix(GRE)
    assert raw.axes == ("coil", "ky", "kx") and raw.kspace.shape == (2, 160, 320) and raw.mask.all()
    h = raw.header
    assert h.matrix == (320, 160, 1) and h.recon_matrix == (160, 160, 1) and h.readout_oversampling == 2.0
    assert h.field_strength_t == pytest.approx(2.89362) and h.tr_ms == (10.0,) and h.te_ms == (3.0,)
    assert h.fov_mm == (400.0, 200.0, 4.0) and h.vendor == "SIEMENS Skyra"
    assert h.extra["twix_version"] == "VD/VE"
    # the same samples as twixtools' own map_twix array (Lin, Cha, Col) -> (Cha, Lin, Col)
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        ref = twixtools.map_twix(str(GRE))[-1]["image"][:].squeeze()
    np.testing.assert_array_equal(raw.kspace, np.moveaxis(ref, 1, 0))
    small = read_twix(GRE, remove_oversampling=True)
    assert small.kspace.shape == (2, 160, 160)
    ax = (-2, -1)
    img = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(small.kspace, axes=ax), norm="ortho"), axes=ax)
    rss = np.sqrt(np.sum(np.abs(img) ** 2, axis=0))
    # the phantom's uniform lower half against the air in a corner: ~10x (its SNR) on this scan;
    # a misplaced line or a wrong FFT convention smears it into the background
    assert rss[95:140, 85:125].mean() > 5 * rss[:10, :10].mean()


def _twix_hdr(*, base=8, lines=6, partitions=1, os_factor=2.0, pad_to=0):
    yaps = ("### ASCCONV BEGIN ###\n"
            f"sKSpace.lBaseResolution = {base}\nsKSpace.lPhaseEncodingLines = {lines}\n"
            f"sKSpace.lPartitions = {partitions}\nsKSpace.ucDimension = 0x2\n"
            "sSliceArray.asSlice[0].dReadoutFOV = 220\nsSliceArray.asSlice[0].dPhaseFOV = 220\n"
            "sSliceArray.asSlice[0].dThickness = 3\nalTR[0] = 8000\nalTE[0] = 4000\n"
            "sRXSPEC.alDwellTime[0] = 10000\n### ASCCONV END ###\n")
    bufs = {"Config": '<ParamString."SequenceFileName">  { "%SiemensSeq%\\gre"  }\n',
            "Dicom": '<ParamDouble."flMagneticFieldStrength">  { <Precision> 6  1.5  }\n'
                     '<ParamString."ManufacturersModelName">  { "Aera"  }\n',
            "Meas": f'<ParamDouble."flReadoutOSFactor">  {{ <Precision> 6  {os_factor}  }}\n',
            "MeasYaps": yaps}
    body = b"".join(n.encode() + b"\0" + struct.pack("<I", len(t) + 1) + t.encode() + b"\0"
                    for n, t in bufs.items())
    n = max(8 + len(body), pad_to)
    return struct.pack("<II", n, len(bufs)) + body + b"\0" * (n - 8 - len(body))


def _lines(rng, nc=3, ns=16, lin=range(1, 6), sli=2):
    out = []
    for s in range(sli):
        for i in lin:
            d = (rng.standard_normal((nc, ns)) + 1j * rng.standard_normal((nc, ns))).astype(np.complex64)
            out.append({"Lin": i, "Sli": s, "data": d, "flags": ["PATREFANDIMASCAN"] if i == 3 else []})
    return out


def test_read_twix_ve_multiraid_with_a_noise_measurement(tmp_path):
    """Two measurements written by twixtools' write_twix: noise adjust scans, then the image."""
    twixtools = pytest.importorskip("twixtools")
    rng = np.random.default_rng(7)
    hdr = np.frombuffer(_twix_hdr(), dtype="S1")
    noise = [(rng.standard_normal((3, 32)) + 1j * rng.standard_normal((3, 32))).astype(np.complex64)
             for _ in range(2)]

    def mdb(d, flags=(), **counters):
        m = twixtools.mdb.Mdb_local(d)
        for f in flags:
            m.add_flag(f)
        m.mdh.CenterLin, m.mdh.CenterCol = 3, 8
        for k, v in counters.items():
            setattr(m.mdh.Counter, k, v)
        return m

    lines = _lines(rng)
    scans = [{"hdr_str": hdr, "mdb": [mdb(n, ["NOISEADJSCAN"]) for n in noise]},
             {"hdr_str": hdr, "mdb": [mdb(x["data"], x["flags"], Lin=x["Lin"], Sli=x["Sli"]) for x in lines]
              + [mdb(np.ones((3, 16), np.complex64), ["PHASCOR"])]}]
    with contextlib_quiet():
        twixtools.write_twix(scans, str(tmp_path / "ve.dat"), version_is_ve=True)
    raw = read_twix(tmp_path / "ve.dat")
    assert raw.axes == ("slice", "coil", "ky", "kx") and raw.kspace.shape == (2, 3, 6, 16)
    for x in lines:  # ky = Lin - CenterLin + 6 // 2 = Lin
        np.testing.assert_array_equal(raw.kspace[x["Sli"], :, x["Lin"]], x["data"])
    assert not raw.mask[:, 0].any() and raw.mask[:, 1:].all()  # line 0 not acquired (partial Fourier)
    np.testing.assert_array_equal(raw.noise, np.concatenate(noise, axis=1))
    assert raw.calibration_mask[:, 3].all() and raw.calibration_mask.sum() == 2 * 16
    assert raw.header.skipped == {"phasecorr": 1} and raw.header.field_strength_t == 1.5
    assert raw.header.dwell_us == pytest.approx(5.0) and raw.header.noise_dwell_us == pytest.approx(5.0)
    with pytest.raises(ValueError, match="scan must index the 2 measurements"):
        read_twix(tmp_path / "ve.dat", scan=2)
    with pytest.raises(ValueError, match="no imaging lines"):
        read_twix(tmp_path / "ve.dat", scan=0)


def _write_vb(path, hdr, lines, twixtools):
    """A minimal VB file: the protocol header, then per line and channel a 128-byte mdh and the samples."""
    with open(path, "wb") as f:
        f.write(hdr)
        for x in lines:
            d = x["data"]
            for c in range(d.shape[0]):
                h = twixtools.mdh_def.VB17_header(SamplesInScan=d.shape[1], UsedChannels=d.shape[0],
                                                  ChannelId=c, CenterLin=3, CenterCol=8)
                h.Counter.Lin, h.Counter.Sli = x["Lin"], x["Sli"]
                for fl in x["flags"]:
                    twixtools.mdh_def.add_flag(h, fl)
                f.write(bytearray(h))
                f.write(d[c].tobytes())
        end = twixtools.mdh_def.VB17_header()
        twixtools.mdh_def.add_flag(end, "ACQEND")
        twixtools.mdh_def.set_dma_len(end, 128 + 16)
        f.write(bytearray(end) + b"\0" * 16)


def test_read_twix_vb(tmp_path):
    twixtools = pytest.importorskip("twixtools")
    rng = np.random.default_rng(8)
    lines = [*_lines(rng, sli=1), {"Lin": 0, "Sli": 0, "data": np.ones((3, 16), np.complex64),
                                   "flags": ["NOISEADJSCAN"]}]
    _write_vb(tmp_path / "vb.dat", _twix_hdr(pad_to=12000), lines, twixtools)
    raw = read_twix(tmp_path / "vb.dat")
    assert raw.axes == ("coil", "ky", "kx") and raw.header.extra["twix_version"] == "VB"
    for x in lines[:-1]:
        np.testing.assert_array_equal(raw.kspace[:, x["Lin"]], x["data"])
    np.testing.assert_array_equal(raw.noise, np.ones((3, 16)))


def test_read_twix_rejects_bad_files(tmp_path):
    pytest.importorskip("twixtools")
    good = GRE.read_bytes()
    (tmp_path / "cut.dat").write_bytes(good[: len(good) - 5000])
    with pytest.raises(ValueError, match=r"cut\.dat: .*(truncated|past)"):
        read_twix(tmp_path / "cut.dat")
    bad = bytearray(good)
    bad[4:8] = struct.pack("<I", 0)  # MrParcRaidFileHeader count_
    (tmp_path / "count.dat").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="count_ = 0"):
        read_twix(tmp_path / "count.dat")
    hdr_len = struct.unpack("<I", good[10240:10244])[0]
    bad = bytearray(good)
    bad[10240 + hdr_len:10240 + hdr_len + 192] = b"\0" * 192  # a zeroed scan header: no progress
    (tmp_path / "zero.dat").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match=r"zero\.dat"):
        read_twix(tmp_path / "zero.dat")
    (tmp_path / "tiny.dat").write_bytes(b"\0" * 10)
    with pytest.raises(ValueError, match="not a twix file"):
        read_twix(tmp_path / "tiny.dat")
    with pytest.raises(FileNotFoundError):
        read_twix(tmp_path / "none.dat")


def contextlib_quiet():
    import contextlib
    import io

    return contextlib.redirect_stdout(io.StringIO())
