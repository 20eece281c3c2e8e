r"""TI DCA1000 raw ADC captures (``.bin``) as MIMO-SAR beat samples ``(L, n_tx, n_rx, n_samples)``.

The DCA1000EVM streams the radar's LVDS lanes to a file of little-endian int16
words (TI SWRA581, "Mmwave radar device ADC raw data capture"; the ``readDCA1000``
reference scripts). Complex (I/Q) capture:

* ``layout="iwr1443"`` (xWR12xx/14xx, 4 LVDS lanes, one per RX): for every ADC
  sample, 8 words ``I_rx0 I_rx1 I_rx2 I_rx3 Q_rx0 Q_rx1 Q_rx2 Q_rx3``;
* ``layout="xwr18xx"`` (xWR16xx/18xx/68xx, 2 lanes): per chirp the RX channels one
  after the other, each ``n_samples`` complex samples written as ``I I Q Q``
  (two consecutive samples' I, then their Q).

Chirps follow each other in time: for a TDM-MIMO SAR scan, position ``l``, then
transmitter ``t`` (TX1, TX3 on the IWR1443), then ``chirps_per_tx`` repeated
chirps (averaged: coherent integration), which gives csbox's MIMO-SAR layout
``(L, n_tx, n_rx, n_samples)`` (the ``oshape`` of the SAR operator, element
``[l, t, r, k]`` the k-th sample of the beat signal of TX ``t`` and RX ``r`` at
position ``l``). 12- and 14-bit ADCs store unsigned codes that are sign-extended
as TI's scripts do. Plain NumPy; nothing is unpickled.

References
----------
Texas Instruments, "Mmwave Radar Device ADC Raw Data Capture", SWRA581B, 2018; DCA1000EVM
Data Capture Card User's Guide, SPRUIJ4A. J. W. Smith, M. Torlak, IEEE Access 2022 (IWR1443 +
DCA1000 MIMO-SAR).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validation import check_choice, check_int

__all__ = ["read_dca1000", "write_dca1000"]


def _interleave(data: np.ndarray, layout: str) -> np.ndarray:
    """int16 words of complex ``(n_chirps, n_rx, n_samples)`` in the file's order."""
    n_chirps, n_rx, k = data.shape
    re, im = np.real(data), np.imag(data)
    if layout == "iwr1443":
        # per sample: I of every RX, then Q of every RX
        words = np.concatenate([re.transpose(0, 2, 1), im.transpose(0, 2, 1)], axis=-1)  # (chirps, k, 2 n_rx)
        return words.ravel()
    if k % 2:
        raise ValueError(f"the xwr18xx layout packs samples in pairs: n_samples must be even, got {k}")
    pairs_re = re.reshape(n_chirps, n_rx, k // 2, 2)
    pairs_im = im.reshape(n_chirps, n_rx, k // 2, 2)
    return np.concatenate([pairs_re, pairs_im], axis=-1).ravel()  # I I Q Q per sample pair


def _check_dca1000_size(path: Path, n_samples: int, n_rx: int, n_tx: int, chirps_per_tx: int) -> None:
    """The file exists and holds a whole number of scan positions of int16 I/Q words."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    size = path.stat().st_size
    per_position = 2 * n_samples * n_rx * n_tx * chirps_per_tx  # int16 words
    if size % 2 or size == 0 or (size // 2) % per_position:
        raise ValueError(
            f"{path}: file size {size} bytes is not a whole number of positions: each holds "
            f"{2 * per_position} bytes (2 x {n_samples} samples x {n_rx} RX x {n_tx} TX x "
            f"{chirps_per_tx} chirps of int16 I/Q); check n_samples, n_rx, n_tx, chirps_per_tx"
        )


def _dca1000_halves(words: np.ndarray, n_chirps: int, n_samples: int, n_rx: int,
                    layout: str) -> tuple[np.ndarray, np.ndarray]:
    """The two interleaved int streams ``(chirp, rx, sample)`` of the capture card's ``layout``."""
    if layout == "iwr1443":
        w = words.reshape(n_chirps, n_samples, 2, n_rx)  # (chirp, sample, I|Q, rx)
        return w[:, :, 0, :].transpose(0, 2, 1), w[:, :, 1, :].transpose(0, 2, 1)
    w = words.reshape(n_chirps, n_rx, n_samples // 2, 2, 2)  # (chirp, rx, pair, I|Q, sample of pair)
    shape = (n_chirps, n_rx, n_samples)
    return w[:, :, :, 0, :].reshape(shape), w[:, :, :, 1, :].reshape(shape)


def read_dca1000(
    path: str | Path,
    *,
    n_samples: int,
    n_tx: int = 2,
    n_rx: int = 4,
    chirps_per_tx: int = 1,
    layout: str = "iwr1443",
    adc_bits: int = 16,
    iq_swap: bool = False,
) -> np.ndarray:
    """Read a DCA1000 complex capture into MIMO-SAR beat samples ``(L, n_tx, n_rx, n_samples)``.

    Parameters
    ----------
    path : str or Path
        The ``.bin`` capture (int16 little-endian words).
    n_samples : int
        ADC samples per chirp.
    n_tx : int
        TDM transmitters per position (2 for the IWR1443's TX1/TX3 MIMO mode).
    n_rx : int
        Receive channels (4 on the IWR1443).
    chirps_per_tx : int
        Consecutive chirps per transmitter and position, averaged.
    layout : {'iwr1443', 'xwr18xx'}
        Lane format (see the module notes).
    adc_bits : {12, 14, 16}
        ADC resolution; 12/14-bit codes are sign-extended.
    iq_swap : bool
        The capture stores Q before I (mmWave Studio's "IQ swap" setting).

    Returns
    -------
    ndarray, complex64, ``(L, n_tx, n_rx, n_samples)``

    Raises
    ------
    ValueError
        The file size is not a whole number of positions for the given sizes (the message
        names the file and what was expected), or a bad argument.
    """
    path = Path(path)
    n_samples = check_int("n_samples", n_samples, low=1)
    n_tx = check_int("n_tx", n_tx, low=1)
    n_rx = check_int("n_rx", n_rx, low=1)
    chirps_per_tx = check_int("chirps_per_tx", chirps_per_tx, low=1)
    check_choice("layout", layout, ("iwr1443", "xwr18xx"))
    if adc_bits not in (12, 14, 16):
        raise ValueError(f"adc_bits must be 12, 14 or 16, got {adc_bits!r}")
    if layout == "xwr18xx" and n_samples % 2:
        raise ValueError(
            f"the xwr18xx layout packs samples in pairs: n_samples must be even, got {n_samples}"
        )
    _check_dca1000_size(path, n_samples, n_rx, n_tx, chirps_per_tx)
    words = np.fromfile(path, dtype="<i2").astype(np.int32)
    if adc_bits != 16:
        top = 2 ** (adc_bits - 1) - 1
        words = np.where(words > top, words - 2**adc_bits, words)
    n_chirps = words.size // (2 * n_samples * n_rx)
    first, second = _dca1000_halves(words, n_chirps, n_samples, n_rx, layout)
    i_part, q_part = (second, first) if iq_swap else (first, second)
    cplx = (i_part + 1j * q_part).astype(np.complex64)
    L = n_chirps // (n_tx * chirps_per_tx)
    return cplx.reshape(L, n_tx, chirps_per_tx, n_rx, n_samples).mean(axis=2, dtype=np.complex64)


def write_dca1000(path: str | Path, data: np.ndarray, *, layout: str = "iwr1443") -> None:
    """Write beat samples ``(L, n_tx, n_rx, n_samples)`` as a DCA1000 complex capture (int16 words).

    The real and imaginary parts must be integers in the int16 range (ADC codes); they are
    checked, never clipped. One chirp per transmitter and position.

    Parameters
    ----------
    path : str or pathlib.Path
        Target raw file (overwritten), little-endian int16 words.
    data : array, shape ``(L, n_tx, n_rx, n_samples)``
        Complex beat samples per scan position ``L``; real and imaginary parts integers with
        ``|v| <= 32767`` (else ``ValueError``).
    layout : {"iwr1443", "xwr18xx"}, default "iwr1443"
        Lane format, as :func:`read_dca1000` reads it (see the module notes).
    """
    check_choice("layout", layout, ("iwr1443", "xwr18xx"))
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be (L, n_tx, n_rx, n_samples), got shape {data.shape}")
    if data.size == 0:
        raise ValueError(f"data is empty (shape {data.shape}): a capture needs at least one sample")
    if data.dtype.kind not in "biufc":
        raise TypeError(f"data must be numeric ADC codes, got dtype {data.dtype}")
    parts = np.concatenate([np.real(data).ravel(), np.imag(data).ravel()])
    if (
        not np.all(np.isfinite(parts))
        or np.any(parts != np.round(parts))
        or np.abs(parts).max(initial=0) > 32767
    ):
        raise ValueError("data must hold integer ADC codes within the int16 range [-32767, 32767]")
    L, t, r, k = data.shape
    words = _interleave(data.reshape(L * t, r, k), layout)
    np.asarray(words, dtype="<i2").tofile(path)
