r"""IRS-aided MIMO uplink channel model in Kronecker-structured sparse form (He and Joseph, TSP 2024).

A mobile station (MS, ``n_ms`` antennas) sends ``n_pilots`` QPSK pilots through
an intelligent reflecting surface (IRS, ``n_irs`` elements) to a base station
(BS, ``n_bs`` antennas), once per IRS phase configuration ``psi_k`` (``n_patterns``
random ``±1/sqrt(n_irs)`` patterns). With uniform linear arrays and an angular
grid ``theta_i = 2 i / G - 1`` (``G`` points, steering ``a(theta) =
exp(j pi theta n) / sqrt(N)``):

* ``H1 = c1 A_irs[:, AoA_irs] diag(alpha_1) a_ms(AoD_ms)^H`` (IRS x MS): one
  departure angle at the MS, a cluster of ``spread`` adjacent arrival angles at the IRS;
* ``H2 = c2 A_bs[:, AoA_bs] diag(alpha_2) a_irs(AoD_irs)^H`` (BS x IRS): one
  departure angle at the IRS, a cluster of ``spread`` arrival angles at the BS;
* ``c1 = sqrt(n_ms n_irs / spread)``, ``c2 = sqrt(n_bs n_irs / spread)``, gains ``CN(0, 1)``;
* received ``Y_k = H2 diag(psi_k) H1 X + N_k``.

Because ``a_irs(theta_a) ⊙ conj(a_irs(theta_d))`` depends only on ``theta_a -
theta_d`` on this grid, ``y = vec_k,p,b(Y_k) = (Phi ⊗ X^T conj(A_ms) ⊗ A_bs) x + n``
with ``Phi[k, j] = psi_k^T (a_irs(theta_0) ⊙ conj(a_irs(theta_j)))`` (``n_patterns x
G``): a three-factor Kronecker dictionary and a block-sparse ``x`` of ``spread x 1
x spread`` non-zeros (IRS angle difference x MS angle x BS angle).

This follows the authors' public simulation code (JournalKroSBL, PC-KroSBL), in
which the 256-element IRS is a uniform linear array on an 18-point grid. The
estimators are :func:`csbox.sbl.kron_sbl` (on :attr:`IRSChannel.factors`)
and :func:`csbox.sbl.sbl` (on the formed dictionary).

References
----------
Y. He, G. Joseph, "Structure-aware sparse Bayesian learning-based channel estimation
for intelligent reflecting surface-aided MIMO", IEEE TSP 2024.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_scalar
from ..backend import to_numpy

__all__ = ["IRSChannel", "irs_channel", "steering"]


def steering(n_elements: int, grid: int) -> np.ndarray:
    """ULA dictionary ``(n_elements, grid)``: columns ``a(theta_i)``, ``theta_i = 2i/G - 1``.

    ``a(theta)[n] = exp(j pi theta n) / sqrt(N)``.

    Parameters
    ----------
    n_elements : int
        Array size ``N >= 1``.
    grid : int
        Number of grid angles ``G >= 1`` (sines ``theta`` in ``[-1, 1)``).

    Returns
    -------
    numpy.ndarray of complex128, shape ``(n_elements, grid)``
        Unit-norm columns (orthonormal when ``grid == n_elements``).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.comms import steering
    >>> A = steering(8, 8)
    >>> A.shape, bool(np.allclose(A.conj().T @ A, np.eye(8)))
    ((8, 8), True)
    """
    n_elements = check_int("n_elements", n_elements, low=1)
    grid = check_int("grid", grid, low=1)
    theta = 2.0 * np.arange(grid) / grid - 1.0
    return np.exp(1j * math.pi * np.outer(np.arange(n_elements), theta)) / math.sqrt(n_elements)


@dataclass
class IRSChannel:
    """One channel realisation and its sparse Kronecker representation.

    Attributes
    ----------
    factors : list of ndarray
        ``[Phi (n_patterns x G), X^T conj(A_ms) (n_pilots x G), A_bs (n_bs x G)]``.
    x : ndarray ``(G**3,)``
        The true sparse coefficient vector (``y_clean = kron(factors) @ x``).
    y_clean : ndarray
        Noiseless measurements, length ``n_patterns n_pilots n_bs``.
    channels : ndarray (n_patterns, n_bs, n_ms)
        True cascaded channels ``H2 diag(psi_k) H1``.
    support : ndarray
        Flat indices of the non-zeros of ``x``.
    patterns : ndarray (n_irs, n_patterns)
        IRS configurations ``psi_k`` (columns), entries ``±1/sqrt(n_irs)``.
    pilots : ndarray (n_ms, n_pilots)
        QPSK pilot matrix ``X`` (unit-modulus symbols over ``sqrt(n_ms)``).
    A_ms, A_bs : ndarray (n_ms, G), (n_bs, G)
        The MS and BS steering dictionaries (:func:`steering`).
    grid : int
        ``G``, the angular grid size.
    """

    factors: list[np.ndarray]
    x: np.ndarray
    y_clean: np.ndarray
    channels: np.ndarray
    support: np.ndarray
    patterns: np.ndarray
    pilots: np.ndarray
    A_ms: np.ndarray
    A_bs: np.ndarray
    grid: int

    def noisy(self, snr_db: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """Measurements at ``snr_db`` (signal power per sample over noise variance) and the noise variance."""
        snr_db = check_scalar("snr_db", snr_db)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        power = float(np.mean(np.abs(self.y_clean) ** 2))
        nv = power / 10.0 ** (snr_db / 10.0)
        shape = self.y_clean.shape
        n = math.sqrt(nv / 2.0) * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
        return self.y_clean + n, nv

    def channels_from(self, x_hat: np.ndarray) -> np.ndarray:
        """Cascaded channel estimates ``(n_patterns, n_bs, n_ms)`` from coefficients ``x_hat``.

        ``x_hat`` holds ``grid**3`` finite coefficients (any array namespace; read on the host).
        """
        G = self.grid
        x_hat = np.asarray(to_numpy(x_hat) if hasattr(x_hat, "__array_namespace__") else x_hat)
        if x_hat.size != G**3:
            raise ValueError(f"x_hat must hold grid**3 = {G**3} coefficients, got shape {x_hat.shape}")
        if x_hat.dtype.kind not in "biufc" or not np.all(np.isfinite(x_hat)):
            raise ValueError("x_hat must hold finite numbers (an estimate that ran into NaN has x = None)")
        X = np.reshape(x_hat, (G, G, G))  # (IRS difference, MS angle, BS angle)
        Phi = self.factors[0]
        # H_k = sum_{j, i, b} Phi[k, j] X[j, i, b] a_bs(b) conj(a_ms(i))^T
        T = np.einsum("kj,jib->kib", Phi, X)
        return np.einsum("bB,kiB,mi->kbm", self.A_bs, T, np.conj(self.A_ms))

    def nmse(self, x_hat: np.ndarray) -> float:
        """Channel NMSE averaged over the IRS patterns (linear), as the authors report it."""
        H = self.channels_from(x_hat)
        err = np.sum(np.abs(H - self.channels) ** 2, axis=(1, 2))
        err = err / np.sum(np.abs(self.channels) ** 2, axis=(1, 2))
        return float(np.mean(err))


def irs_channel(
    seed: int = 0, *, n_ms: int = 6, n_bs: int = 16, n_irs: int = 256, grid: int = 18, n_pilots: int = 3,
    n_patterns: int = 6, spread: int = 3,
) -> IRSChannel:
    """Draw one IRS-MIMO channel (paper defaults: 6 MS, 16 BS, 256 IRS, 18-point grid, 3 pilots,
    6 patterns, angle spread 3 grid points).

    Parameters
    ----------
    seed : int, default 0
        Seed ``>= 0`` of ``numpy.random.default_rng`` (pilots, patterns, angles, gains).
    n_ms, n_bs, n_irs : int, default 6, 16, 256
        Antennas at the MS and BS, IRS elements; each ``>= 1``.
    grid : int, default 18
        Angular grid size ``G >= 1`` (``x`` has ``G^3`` entries).
    n_pilots, n_patterns : int, default 3, 6
        Pilots per pattern and IRS configurations, each ``>= 1``.
    spread : int, default 3
        Adjacent arrival angles per cluster, ``1 <= spread <= grid``.

    Returns
    -------
    IRSChannel
        ``y_clean`` has ``n_patterns n_pilots n_bs`` entries; ``x`` has ``spread^2`` non-zeros.

    Examples
    --------
    >>> from csbox.comms import irs_channel
    >>> ch = irs_channel(seed=0)
    >>> ch.y_clean.shape, len(ch.factors)
    ((288,), 3)
    """
    check_int("seed", seed, low=0)
    for name, v in (("n_ms", n_ms), ("n_bs", n_bs), ("n_irs", n_irs), ("grid", grid),
                    ("n_pilots", n_pilots), ("n_patterns", n_patterns), ("spread", spread)):
        check_int(name, v, low=1)
    if spread > grid:
        raise ValueError(f"spread ({spread}) cannot exceed the grid size ({grid})")
    rng = np.random.default_rng(seed)
    qpsk = np.array([1 + 1j, 1 - 1j, -1 + 1j, -1 - 1j]) / math.sqrt(2)
    X = qpsk[rng.integers(0, 4, (n_ms, n_pilots))] / math.sqrt(n_ms)
    patterns = (rng.integers(0, 2, (n_irs, n_patterns)) * 2 - 1) / math.sqrt(n_irs)
    A_ms, A_bs, A_irs = steering(n_ms, grid), steering(n_bs, grid), steering(n_irs, grid)

    aod_ms = int(rng.integers(grid))
    start = int(rng.integers(grid - spread + 1))
    aoa_irs = (start + np.arange(spread)) % grid
    aod_irs = int(rng.integers(grid))
    start = int(rng.integers(grid - spread + 1))
    aoa_bs = (start + np.arange(spread)) % grid
    g1 = (rng.standard_normal(spread) + 1j * rng.standard_normal(spread)) / math.sqrt(2)
    g2 = (rng.standard_normal(spread) + 1j * rng.standard_normal(spread)) / math.sqrt(2)
    c1 = math.sqrt(n_ms * n_irs / spread)
    c2 = math.sqrt(n_bs * n_irs / spread)
    H1 = c1 * (A_irs[:, aoa_irs] @ g1)[:, None] @ np.conj(A_ms[:, [aod_ms]]).T
    H2 = c2 * (A_bs[:, aoa_bs] @ g2)[:, None] @ np.conj(A_irs[:, [aod_irs]]).T
    channels = np.stack([H2 @ (patterns[:, k, None] * H1) for k in range(n_patterns)])

    Phi = patterns.T @ (A_irs[:, [0]] * np.conj(A_irs))  # (n_patterns, G): depends on angle difference
    factors = [Phi, X.T @ np.conj(A_ms), A_bs]
    x = np.zeros((grid, grid, grid), dtype=complex)
    for ia, ga in zip(aoa_irs, g1, strict=True):
        j = (aod_irs - ia) % grid  # a(theta_ia) ⊙ conj(a(theta_id)) = a(theta_0) ⊙ conj(a(theta_j))
        for ib, gb in zip(aoa_bs, g2, strict=True):
            x[j, aod_ms, ib] += c1 * c2 * ga * gb
    x = x.ravel()
    y_clean = np.einsum("kj,pi,bB,jiB->kpb", factors[0], factors[1], factors[2], x.reshape(grid, grid, grid))
    return IRSChannel(
        factors=factors,
        x=x,
        y_clean=y_clean.ravel(),
        channels=channels,
        support=np.flatnonzero(x),
        patterns=patterns,
        pilots=X,
        A_ms=A_ms,
        A_bs=A_bs,
        grid=grid,
    )
