r"""Training and held-out image sets for learned sub-sampling, from images that ship with scikit-image.

No network: the source images are the photographs and micrographs of ``skimage.data`` that are
stored inside the package. Two disjoint lists of SOURCE images, :data:`TRAIN_SOURCES` and
:data:`TEST_SOURCES`, make the training and the held-out split: a held-out image is a crop of a
picture that no training image was cut from.

Each image is a random square crop (side between a quarter of the picture's short side and all
of it), randomly flipped and turned by multiples of 90 degrees, resized (anti-aliased) to
``shape``, scaled to peak magnitude 1 and given a smooth random phase

.. math:: x(r) = |x|(r)\, e^{i\pi(a r_0 + b r_1 + c r_0 r_1 + d (r_0^2 - r_1^2))},
          \qquad a, b, c, d \sim U(-1/2, 1/2),\ r \in [-1, 1)^2,

as MR images have (B0 and receive phase). :func:`multicoil_set` turns such images into
fully sampled multi-coil k-space ``y_c = F(S_c x) + n_c`` with coil maps ``S`` (e.g.
:func:`csbox.mri.birdcage_maps`) randomly rotated and scaled per image, ``F`` the centred unitary
FFT and ``n`` complex white noise; masks are applied by the user (retrospective undersampling).
Everything is deterministic from ``seed``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_scalar, check_shape

__all__ = ["TEST_SOURCES", "TRAIN_SOURCES", "MulticoilSet", "image_set", "multicoil_set"]

#: ``skimage.data`` images cut into training images.
TRAIN_SOURCES: tuple[str, ...] = (
    "moon", "page", "text", "brick", "grass", "gravel", "coffee", "chelsea", "rocket",
    "hubble_deep_field", "immunohistochemistry", "retina", "cell", "shepp_logan_phantom",
)
#: ``skimage.data`` images cut into held-out images (none of them is a training source).
TEST_SOURCES: tuple[str, ...] = ("camera", "astronaut", "coins", "clock")


@functools.cache
def _source(name: str) -> np.ndarray:
    """The grey-level ``skimage.data`` image ``name`` as float64 in ``[0, 1]`` (colour: luminance)."""
    try:
        from skimage import data
    except ImportError as e:  # pragma: no cover - scikit-image is a test dependency
        raise ImportError("csbox.sampling.training_data needs scikit-image (pip install scikit-image)") from e
    img = np.asarray(getattr(data, name)(), dtype=np.float64)
    if img.ndim == 3:
        img = img[..., :3] @ np.array([0.2125, 0.7154, 0.0721])
    img = img - img.min()
    return img / max(img.max(), 1e-12)


def _crop(src: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A random square crop of ``src``, flipped / turned at random, resized to ``shape``, peak 1."""
    from skimage.transform import resize

    short = min(src.shape)
    side = int(rng.integers(max(short // 4, min(shape)), short + 1))
    i0 = int(rng.integers(0, src.shape[0] - side + 1))
    i1 = int(rng.integers(0, src.shape[1] - side + 1))
    patch = np.rot90(src[i0 : i0 + side, i1 : i1 + side], int(rng.integers(4)))
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    out = resize(patch, shape, anti_aliasing=True, order=1)
    return out / max(float(out.max()), 1e-12)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``r in [-1, 1)^2`` of the pixels of ``shape``."""
    r0 = (np.arange(shape[0]) - shape[0] / 2) / (shape[0] / 2)
    r1 = (np.arange(shape[1]) - shape[1] / 2) / (shape[1] / 2)
    return np.meshgrid(r0, r1, indexing="ij")


def _phase(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The smooth random phase factor of the module docstring."""
    r0, r1 = _grid(shape)
    a, b, c, d = rng.uniform(-0.5, 0.5, 4)
    return np.exp(1j * math.pi * (a * r0 + b * r1 + c * r0 * r1 + d * (r0**2 - r1**2)))


def image_set(
    n_images: int, shape: tuple[int, int] = (64, 64), *, split: str = "train", phase: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """``n_images`` complex images cut from the ``split``'s source pictures (module docstring).

    Image ``j`` comes from source ``j mod len(sources)``, so every source contributes
    (nearly) equally.

    Parameters
    ----------
    n_images : int
        Number of images, ``>= 1``.
    shape : (int, int), default (64, 64)
        Image shape, each side ``>= 8``.
    split : {"train", "test"}, default "train"
        :data:`TRAIN_SOURCES` or the held-out :data:`TEST_SOURCES`.
    phase : bool, default True
        Multiply by the smooth random phase; False gives real non-negative images.
    seed : int, default 0
        Seed of ``numpy.random.default_rng`` (crops, flips, phases).

    Returns
    -------
    numpy.ndarray, complex64, shape ``(n_images, *shape)``
        Magnitudes in ``[0, 1]``, each image's peak 1.

    Examples
    --------
    >>> from csbox.sampling.training_data import image_set
    >>> x = image_set(4, (32, 32), split="test", seed=0)
    >>> x.shape, x.dtype, float(abs(x).max())
    ((4, 32, 32), dtype('complex64'), 1.0)
    """
    n_images = check_int("n_images", n_images, low=1)
    shape = check_shape("shape", shape, ndim=2)
    if min(shape) < 8:
        raise ValueError(f"shape must have sides >= 8, got {shape}")
    sources = TRAIN_SOURCES if check_choice("split", split, ("train", "test")) == "train" else TEST_SOURCES
    if not isinstance(phase, bool):
        raise TypeError(f"phase must be True or False, got {phase!r}")
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    out = np.empty((n_images, *shape), dtype=np.complex64)
    for j in range(n_images):
        mag = _crop(_source(sources[j % len(sources)]), shape, rng)
        out[j] = mag * _phase(shape, rng) if phase else mag
    return out


@dataclasses.dataclass(frozen=True)
class MulticoilSet:
    """Simulated fully sampled multi-coil data (:func:`multicoil_set`).

    Attributes
    ----------
    images : numpy.ndarray, complex64, ``(n, ny, nx)``
        The ground truth ``x``.
    maps : numpy.ndarray, complex64, ``(n, n_coils, ny, nx)``
        Each image's coil maps ``S`` (the base maps rotated and scaled).
    kspace : numpy.ndarray, complex64, ``(n, n_coils, ny, nx)``
        ``F(S_c x) + n_c``, centred unitary FFT, fully sampled.
    noise_std : float
        Standard deviation of the complex noise per k-space sample.
    """

    images: np.ndarray
    maps: np.ndarray
    kspace: np.ndarray
    noise_std: float

    def __len__(self) -> int:
        return len(self.images)


def _moved_maps(maps: np.ndarray, angle: float, scale: float) -> np.ndarray:
    """``maps`` rotated by ``angle`` (radians) and scaled by ``scale`` about the image centre."""
    from scipy.ndimage import affine_transform

    c, s = math.cos(angle), math.sin(angle)
    mat = np.array([[c, -s], [s, c]]) / scale
    centre = (np.array(maps.shape[1:]) - 1) / 2
    offset = centre - mat @ centre
    out = np.empty_like(maps)
    for k, m in enumerate(maps):
        re = affine_transform(m.real, mat, offset, order=1, mode="nearest")
        im = affine_transform(m.imag, mat, offset, order=1, mode="nearest")
        out[k] = re + 1j * im
    return out


def _check_base(images: Any, maps: Any) -> tuple[np.ndarray, np.ndarray]:
    """The images ``(n, ny, nx)`` and base maps ``(n_coils, ny, nx)``, finite and of matching shape."""
    x = np.asarray(images)
    m = np.asarray(maps)
    for name, a, nd in (("images", x, 3), ("maps", m, 3)):
        if a.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be a numeric array, got dtype {a.dtype}")
        if a.ndim != nd or 0 in a.shape:
            raise ValueError(f"{name} must be a non-empty 3-D array, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or Inf")
    if x.shape[1:] != m.shape[1:]:
        raise ValueError(f"maps of image shape {m.shape[1:]} do not match images of shape {x.shape[1:]}")
    return x.astype(np.complex64), m.astype(np.complex128)


def multicoil_set(
    images: np.ndarray, maps: np.ndarray, *, noise: float = 0.01, rotate: bool = True, seed: int = 0
) -> MulticoilSet:
    """Fully sampled multi-coil k-space ``y_c = F(S_c x) + n_c`` of each image, with moved coil maps.

    Per image, the base ``maps`` are rotated by an angle ``~ U(0, 2 pi)`` and scaled by a factor
    ``~ U(0.85, 1.15)`` about the centre (``rotate=False``: used as they are); ``n_c`` is complex
    white Gaussian noise of standard deviation ``noise * rms(x)`` per sample (the FFT is unitary,
    so this is the image-domain noise level too).

    Parameters
    ----------
    images : array, shape ``(n, ny, nx)``
        Numeric, finite images (e.g. :func:`image_set`).
    maps : array, shape ``(n_coils, ny, nx)``
        Base coil sensitivities (e.g. ``csbox.mri.birdcage_maps((ny, nx), n_coils)``).
    noise : float, default 0.01
        Relative noise level, ``>= 0``.
    rotate : bool, default True
        Rotate and scale the maps per image.
    seed : int, default 0
        Seed of ``numpy.random.default_rng`` (map motions, noise).

    Returns
    -------
    MulticoilSet

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.sampling.training_data import image_set, multicoil_set
    >>> x = image_set(2, (32, 32), seed=0)
    >>> base = np.ones((4, 32, 32)) / 2
    >>> d = multicoil_set(x, base, noise=0.0, seed=0)
    >>> d.kspace.shape
    (2, 4, 32, 32)
    """
    x, base = _check_base(images, maps)
    noise = check_scalar("noise", noise, low=0.0)
    if not isinstance(rotate, bool):
        raise TypeError(f"rotate must be True or False, got {rotate!r}")
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    S = np.empty((len(x), *base.shape), dtype=np.complex64)
    K = np.empty_like(S)
    rms = float(np.sqrt(np.mean(np.abs(x) ** 2)))
    std = noise * rms
    for j in range(len(x)):
        S[j] = _moved_maps(base, rng.uniform(0, 2 * math.pi), rng.uniform(0.85, 1.15)) if rotate else base
        coil = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(S[j] * x[j], axes=(-2, -1)), norm="ortho"),
                               axes=(-2, -1))
        n = rng.standard_normal((2, *coil.shape)) * (std / math.sqrt(2))
        K[j] = coil + n[0] + 1j * n[1]
    return MulticoilSet(images=x, maps=S, kspace=K, noise_std=std)
