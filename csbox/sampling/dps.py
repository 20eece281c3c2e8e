r"""Deep Probabilistic Sub-sampling (DPS): a learned sampling mask trained jointly with a recovery model.

A sampler holds trainable logits ``phi`` over ``N`` candidate samples (k-space
points or lines, channels, slow-time pulses) and draws ``M`` of them without
replacement by Gumbel-max:

.. math:: a_m = \mathrm{onehot}\Big(\arg\max_{n \notin \{a_1..a_{m-1}\}} \phi_{mn} + g_{mn}\Big),
          \qquad g \sim \mathrm{Gumbel}(0, 1),

with straight-through gradients through the tempered relaxation
``softmax((phi + g) / tau)`` (already-chosen entries masked out), ``tau`` annealed
during training. Two variants: ``"topk"`` (one logit vector shared by the ``M``
draws) and ``"rowwise"`` (an ``M x N`` logit matrix, one row per draw). An entropy
penalty on ``softmax(phi)`` sharpens the distributions. After training the mask is
fixed and deterministic (``mask_``: the ``M`` largest logits, or the row-wise
argmaxes without replacement), exportable as a boolean NumPy array for any csbox
operator and stored as ``.npz`` (no pickle).

The recovery model :class:`~csbox.sampling.unrolled.UnrolledISTA` runs csbox's own
:class:`~csbox.operators.FFT` on torch tensors (the array API path of
:class:`~csbox.operators.PartialFourier`:
``A^H A = F^H diag(mask) F``), with learned step sizes and thresholds and an
optional small CNN proximal step, so the sampler and the model train end to end.

References
----------
I. Huijben, B. Veeling, K. Janse, M. Mischi, R. van Sloun, "Learning sub-sampling
and signal recovery with applications in ultrasound imaging", IEEE TMI 2020
(arXiv 1908.05764); "Deep probabilistic subsampling for task-adaptive compressed
sensing", ICLR 2020. K. Gregor, Y. LeCun, "Learning fast approximations of sparse
coding" (LISTA), ICML 2010.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import (
    as_numpy_mask,
    check_choice,
    check_int,
    check_memory,
    check_scalar,
    check_shape,
)
from ..operators import FFT
from .mask_io import _open_npz, load_mask, save_mask

__all__ = [
    "DPSSampler",
    "evaluate",
    "load_mask",
    "save_mask",
    "train_dps",
]


def _gumbel(shape: tuple[int, ...], generator: torch.Generator | None, device: Any) -> torch.Tensor:
    u = torch.rand(shape, generator=generator, device=device).clamp_(1e-10, 1 - 1e-10)
    return -torch.log(-torch.log(u))


class DPSSampler(nn.Module):
    """Trainable sampling distribution over ``n_candidates``, drawing ``n_samples`` without replacement.

    Parameters
    ----------
    n_candidates : int
        ``N``: number of candidate samples (flattened; ``shape`` restores the layout).
    n_samples : int
        ``M``: samples drawn (``M < N``).
    variant : {"topk", "rowwise"}
        One shared logit vector, or an ``M x N`` matrix (one distribution per draw).
    shape : tuple of int, optional
        Layout of the candidates (e.g. ``(32, 32)`` k-space); masks come out in it.
    seed : int
        Seeds the logit initialisation and the Gumbel noise.
    fixed : array of bool, shape ``shape``, optional
        Candidates always sampled (e.g. a fully sampled k-space centre): never drawn, always on in
        the masks; ``n_samples`` counts the draws besides them (``n_samples + fixed.sum() < N``).
    """

    def __init__(self, n_candidates: int, n_samples: int, *, variant: str = "topk",
                 shape: tuple[int, ...] | None = None, seed: int = 0, fixed: np.ndarray | None = None):
        super().__init__()
        n_candidates = check_int("n_candidates", n_candidates, low=2)
        n_samples = check_int("n_samples", n_samples, low=1, high=n_candidates - 1)
        variant = check_choice("variant", variant, ("topk", "rowwise"))
        check_int("seed", seed, low=0)
        check_memory("DPSSampler logits", (n_samples if variant == "rowwise" else 1) * n_candidates, 4 * 4)
        shape = (n_candidates,) if shape is None else check_shape("shape", shape)
        if math.prod(shape) != n_candidates:
            raise ValueError(f"shape {shape} does not hold {n_candidates} candidates")
        fixed = np.zeros(shape, bool) if fixed is None else as_numpy_mask("fixed", fixed, shape)
        if n_samples + int(fixed.sum()) >= n_candidates:
            raise ValueError(f"n_samples ({n_samples}) plus the {int(fixed.sum())} fixed candidates must be "
                             f"fewer than n_candidates ({n_candidates})")
        self.n_candidates, self.n_samples, self.variant, self.shape = n_candidates, n_samples, variant, shape
        self.register_buffer("fixed", torch.as_tensor(fixed.reshape(-1).copy()), persistent=False)
        g = torch.Generator().manual_seed(seed)
        rows = 1 if variant == "topk" else n_samples
        self.logits = nn.Parameter(0.01 * torch.randn(rows, n_candidates, generator=g))
        self._gen = torch.Generator(device="cpu").manual_seed(seed + 1)

    def _free_logits(self) -> torch.Tensor:
        """The logits with the fixed candidates at ``-inf`` (never drawn)."""
        return self.logits.masked_fill(self.fixed, float("-inf"))

    def distributions(self) -> torch.Tensor:
        """``softmax(phi)`` per row over the candidates that are not fixed, ``(rows, N)``."""
        return torch.softmax(self._free_logits(), dim=-1)

    def entropy(self) -> torch.Tensor:
        """Mean entropy of the row distributions (the penalty term)."""
        p = self.distributions()
        return -(p * torch.log(p + 1e-12)).sum(-1).mean()

    def sample(self, tau: float, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``batch`` masks: ``(hard, relaxed)``, each ``(batch, N)``.

        ``hard`` is exactly ``M``-hot; ``relaxed`` is the sum of the tempered
        softmaxes of the ``M`` sequential draws (chosen entries masked with -inf).
        For ``"topk"`` one Gumbel vector serves all draws (sequential Gumbel-max
        without replacement is then the top-``M`` of ``phi + g``) and the sum of
        the ``M`` masked softmaxes has a closed form, computed without a loop.
        The ``fixed`` candidates are 1 in both.
        """
        tau = check_scalar("tau", tau, low=0.0, low_open=True)
        batch = check_int("batch", batch, low=1)
        dev = self.logits.device
        N, M = self.n_candidates, self.n_samples
        fixed = self.fixed.to(self.logits.dtype)
        if self.variant == "topk":
            z = self._free_logits()[0][None, :] + _gumbel((batch, N), self._gen, "cpu").to(dev)
            order = torch.argsort(z, dim=-1, descending=True)
            rank = torch.argsort(order, dim=-1)
            hard = (rank < M).to(z.dtype)
            # sum over draws m <= min(rank_i, M-1) of exp(z_i/tau - L_m), with
            # L_m = log sum_{rank >= m} exp(z/tau), in the log domain (no under/overflow at low tau)
            zs = torch.gather(z, -1, order) / tau
            L = torch.flip(torch.logcumsumexp(torch.flip(zs, [-1]), -1), [-1])[:, :M]  # (batch, M)
            diff = L[:, :, None] - L[:, None, :]  # L_k - L_m, <= 0 for m <= k
            low = torch.tril(torch.ones(M, M, dtype=torch.bool, device=dev))
            Cp = torch.where(low, torch.exp(torch.where(low, diff, torch.zeros_like(diff))), 0.0).sum(-1)
            mstar = rank.clamp(max=M - 1)
            soft = torch.exp(z / tau - torch.gather(L, -1, mstar)) * torch.gather(Cp, -1, mstar)
            return hard + fixed, soft + fixed
        g = _gumbel((batch, M, N), self._gen, "cpu").to(dev)
        taken = self.fixed.expand(batch, N).clone()
        hard = torch.zeros(batch, N, device=dev)
        soft = torch.zeros(batch, N, device=dev)
        for m in range(M):
            z = (self.logits[m][None, :] + g[:, m, :]).masked_fill(taken, float("-inf"))
            soft = soft + torch.softmax(z / tau, dim=-1)
            onehot = torch.nn.functional.one_hot(torch.argmax(z, dim=-1), N).to(hard.dtype)
            hard = hard + onehot
            taken = taken | onehot.bool()
        return hard + fixed, soft + fixed

    def forward(self, tau: float, batch: int = 1) -> torch.Tensor:
        """Straight-through mask: hard ``M``-hot values forward, relaxed gradients backward, in ``shape``."""
        hard, soft = self.sample(tau, batch)
        st = hard - soft.detach() + soft
        return st.reshape(batch, *self.shape)

    @property
    def mask_(self) -> np.ndarray:
        """The trained, deterministic mask as a boolean NumPy array of ``shape``."""
        with torch.no_grad():
            if self.variant == "topk":
                idx = torch.topk(self._free_logits()[0], self.n_samples).indices
            else:
                taken = self.fixed.clone()
                picks = []
                for m in range(self.n_samples):
                    j = int(torch.argmax(self.logits[m].masked_fill(taken, float("-inf"))))
                    picks.append(j)
                    taken[j] = True
                idx = torch.tensor(picks)
            mask = self.fixed.cpu().numpy().copy()
            mask[idx.cpu().numpy()] = True
        return mask.reshape(self.shape)

    def save(self, path: str | Path) -> None:
        """Store logits, configuration and the fixed mask in an ``.npz`` file (no pickle)."""
        np.savez(path, logits=self.logits.detach().cpu().numpy(), mask=self.mask_,
                 n_samples=np.int64(self.n_samples), variant=np.array(self.variant),
                 shape=np.array(self.shape, dtype=np.int64),
                 fixed=self.fixed.cpu().numpy().reshape(self.shape))

    @classmethod
    def load(cls, path: str | Path) -> DPSSampler:
        """Rebuild a sampler saved by :meth:`save` (``allow_pickle=False``; malformed files raise)."""
        with _open_npz(path) as f:
            missing = {"logits", "n_samples", "variant", "shape"} - set(f.files)
            if missing:
                raise ValueError(f"{path}: not a DPSSampler file (missing {sorted(missing)})")
            logits, shape, variant, M = f["logits"], f["shape"], f["variant"], f["n_samples"]
            fixed = f["fixed"] if "fixed" in f.files else None
        if logits.dtype.kind != "f" or not np.all(np.isfinite(logits)):
            raise ValueError(f"{path}: logits must be finite real numbers, got dtype {logits.dtype}")
        if shape.dtype.kind not in "iu" or shape.ndim != 1 or np.any(shape <= 0):
            raise ValueError(f"{path}: shape must be a 1-D array of positive ints, got {shape!r}")
        if M.dtype.kind not in "iu" or M.ndim != 0 or variant.dtype.kind != "U" or variant.ndim != 0:
            raise ValueError(f"{path}: n_samples must be an int and variant a string")
        shape, variant, M = tuple(int(s) for s in shape), str(variant), int(M)
        if logits.ndim != 2 or logits.shape[1] != math.prod(shape):
            raise ValueError(f"{path}: logits of shape {logits.shape} do not match candidate shape {shape}")
        try:
            s = cls(math.prod(shape), M, variant=variant, shape=shape, fixed=fixed)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: {e}") from None
        if logits.shape[0] != s.logits.shape[0]:
            raise ValueError(f"{path}: {logits.shape[0]} logit rows for variant {variant!r} with M = {M}")
        with torch.no_grad():
            s.logits.copy_(torch.from_numpy(logits))
        return s


