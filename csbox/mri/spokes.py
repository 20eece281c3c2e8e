r"""Learned radial spoke selection: DPS picks ``K`` of ``M`` golden-angle spokes through the torch NUFFT.

The candidate set is ``M`` golden-angle spokes (:func:`~csbox.mri.radial`).
A :class:`~csbox.sampling.dps.DPSSampler` over the ``M`` spokes draws ``K`` of them
(straight-through Gumbel top-``K``); the measurement is ``y = m ⊙ A x`` with ``A`` the
generic (differentiable) :class:`~csbox.operators.NUFFT` on torch and ``m`` the spoke
mask broadcast along the readout; the recovery model :class:`UnrolledRadial` runs
density-compensated unrolled ISTA,

.. math:: x_0 = \alpha A^H (m w ⊙ y), \qquad
          x_{k+1} = S_{\theta_k}\big(x_k - \eta_k A^H (w ⊙ (m ⊙ A x_k - y))\big),

with ``w`` the Pipe-Menon weights of the full candidate set and learned
``alpha, eta_k, theta_k``. Sampler and model train jointly with
:func:`csbox.sampling.dps.train_dps`; fixed subsets (the first ``K`` golden-angle spokes,
or the ``K`` candidates nearest to uniform angles) train the same model for comparison.

References
----------
I. Huijben, B. Veeling, R. van Sloun, "Deep probabilistic subsampling for task-adaptive
compressed sensing", ICLR 2020. S. Winkelmann et al., IEEE TMI 26(1), 2007.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_int
from ..operators.nufft import NUFFT
from ..sampling.dps import DPSSampler, evaluate, train_dps
from .dcf import density_compensation
from .trajectories import radial, radial_angles

__all__ = ["UnrolledRadial", "golden_subset", "spoke_measure", "train_spoke_selection", "uniform_subset"]


def golden_subset(n_candidates: int, n_select: int) -> np.ndarray:
    """The first ``n_select`` golden-angle spokes (a contiguous golden-angle window is near-uniform).

    Parameters
    ----------
    n_candidates : int
        Number of candidate spokes ``M`` (golden-angle order, as :func:`csbox.mri.radial`).
    n_select : int
        Spokes kept, ``0 <= n_select <= n_candidates``.

    Returns
    -------
    numpy.ndarray of bool, shape ``(n_candidates,)``
        True for the first ``n_select`` spokes.
    """
    n_candidates, n_select = _check_counts(n_candidates, n_select)
    mask = np.zeros(n_candidates, dtype=bool)
    mask[:n_select] = True
    return mask


def _check_nufft(A: Any) -> None:
    if not isinstance(A, NUFFT) or len(A.oshape) != 2:
        raise TypeError(f"A must be a csbox NUFFT of the candidate spokes (oshape (n_spokes, n_readout)), "
                        f"got {A!r}")


def _check_counts(n_candidates: int, n_select: int) -> tuple[int, int]:
    n_candidates = check_int("n_candidates", n_candidates, low=1)
    return n_candidates, check_int("n_select", n_select, low=1, high=n_candidates)  # 0 spokes measure nothing


def uniform_subset(n_candidates: int, n_select: int) -> np.ndarray:
    """The candidates nearest (mod pi, without repetition) to ``n_select`` uniformly spaced angles.

    Parameters
    ----------
    n_candidates : int
        Number of golden-angle candidate spokes ``M`` (angles from
        ``csbox.mri.trajectories.radial_angles`` with ``golden=True``).
    n_select : int
        Spokes kept, ``0 <= n_select <= n_candidates``; the targets are
        ``k pi / n_select``, ``k = 0 .. n_select - 1``.

    Returns
    -------
    numpy.ndarray of bool, shape ``(n_candidates,)``
        Exactly ``n_select`` True entries.
    """
    n_candidates, n_select = _check_counts(n_candidates, n_select)
    theta = radial_angles(n_candidates, golden=True)
    mask = np.zeros(n_candidates, dtype=bool)
    for t in np.arange(n_select) * math.pi / max(n_select, 1):
        d = np.abs(np.angle(np.exp(2j * (theta - t)))) / 2  # distance of lines (period pi)
        d[mask] = np.inf
        mask[int(np.argmin(d))] = True
    return mask


def spoke_measure(A: NUFFT) -> Any:
    """``measure(x, m) = m[..., None] * (A @ x)``: the NUFFT samples of the spokes kept by ``m``.

    The ``measure`` argument of :func:`csbox.sampling.dps.train_dps` for spoke selection.

    Parameters
    ----------
    A : NUFFT
        The NUFFT of the candidate spokes, ``oshape = (n_spokes, n_readout)``, built with
        ``impl="generic"`` so that it is differentiable on torch tensors.

    Returns
    -------
    callable
        ``measure(x, m)``: images ``x`` ``(..., *A.ishape)`` (complex torch tensor) and a spoke
        mask ``m`` ``(..., n_spokes)`` to the kept samples ``(..., n_spokes, n_readout)``.
    """

    _check_nufft(A)

    def measure(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return m[..., None].to(x.dtype) * (A @ x)

    return measure


class UnrolledRadial(nn.Module):
    """Density-compensated unrolled ISTA on NUFFT data (see the module docstring).

    Parameters
    ----------
    A : NUFFT
        The differentiable (``impl="generic"``) NUFFT of the candidate spokes,
        ``oshape = (n_spokes, n_readout)``.
    weights : array, shape ``(n_spokes, n_readout)``
        Density-compensation weights ``w`` (e.g. :func:`csbox.mri.density_compensation` of the
        full candidate set), stored as a float32 buffer.
    n_iter : int, default 4
        Unrolled iterations, ``>= 0``; the learned ``alpha`` starts at 1, ``eta_k`` at 0.5 and
        ``theta_k`` at ``e^-4``.
    """

    def __init__(self, A: NUFFT, weights: np.ndarray, n_iter: int = 4):
        super().__init__()
        _check_nufft(A)
        self.A = A
        self.register_buffer("w", torch.as_tensor(np.asarray(weights, dtype=np.float32)))
        self.n_iter = check_int("n_iter", n_iter, low=0)
        self.log_alpha = nn.Parameter(torch.zeros(()))
        self.log_eta = nn.Parameter(torch.full((n_iter,), math.log(0.5)))
        self.log_theta = nn.Parameter(torch.full((n_iter,), -4.0))

    def forward(self, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """Run the unrolled iterations from ``x_0 = alpha A^H (w ⊙ m ⊙ y)``.

        Each step is ``x <- soft_theta_k(x - eta_k A^H (w ⊙ (m ⊙ A x - y)))`` with
        complex soft thresholding.

        Parameters
        ----------
        y : torch.Tensor, shape ``(..., n_spokes, n_readout)``
            Measured spokes (zero where not kept).
        m : torch.Tensor, shape ``(..., n_spokes)``
            Spoke mask (0/1 or relaxed in ``[0, 1]``).

        Returns
        -------
        torch.Tensor
            Image estimate, shape ``(..., *A.ishape)``.
        """
        mw = m[..., None].to(y.dtype) * self.w.to(y.dtype)
        x = torch.exp(self.log_alpha) * (self.A.H @ (mw * y))
        for k in range(self.n_iter):
            r = mw * (self.A @ x) - self.w.to(y.dtype) * y
            x = x - torch.exp(self.log_eta[k]) * (self.A.H @ r)
            mag = torch.abs(x)
            x = x * torch.clamp(1 - torch.exp(self.log_theta[k]) / torch.clamp(mag, min=1e-12), min=0)
        return x


def train_spoke_selection(
    images: np.ndarray,
    n_candidates: int,
    n_select: int,
    *,
    fixed: dict[str, np.ndarray] | None = None,
    val: np.ndarray | None = None,
    n_iter: int = 4,
    epochs: int = 10,
    batch_size: int = 16,
    lr: float = 1e-2,
    eps: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Train DPS spoke selection and, for comparison, the same model on fixed spoke subsets.

    Parameters
    ----------
    images : ndarray, shape (n, size, size)
        Training images.
    n_candidates, n_select : int
        ``M`` golden-angle candidate spokes (``size`` samples each), ``K`` kept.
    fixed : dict, optional
        Named fixed boolean masks over the candidates; default golden and uniform subsets.
    val : ndarray, optional
        Held-out images for the NMSE/PSNR table (default: the training images).
    n_iter, epochs, batch_size, lr, eps, seed, progress
        Unrolled iterations, training budget (Adam; the logits at 10x ``lr``),
        NUFFT accuracy of the torch engine, seed, tqdm bar.

    Returns
    -------
    dict
        ``coords`` (M, size, 2), ``masks`` (name -> boolean mask, ``"dps"`` included),
        ``scores`` (name -> ``{"nmse_db", "psnr"}`` on ``val``), ``sampler``, ``models``.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1] != images.shape[2] or images.size == 0:
        raise ValueError(f"images must have shape (n, size, size) with n, size >= 1, got {images.shape}")
    if not np.all(np.isfinite(images)):
        raise ValueError("images contains NaN or Inf")
    M = check_int("n_candidates", n_candidates, low=2)
    K = check_int("n_select", n_select, low=1, high=M - 1)
    size = images.shape[1]
    coords = radial(M, size, golden=True, image_size=size)
    A = NUFFT((size, size), coords, eps=eps, impl="generic")
    w = density_compensation(coords, (size, size)) * (M / K)
    measure = spoke_measure(A)
    val = images if val is None else np.asarray(val)
    fixed = fixed if fixed is not None else {"golden": golden_subset(M, K), "uniform": uniform_subset(M, K)}
    kw = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "progress": progress,
          "measure": measure, "device": "cpu", "entropy_weight": 1e-3}
    torch.manual_seed(seed)
    sampler = DPSSampler(M, K, seed=seed)
    model = UnrolledRadial(A, w, n_iter)
    hist = {"dps": train_dps(model, images, sampler=sampler, **kw)}
    masks = {"dps": sampler.mask_}
    models = {"dps": model}
    for name, mk in fixed.items():
        models[name] = UnrolledRadial(A, w, n_iter)
        hist[name] = train_dps(models[name], images, mask=mk, **kw)
        masks[name] = np.asarray(mk, dtype=bool)
    scores = {name: evaluate(models[name], val, masks[name], measure=measure) for name in models}
    return {"coords": coords, "masks": masks, "scores": scores, "sampler": sampler, "models": models,
            "history": hist}
