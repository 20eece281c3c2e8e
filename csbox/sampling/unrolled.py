r"""Unrolled (learned) recovery models for learned sub-sampling, in torch.

:class:`UnrolledISTA` runs ``K`` ISTA iterations on ``y = mask * F x`` with csbox's own
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

import torch
from torch import nn

from .._validation import check_int, check_shape
from ..operators import FFT

__all__ = ["ResidualCNN", "UnrolledISTA"]


class ResidualCNN(nn.Module):
    """Small residual CNN on (real, imag) channels: ``x + CNN([Re x, Im x])``, a learned proximal step.

    Parameters
    ----------
    width : int
        Channels of the two hidden 3x3 convolutions.
    """

    def __init__(self, width: int):
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
