"""The console script: demo listing, running a demo, info."""

import json

from csbox.cli import main


def test_demo_list(capsys):
    assert main(["demo", "--list"]) == 0
    assert "fourier-sampling" in capsys.readouterr().out


def test_unknown_demo(capsys):
    assert main(["demo", "nope"]) == 2
    assert "unknown demo 'nope'" in capsys.readouterr().err


def test_fourier_sampling_demo(tmp_path):
    assert main(["demo", "fourier-sampling", "--quick", "--out", str(tmp_path)]) == 0
    out = tmp_path / "fourier-sampling"
    assert (out / "fourier_sampling.png").stat().st_size > 10_000
    metrics = json.loads((out / "metrics.json").read_text())
    assert all(v["acceleration"] == 4.0 for v in metrics.values())


def test_info(capsys):
    assert main(["info"]) == 0
    assert "backend numpy" in capsys.readouterr().out


def test_bad_out_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "fourier-sampling", "--quick", "--out", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("csbox: error:") and "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path):
    import pytest

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        main(["--debug", "demo", "fourier-sampling", "--quick", "--out", str(blocker / "sub")])


def test_bad_flag_exits_non_zero():
    import pytest

    with pytest.raises(SystemExit) as e:
        main(["demo", "--bogus"])
    assert e.value.code == 2


def _sim_cfl(tmp_path, n=40, coils=6):
    """A small simulated multi-coil k-space as BART writes it ([x, y, z, coil])."""
    import numpy as np

    from csbox.io import write_cfl
    from csbox.mri import shepp_logan_kspace

    k = shepp_logan_kspace((n, n), coils, seed=0).kspace  # (coil, ky, kx)
    write_cfl(tmp_path / "ksp", np.transpose(k, (2, 1, 0))[:, :, None, :])
    return tmp_path / "ksp.cfl"


def test_recon_help_speaks_bart(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["recon", "--help"])
    out = capsys.readouterr().out
    assert "ecalib" in out and "pics -l1" in out and "--accel" in out and "--no-progress" in out


def test_recon_cfl_to_every_output(tmp_path):
    import h5py
    import numpy as np

    from csbox.io import read_cfl

    src = _sim_cfl(tmp_path)
    for ext in (".cfl", ".npy", ".h5", ".png"):
        out = tmp_path / f"img{ext}"
        argv = ["recon", str(src), str(out), "--method", "cg", "--iter", "5", "--accel", "2", "--calib", "16",
                "--no-progress"]
        assert main(argv) == 0
        if ext == ".h5":
            with h5py.File(out) as f:
                assert f["image"].shape == (40, 40) and f["maps"].shape == (6, 40, 40)
                assert f.attrs["command"].startswith("csbox recon")
                assert "espirit" in json.loads(f.attrs["timings_s"])
            continue
        meta = json.loads((tmp_path / f"img{ext}.json").read_text())
        assert meta["command"] == "csbox " + " ".join(argv) and meta["method"] == "cg"
        assert meta["timings_s"]["total"] > 0 and any("Poisson" in s for s in meta["steps"])
        if ext == ".cfl":
            assert read_cfl(tmp_path / "img").shape == (40, 40)
        if ext == ".npy":
            assert np.load(out).dtype == np.complex64


def test_recon_real_scan_l1(tmp_path):
    # the ISMRMRD file of data/ through the whole pipeline, default method (l1-wavelet) and lam
    from csbox import data

    out = tmp_path / "brain.npy"
    assert main(["recon", str(data.path("brain-16ch")), str(out), "--accel", "4", "--iter", "20",
                 "--no-progress"]) == 0
    meta = json.loads((tmp_path / "brain.npy.json").read_text())
    assert meta["method"] == "l1-wavelet" and meta["iterations"] == [20]


def test_recon_errors_are_one_line(tmp_path, capsys):
    src = _sim_cfl(tmp_path)
    bad = tmp_path / "junk.h5"
    bad.write_bytes(b"not hdf5 at all")
    cases = [
        (["recon", str(tmp_path / "missing.h5"), str(tmp_path / "o.npy")], "does not exist"),
        (["recon", str(src), str(tmp_path / "o.txt")], "extension must be one of"),
        (["recon", str(src), str(tmp_path / "o.npy"), "--coils", "99"], "n_coils"),
        (["recon", str(src), str(tmp_path / "o.npy"), "--slice", "1"], "no slice axis"),
        (["recon", str(src), str(tmp_path / "o.npy"), "--accel", "0.5"], "accel"),
        (["recon", str(bad), str(tmp_path / "o.npy")], "cannot tell the format"),
    ]
    for argv, text in cases:
        assert main([*argv, "--no-progress"]) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("csbox: error:") and text in err, (argv, err)
