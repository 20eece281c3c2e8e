"""Example data files (``data/`` at the repository root), found and read without network.

``load(name)`` reads one of the files listed in :data:`FILES` with its reader;
``path(name)`` gives its location. The files live in the repository's top-level
``data/`` folder (each < 5 MB, described with its licence and the script that
made it in ``data/README.md``). They are located, in order:

1. the folder named by the environment variable ``CSBOX_DATA``;
2. ``data/`` next to the ``csbox`` package's parent folder: a source checkout or an
   editable install (``pip install -e .``) finds the repository's folder this way.

A wheel does not carry ``data/``: set ``CSBOX_DATA`` to a checkout's ``data/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._validation import check_choice

__all__ = ["FILES", "DataFile", "load", "path"]


@dataclass(frozen=True)
class DataFile:
    """One example file: its name in ``data/``, what it holds and how to read it.

    Attributes
    ----------
    filename : str
        File name inside the data folder.
    description : str
        What the file holds and how it was made.
    reader : str
        ``"module:function"`` that reads it (called with the path and ``kwargs``).
    kwargs : dict
        Keyword arguments of the reader.
    meta : dict
        Ground truth of the recording (geometry, speeds, targets).
    """

    filename: str
    description: str
    reader: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


#: The files shipped in ``data/``, by the name :func:`load` takes: file, description, reader and its
#: keyword arguments (see ``data/README.md`` for how each was made and its licence).
FILES: dict[str, DataFile] = {
    "brain-16ch": DataFile(
        "brain_flash_16ch.h5",
        "real in-vivo head scan: 2-D spoiled gradient echo (FLASH), one transversal 3-mm slice, 128 x 128, "
        "FOV 256 mm, 16 receive channels, fully sampled, Siemens MAGNETOM Cima.X 2.89 T (Pulseq course data, "
        "MIT licence), ISMRMRD HDF5",
        "csbox.io:read_ismrmrd",
        meta={"source": "github.com/pulseq/MR-Physics-with-Pulseq, tutorials/04_hardware_and_imprefections/"
                        "data/2024-02-06-164128.dat", "licence": "MIT, Copyright (c) 2024 pulseq",
              "fully_sampled": True, "tr_ms": 48.0, "te_ms": 12.4, "flip_deg": 8.0},
    ),
    "disk-uff": DataFile(
        "disk_pw_l9-4.uff",
        "rotating disk, 0-degree plane wave, 32 pulses at 10 kHz, L9-4/38 (128 el., 5 MHz), RF band-pass "
        "sampled at 4/3 fc, int16, simulated by PyMUST simus (UFF/USTB HDF5)",
        "csbox.io.ultrasound:read_uff",
        meta={"center": (0.0, 20e-3), "radius": 6e-3, "angular_velocity": 40.0, "prf": 10_000.0},
    ),
    "sar-dca1000": DataFile(
        "sar_iwr1443_linear.bin",
        "IWR1443 linear MIMO-SAR scan (128 positions, 2 TX x 4 RX, 64 samples) of three points, csbox's "
        "MIMO-SAR model, DCA1000 4-lane raw capture",
        "csbox.io.radar:read_dca1000",
        kwargs={"n_samples": 64, "n_tx": 2, "n_rx": 4},
        meta={
            "f0": 77e9,
            "bandwidth": 4e9,
            "chirp_time": 40e-6,
            "n_positions": 128,
            "targets_yz": ((-20e-3, 280e-3), (0.0, 300e-3), (25e-3, 320e-3)),
        },
    ),
}


def _folders() -> list[Path]:
    out = []
    env = os.environ.get("CSBOX_DATA")
    if env:
        out.append(Path(env))
    out.append(Path(__file__).resolve().parent.parent / "data")
    return out


def path(name: str) -> Path:
    """Location of the example file ``name`` (a key of :data:`FILES`); ``FileNotFoundError`` if absent.

    Searched in ``$CSBOX_DATA`` (when set), then in the ``data/`` folder of the csbox checkout.

    Parameters
    ----------
    name : str
        A key of :data:`FILES` (``"brain-16ch"``, ``"disk-uff"``, ...); another raises ``ValueError``.

    Returns
    -------
    pathlib.Path
    """
    check_choice("name", name, list(FILES))
    tried = []
    for folder in _folders():
        p = folder / FILES[name].filename
        if p.is_file():
            return p
        tried.append(str(p))
    raise FileNotFoundError(
        f"example file {FILES[name].filename!r} not found (tried {', '.join(tried)}); "
        "set CSBOX_DATA to the data/ folder of a csbox checkout"
    )


def load(name: str) -> Any:
    """Read the example file ``name`` with its reader (see :data:`FILES`).

    ``"brain-16ch"`` -> :class:`csbox.io.RawMRI` (real 16-channel k-space, fully sampled);
    ``"disk-uff"`` -> :class:`csbox.io.ultrasound.ChannelData`; ``"sar-dca1000"`` -> complex
    beat samples ``(L, n_tx, n_rx, n_samples)``. ``FILES[name].meta`` holds the ground truth
    (disk geometry and speed, radar targets).

    Parameters
    ----------
    name : str
        A key of :data:`FILES`, as in :func:`path`.

    Returns
    -------
    object
        What the file's reader returns.
    """
    import importlib

    p = path(name)
    entry = FILES[name]
    module, func = entry.reader.split(":")
    return getattr(importlib.import_module(module), func)(p, **entry.kwargs)