def _fourier_measure(shape: tuple[int, ...], centered: bool) -> Callable:
    """``y = mask ⊙ F x`` with csbox's unitary FFT: the partial-Fourier measurement."""
    F = FFT(shape, centered=centered)

    def measure(xb: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return m.to(torch.complex64) * (F @ xb)

    return measure


def _images(name: str, images: Any) -> np.ndarray:
    """A finite, non-empty stack of images ``(n, *shape)`` as NumPy."""
    arr = np.asarray(images)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim < 2 or 0 in arr.shape:
        raise ValueError(f"{name} must be a non-empty stack (n, *shape), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def _check_training(train: Any, targets: Any, mask: Any, **hp: Any) -> None:
    """Validate :func:`train_dps`'s data and hyper-parameters (names in the messages)."""
    X = _images("train", train)
    if targets is not None and len(_images("targets", targets)) != len(X):
        raise ValueError(f"targets must hold one target per training image ({len(X)})")
    if mask is not None:
        as_numpy_mask("mask", mask)
    check_int("epochs", hp["epochs"], low=1)
    check_int("batch_size", hp["batch_size"], low=1)
    check_scalar("lr", hp["lr"], low=0.0, low_open=True)
    check_scalar("logit_lr_mult", hp["logit_lr_mult"], low=0.0, low_open=True)
    check_scalar("entropy_weight", hp["entropy_weight"], low=0.0)
    tau = hp["tau"]
    if not isinstance(tau, (tuple, list)) or len(tau) != 2:
        raise TypeError(f"tau must be a pair (start, end), got {tau!r}")
    for t in tau:
        check_scalar("tau", t, low=0.0, low_open=True)


def _training_data(model: nn.Module, train: Any, targets: Any,
                   device: Any) -> tuple[torch.device, torch.Tensor, torch.Tensor]:
    """The training device (CUDA when available unless ``device`` says), the model moved there, and the
    complex64 inputs and targets (on the host: batches move as they are drawn)."""
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(dev)
    X = torch.as_tensor(np.asarray(train), dtype=torch.complex64)
    T = X if targets is None else torch.as_tensor(np.asarray(targets), dtype=torch.complex64)
    return dev, X, T


def _warn_non_finite(loss: float, epoch: int, step: int, lr: float) -> None:
    """Tell the caller of :func:`train_dps` that training stopped on a non-finite loss."""
    warnings.warn(
        f"train_dps: the loss became {loss} at epoch {epoch}, "
        f"step {step}; training stopped (lower lr, now {lr:g}, or check the measurement)",
        RuntimeWarning, stacklevel=4,
    )


def _optimizer(model: nn.Module, sampler: DPSSampler | None, mask: Any, lr: float, logit_lr_mult: float,
               dev: torch.device) -> tuple[torch.optim.Optimizer, torch.Tensor | None]:
    """Adam over the model (and the sampler's logits at ``lr * logit_lr_mult``); the fixed mask on ``dev``."""
    params = [{"params": model.parameters(), "lr": lr}]
    if sampler is not None:
        sampler.to(dev)
        params.append({"params": sampler.parameters(), "lr": lr * logit_lr_mult})
        fixed = None
    else:
        fixed = torch.as_tensor(np.asarray(mask, dtype=np.float32), device=dev)
    return torch.optim.Adam(params), fixed


def _progress_bar(progress: bool, total: int, desc: str) -> Any:
    """A tqdm bar over ``total`` steps, or None."""
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


class _Batches:
    """One training epoch of :func:`train_dps`: mini-batches in a given order, one Adam step each."""

    def __init__(self, X: torch.Tensor, T: torch.Tensor, batch_size: int, measure: Callable,
                 loss_fn: Callable, dev: torch.device, tau: tuple[float, float], total: int,
                 entropy_weight: float):
        self.X, self.T, self.batch_size, self.measure, self.loss_fn = X, T, batch_size, measure, loss_fn
        self.dev, self.tau, self.total, self.entropy_weight = dev, tau, total, entropy_weight

    def _loss(self, model: nn.Module, sampler: DPSSampler | None, fixed: torch.Tensor | None,
              sel: np.ndarray, step: int) -> tuple[torch.Tensor, int]:
        """The batch ``sel``'s loss (plus the sampler's entropy term), the temperature annealed over steps."""
        xb = self.X[sel].to(self.dev)
        tb = self.T[sel].to(self.dev)
        if sampler is not None:
            t = self.tau[0] + (self.tau[1] - self.tau[0]) * step / max(self.total - 1, 1)
            m = sampler(t, batch=xb.shape[0])
        else:
            m = fixed.expand(xb.shape[0], *fixed.shape)
        loss = self.loss_fn(model(self.measure(xb, m), m), tb)
        if sampler is not None:
            loss = loss + self.entropy_weight * sampler.entropy()
        return loss, xb.shape[0]

    def epoch(self, model: nn.Module, sampler: DPSSampler | None, fixed: torch.Tensor | None,
              opt: torch.optim.Optimizer, order: np.ndarray, step: int,
              bar: Any) -> tuple[float, int, float | None]:
        """``(summed loss, step count, None)``, or the non-finite loss (no update made) as the third."""
        running = 0.0
        for s in range(0, len(self.X), self.batch_size):
            loss, n = self._loss(model, sampler, fixed, order[s : s + self.batch_size], step)
            if not torch.isfinite(loss.detach()):
                return running, step, float(loss.detach())
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += float(loss.detach()) * n
            step += 1
            if bar is not None:
                bar.update()
        return running, step, None


def train_dps(
    model: nn.Module, train: np.ndarray, *, sampler: DPSSampler | None = None, mask: np.ndarray | None = None,
    val: np.ndarray | None = None, epochs: int = 20, batch_size: int = 32, lr: float = 1e-4,
    logit_lr_mult: float = 10.0, tau: tuple[float, float] = (5.0, 0.5), entropy_weight: float = 2e-4,
    centered: bool = True, seed: int = 0, progress: bool = False, device: str | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    measure: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    targets: np.ndarray | None = None,
) -> dict:
    """Train a recovery model (with a DPS sampler or a fixed ``mask``) on images ``train`` ``(n, *shape)``.

    Measurements are ``y = mask ⊙ F x`` with csbox's centred unitary FFT, or
    ``measure(x, mask)`` when given (e.g. channel selection of ultrasound data); the
    model learns to output ``targets`` (default: the inputs themselves). Adam with
    ``lr`` (the paper's 1e-4) and ``logit_lr_mult * lr`` for the logits;
    ``ReduceLROnPlateau(0.5, patience=10)`` on the training loss; temperature annealed
    linearly from ``tau[0]`` to ``tau[1]``; loss ``MSE + entropy_weight * entropy``.

    Parameters
    ----------
    model : torch.nn.Module
        Recovery network called as ``model(y, mask)`` (e.g.
        :class:`~csbox.sampling.unrolled.UnrolledISTA`); moved to the device.
    train : array, shape ``(n, *shape)``
        Numeric, finite, non-empty training images (cast to complex64).
    sampler, mask : DPSSampler or array of bool, shape ``shape``
        Give exactly one: a sampler trained jointly, or a fixed mask (0/1 values accepted).
    val : array, shape ``(n_val, *shape)``, optional
        Scored by :func:`evaluate` after each epoch with ``sampler.mask_`` or ``mask`` (not with ``targets``).
    epochs, batch_size : int, default 20, 32
        Passes over ``train`` and images per Adam step, both ``>= 1``.
    lr, logit_lr_mult : float, default 1e-4, 10.0
        Adam learning rate and the logits' multiple of it, both ``> 0``.
    tau : pair of float, default (5.0, 0.5)
        Gumbel-softmax temperature at the first and last step, both ``> 0``.
    entropy_weight : float, default 2e-4
        Weight ``>= 0`` of the sampler's entropy in the loss.
    centered, progress : bool, default True, False
        Centred FFT in the default measurement; a tqdm bar over the steps.
    seed : int, default 0
        Seeds ``torch.manual_seed`` and the NumPy batch order.
    device : str, optional
        Torch device; default ``"cuda"`` when available, else ``"cpu"``.
    loss_fn : callable, optional
        ``loss_fn(output, target)`` -> scalar tensor; default ``mean |output - target|^2``.
    measure : callable, optional
        ``measure(x, mask)`` -> the model's input; default ``mask ⊙ F x``.
    targets : array, shape ``(n, ...)``, optional
        What the model should output, one per training image; default ``train``.

    Returns
    -------
    dict
        ``loss`` (per epoch), ``val_nmse_db`` (per epoch, when ``val`` is given),
        ``seconds_per_epoch``, ``stop_reason`` (``"epochs"``, or ``"nan"`` when the
        loss became non-finite: training then stops before that update, with a
        ``RuntimeWarning``, and the weights keep their last finite values).
    """
    if (sampler is None) == (mask is None):
        raise ValueError("give exactly one of sampler and mask")
    _check_training(train, targets, mask, epochs=epochs, batch_size=batch_size, lr=lr,
                    logit_lr_mult=logit_lr_mult, tau=tau, entropy_weight=entropy_weight)
    if val is not None:
        _images("val", val)
    torch.manual_seed(seed)
    dev, X, T = _training_data(model, train, targets, device)
    measure = measure or _fourier_measure(tuple(X.shape[1:]), centered)

    opt, fixed = _optimizer(model, sampler, mask, lr, logit_lr_mult, dev)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=10)
    loss_fn = loss_fn or (lambda a, b: torch.mean(torch.abs(a - b) ** 2))
    rng = np.random.default_rng(seed)
    total = epochs * math.ceil(len(X) / batch_size)
    bar = _progress_bar(progress, total, "dps" if sampler is not None else "fixed-mask")
    batches = _Batches(X, T, batch_size, measure, loss_fn, dev, tau, total, entropy_weight)
    score = (None if val is None or targets is not None
             else _val_score(model, val, sampler, mask, centered, measure))
    return _fit_epochs(batches, model, sampler, fixed, opt, sched, rng, bar, epochs, lr, score)


def _val_score(model: nn.Module, val: np.ndarray, sampler: DPSSampler | None, mask: Any, centered: bool,
               measure: Callable) -> Callable[[], float]:
    """The validation NMSE (dB) of the current mask (the sampler's top-k, or the fixed ``mask``)."""

    def score() -> float:
        final = sampler.mask_ if sampler is not None else np.asarray(mask)
        return evaluate(model, val, final, centered=centered, measure=measure)["nmse_db"]

    return score


def _fit_epochs(batches: _Batches, model: nn.Module, sampler: DPSSampler | None, fixed: torch.Tensor | None,
                opt: torch.optim.Optimizer, sched: Any, rng: np.random.Generator, bar: Any, epochs: int,
                lr: float, score: Callable[[], float] | None) -> dict:
    """The epochs of :func:`train_dps` and the history it returns (``score()``: the validation NMSE)."""
    hist: dict = {"loss": [], "val_nmse_db": [], "seconds_per_epoch": [], "stop_reason": "epochs"}
    step = 0
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(batches.X))
        model.train()
        running, step, bad = batches.epoch(model, sampler, fixed, opt, order, step, bar)
        if bad is not None:  # stopped before the update: the weights keep their last finite values
            hist["stop_reason"] = "nan"
            _warn_non_finite(bad, len(hist["loss"]) + 1, step + 1, lr)
            break
        hist["loss"].append(running / len(batches.X))
        sched.step(hist["loss"][-1])
        hist["seconds_per_epoch"].append(time.perf_counter() - t0)
        if score is not None:
            hist["val_nmse_db"].append(score())
    if bar is not None:
        bar.close()
    return hist


