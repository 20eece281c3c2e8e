"""MRI raw-data readers: ISMRMRD (through the ismrmrd package's own writer), fastMRI (h5py in the
dataset's layout) and Siemens twix (twixtools' writer); RawMRI; every reader's validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from csbox.io import MRIHeader, RawMRI, read_ismrmrd, write_ismrmrd

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
