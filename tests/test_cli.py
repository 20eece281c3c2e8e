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
