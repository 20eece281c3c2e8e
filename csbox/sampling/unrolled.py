r"""Unrolled (learned) recovery models for learned sub-sampling, in torch.

:class:`UnrolledSENSE` is ``K`` iterations of the FISTA solve of l1-wavelet SENSE that
:func:`csbox.mri.l1_wavelet_sense` runs (same data normalisation, same relative ``lam``, same
orthonormal wavelet), differentiable in the sampling mask, so a mask is learned through the
reconstruction that will be used with it. :class:`UnrolledISTA` runs ``K`` ISTA iterations on
``y = mask * F x`` with csbox's own
:class:`~csbox.operators.FFT` applied to torch tensors, learned step sizes and thresholds and
an optional :class:`ResidualCNN` proximal step, so a :class:`~csbox.sampling.dps.DPSSampler`
and the model train end to end (:func:`~csbox.sampling.dps.train_dps`).

References
----------
K. Gregor, Y. LeCun, "Learning fast approximations of sparse coding" (LISTA), ICML 2010.
I. Huijben et al., "Learning sub-sampling and signal recovery with applications in
ultrasound imaging", IEEE TMI 2020.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .._validation import check_int, check_scalar, check_shape
from ..operators import FFT, Wavelet

__all__ = ["ResidualCNN", "UnrolledISTA", "UnrolledSENSE", "sense_measure", "unrolled_fista"]


class ResidualCNN(nn.Module):
    """Small residual CNN on (real, imag) channels: ``x + CNN([Re x, Im x])``, a learned proximal step.

    Parameters
    ----------
    width : int
        Channels of the two hidden 3x3 convolutions.
    """

    def __init__(self, width: int):
        width = check_int("width", width, low=1)
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The residual step ``x + CNN([Re x, Im x])``.

        Parameters
        ----------
        x : torch.Tensor, complex, shape ``(batch, ny, nx)``
            Current image estimates.

        Returns
        -------
        torch.Tensor
            Same shape and dtype as ``x``.
        """
        r = torch.stack([x.real, x.imag], dim=1)
        r = self.net(r)
        return x + torch.complex(r[:, 0], r[:, 1])


class UnrolledISTA(nn.Module):
    """``K`` unrolled ISTA iterations for ``y = mask ⊙ F x``: learned steps and thresholds, optional CNN prox.

    ``x_{k+1} = P_k( S_{theta_k}( x_k - eta_k F^H (mask ⊙ F x_k - y) ) )`` with ``S`` the
    complex soft threshold, ``F`` csbox's unitary (centred) :class:`~csbox.operators.FFT`
    applied to torch tensors, and ``P_k`` an optional residual CNN (``cnn_width > 0``).
    The CNN's initial weights are drawn from ``seed`` (torch's global generator is left
    untouched), so two models built alike are equal; ``seed=None`` draws from the global one.

    Parameters
    ----------
    shape : tuple of int
        Image shape (positive sizes); images are complex tensors ``(batch, *shape)``.
    n_iter : int, default 5
        Unrolled iterations ``K >= 1``; steps start at ``eta_k = 1``, thresholds at ``theta_k = e^-4``.
    centered : bool, default True
        Centred FFT (DC at ``n // 2``, as csbox's masks).
    cnn_width : int, default 0
        Channels of each iteration's 3-layer residual CNN prox, ``>= 0`` (0: no CNN).
    seed : int or None, default 0
        Seed ``>= 0`` of the CNN's initial weights.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        n_iter: int = 5,
        *,
        centered: bool = True,
        cnn_width: int = 0,
        seed: int | None = 0,
    ):
        super().__init__()
        n_iter = check_int("n_iter", n_iter, low=1)
        check_int("cnn_width", cnn_width, low=0)
        if seed is not None:
            check_int("seed", seed, low=0)
        self.F = FFT(check_shape("shape", shape), centered=centered)
        self.n_iter = n_iter
        self.log_eta = nn.Parameter(torch.zeros(n_iter))
        self.log_theta = nn.Parameter(torch.full((n_iter,), -4.0))
        self.prox = None
        if cnn_width:
            with torch.random.fork_rng(devices=[]):
                if seed is not None:
                    torch.manual_seed(seed)
                self.prox = nn.ModuleList([ResidualCNN(cnn_width) for _ in range(n_iter)])

    def forward(self, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Reconstruct from full-size (zero-filled) k-space ``y`` and the (straight-through) mask."""
        mask = mask.to(y.dtype)
        x = self.F.H @ (mask * y)
        for k in range(self.n_iter):
            r = mask * (self.F @ x) - y
            x = x - torch.exp(self.log_eta[k]) * (self.F.H @ r)
            mag = torch.abs(x)
            x = x * torch.clamp(1 - torch.exp(self.log_theta[k]) / torch.clamp(mag, min=1e-12), min=0)
            if self.prox is not None:
                x = self.prox[k](x)
        return x