@torch.no_grad()
def evaluate(model: nn.Module, images: np.ndarray, mask: np.ndarray, *, centered: bool = True,
             batch_size: int = 128, measure: Callable | None = None,
             targets: np.ndarray | None = None) -> dict:
    """NMSE (dB) and PSNR (dB, peak 1) of ``model`` on ``images`` with a fixed boolean ``mask``.

    Parameters
    ----------
    model : torch.nn.Module
        Called as ``model(y, mask)``, in eval mode and without gradients, on its parameters' device.
    images : array, shape ``(n, *shape)``
        Numeric, finite, non-empty test images (cast to complex64).
    mask : array of bool (or 0/1), shape ``shape``
        The sampling mask.
    centered, measure, targets
        As in :func:`train_dps`.
    batch_size : int, default 128
        Images per forward pass, ``>= 1``.

    Returns
    -------
    dict
        ``nmse_db``: ``10 log10(sum |out - t|^2 / sum |t|^2)`` over the whole set; ``psnr``: the mean
        over images of ``10 log10(1 / mse(|out|, |t|))`` (peak 1), ``t`` the targets.
    """
    _images("images", images)
    check_int("batch_size", batch_size, low=1)
    if targets is not None:
        _images("targets", targets)
    model.eval()
    dev = next(model.parameters()).device
    X = torch.as_tensor(np.asarray(images), dtype=torch.complex64)
    T = X if targets is None else torch.as_tensor(np.asarray(targets), dtype=torch.complex64)
    measure = measure or _fourier_measure(tuple(X.shape[1:]), centered)

    m = torch.as_tensor(np.asarray(mask, dtype=np.float32), device=dev)
    err = ref = 0.0
    mse = []
    for s in range(0, len(X), batch_size):
        xb = X[s : s + batch_size].to(dev)
        tb = T[s : s + batch_size].to(dev)
        mb = m.expand(xb.shape[0], *m.shape)
        out = model(measure(xb, mb), mb)
        err += float(torch.sum(torch.abs(out - tb) ** 2))
        ref += float(torch.sum(torch.abs(tb) ** 2))
        mse.append(torch.mean(torch.abs(torch.abs(out) - torch.abs(tb)) ** 2, dim=tuple(range(1, tb.ndim))))
    mse_all = torch.cat(mse)
    return {"nmse_db": 10 * math.log10(err / ref), "psnr": float(torch.mean(10 * torch.log10(1.0 / mse_all)))}
