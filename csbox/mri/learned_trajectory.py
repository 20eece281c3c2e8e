r"""Learned non-Cartesian trajectories: a NUFFT differentiable in its k-space coordinates, in torch.

**Coordinate gradient.** With the NUFFT of :class:`csbox.operators.NUFFT`,
``y_j = N^{-1/2} sum_r x_r exp(-2 pi i k_j . (r - c) / n)``, the derivative in the sample
location is another NUFFT of the image weighted by its (centred) index:

.. math:: \frac{\partial y_j}{\partial k_{ja}} = \big(A(\rho_a \odot x)\big)_j, \qquad
          \rho_a(r) = -2\pi i\, (r_a - c_a) / n_a,

so for a real loss with torch's upstream gradient ``g = dL/d conj(y)`` (as torch passes it),
``dL/dk_{ja} = Re(conj(g_j) (A(rho_a x))_j)``: one extra NUFFT per image axis. For the adjoint
``x = A^H y`` the same algebra gives ``dL/dk_{ja} = Re(conj(y_j) (A(rho_a G))_j)`` with ``G`` the
upstream image gradient. :class:`TrajectoryNUFFT` implements both as ``torch.autograd.Function``
s over csbox's own NUFFT (its generic Kaiser-Bessel gridding on torch tensors, any device);
the tests check them with ``torch.autograd.gradcheck`` and against the exact non-uniform DFT's
analytic derivative.

**Trajectories.** :class:`RadialTrajectory` parametrises ``n_spokes`` diameters of ``n_read``
samples (2x oversampled readout, as :func:`csbox.mri.radial`) by their angles, initialised at
the golden angle, optionally plus a free smooth displacement of every sample (PILOT-style); the
hardware limits are penalties on the first and second differences along each readout
(gradient amplitude and slew rate, in grid units per sample and per sample squared), as in
Weiss et al. (PILOT) and Wang et al. (BJORK). :class:`UnrolledNUFFTSENSE` is ``K`` FISTA steps of
the l1-wavelet SENSE that :func:`csbox.mri.l1_wavelet_sense` runs with ``coords=``, and
:func:`train_trajectory` learns the trajectory through it on multi-coil training images. The
evaluation reconstruction is the ordinary solver, not the network.

References
----------
T. Weiss, O. Senouf, S. Vedula, O. Michailovich, M. Zibulevsky, A. Bronstein, "PILOT:
Physics-informed learned optimized trajectories for accelerated MRI", MELBA 2021.
G. Wang, T. Luo, J.-F. Nielsen, D. C. Noll, J. A. Fessler, "B-spline parameterized joint
optimization of reconstruction and k-space trajectories (BJORK) for accelerated 2D MRI",
IEEE TMI 41(9), 2022. S. Winkelmann et al., "An optimal radial profile order based on the
golden ratio for time-resolved MRI", IEEE TMI 26(1), 2007.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._nufft_backend import have_finufft
from .._validation import check_choice, check_int, check_scalar, check_seed, check_shape
from ..operators import NUFFT, Wavelet
from ..sampling.unrolled import unrolled_fista
from .trajectories import radial_angles

__all__ = ["RadialTrajectory", "TrajectoryNUFFT", "TrajectoryResult", "UnrolledNUFFTSENSE", "nufft",
           "train_trajectory"]


def _wrap(coords: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Coordinates folded into ``[-n/2, n/2)`` per axis: the transform is ``n``-periodic in ``k``."""
    n = np.asarray(shape, dtype=np.float64)
    return np.mod(coords + n / 2, n) - n / 2


