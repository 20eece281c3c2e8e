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
