"""UFF and .mat readers: files written by hand from the formats' specifications, round trips, errors.

The UFF files below are written with h5py exactly as USTB lays out ``uff.channel_data``
(groups with a ``class`` attribute, scalars as 1x1 arrays, MATLAB column-major data
[time x channel x wave x frame] -> HDF5 (frame, wave, channel, time)), independently of
``write_uff``. The time references are checked end to end: a point scatterer simulated in
csbox's convention, stored with UFF's reference (the wave crossing the origin) and a
non-zero ``initial_time``, read back and beamformed, must image at its position.
"""

import math

import numpy as np
import pytest

from csbox.io import ChannelData, read_mat, read_uff, write_uff
from csbox.ultrasound import Probe, Transmit, das, plane_waves, simulate, simulate_rf

h5py = pytest.importorskip("h5py")
scipy_io = pytest.importorskip("scipy.io")

P = Probe.from_parameters(fc=5e6, n_elements=64, bandwidth=65, pitch=3e-4, kerf=3e-5)
FS = 4 * P.fc
XS, ZS = np.array([2e-3]), np.array([15e-3])


def _ds(g, name, value):
    arr = np.asarray(value, dtype=float)
    d = g.create_dataset(name, data=arr.reshape(1, 1) if arr.ndim == 0 else arr)
    d.attrs["complex"] = np.int8(0)


def _obj(parent, name, cls, size=(1, 1)):
    g = parent.create_group(name)
    g.attrs["class"] = cls
    g.attrs["name"] = name
    g.attrs["size"] = np.asarray(size)
    return g


def write_ustb_by_hand(path, rf, angles, initial_time, delays):
    """A USTB-layout uff.channel_data of RF ``(frames, waves, channels, samples)``."""
    with h5py.File(path, "w") as f:
        g = _obj(f, "channel_data", "uff.channel_data")
        _ds(g, "sampling_frequency", FS)
        _ds(g, "initial_time", initial_time)
        _ds(g, "sound_speed", 1540.0)
        _ds(g, "modulation_frequency", 0.0)
        _ds(g, "PRF", 2000.0)
        pulse = _obj(g, "pulse", "uff.pulse")
        _ds(pulse, "center_frequency", P.fc)
        _ds(pulse, "fractional_bandwidth", 0.65)
        pr = _obj(g, "probe", "uff.linear_array")
        x = P.x
        _ds(pr, "geometry", np.stack([x, 0 * x, 0 * x, 0 * x, 0 * x, 0 * x + P.width, 0 * x + 5e-3]))
        seq = _obj(g, "sequence", "uff.wave", (1, len(angles)))
        for s, a in enumerate(angles):
            w = _obj(seq, f"sequence_{s + 1:04d}", "uff.wave")
            _ds(w, "wavefront", 0)
            src = _obj(w, "source", "uff.point")
            _ds(src, "distance", math.inf)
            _ds(src, "azimuth", a)
            _ds(src, "elevation", 0.0)
            _ds(w, "delay", delays[s])
        _ds(g, "data", rf)


def test_uff_written_from_the_spec_images_the_point(tmp_path):
    angles = np.radians([-8.0, 0.0, 8.0])
    tx = plane_waves(np.degrees(angles))
    t_init, delays = 5e-6, np.array([1e-6, 0.0, -0.5e-6])
    # csbox's t0 of each wave: UFF time + the time the wave crosses the origin in csbox's origin
    t0 = t_init + delays + np.array([-min(P.x * math.sin(a)) / 1540 for a in angles])
    rf = simulate_rf(P, tx, XS, ZS, np.ones(1), fs=FS, n_samples=600, t0=t0)
    f = tmp_path / "ustb.uff"
    write_ustb_by_hand(f, rf[None], angles, t_init, delays)
    cd = read_uff(f)
    assert isinstance(cd, ChannelData) and cd.data.shape == (1, 3, 64, 600) and cd.prf == 2000.0
    assert cd.probe.pitch == pytest.approx(P.pitch) and cd.probe.width == pytest.approx(P.width)
    assert [t.angle for t in cd.transmits] == pytest.approx(list(angles))
    np.testing.assert_allclose(cd.t0, t0, rtol=1e-12)
    x = np.linspace(0, 4e-3, 81)
    z = np.linspace(13e-3, 17e-3, 161)
    img = np.abs(das(cd.iq()[0], cd.probe, cd.transmits, x, z, fs=cd.fs, t0=cd.t0))
    iz, ix = np.unravel_index(np.argmax(img), img.shape)
    lam = 1540 / P.fc
    assert math.hypot(x[ix] - XS[0], z[iz] - ZS[0]) < lam / 4