class TrajectoryNUFFT:
    """csbox's :class:`~csbox.operators.NUFFT` at a coordinate tensor's current value, differentiable in it.

    Built once per coordinate value (one gridding plan), applied any number of times:
    ``forward(x)`` and ``adjoint(y)`` are differentiable in the data and in ``coords``.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``n`` (1-3 axes).
    coords : torch.Tensor, shape (..., d), real
        Sample locations in grid units (any values: folded into ``[-n/2, n/2)``, the transform
        being ``n``-periodic); ``requires_grad`` as needed.
    eps : float, default 1e-4
        NUFFT accuracy (see :class:`~csbox.operators.NUFFT`); ``1e-4`` is plenty for training.
    impl : {"auto", "generic"}
        ``"auto"``: finufft for CPU tensors when installed (the tensors pass through NumPy
        inside the autograd functions, which carry their own gradients), csbox's generic
        Kaiser-Bessel gridding on torch otherwise (any device); ``"generic"``: always the latter.
    """

    def __init__(self, shape: tuple[int, ...], coords: torch.Tensor, eps: float = 1e-4, impl: str = "auto"):
        self.shape = check_shape("shape", shape)
        if not isinstance(coords, torch.Tensor) or coords.is_complex():
            raise TypeError(f"coords must be a real torch.Tensor, got {type(coords).__name__}")
        if coords.ndim < 2 or coords.shape[-1] != len(self.shape):
            raise ValueError(f"coords must have shape (..., {len(self.shape)}), got {tuple(coords.shape)}")
        host = coords.detach().cpu().double().numpy()
        if not np.all(np.isfinite(host)):
            raise ValueError("coords contains NaN or Inf")
        self.coords = coords
        self.impl = check_choice("impl", impl, ("auto", "generic"))
        self._host = self.impl == "auto" and coords.device.type == "cpu" and have_finufft()
        engine = "finufft" if self._host else "generic"
        self.op = NUFFT(self.shape, _wrap(host, self.shape), eps=eps, impl=engine)
        d = len(self.shape)
        # rho_a = -2 pi i (r_a - c_a) / n_a, broadcast along image axis a
        self._rho = []
        for a, n in enumerate(self.shape):
            view = [1] * d
            view[a] = n
            r = (torch.arange(n, dtype=torch.float64) - n // 2) * (-2 * math.pi / n)
            self._rho.append(r.reshape(view))

    def rho(self, a: int, like: torch.Tensor) -> torch.Tensor:
        """``-2 pi i (r_a - c_a) / n_a`` as a complex tensor of ``like``'s precision and device."""
        r = self._rho[a].to(device=like.device, dtype=like.real.dtype)
        return torch.complex(torch.zeros_like(r), r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``A(k) x`` for ``x`` shaped ``(..., *shape)``: ``(..., *coords.shape[:-1])``."""
        return _Transform.apply(x, self.coords, self, False)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """``A(k)^H y`` for ``y`` shaped ``(..., *coords.shape[:-1])``: ``(..., *shape)``."""
        return _Transform.apply(y, self.coords, self, True)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """``A x`` without autograd (the engine's call; finufft through NumPy on CPU)."""
        if not self._host:
            return self.op.apply(x)
        return torch.from_numpy(self.op.apply(x.detach().resolve_conj().numpy()))

    def apply_adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """``A^H y`` without autograd."""
        if not self._host:
            return self.op.adjoint(y)
        return torch.from_numpy(self.op.adjoint(y.detach().resolve_conj().numpy()))

    def normal_kernel(self) -> torch.Tensor:
        r"""The FFT ``K`` of the Toeplitz kernel of ``A^H A`` on the ``2n`` grid, differentiable in ``k``.

        ``T(d) = N^{-1} sum_j exp(2 pi i k_j . d / n)`` is the adjoint NUFFT of ones onto the
        ``2n`` grid at ``2k``; ``A^H A x = crop(IFFT(FFT(pad(x)) K))`` (as
        :meth:`csbox.operators.NUFFT.normal`), no gridding per application.
        """
        big = tuple(2 * n for n in self.shape)
        T2 = TrajectoryNUFFT(big, 2 * self.coords, self.op.eps, self.impl)
        ones = torch.ones(self.coords.shape[:-1], dtype=torch.complex128, device=self.coords.device)
        T = T2.adjoint(ones) * (math.sqrt(math.prod(big)) / math.prod(self.shape))
        dims = tuple(range(-len(big), 0))
        return torch.real(torch.fft.fftn(torch.fft.ifftshift(T, dim=dims), dim=dims))

    def normal(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """``A^H A x`` by the Toeplitz embedding with ``kernel`` from :meth:`normal_kernel`."""
        d = len(self.shape)
        dims = tuple(range(-d, 0))
        big = tuple(2 * n for n in self.shape)
        X = torch.fft.fftn(x, s=big, dim=dims)
        out = torch.fft.ifftn(X * kernel.to(X.dtype), dim=dims)
        return out[(..., *(slice(0, n) for n in self.shape))]

    def coord_grad(self, z: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
        """``Re(conj(z_j) (A(rho_a img))_j)`` summed over leading axes, shaped like ``coords``."""
        lead = tuple(range(z.ndim - (self.coords.ndim - 1)))
        parts = []
        for a in range(len(self.shape)):
            dy = self.apply(img * self.rho(a, img))
            prod = torch.real(torch.conj(z) * dy)
            parts.append(torch.sum(prod, dim=lead) if lead else prod)  # dim=() would sum everything
        return torch.stack(parts, dim=-1).to(self.coords.dtype)


def _real_like(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The gradient of a real input is the real part of its complex gradient."""
    return g if x.is_complex() else torch.real(g).to(x.dtype)


class _Transform(torch.autograd.Function):
    """``A(k) z`` (``adjoint=False``) or ``A(k)^H z``, differentiable in ``z`` and ``k``.

    The coordinate gradient is ``Re(conj(u) A(rho_a v))`` with ``(u, v) = (g, z)`` forward and
    ``(z, g)`` adjoint (the module docstring); the data gradient is the other transform of ``g``.
    """

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, coords: torch.Tensor, T: TrajectoryNUFFT,
                adjoint: bool) -> torch.Tensor:
        ctx.T, ctx.adjoint = T, adjoint
        ctx.save_for_backward(z)
        return T.apply_adjoint(z) if adjoint else T.apply(z)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple:
        (z,) = ctx.saved_tensors
        T, adjoint = ctx.T, ctx.adjoint
        gz = None
        if ctx.needs_input_grad[0]:
            gz = _real_like(T.apply(g) if adjoint else T.apply_adjoint(g), z)
        gk = None
        if ctx.needs_input_grad[1]:
            zc = T.op._as_out_dtype(z)
            gk = T.coord_grad(zc, g) if adjoint else T.coord_grad(g, zc)
        return gz, gk, None, None


def nufft(x: torch.Tensor, coords: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    r"""Type-2 NUFFT of ``x`` at ``coords``, differentiable in both (see the module docstring).

    Parameters
    ----------
    x : torch.Tensor, shape ``(..., *n)``
        Image(s); the image shape is the last ``coords.shape[-1]`` axes.
    coords : torch.Tensor, shape ``(..., d)``
        Real sample locations in grid units.
    eps : float, default 1e-4
        Accuracy of the transform.

    Returns
    -------
    torch.Tensor, shape ``(..., *coords.shape[:-1])``

    Examples
    --------
    >>> import torch
    >>> from csbox.mri.learned_trajectory import nufft
    >>> k = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    >>> y = nufft(torch.ones(8, 8, dtype=torch.complex128), k)
    >>> y.abs().sum().backward()
    >>> tuple(k.grad.shape)
    (3, 2)
    """
    d = coords.shape[-1]
    return TrajectoryNUFFT(tuple(x.shape[x.ndim - d :]), coords, eps).forward(x)


class RadialTrajectory(nn.Module):
    r"""Radial spokes with learnable angles and, optionally, a learnable smooth displacement per sample.

    ``k_{s,j} = kappa_j (cos theta_s, sin theta_s) + delta_{s,j}``, ``kappa_j = (j - n_read/2) n / n_read``
    (the 2x oversampled diameters of :func:`csbox.mri.radial`), ``theta`` initialised at the golden
    angle; ``delta_{s,j} = sum_m B_{jm} c_{s,m}`` (``free=True`` only) is smooth along the readout:
    ``n_ctrl`` Gaussian bumps ``B`` of width equal to their spacing, coefficients ``c`` from 0.
    :meth:`penalty` is the hardware-limit penalty of the
    readout, with ``Delta k_j = k_{j+1} - k_j`` (per sample) and ``Delta^2 k_j`` (per sample squared):

    .. math:: P = \sum_{s,j} \max(|\Delta k_{s,j}| - g_{max}, 0)^2 + \max(|\Delta^2 k_{s,j}| - s_{max}, 0)^2
              + \sum \max(|k_{s,j,a}| - n/2, 0)^2,

    in grid units (``1/FOV``) per sample. Defaults: ``g_max = 1`` (twice the speed of the 2x
    oversampled spoke, samples at the Nyquist spacing ``1/FOV``; the readout time is unchanged) and
    ``s_max = 0.03``: with a 4 us dwell and a 22 cm field of view these are about 13 mT/m and
    200 T/m/s, inside a clinical scanner's limits (40 mT/m, 200 T/m/s).

    Parameters
    ----------
    n : int
        Image size (square images ``n x n``).
    n_spokes : int
        Spokes ``>= 1``.
    n_read : int, optional
        Samples per spoke (default ``2 n``).
    free : bool, default False
        Learn the displacements ``delta`` too (else angles only).
    n_ctrl : int, default 8
        Control points (bumps) per spoke of ``delta``.
    gmax, smax : float, optional
        Gradient-amplitude and slew-rate limits in grid units per sample (default 1) and per
        sample squared (default 0.03).
    """

    def __init__(self, n: int, n_spokes: int, n_read: int | None = None, *, free: bool = False,
                 n_ctrl: int = 8, gmax: float | None = None, smax: float | None = None):
        super().__init__()
        self.n = check_int("n", n, low=4)
        self.n_spokes = check_int("n_spokes", n_spokes, low=1)
        self.n_read = 2 * self.n if n_read is None else check_int("n_read", n_read, low=2)
        if not isinstance(free, bool):
            raise TypeError(f"free must be True or False, got {free!r}")
        step = self.n / self.n_read
        self.gmax = 1.0 if gmax is None else check_scalar("gmax", gmax, low=0.0, low_open=True)
        self.smax = 0.03 if smax is None else check_scalar("smax", smax, low=0.0, low_open=True)
        kappa = (torch.arange(self.n_read, dtype=torch.float64) - self.n_read / 2) * step
        self.register_buffer("kappa", kappa)
        self.n_ctrl = check_int("n_ctrl", n_ctrl, low=1)
        self.theta = nn.Parameter(torch.as_tensor(radial_angles(self.n_spokes, golden=True)))
        # smooth displacements: Gaussian bumps of width = their spacing, centred evenly on the readout
        j = np.arange(self.n_read)[:, None]
        c = (np.arange(self.n_ctrl)[None, :] + 0.5) * self.n_read / self.n_ctrl
        bumps = np.exp(-0.5 * ((j - c) * self.n_ctrl / self.n_read) ** 2)
        self.register_buffer("basis", torch.as_tensor(bumps))
        self.coef = nn.Parameter(torch.zeros(self.n_spokes, self.n_ctrl, 2, dtype=torch.float64),
                                 requires_grad=free)

    def forward(self) -> torch.Tensor:
        """Coordinates ``(n_spokes, n_read, 2)`` in grid units."""
        u = torch.stack([torch.cos(self.theta), torch.sin(self.theta)], dim=-1)
        delta = torch.einsum("jm,smd->sjd", self.basis, self.coef)
        return self.kappa[None, :, None] * u[:, None, :] + delta

    def _steps(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The coordinates and their ``|Delta k|`` and ``|Delta^2 k|`` along each readout."""
        k = self.forward()
        d1 = torch.linalg.vector_norm(k[:, 1:] - k[:, :-1], dim=-1)
        d2 = torch.linalg.vector_norm(k[:, 2:] - 2 * k[:, 1:-1] + k[:, :-2], dim=-1)
        return k, d1, d2

    def penalty(self) -> torch.Tensor:
        """The hardware-limit penalty ``P`` of the current coordinates (0 for plain spokes)."""
        k, d1, d2 = self._steps()
        out = torch.clamp(torch.abs(k) - self.n / 2, min=0)
        return (torch.sum(torch.clamp(d1 - self.gmax, min=0) ** 2)
                + torch.sum(torch.clamp(d2 - self.smax, min=0) ** 2) + torch.sum(out**2))

    def limits(self) -> dict:
        """Largest ``|Delta k|``, ``|Delta^2 k|`` and ``|k_a|`` of the coordinates, and the limits."""
        with torch.no_grad():
            k, d1, d2 = self._steps()
        return {"max_step": float(d1.max()), "gmax": self.gmax, "max_slew": float(d2.max()),
                "smax": self.smax, "max_abs_k": float(k.abs().max()), "kmax": self.n / 2}


class UnrolledNUFFTSENSE(nn.Module):
    r"""``K`` FISTA steps of non-Cartesian l1-wavelet SENSE, as :func:`csbox.mri.l1_wavelet_sense` runs them.

    Solves ``min_x 0.5||A(k) x - y/s||^2 + lam ||W x||_1``, ``A(k) x = [F_k(S_c x)]_c`` with ``F_k``
    the NUFFT at the trajectory ``k`` (:class:`TrajectoryNUFFT`) and ``s = max|A^H y|``, and returns
    ``s x``, from ``x_0 = 0`` with the step ``1/L``, ``L`` from a power iteration on the detached
    operator (12 steps, +3 %) as the solver does. Differentiable in ``k`` through every step.

    Parameters
    ----------
    shape : (int, int)
        Image shape.
    n_iter : int, default 10
        Unrolled iterations ``K >= 1``.
    lam : float, default 0.001
        Relative l1 weight ``> 0``.
    wavelet : str, default "db4"
        As :func:`csbox.mri.l1_wavelet_sense`.
    """

    def __init__(self, shape: tuple[int, int], n_iter: int = 10, *, lam: float = 0.001, wavelet: str = "db4"):
        super().__init__()
        self.shape = check_shape("shape", shape, ndim=2)
        self.n_iter = check_int("n_iter", n_iter, low=1)
        self.lam = check_scalar("lam", lam, low=0.0, low_open=True)
        self.W = Wavelet(self.shape, wavelet)

    def forward(self, y: torch.Tensor, maps: torch.Tensor, T: TrajectoryNUFFT) -> torch.Tensor:
        """Images ``(batch, ny, nx)`` from samples ``(batch, C, *k.shape[:-1])``, maps ``(batch, C, ny, nx)``.

        ``A^H A`` is applied by the Toeplitz embedding (:meth:`TrajectoryNUFFT.normal_kernel`),
        so each step costs FFTs on the ``2n`` grid, no gridding.
        """
        K = T.normal_kernel()

        def normal(x: torch.Tensor) -> torch.Tensor:
            return torch.sum(torch.conj(maps) * T.normal(maps * x[:, None], K), dim=1)

        with torch.no_grad():
            L = _power(normal, y.shape[0], self.shape, y.dtype)
        b = torch.sum(torch.conj(maps) * T.adjoint(y), dim=1)
        s = torch.amax(torch.abs(b), dim=(-2, -1)).detach().clamp(min=1e-12)[:, None, None]
        return unrolled_fista(normal, b / s, self.W, [self.lam] * self.n_iter, L) * s


def _power(normal: Any, batch: int, shape: tuple[int, int], dtype: torch.dtype,
           n_iter: int = 12) -> torch.Tensor:
    """Largest eigenvalue of ``A^H A`` per batch item (power iteration from a fixed start), +3 %."""
    g = torch.Generator().manual_seed(0)
    v = torch.randn((batch, *shape), generator=g, dtype=torch.float64).to(dtype)
    lam = torch.ones(batch, dtype=torch.float64)
    for _ in range(n_iter):
        v = v / torch.linalg.vector_norm(v, dim=(-2, -1), keepdim=True)
        w = normal(v)
        lam = torch.real(torch.sum(torch.conj(v) * w, dim=(-2, -1)))
        v = w
    real = torch.float32 if dtype in (torch.complex64, torch.float32) else torch.float64
    return 1.03 * lam[:, None, None].to(real)


@dataclass
class TrajectoryResult:
    """What :func:`train_trajectory` returns.

    Attributes
    ----------
    coords : numpy.ndarray, shape (n_spokes, n_read, 2)
        The learned trajectory (grid units, inside ``[-n/2, n/2]``), ready for ``Sense(maps, coords=)``.
    initial : numpy.ndarray
        The golden-angle start.
    history : dict
        ``"loss"`` (per step: relative image error), ``"penalty"`` (hardware-limit penalty).
    limits : dict
        :meth:`RadialTrajectory.limits` of the result.
    """

    coords: np.ndarray
    initial: np.ndarray
    history: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)


def _simulate(images: torch.Tensor, maps: torch.Tensor, T: TrajectoryNUFFT, noise: float,
              gen: torch.Generator) -> torch.Tensor:
    """Multi-coil samples ``A(k)(S x) + sigma n`` with ``sigma = noise * rms`` of the clean samples."""
    y = T.forward(maps * images[:, None])
    rms = torch.sqrt(torch.mean(torch.abs(y.detach()) ** 2))
    n = torch.complex(torch.randn(y.shape, generator=gen, dtype=torch.float64),
                      torch.randn(y.shape, generator=gen, dtype=torch.float64)) / math.sqrt(2)
    return y + (noise * rms) * n.to(y.dtype)


def train_trajectory(
    images: Any, maps: Any, n_spokes: int, *, free: bool = True, n_ctrl: int = 8, gmax: float | None = None,
    smax: float | None = None, n_iter: int = 20, lam: float = 0.00025, epochs: int = 1, batch_size: int = 2,
    lr: float = 0.3, penalty_weight: float = 100.0, noise: float = 0.01, seed: int = 0,
    progress: bool = False,
) -> TrajectoryResult:
    """Learn radial spoke angles (and free smooth readouts) through unrolled l1-wavelet NUFFT-SENSE.

    Minimises ``E ||x_K(k) - x||^2 / ||x||^2 + penalty_weight P(k)`` over the trajectory ``k``
    (:class:`RadialTrajectory`, golden-angle start) with Adam, the data simulated at the current
    ``k`` from the fully sampled training images and maps with complex noise, ``x_K`` the
    :class:`UnrolledNUFFTSENSE` output.

    Parameters
    ----------
    images : array, shape (n_images, n, n), complex
        Training images (e.g. ``MulticoilSet.images``).
    maps : array, shape (n_images, n_coils, n, n), complex
        Their coil maps.
    n_spokes : int
        Spokes of the trajectory.
    free, n_ctrl, gmax, smax
        As :class:`RadialTrajectory` (``free``: learn smooth readout displacements too).
    n_iter, lam
        :class:`UnrolledNUFFTSENSE` steps and relative l1 weight.
    epochs, batch_size, lr
        Adam passes over the images, batch size, and step: about ``lr`` grid units per step for
        the displacements and ``lr / (n/2)`` radians for the angles (the same move at the spoke's
        end), decayed to 0 on a cosine. The defaults (20 steps, ``lam`` 0.00025, batches of 2,
        ``lr`` 0.3) were chosen on the demo's 64x64 8-coil training set at R = 8: with 192 steps,
        +0.3 dB over golden angle at 48 steps of 4 images with 10 unrolled steps and lr 0.05,
        +0.9 dB at 144 steps of 4 with 20 steps and lr 0.2, +2.2 dB with these (held-out images).
    penalty_weight, noise, seed, progress
        Weight ``>= 0`` of the penalty; complex noise as a fraction of the samples' rms; the
        shuffling and noise seed; a tqdm bar over the steps.

    Returns
    -------
    TrajectoryResult
    """
    x_all, s_all = _training_set(images, maps)
    n = int(x_all.shape[-1])
    batch_size, epochs = check_int("batch_size", batch_size, low=1), check_int("epochs", epochs, low=1)
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    penalty_weight = check_scalar("penalty_weight", penalty_weight, low=0.0)
    noise = check_scalar("noise", noise, low=0.0)
    rng = np.random.default_rng(check_seed("seed", seed))
    gen = torch.Generator().manual_seed(seed)
    traj = RadialTrajectory(n, n_spokes, free=free, n_ctrl=n_ctrl, gmax=gmax, smax=smax)
    model = UnrolledNUFFTSENSE((n, n), n_iter, lam=lam)
    initial = traj().detach().numpy().copy()
    steps = [b for _ in range(epochs) for b in np.array_split(rng.permutation(len(x_all)),
                                                               max(1, len(x_all) // batch_size))]
    opt, sched = _optimizer(traj, lr, n, free, len(steps))
    hist: dict = {"loss": [], "penalty": []}
    bar = _bar(len(steps), progress)
    for idx in steps:
        idx_t = torch.as_tensor(idx)
        x, S = x_all[idx_t], s_all[idx_t]
        T = TrajectoryNUFFT((n, n), traj())
        rec = model(_simulate(x, S, T, noise, gen), S, T)
        err = torch.mean(torch.sum(torch.abs(rec - x) ** 2, dim=(-2, -1))
                         / torch.sum(torch.abs(x) ** 2, dim=(-2, -1)))
        pen = traj.penalty()
        opt.zero_grad()
        (err + penalty_weight * pen).backward()
        opt.step()
        sched.step()
        hist["loss"].append(float(err.detach()))
        hist["penalty"].append(float(pen.detach()))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    with torch.no_grad():
        k = np.clip(traj().numpy(), -n / 2, n / 2)
    return TrajectoryResult(coords=k, initial=initial, history=hist, limits=traj.limits())


def _training_set(images: Any, maps: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, n, n)`` and maps ``(N, C, n, n)`` checked, as complex64 tensors.

    Single precision: the training NUFFT runs at ``eps = 1e-4``, and the FFTs are twice as fast.
    """
    x_all = torch.as_tensor(np.asarray(images)).to(torch.complex64)
    s_all = torch.as_tensor(np.asarray(maps)).to(torch.complex64)
    if x_all.ndim != 3 or x_all.shape[1] != x_all.shape[2] or x_all.shape[0] == 0:
        raise ValueError(f"images must have shape (n_images >= 1, n, n), got {tuple(x_all.shape)}")
    if s_all.ndim != 4 or s_all.shape[0] != x_all.shape[0] or s_all.shape[2:] != x_all.shape[1:]:
        raise ValueError(f"maps must have shape ({x_all.shape[0]}, n_coils, n, n), got {tuple(s_all.shape)}")
    for name, v in (("images", x_all), ("maps", s_all)):
        if not bool(torch.all(torch.isfinite(torch.view_as_real(v)))):
            raise ValueError(f"{name} contains NaN or Inf")
    return x_all, s_all


def _optimizer(traj: RadialTrajectory, lr: float, n: int, free: bool, n_steps: int) -> tuple[Any, Any]:
    """Adam with a cosine decay of the step to 0 (constant steps oscillate at the end).

    Adam moves each parameter ~``lr`` per step: ``lr`` grid units for the displacements, and the
    same move at the spoke's end, ``lr / (n/2)`` radians, for the angles.
    """
    groups = [{"params": [traj.theta], "lr": lr / (n / 2)}]
    if free:
        groups.append({"params": [traj.coef], "lr": lr})
    opt = torch.optim.Adam(groups)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_steps, eta_min=0.0)


def _bar(total: int, on: bool) -> Any:
    if not on:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="train_trajectory", leave=False)