def _soft(c: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Complex soft threshold ``c max(1 - t / |c|, 0)``."""
    return c * torch.clamp(1 - t / torch.clamp(torch.abs(c), min=1e-12), min=0)


def unrolled_fista(normal: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, W: Wavelet,
                   lams: Sequence[torch.Tensor | float], L: torch.Tensor | float) -> torch.Tensor:
    r"""``len(lams)`` FISTA steps from ``x_0 = 0`` for ``min_x 0.5 x^H N x - Re(b^H x) + lam ||W x||_1``.

    With ``N = A^H A`` and ``b = A^H y`` this is ``0.5||A x - y||^2 + lam ||W x||_1`` (the
    l1-wavelet SENSE of :class:`UnrolledSENSE` and of
    :class:`csbox.mri.learned_trajectory.UnrolledNUFFTSENSE`); step ``1/L``, one ``lam`` per step:

    .. math:: x_{k+1} = W^H S_{\lambda_k/L}\big(W(z_k - (N z_k - b)/L)\big), \quad
              z_{k+1} = x_{k+1} + \tfrac{t_k - 1}{t_{k+1}}(x_{k+1} - x_k).

    Parameters
    ----------
    normal : callable
        ``z -> N z`` on images shaped like ``b``.
    b : torch.Tensor, complex, shape ``(batch, *image)``
        ``A^H y``.
    W : Wavelet
        The orthonormal transform (csbox's :class:`~csbox.operators.Wavelet`, applied to torch tensors).
    lams : sequence of float or 0-d tensors
        The l1 weight of each step (at least one).
    L : float or tensor broadcasting against ``b``
        Lipschitz constant of ``N`` (``>= ||N||``).

    Returns
    -------
    torch.Tensor
        ``x_K``, shaped like ``b``.
    """
    if len(lams) == 0:
        raise ValueError("lams must hold at least one weight (one FISTA step each)")
    x = z = torch.zeros_like(b)
    t = 1.0
    for lam in lams:
        x_new = W.H @ _soft(W @ (z - (normal(z) - b) / L), lam / L)
        t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
        z = x_new + ((t - 1) / t_new) * (x_new - x)
        x, t = x_new, t_new
    return x


def _full_mask(mask: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """A per-point ``(batch, ny, nx)`` or per-line ``(batch, ny)`` mask as ``(batch, 1, ny, nx)``."""
    if mask.ndim == 2 and mask.shape[-1] == shape[0]:
        mask = mask[:, :, None].expand(-1, -1, shape[1])
    if tuple(mask.shape[1:]) != tuple(shape):
        raise ValueError(f"mask of shape {tuple(mask.shape)} fits neither {shape} nor its {shape[0]} lines")
    return mask[:, None]


def sense_measure() -> Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The measurement of :func:`~csbox.sampling.dps.train_dps` for :class:`UnrolledSENSE`.

    Training "images" are stacks ``(batch, 2, n_coils, ny, nx)``: fully sampled centred k-space
    (e.g. ``MulticoilSet.kspace``) and the coil maps; the
    measurement is ``(mask ⊙ y, S)`` with ``mask`` per point ``(batch, ny, nx)`` or per
    phase-encode line ``(batch, ny)``.

    Returns
    -------
    callable
        ``measure(data, mask) -> (masked k-space, maps)``.
    """

    def measure(data: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, maps = data[:, 0], data[:, 1]
        return _full_mask(mask, tuple(k.shape[-2:])).to(k.dtype) * k, maps

    return measure


class UnrolledSENSE(nn.Module):
    r"""``K`` FISTA iterations of l1-wavelet SENSE, as :func:`csbox.mri.l1_wavelet_sense` runs them, in torch.

    Solves ``min_x 0.5||M F S x - y/s||^2 + lam ||W x||_1`` and returns ``s x`` with
    ``s = max|S^H F^H M y|`` (the ``*_sense`` normalisation: ``lam`` relative to the zero-filled
    peak), ``F`` the centred unitary FFT, ``W`` csbox's orthonormal periodized
    :class:`~csbox.operators.Wavelet`
    (on torch), from ``x_0 = 0`` with the step ``1/L``, ``L = max_r sum_c |S_c(r)|^2 >= ||A||^2``:

    .. math:: x_{k+1} = W^H S_{\lambda/L}\big(W(z_k - A^H(A z_k - y/s)/L)\big), \quad
              z_{k+1} = x_{k+1} + \tfrac{t_k - 1}{t_{k+1}}(x_{k+1} - x_k).

    Every step is differentiable, so the gradient reaches the mask ``M`` (its straight-through
    relaxation in :func:`~csbox.sampling.dps.train_dps`). No cycle spinning (the evaluation
    solver's random shifts change its answer little). ``learn_lam=True`` makes ``log lam`` per
    iteration a parameter; by default there is none and the model only carries the mask's gradient.

    Parameters
    ----------
    shape : (int, int)
        Image shape.
    n_iter : int, default 10
        Unrolled iterations ``K >= 1``.
    lam : float, default 0.004
        Relative l1 weight ``> 0`` (``csbox.mri.LAM_L1``).
    wavelet : str, default "db4"
        PyWavelets name, as :func:`csbox.mri.l1_wavelet_sense`.
    learn_lam : bool, default False
        Learn one ``lam`` per iteration (initialised at ``lam``).
    """

    def __init__(self, shape: tuple[int, int], n_iter: int = 10, *, lam: float = 0.004, wavelet: str = "db4",
                 learn_lam: bool = False):
        super().__init__()
        shape = check_shape("shape", shape, ndim=2)
        self.n_iter = check_int("n_iter", n_iter, low=1)
        lam = check_scalar("lam", lam, low=0.0, low_open=True)
        if not isinstance(learn_lam, bool):
            raise TypeError(f"learn_lam must be True or False, got {learn_lam!r}")
        self.shape = shape
        self.F = FFT(shape, centered=True)
        self.W = Wavelet(shape, wavelet)
        log_lam = torch.full((self.n_iter,), math.log(lam))
        # a parameter either way (train_dps's optimiser needs one); frozen unless learned
        self.log_lam = nn.Parameter(log_lam, requires_grad=learn_lam)

    def forward(self, data: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        """Images ``(batch, ny, nx)`` from ``data = (mask ⊙ y, maps)``, both ``(batch, C, ny, nx)``.

        ``mask``: ``(batch, ny, nx)`` points or ``(batch, ny)`` phase-encode lines (0/1 or relaxed).
        """
        y, maps = data
        m = _full_mask(mask, self.shape).to(y.dtype)

        def AH(r: torch.Tensor) -> torch.Tensor:
            return torch.sum(torch.conj(maps) * (self.F.H @ (m * r)), dim=1)

        def A(x: torch.Tensor) -> torch.Tensor:
            return m * (self.F @ (maps * x[:, None]))

        b = AH(y)
        s = torch.amax(torch.abs(b), dim=(-2, -1)).detach().clamp(min=1e-12)[:, None, None]
        L = torch.amax(torch.sum(torch.abs(maps) ** 2, dim=1), dim=(-2, -1))[:, None, None]
        return unrolled_fista(lambda z: AH(A(z)), b / s, self.W, torch.exp(self.log_lam), L) * s