@pytest.mark.parametrize("kind", ["rf_int16", "iq"])
def test_write_uff_round_trip(tmp_path, kind):
    tx = [*plane_waves([-5, 5]), Transmit("diverging", 0.0, (1e-3, -8e-3))]
    t0 = np.array([2e-6, 3e-6, 4e-6])
    iq = simulate(P, tx, XS, ZS, np.ones(1), fs=FS, n_samples=400, t0=t0)
    data = np.stack([iq, 0.5 * iq])  # two frames
    if kind == "rf_int16":
        rf = simulate_rf(P, tx, XS, ZS, np.ones(1), fs=FS, n_samples=400, t0=t0)
        data = np.round(np.stack([rf, 0.5 * rf]) * 30000 / np.abs(rf).max()).astype(np.int16)
    f = tmp_path / "rt.uff"
    write_uff(f, data, P, tx, fs=FS, t0=t0, prf=1000.0)
    cd = read_uff(f)
    assert cd.data.dtype == data.dtype
    np.testing.assert_allclose(cd.data, data, rtol=1e-12, atol=1e-12 * np.abs(data).max())
    np.testing.assert_allclose(cd.t0, t0, rtol=1e-12)
    assert cd.transmits[2].kind == "diverging" and cd.transmits[2].source == pytest.approx((1e-3, -8e-3))
    assert cd.probe == Probe(
        fc=P.fc, pitch=P.pitch, width=P.width, n_elements=64, bandwidth=0.65, height=P.height
    )


def test_uff_malformed(tmp_path):
    f = tmp_path / "bad.uff"
    write_ustb_by_hand(f, np.zeros((1, 1, 64, 10)), [0.0], 0.0, [0.0])
    with h5py.File(f, "a") as h:
        del h["channel_data/sampling_frequency"]
    with pytest.raises(ValueError, match=r"bad\.uff: field 'channel_data/sampling_frequency' is missing"):
        read_uff(f)
    write_ustb_by_hand(f, np.zeros((1, 2, 64, 10)), [0.0], 0.0, [0.0])
    with pytest.raises(ValueError, match=r"bad\.uff: field 'data' has .* but the sequence has 1 waves"):
        read_uff(f)
    for field, bad in (("sampling_frequency", -FS), ("sound_speed", 0.0), ("PRF", -2000.0)):
        write_ustb_by_hand(f, np.zeros((1, 1, 64, 10)), [0.0], 0.0, [0.0])
        with h5py.File(f, "a") as h:  # were read back as they were (c = 0: infinite t0)
            h[f"channel_data/{field}"][...] = bad
        with pytest.raises(ValueError, match=f"field 'channel_data/{field}' must be > 0"):
            read_uff(f)
    (tmp_path / "text.uff").write_text("not hdf5")
    with pytest.raises(ValueError, match="not an HDF5"):
        read_uff(tmp_path / "text.uff")


def test_write_uff_rejects_bad_acquisition_parameters(tmp_path):
    data = np.zeros((1, 1, 64, 10))
    for kw, name in (({"fs": -FS}, "fs"), ({"fs": np.nan}, "fs"), ({"c": 0.0}, "c"), ({"prf": -1.0}, "prf"),
                     ({"t0": np.nan}, "t0"), ({"t0": [0.0, 1e-6]}, "t0")):  # were written as given
        with pytest.raises(ValueError, match=name):
            write_uff(tmp_path / "w.uff", data, P, [Transmit()], **{"fs": FS, **kw})


def test_mat_must_style(tmp_path):
    """MUST users save RF (samples x elements x frames) and param (fc, fs, pitch, kerf, ... in MUST units)."""
    delays = P.x * math.sin(math.radians(5)) / 1540
    delays -= delays.min()
    rf = simulate_rf(P, [Transmit.from_delays(delays)], XS, ZS, np.ones(1), fs=FS, n_samples=500, t0=1e-6)
    scale = 30000 / np.abs(rf).max()  # ADC counts within int16 (a bigger scale would wrap around)
    frames = np.round(np.stack([rf[0], rf[0]], -1).transpose(1, 0, 2) * scale).astype(np.int16)  # (ns, ne, 2)
    param = {
        "fc": P.fc,
        "fs": FS,
        "pitch": P.pitch,
        "kerf": P.kerf,
        "Nelements": 64.0,
        "bandwidth": 65.0,
        "t0": 1e-6,
        "TXdelay": delays,
        "c": 1540.0,
        "PRF": 5000.0,
    }
    f = tmp_path / "must.mat"
    scipy_io.savemat(f, {"RF": frames, "param": param})
    cd = read_mat(f)
    assert cd.data.shape == (2, 1, 64, 500) and cd.data.dtype == np.int16
    np.testing.assert_array_equal(cd.data[1, 0], frames[:, :, 1].T)
    assert cd.probe.width == pytest.approx(P.width) and cd.probe.bandwidth == pytest.approx(0.65)
    assert cd.transmits[0].kind == "delays" and cd.prf == 5000.0 and cd.t0[0] == 1e-6
    x, z = np.linspace(0, 4e-3, 41), np.linspace(13e-3, 17e-3, 81)
    img = np.abs(das(cd.iq()[0], cd.probe, cd.transmits, x, z, fs=cd.fs, t0=cd.t0))
    iz, ix = np.unravel_index(np.argmax(img), img.shape)
    assert math.hypot(x[ix] - XS[0], z[iz] - ZS[0]) < 1540 / P.fc / 2
    scipy_io.savemat(f, {"RF": frames, "param": {k: v for k, v in param.items() if k != "fc"}})
    with pytest.raises(ValueError, match=r"must\.mat: field 'param\.fc' is missing"):
        read_mat(f)
    scipy_io.savemat(f, {"RF": frames[:, :10], "param": param})
    with pytest.raises(ValueError, match=r"field 'param\.Nelements' is 64\.0, the data have 10 columns"):
        read_mat(f)
    for key, bad in (("fs", -FS), ("c", 0.0)):  # were read back as they were
        scipy_io.savemat(f, {"RF": frames, "param": {**param, key: bad}})
        with pytest.raises(ValueError, match=rf"field 'param\.{key}' must be > 0"):
            read_mat(f)


