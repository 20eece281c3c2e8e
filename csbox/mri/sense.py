"""The multi-coil SENSE operator ``x -> [M F (S_c x)]_c``.

Conventions (see :mod:`csbox.mri`): coil axis first, maps shaped
``(n_coils, *image_shape)`` (or ``(n_maps, n_coils, *image_shape)`` for
soft-SENSE), centred orthonormal Cartesian k-space exactly as
``PartialFourier(centered=True)``, complex images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_numpy_mask, check_array, check_int
from ..backend import (
    Array,
    ArrayCache,
    array_namespace,
    fft_module,
    fftn,
    fftshift,
    ifftn,
    ifftshift,
    is_numpy,
    real_dtype,
    to_numpy,
)
from ..linop import LinearOperator

__all__ = ["Sense"]


def _checkerboard(shape: tuple[int, ...]) -> np.ndarray:
    """``prod_a (-1)^{j_a}`` on a grid of ``shape`` (the modulation that replaces an fftshift)."""
    grids = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij", sparse=True)
    return (-1.0) ** (sum(grids) % 2) * np.ones(shape)


class Sense(LinearOperator):
    """SENSE forward model: coil sensitivities, centred unitary FFT, Cartesian sampling.

    ``A x = [M F_c (S_c x)]_{c=1..C}`` with ``S_c`` the ``c``-th coil map (a
    pointwise product), ``F_c`` the centred orthonormal DFT over the image axes
    and ``M`` the 0/1 sampling mask. The output is zero-filled k-space on the
    full grid, shaped like the arrays BART and SigPy use, so measured k-space
    (zeros where not sampled) is the data ``y`` as it is.

    Parameters
    ----------
    maps : array, shape ``(n_coils, *image_shape)`` or ``(n_maps, n_coils, *image_shape)``
        Coil sensitivities (any namespace; moved once per input device and
        precision and cached). With a leading ``n_maps`` axis (soft-SENSE,
        ESPIRiT with ``n_maps=2``) the image has one component per map,
        ``A x = [M F_c sum_m S_{m,c} x_m]_c``; give ``ndim`` then.
    mask : bool array, shape ``(*frames, *image_shape)``, optional
        Cartesian sampling mask, centred (DC at ``n // 2``). Leading ``frames``
        axes give a series with one mask per frame (dynamic MRI); the maps are
        shared by all frames. ``None``: fully sampled.
    coords : array, shape (..., ndim), optional
        Non-Cartesian trajectory in grid units (the :class:`~csbox.operators.NUFFT`
        convention: each axis in ``[-n/2, n/2)``, equal to the centred FFT at integer
        points). The k-space step is then one NUFFT batched over coils, ``oshape =
        (n_coils, *coords.shape[:-1])``, and :meth:`~csbox.LinearOperator.normal` its Toeplitz embedding
        (no gridding inside iterations). Exclusive with ``mask``.
    ndim : int, optional
        Number of image axes (default ``maps.ndim - 1``; needed for multi-map
        ``maps``).
    coil_batch : int, optional
        Apply the maps and FFTs ``coil_batch`` coils at a time (``>= 1``; default all at once).
        The normal operator (what CG and FISTA iterate) and the adjoint then never hold more than
        ``coil_batch`` coil images; the forward still returns all coils. The cost: one pass per
        batch instead of one batched FFT (not yet measured reliably: at 16 coils, 320^2 one run
        showed no peak-memory gain; ``benchmarks/bench_sense_scale.py --coil-batch K`` measures it).

    Notes
    -----
    Shapes: ``ishape = (*frames, [n_maps,] *image_shape)`` and ``oshape =
    (*frames, n_coils, *image_shape)``; leading axes beyond those are a batch
    (several slices at once). All coils go through one batched FFT.

    Even image sizes take a fast path: with ``D`` the checkerboard ``(-1)^j``,
    ``F_c = (-1)^{n/2} D F D`` per axis, so the two shifts of the centred
    transform become modulations: of the image (``D`` on the image side commutes
    with every map, so it costs one image-sized product, not one per coil) and
    a signed mask (``D`` on the k-space side): no array copies for ``fftshift``.
    :meth:`~csbox.LinearOperator.normal` is ``D S^H F^H M F S D`` with the plain mask (``D M D = M``):
    no gathers, no shifts; fully sampled, it is the pointwise ``S^H S`` without FFTs.

    Memory (NumPy): the maps are used as given (no modulated or conjugated copy:
    ``S^H z = conj(sum_c conj(z_c) S_c)`` is computed in place), the FFTs run in place
    on the coil images (``overwrite_x``) and the masks multiply in place, so one
    application holds one coil-image array besides its input and output (``coil_batch``
    coils of it with ``coil_batch``).

    References
    ----------
    K. P. Pruessmann, M. Weiger, M. B. Scheidegger, P. Boesiger, "SENSE:
    sensitivity encoding for fast MRI", MRM 42:952-962 (1999).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.mri import Sense, birdcage_maps
    >>> from csbox.testing import dottest
    >>> maps = birdcage_maps((32, 32), n_coils=4)
    >>> S = Sense(maps)
    >>> S.ishape, S.oshape
    ((32, 32), (4, 32, 32))
    >>> dottest(S) < 1e-10
    True
    """

    def __init__(
        self,
        maps: Array,
        mask: Array | None = None,
        coords: Array | None = None,
        *,
        ndim: int | None = None,
        coil_batch: int | None = None,
    ):
        maps = check_array("maps", maps, min_ndim=2)
        ndim = maps.ndim - 1 if ndim is None else check_int("ndim", ndim, low=1)
        if maps.ndim not in (ndim + 1, ndim + 2):
            raise ValueError(
                f"maps has shape {tuple(maps.shape)}: expected (n_coils, *image_shape) or "
                f"(n_maps, n_coils, *image_shape) with {ndim} image axes (ndim={ndim})"
            )
        self.n_maps = 1 if maps.ndim == ndim + 1 else int(maps.shape[0])
        self.multi_map = maps.ndim == ndim + 2
        self.n_coils = int(maps.shape[-ndim - 1])
        self.image_shape = tuple(int(s) for s in maps.shape[maps.ndim - ndim :])
        self.ndim_image = ndim
        self.maps = maps
        self._maps = ArrayCache(maps)
        self.coil_batch = None if coil_batch is None else check_int("coil_batch", coil_batch, low=1)
        if self.coil_batch is not None and self.coil_batch >= self.n_coils:
            self.coil_batch = None
        self._axes = tuple(range(-ndim, 0))
        self._nufft = None
        if coords is not None:
            if mask is not None:
                raise ValueError("give mask (Cartesian) or coords (non-Cartesian), not both")
            self._setup_noncartesian(coords)
        else:
            self._setup_cartesian(mask)
        mps = (self.n_maps,) if self.multi_map else ()
        kshape = self.image_shape if self._nufft is None else self._nufft.oshape
        super().__init__((*self.frames, *mps, *self.image_shape),
                         (*self.frames, self.n_coils, *kshape), "complex128")

    def _setup_noncartesian(self, coords: Array) -> None:
        """NUFFT k-space step: plain maps, no frames, no mask (see :class:`csbox.operators.NUFFT`)."""
        from ..operators.nufft import NUFFT

        self._nufft = NUFFT(self.image_shape, coords)
        self.mask, self.frames, self._fast, self._normal_mask = None, (), False, None
        self._image_mod = None

    # ------------------------------------------------------------------ Cartesian k-space step
    def _setup_cartesian(self, mask: Array | None) -> None:
        """Validate the mask and precompute the constants of the Cartesian k-space step.

        Sets ``frames``, ``mask`` (NumPy bool or None), ``_image_mod`` (the image-side
        modulation ``(-1)^{sum n/2} D`` of the fast path, else None), ``_signed_mask`` and
        ``_normal_mask`` (real, shaped ``(*frames, 1, *image_shape)`` to broadcast over coils)
        and ``_fast``. The maps are used as given: no modulated or conjugated copy is kept.
        """
        d = self.ndim_image
        if mask is None:
            self.mask = None
            self.frames: tuple[int, ...] = ()
        else:
            host = to_numpy(mask) if hasattr(mask, "shape") else np.asarray(mask)
            if host.ndim < d or tuple(host.shape[host.ndim - d :]) != self.image_shape:
                raise ValueError(
                    f"mask has shape {tuple(host.shape)}, expected (*frames, *{self.image_shape}) "
                    "to match the maps' image shape"
                )
            self.mask = as_numpy_mask("mask", host)
            if not self.mask.any():
                raise ValueError("mask samples nothing (all False)")
            self.frames = tuple(int(s) for s in host.shape[: host.ndim - d])
        self._fast = all(s % 2 == 0 for s in self.image_shape)
        m = np.ones(self.image_shape) if self.mask is None else self.mask.astype(np.float64)
        m = np.reshape(m, (*self.frames, 1, *self.image_shape))
        self._image_mod = None
        if self._fast:
            sign = (-1.0) ** (sum(s // 2 for s in self.image_shape) % 2)
            board = _checkerboard(self.image_shape)
            self._image_mod = ArrayCache(sign * board)
            self._signed_mask = ArrayCache(m * board)
        else:
            self._signed_mask = ArrayCache(m)
        self._normal_mask = None if self.mask is None else ArrayCache(m)

    def _fft(self, z: Array, inverse: bool) -> Array:
        """Orthonormal FFT over the image axes; on NumPy in place (``z`` is a temporary here)."""
        xp = array_namespace(z)
        if is_numpy(xp):
            mod, kw = fft_module(xp)
            fn = mod.ifftn if inverse else mod.fftn
            return fn(z, axes=self._axes, norm="ortho", overwrite_x=True, **kw)
        return (ifftn if inverse else fftn)(z, self._axes, "ortho")

    @staticmethod
    def _scale(z: Array, w: Array) -> Array:
        """``z * w``, in place on NumPy (``z`` a temporary of the final shape)."""
        if isinstance(z, np.ndarray):
            z *= w
            return z
        return z * w

    def _kspace_forward(self, z: Array) -> Array:
        """``M F_c z`` for coil images ``z`` shaped ``(..., n_coils, *image_shape)`` (``z`` is consumed)."""
        if self._nufft is not None:
            return self._nufft._apply(z)
        if self._fast:
            k = self._fft(z, inverse=False)
        else:
            k = fftshift(fftn(ifftshift(z, self._axes), self._axes, "ortho"), self._axes)
        return self._scale(k, self._signed_mask.like(k, dtype=_real(k)))

    def _kspace_adjoint(self, y: Array) -> Array:
        """``F_c^H M y``: coil images from k-space ``y`` shaped ``(..., n_coils, *image_shape)``."""
        if self._nufft is not None:
            return self._nufft._adjoint(y)
        y = y * self._signed_mask.like(y, dtype=_real(y))
        if self._fast:
            return self._fft(y, inverse=True)
        return fftshift(ifftn(ifftshift(y, self._axes), self._axes, "ortho"), self._axes)

    def _kspace_normal(self, z: Array) -> Array:
        """``F^H M F z`` (fast path; ``F_c^H M F_c`` otherwise) without shifts or gathers (``z`` consumed)."""
        if self._nufft is not None:
            return self._nufft.normal()._apply(z)
        if self._normal_mask is None:
            return z
        if not self._fast:
            return self._kspace_adjoint(self._kspace_forward(z))
        k = self._fft(z, inverse=False)
        k = self._scale(k, self._normal_mask.like(k, dtype=_real(k)))
        return self._fft(k, inverse=True)

    # ------------------------------------------------------------------ coil step
    def _modulate(self, x: Array) -> Array:
        """``x`` times the fast path's image-side checkerboard (``D`` commutes with every map)."""
        if self._image_mod is None:
            return x
        return x * self._image_mod.like(x, dtype=_real(x))

    def _map_chunks(self, x: Array) -> list[tuple[int, Array]]:
        """``(first coil, maps[..., c0:c1, ...])`` per coil batch, in ``x``'s namespace and dtype."""
        maps = self._maps.like(x, dtype=x.dtype)
        step = self.n_coils if self.coil_batch is None else self.coil_batch
        tail = (slice(None),) * self.ndim_image
        return [(c, maps[(..., slice(c, min(c + step, self.n_coils)), *tail)])
                for c in range(0, self.n_coils, step)]

    def _coil_images(self, x: Array, maps: Array) -> Array:
        """``S x`` for modulated ``x``: ``(..., [n_maps,] *image_shape) -> (..., n_coils, *image_shape)``."""
        xp = array_namespace(x)
        d = self.ndim_image
        if self.multi_map:
            return xp.sum(xp.expand_dims(x, axis=-d - 1) * maps, axis=-d - 2)
        return xp.expand_dims(x, axis=-d - 1) * maps

    def _coil_combine(self, z: Array, maps: Array) -> Array:
        """``S^H z`` (``z`` a temporary, consumed): ``(..., n_coils, *image) -> (..., [n_maps,] *image)``.

        On NumPy without copies: ``sum_c z_c conj(S_c) = conj(sum_c conj(z_c) S_c)``, in place in ``z``.
        """
        xp = array_namespace(z)
        d = self.ndim_image
        if self.multi_map:
            return xp.sum(xp.expand_dims(z, axis=-d - 2) * xp.conj(maps), axis=-d - 1)
        if isinstance(z, np.ndarray) and np.iscomplexobj(z):
            np.conjugate(z, out=z)
            z *= maps
            return np.conjugate(np.sum(z, axis=-d - 1))
        return xp.sum(z * xp.conj(maps), axis=-d - 1)

    # ------------------------------------------------------------------ LinearOperator
    def _apply(self, x: Array) -> Array:
        x = self._modulate(self._as_out_dtype(x))
        parts = [self._kspace_forward(self._coil_images(x, m)) for _, m in self._map_chunks(x)]
        if len(parts) == 1:
            return parts[0]
        xp = array_namespace(x)
        return xp.concat(parts, axis=-self.ndim_image - 1)

    def _adjoint(self, y: Array) -> Array:
        y = self._as_out_dtype(y)
        tail = (slice(None),) * self.ndim_image
        out = None
        for c, m in self._map_chunks(y):
            part = y if m.shape[-self.ndim_image - 1] == self.n_coils else \
                y[(..., slice(c, c + m.shape[-self.ndim_image - 1]), *tail)]
            img = self._coil_combine(self._kspace_adjoint(part), m)
            out = img if out is None else out + img
        return self._modulate(out)

    def _normal_apply(self, x: Array) -> Array:
        """``A^H A x``: per coil batch ``S^H F^H M F S``, summed (no full k-space when batched)."""
        x = self._modulate(self._as_out_dtype(x))
        out = None
        for _, m in self._map_chunks(x):
            img = self._coil_combine(self._kspace_normal(self._coil_images(x, m)), m)
            out = img if out is None else out + img
        return self._modulate(out)

    def _make_normal(self) -> LinearOperator:
        return _SenseNormal(self)

    def lipschitz(self, *, max_iter: int = 100, tol: float = 1e-6, seed: int = 0, xp: Any = None,
                  device: Any = None) -> float:
        """Upper bound ``max_r lambda_max(S(r)^H S(r))`` of ``||A||_2^2`` (no power iteration).

        ``A^H A = S^H F^H M F S <= S^H S`` (``M`` is a 0/1 diagonal, ``F`` unitary),
        and ``S^H S`` is block diagonal over pixels; its largest block eigenvalue is
        bounded by the largest ``sum_{m,c} |S_{m,c}(r)|^2`` (exact for one map).
        Equality holds when fully sampled; with a fully sampled k-space centre and
        smooth maps the bound is within a few per cent of the power-iteration
        estimate (``LinearOperator.lipschitz(A)``), so ``1 / L`` steps stay safe
        and nearly as long. Unit-norm ESPIRiT maps give 1. The keywords are
        accepted for compatibility and unused on Cartesian operators.

        Non-Cartesian (``coords``): the NUFFT is not unitary (``||F||^2`` grows with the
        sample density, e.g. ~ ``n_spokes`` at the centre of a radial trajectory), so the bound
        does not hold; the power iteration of :meth:`csbox.linop.LinearOperator.lipschitz` is used instead,
        raised by 1 % to stay above ``||A||^2`` (it approaches it from below).
        """
        if self._nufft is not None:
            return 1.01 * super().lipschitz(max_iter=max_iter, tol=tol, seed=seed, xp=xp, device=device)
        if "bound" not in self._lipschitz:
            host = to_numpy(self.maps)
            d = self.ndim_image
            lead = tuple(range(host.ndim - d - 1 - int(self.multi_map), host.ndim - d))
            power = np.sum(np.abs(host) ** 2, axis=lead)
            self._lipschitz["bound"] = float(power.max())
        return self._lipschitz["bound"]

    def _column_norms(self, **_: Any) -> np.ndarray:
        """``||A e_r|| = sqrt(sum_c |S_c(r)|^2 M / N)``, no probing (``A.column_norms()``).

        ``A e_r = [M F_c (S_c(r) e_r)]_c`` and every entry of ``F_c e_r`` has modulus
        ``1/sqrt(N)`` (``N`` pixels; the checkerboard of the fast path has modulus 1), so each coil
        keeps ``|S_c(r)|^2 M / N`` of energy with ``M`` samples (per frame; ``M = N`` fully
        sampled; ``M`` trajectory points for the NUFFT, to its accuracy). With several maps the
        column of component ``m`` uses ``S_{m,c}``.
        """
        d = self.ndim_image
        power = np.sum(np.abs(to_numpy(self.maps)) ** 2, axis=-d - 1)  # ([n_maps,] *image_shape)
        n = float(np.prod(self.image_shape))
        if self._nufft is not None:
            frac = np.asarray(self._nufft.n_samples / n)
        elif self.mask is None:
            frac = np.asarray(1.0)
        else:
            frac = np.sum(self.mask, axis=tuple(range(self.mask.ndim - d, self.mask.ndim))) / n
        frac = np.reshape(frac, (*self.frames, *([1] * (power.ndim))))
        return np.sqrt(frac * power)

    @property
    def acceleration(self) -> float:
        """Sampling acceleration ``N / M`` (1 when fully sampled)."""
        if self.mask is None:
            return 1.0
        return self.mask.size / float(self.mask.sum())

    def __repr__(self) -> str:
        m = f", {self.n_maps} maps" if self.multi_map else ""
        return (f"<Sense {self.n_coils} coils{m}, R={self.acceleration:.2f}: "
                f"{self.oshape} <- {self.ishape}>")


def _real(a: Array) -> Any:
    return real_dtype(array_namespace(a), a.dtype)


class _SenseNormal(LinearOperator):
    """``A^H A = S^H F_c^H M F_c S`` of a :class:`Sense` (self-adjoint)."""

    def __init__(self, op: Sense):
        super().__init__(op.ishape, op.ishape, "complex128")
        self.op = op

    @property
    def name(self) -> str:
        return "Sense.normal"

    def _apply(self, x: Array) -> Array:
        return self.op._normal_apply(x)

    _adjoint = _apply

    def _make_adjoint(self) -> LinearOperator:
        return self