def test_mat_verasonics_style(tmp_path):
    """RcvData rows startSample:endSample per acquisition; Trans in MHz / mm; TX.Delay in wavelengths."""
    lam = 1540 / P.fc
    angles = [-4.0, 4.0]
    tx = plane_waves(angles)
    start_depth = 40.0  # wavelengths (12.3 mm)
    t0 = 2 * start_depth * lam / 1540
    rf = simulate_rf(P, tx, XS, ZS, np.ones(1), fs=FS, n_samples=256, t0=t0)
    codes = np.round(rf * 2000 / np.abs(rf).max()).astype(np.int16)
    rcv = np.zeros((2 * 256 + 10, 64, 1), np.int16)
    receives, txs = [], []
    for j in range(2):
        rcv[j * 256 : (j + 1) * 256, :, 0] = codes[j].T
        receives.append(
            {
                "startSample": j * 256 + 1.0,
                "endSample": (j + 1) * 256.0,
                "startDepth": start_depth,
                "decimSampleRate": FS / 1e6,
                "framenum": 1.0,
                "acqNum": j + 1.0,
            }
        )
        txs.append({"Delay": tx[j].delays(P) * P.fc})
    trans = {
        "frequency": P.fc / 1e6,
        "spacingMm": P.pitch * 1e3,
        "elementWidth": P.width * 1e3,
        "numelements": 64.0,
        "Bandwidth": np.array([P.fc * (1 - 0.325), P.fc * (1 + 0.325)]) / 1e6,
    }
    f = tmp_path / "vsx.mat"
    cell = np.empty((1,), dtype=object)  # RcvData is a MATLAB cell {1}
    cell[0] = rcv
    scipy_io.savemat(f, {"RcvData": cell, "Trans": trans, "Receive": receives, "TX": txs})
    cd = read_mat(f)
    assert cd.data.shape == (1, 2, 64, 256)
    np.testing.assert_array_equal(cd.data[0], codes)
    np.testing.assert_allclose(cd.t0, t0)
    assert cd.probe.bandwidth == pytest.approx(0.65)
    for ours, ref in zip(cd.transmits, tx, strict=True):
        np.testing.assert_allclose(ours.delays(P), ref.delays(P), atol=1e-15)
    # frames are RcvData pages by Receive.framenum (frame 2 alone was read from page 1)
    two = np.concatenate([np.zeros_like(rcv), rcv], axis=2)
    cell2 = np.empty((1,), dtype=object)
    cell2[0] = two
    only2 = [{**r, "framenum": 2.0} for r in receives]
    scipy_io.savemat(f, {"RcvData": cell2, "Trans": trans, "Receive": only2, "TX": txs})
    np.testing.assert_array_equal(read_mat(f).data[0], codes)
    only3 = [{**r, "framenum": 3.0} for r in receives]
    scipy_io.savemat(f, {"RcvData": cell2, "Trans": trans, "Receive": only3, "TX": txs})
    with pytest.raises(ValueError, match="frame 3 is not one of RcvData's 2 frames"):
        read_mat(f)
    bad = [dict(r) for r in receives]
    bad[1]["endSample"] = 5000.0
    scipy_io.savemat(f, {"RcvData": cell, "Trans": trans, "Receive": bad, "TX": txs})
    with pytest.raises(ValueError, match=r"vsx\.mat: field 'Receive\(2\)\.startSample'"):
        read_mat(f)
