"""Bad-input sweep of the core (issue 28): operators and the operator algebra, backend helpers,
metrics, phantoms, theory, data, the testing helpers, and the other areas' names that the
conformance suite listed as pending.

Run: ``python -m tests.sweep_bad_input_core [--verbose] [--family F]`` from the repository root.

Outcomes as in :mod:`tests.sweep_bad_input` (``clear`` / ``obscure`` / ``silent`` / ``hang``;
``accepted`` for input that is valid by design, such as a NumPy integer size). Not collected by
pytest; the counts go into the reliability notes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .sweep_bad_input import INF, NAN, classify

CASES: dict[str, list[tuple[str, str, Callable[[], Any]]]] = defaultdict(list)
I64, I32 = np.int64, np.int32


def _op() -> Any:
    import csbox.operators as op

    return op


def _k(n: int = 20, d: int = 2) -> np.ndarray:
    return np.random.default_rng(0).uniform(-3, 3, (n, d))


def _big_generic() -> Any:
    """An operator with no closed-form column norms and 2**16 columns (a sum of two)."""
    op = _op()
    return op.FFT((256, 256)) + op.Identity((256, 256))


def _sum3() -> Any:
    return _op().Identity(3) + _op().Identity(3)


# ---------------------------------------------------------------------------- operators
CASES["operators"] += [
    ("Identity(np.int64(5))", "accept", lambda: _op().Identity(I64(5))),
    ("Identity((int32, int64))", "accept", lambda: _op().Identity((I32(3), I64(4)))),
    ("Identity(np.array([3, 4]))", "accept", lambda: _op().Identity(np.array([3, 4]))),
    ("Identity(np.array(4)) 0-d", "accept", lambda: _op().Identity(np.array(4))),
    ("Identity(True)", "shape", lambda: _op().Identity(True)),
    ("Identity(3.0)", "shape", lambda: _op().Identity(3.0)),
    ("Identity(None)", "shape", lambda: _op().Identity(None)),
    ("Diagonal([1, 2, 3]) list", "accept", lambda: _op().Diagonal([1.0, 2.0, 3.0])),
    ("Diagonal(int array)", "accept", lambda: _op().Diagonal(np.arange(1, 4))),
    ("Diagonal(strings)", "d", lambda: _op().Diagonal(np.array(["a", "b"]))),
    ("Diagonal(empty)", "d", lambda: _op().Diagonal(np.ones(0))),
    ("Diagonal(0-d)", "d", lambda: _op().Diagonal(np.array(2.0))),
    ("Diagonal(Inf)", "d", lambda: _op().Diagonal(np.array([1.0, INF]))),
    ("MatrixOperator(empty rows)", "M", lambda: _op().MatrixOperator(np.zeros((0, 3)))),
    ("MatrixOperator(3-D)", "M", lambda: _op().MatrixOperator(np.ones((2, 2, 2)))),
    ("MatrixOperator(list)", "M", lambda: _op().MatrixOperator([[1.0, 2.0], [3.0, 4.0]])),
    ("MatrixOperator(Inf)", "M", lambda: _op().MatrixOperator(np.full((2, 2), INF))),
    ("MatrixOperator(object)", "M", lambda: _op().MatrixOperator(np.full((2, 2), None))),
    ("Restriction(np.int64(6), idx)", "accept", lambda: _op().Restriction(I64(6), np.array([0, 2]))),
    ("Restriction(6, list)", "accept", lambda: _op().Restriction(6, [0, 2])),
    ("Restriction(6, int32 idx)", "accept", lambda: _op().Restriction(6, np.array([0, 5], np.int32))),
    ("Restriction(6, float idx)", "indices", lambda: _op().Restriction(6, np.array([0.0, 2.0]))),
    ("Restriction(6, 2-D idx)", "indices", lambda: _op().Restriction(6, np.array([[0, 1]]))),
    ("Restriction(6, [-1])", "indices", lambda: _op().Restriction(6, np.array([-1]))),
    ("Restriction(6, empty)", "indices", lambda: _op().Restriction(6, np.array([], int))),
    ("Restriction(6, mask of 2)", "indices", lambda: _op().Restriction(6, np.array([True, False]))),
    ("Restriction(6, strings)", "indices", lambda: _op().Restriction(6, np.array(["a"]))),
    ("FFT(np.int64(8))", "accept", lambda: _op().FFT(I64(8))),
    ("FFT(axes=np.int64(0))", "accept", lambda: _op().FFT((4, 4), axes=I64(0))),
    ("FFT(axes=np.array([0, 1]))", "accept", lambda: _op().FFT((4, 4), axes=np.array([0, 1]))),
    ("FFT(centered='yes')", "centered", lambda: _op().FFT((4, 4), centered="yes")),
    ("FFT(centered=np.bool_)", "accept", lambda: _op().FFT((4, 4), centered=np.True_)),
    ("FFT(norm=None)", "norm", lambda: _op().FFT((4, 4), norm=None)),
    ("FFT(axes=())", "axes", lambda: _op().FFT((4, 4), axes=())),
    ("PartialFourier(list mask)", "accept", lambda: _op().PartialFourier(4, [True, False, True, True])),
    ("PartialFourier(0/1 int mask)", "accept", lambda: _op().PartialFourier((4,), np.array([1, 0, 1, 1]))),
    ("PartialFourier(mask=None)", "mask", lambda: _op().PartialFourier((4, 4), None)),
    ("PartialFourier(centered=2)", "centered", lambda: _op().PartialFourier(4, np.ones(4, bool), centered=2)),
    (
        "PartialFourier(axes=(1,), int64)",
        "accept",
        lambda: _op().PartialFourier((3, 4), np.ones(4, bool), axes=(I64(1),)),
    ),
    ("Kronecker(mat, 'a')", "factors", lambda: _op().Kronecker(np.ones((2, 2)), "a")),
    ("Kronecker(2-D op, op)", "factors", lambda: _op().Kronecker(_op().Identity((2, 3)), _op().Identity(2))),
    ("Kronecker(mat, 1-D)", "factors", lambda: _op().Kronecker(np.ones((2, 2)), np.ones(3))),
    ("Kronecker(NaN factor)", "M|factors", lambda: _op().Kronecker(np.ones((2, 2)), np.full((2, 2), NAN))),
    ("Wavelet(level=np.int64(2))", "accept", lambda: _op().Wavelet((16, 16), "db2", level=I64(2))),
    ("Wavelet(level=True)", "level", lambda: _op().Wavelet((16, 16), "db2", level=True)),
    ("Wavelet(level=2.0)", "level", lambda: _op().Wavelet((16, 16), "db2", level=2.0)),
    ("Wavelet(wavelet=3)", "wavelet", lambda: _op().Wavelet((16, 16), 3)),
    ("Wavelet(wavelet=None)", "wavelet", lambda: _op().Wavelet((16, 16), None)),
    ("Wavelet(axes=np.int64(0))", "accept", lambda: _op().Wavelet((16, 16), "db2", axes=I64(0))),
    ("Wavelet((1,), 'haar')", "shape|level", lambda: _op().Wavelet((1,), "haar")),
    ("Wavelet(level=20) on 16x16", "level", lambda: _op().Wavelet((16, 16), "haar", level=20)),
    ("Hadamard(np.int64(8))", "accept", lambda: _op().Hadamard(I64(8))),
    ("Hadamard(np.array(8)) 0-d", "accept", lambda: _op().Hadamard(np.array(8))),
    ("Hadamard(True)", "n", lambda: _op().Hadamard(True)),
    ("Hadamard(8.0)", "n", lambda: _op().Hadamard(8.0)),
    ("Hadamard(-4)", "n", lambda: _op().Hadamard(-4)),
    ("fwht(normalize='no')", "normalize", lambda: _op().fwht(np.ones(4), normalize="no")),
    ("fwht(np.ones(0))", "x|power of two", lambda: _op().fwht(np.ones(0))),
    ("fwht(list)", "x", lambda: _op().fwht([1.0, 2.0])),
    ("fwht(strings)", "x", lambda: _op().fwht(np.array(["a", "b"]))),
    ("parity(-1)", "v", lambda: _op().parity(np.array([-1, 3]))),
    ("parity(1.5)", "v", lambda: _op().parity(np.array([1.5]))),
    ("parity(strings)", "v", lambda: _op().parity(np.array(["a"]))),
    ("parity(5) scalar", "accept", lambda: _op().parity(5)),
    ("parity(list)", "accept", lambda: _op().parity([1, 2, 3])),
    ("Gradient(axes=np.int64(1))", "accept", lambda: _op().Gradient((6, 5), axes=I64(1))),
    ("Gradient(boundary=3)", "boundary", lambda: _op().Gradient((6, 5), boundary=3)),
    ("Gradient(axes=(2,))", "axes", lambda: _op().Gradient((6, 5), axes=(2,))),
    ("Convolve(k, np.int64(8))", "accept", lambda: _op().Convolve(np.ones(3), I64(8))),
    ("Convolve(list kernel)", "accept", lambda: _op().Convolve([1.0, 2.0, 1.0], 8)),
    ("Convolve(2-D kernel, 1-D shape)", "kernel", lambda: _op().Convolve(np.ones((3, 3)), (8,))),
    ("Convolve(kernel > image)", "kernel", lambda: _op().Convolve(np.ones(9), 8)),
    ("Convolve(NaN kernel)", "kernel", lambda: _op().Convolve(np.array([NAN]), 8)),
    ("Convolve(mode='valid')", "mode", lambda: _op().Convolve(np.ones(3), 8, mode="valid")),
    ("Convolve(strings)", "kernel", lambda: _op().Convolve(np.array(["a"]), 8)),
    ("VStack([])", "ops", lambda: _op().VStack([])),
    ("VStack(op)", "ops", lambda: _op().VStack(_op().Identity(3))),
    ("VStack([op, ndarray])", "ops", lambda: _op().VStack([_op().Identity(3), np.eye(3)])),
    ("VStack(shapes differ)", "shape", lambda: _op().VStack([_op().Identity(3), _op().Identity(4)])),
    ("HStack(shapes differ)", "shape", lambda: _op().HStack([_op().Identity(3), _op().Identity(4)])),
    ("BlockDiag([None])", "ops", lambda: _op().BlockDiag([None])),
    ("NUFFT(np.int64(8), k)", "accept", lambda: _op().NUFFT(I64(8), _k(20, 1), impl="generic")),
    ("NUFFT(NaN coords)", "coords", lambda: _op().NUFFT((8, 8), np.full((4, 2), NAN))),
    ("NUFFT(coords out of range)", "coords", lambda: _op().NUFFT((8, 8), np.full((4, 2), 9.0))),
    ("NUFFT(coords (20, 3) for 2-D)", "coords", lambda: _op().NUFFT((8, 8), _k(20, 3))),
    ("NUFFT(eps=0)", "eps", lambda: _op().NUFFT((8, 8), _k(), eps=0.0)),
    ("NUFFT(eps=np.float32)", "accept", lambda: _op().NUFFT((8, 8), _k(), eps=np.float32(1e-3))),
    ("NUFFT(4-D)", "ishape", lambda: _op().NUFFT((4, 4, 4, 4), _k(20, 4))),
    ("NUFFT(impl='x')", "impl", lambda: _op().NUFFT((8, 8), _k(), impl="x")),
    (
        "NUFFT.normal(weights<0)",
        "weights",
        lambda: _op().NUFFT((8, 8), _k(), impl="generic").normal(-np.ones(20)),
    ),
    (
        "NUFFT.normal(weights NaN)",
        "weights",
        lambda: _op().NUFFT((8, 8), _k(), impl="generic").normal(np.full(20, NAN)),
    ),
    # the operator base class and its algebra
    ("A * np.int64(2)", "accept", lambda: _op().Identity(3) * I64(2)),
    ("A * True", "scale|operand", lambda: _op().Identity(3) * True),
    ("A * np.array(2.0)", "accept", lambda: _check_op(_op().Identity(3) * np.array(2.0))),
    ("np.array(2.0) * A", "accept", lambda: _check_op(np.array(2.0) * _op().Identity(3))),
    ("A * 'a'", "scale|operand", lambda: _op().Identity(3) * "a"),
    ("A + 3", "int|operand", lambda: _op().Identity(3) + 3),
    ("A @ None", "input|array", lambda: _op().Identity(3) @ None),
    ("A @ bool array", "dtype", lambda: _op().Identity(3).apply(np.ones(3, bool))),
    ("A.lipschitz(max_iter=np.int64(5))", "accept", lambda: _op().Identity(3).lipschitz(max_iter=I64(5))),
    ("A.lipschitz(tol=nan)", "tol", lambda: _op().Identity(3).lipschitz(tol=NAN)),
    ("A.lipschitz(seed=-1)", "seed", lambda: _op().Identity(3).lipschitz(seed=-1)),
    ("A.lipschitz(seed='a')", "seed", lambda: _op().Identity(3).lipschitz(seed="a")),
    ("A.lipschitz(xp='numpy')", "xp", lambda: _op().Identity(3).lipschitz(xp="numpy")),
    ("A.column_norms(batch=np.int64(4))", "accept", lambda: _op().Identity(3).H.column_norms(batch=I64(4))),
    ("A.column_norms(batch=2.5)", "batch", lambda: (2.0 * _op().Identity(3)).H.column_norms(batch=2.5)),
    ("Identity(100000).column_norms()", "accept", lambda: _op().Identity(100000).column_norms()),
    ("Hadamard(2**16).column_norms()", "accept", lambda: _op().Hadamard(2**16).column_norms()),
    ("Wavelet(256^2).column_norms()", "accept", lambda: _op().Wavelet((256, 256), "db4").column_norms()),
    ("FFT(256^2).column_norms()", "accept", lambda: _op().FFT((256, 256)).column_norms()),
    (
        "Restriction(1e5).column_norms()",
        "accept",
        lambda: _op().Restriction(10**5, np.arange(0, 10**5, 7)).column_norms(),
    ),
    ("(FFT + I)(256^2).column_norms()", "max_probe", lambda: _big_generic().column_norms()),
    ("column_norms(max_probe=0), no closed form", "max_probe", lambda: _sum3().column_norms(max_probe=0)),
    ("column_norms(max_probe=-1)", "max_probe", lambda: _sum3().column_norms(max_probe=-1)),
    ("column_norms(max_probe=np.int64(3))", "accept", lambda: _sum3().column_norms(max_probe=I64(3))),
    ("LinearOperator(dtype='foo')", "dtype", lambda: __import__("csbox").LinearOperator(3, 3, "foo")),
    ("LinearOperator(dtype=bool)", "dtype", lambda: __import__("csbox").LinearOperator(3, 3, bool)),
    (
        "LinearOperator(np.int64 shapes)",
        "accept",
        lambda: __import__("csbox").LinearOperator(I64(3), (I64(2),)),
    ),
]


def _check_op(A: Any) -> Any:
    """A scaled operator must still be a csbox operator (not a NumPy object array)."""
    from csbox import LinearOperator

    if not isinstance(A, LinearOperator):
        raise RuntimeError(f"got {type(A).__name__}, not an operator")
    return A @ np.ones(3)


# ---------------------------------------------------------------------------- backend helpers
def _b() -> Any:
    import csbox.backend as b

    return b


CASES["operators"] += [
    ("to_numpy(list)", "accept", lambda: _b().to_numpy([1.0, 2.0])),
    ("array_namespace(list)", "array", lambda: _b().array_namespace([1.0, 2.0])),
    ("device(list)", "x|array", lambda: _b().device([1.0])),
    ("fftn(axes=(5,))", "axes", lambda: _b().fftn(np.ones(4, complex), (5,))),
    ("fftn(norm='x')", "norm", lambda: _b().fftn(np.ones(4, complex), (0,), "x")),
    ("fftshift(axes=5)", "axes", lambda: _b().fftshift(np.ones(4), 5)),
    ("fftshift(axes=0) int", "accept", lambda: _b().fftshift(np.ones(4), 0)),
    ("ifftshift(axes=(3,))", "axes", lambda: _b().ifftshift(np.ones(4), (3,))),
    ("from_real_pairs(last axis 3)", "r", lambda: _b().from_real_pairs(np.ones((4, 3)))),
    ("from_real_pairs(complex)", "r", lambda: _b().from_real_pairs(np.ones((4, 2), complex))),
    ("as_real_pairs(list)", "x", lambda: _b().as_real_pairs([1j, 2j])),
    ("real_dtype(np, 'float32')", "dtype", lambda: _b().real_dtype(np, "float32")),
    (
        "complex_dtype(np, int64)",
        "accept",
        lambda: _b().complex_dtype(np, np.int64),
    ),  # documented: complex128
    ("result_dtype(np, bool)", "dtype", lambda: _b().result_dtype(np, np.bool_, True)),
    ("is_complex(np, 'x')", "dtype", lambda: _b().is_complex(np, "x")),
    ("ArrayCache(build='f')", "build", lambda: _b().ArrayCache(build="f")),
    ("ArrayCache().like(list)", "x|array", lambda: _b().ArrayCache(np.ones(2)).like([1.0])),
]


# ---------------------------------------------------------------------------- metrics, phantoms, theory, data
def _me() -> Any:
    import csbox.metrics as me

    return me


def _ph() -> Any:
    import csbox.phantoms as ph

    return ph


def _th() -> Any:
    import csbox.theory as th

    return th


def _da() -> Any:
    import csbox.data as da

    return da


ONES, REF = np.ones(4), np.array([0.0, 1.0, 2.0, 1.0])
CASES["core"] += [
    ("psnr(NaN x)", "x", lambda: _me().psnr(np.array([NAN, 1, 1, 1]), REF)),
    ("psnr(Inf ref)", "ref", lambda: _me().psnr(ONES, np.array([INF, 1, 1, 1]))),
    ("psnr(peak=np.float32)", "accept", lambda: _me().psnr(ONES, REF, peak=np.float32(2))),
    ("psnr(lists)", "accept", lambda: _me().psnr([1.0, 2.0], [1.0, 2.5])),
    ("psnr(ref all zero)", "ref|peak", lambda: _me().psnr(ONES, np.zeros(4))),
    ("psnr(magnitude=np.bool_)", "accept", lambda: _me().psnr(ONES, REF, magnitude=np.True_)),
    ("psnr(magnitude='yes')", "magnitude", lambda: _me().psnr(ONES, REF, magnitude="yes")),
    ("psnr(strings)", "x", lambda: _me().psnr(np.array(["a"]), np.array(["b"]))),
    ("psnr(shapes differ)", "shape", lambda: _me().psnr(ONES, np.ones(3))),
    ("psnr(empty)", "empty", lambda: _me().psnr(np.ones(0), np.ones(0))),
    ("psnr(peak=0)", "peak", lambda: _me().psnr(ONES, REF, peak=0.0)),
    ("psnr(peak=nan)", "peak", lambda: _me().psnr(ONES, REF, peak=NAN)),
    ("nmse_db(ref zero)", "ref", lambda: _me().nmse_db(ONES, np.zeros(4))),
    ("nmse_db(NaN x)", "x", lambda: _me().nmse_db(np.full(4, NAN), REF)),
    ("nmse_db(bool arrays)", "accept", lambda: _me().nmse_db(np.ones(4, bool), REF)),
    ("support_recovery(NaN x_hat)", "x_hat", lambda: _me().support_recovery(np.array([NAN, 1.0, 0, 0]), REF)),
    ("support_recovery(all NaN x_hat)", "x_hat", lambda: _me().support_recovery(np.full(4, NAN), REF)),
    ("support_recovery(Inf x_hat)", "x_hat", lambda: _me().support_recovery(np.array([INF, 1.0, 0, 0]), REF)),
    ("support_recovery(NaN x)", "x", lambda: _me().support_recovery(ONES, np.array([NAN, 1.0, 0, 0]))),
    ("support_recovery(empty)", "x_hat|empty", lambda: _me().support_recovery(np.ones(0), np.ones(0))),
    (
        "support_recovery(rel_threshold=1)",
        "rel_threshold",
        lambda: _me().support_recovery(ONES, REF, rel_threshold=1.0),
    ),
    (
        "support_recovery(rel_threshold=True)",
        "rel_threshold",
        lambda: _me().support_recovery(ONES, REF, rel_threshold=True),
    ),
    ("support_recovery(strings)", "x_hat", lambda: _me().support_recovery(np.array(["a"]), np.array(["b"]))),
    ("support_recovery(complex)", "accept", lambda: _me().support_recovery(ONES * 1j, REF)),
    ("to_db(floor=np.float64)", "accept", lambda: _me().to_db(ONES, floor=np.float64(1e-6))),
    ("to_db(empty)", "x|empty", lambda: _me().to_db(np.ones(0))),
    ("to_db(list)", "accept", lambda: _me().to_db([1.0, 2.0])),
    (
        "lobe_width(NaN profile)",
        "profile",
        lambda: _me().lobe_width(np.array([0, NAN, 1, 0.0]), np.arange(4), 2, 0.5),
    ),
    (
        "lobe_width(peak=np.int64)",
        "accept",
        lambda: _me().lobe_width(np.array([0, 1, 2, 1, 0.0]), np.arange(5), I64(2), 1.0),
    ),
    (
        "lobe_width(peak=True)",
        "peak",
        lambda: _me().lobe_width(np.array([0, 1, 2, 1, 0.0]), np.arange(5), True, 0.5),
    ),
    (
        "lobe_width(level=nan)",
        "level",
        lambda: _me().lobe_width(np.array([0, 1, 2, 1, 0.0]), np.arange(5), 2, NAN),
    ),
    ("lobe_width(strings)", "profile", lambda: _me().lobe_width(np.array(["a", "b"]), np.arange(2), 0, 0.5)),
    (
        "lobe_width(complex profile)",
        "profile",
        lambda: _me().lobe_width(np.ones(4) * 1j, np.arange(4), 1, 0.5),
    ),
    ("lobe_width(2-D)", "profile", lambda: _me().lobe_width(np.ones((2, 2)), np.arange(4), 1, 0.5)),
    (
        "lobe_width(peak not a max)",
        "peak|level",
        lambda: _me().lobe_width(np.array([0, 1, 2, 1, 0.0]), np.arange(5), 0, 0.5),
    ),
    ("shepp_logan(np.int64(64))", "accept", lambda: _ph().shepp_logan(I64(64))),
    ("shepp_logan(64.0)", "n", lambda: _ph().shepp_logan(64.0)),
    ("shepp_logan(True)", "n", lambda: _ph().shepp_logan(True)),
    ("shepp_logan(4)", "n", lambda: _ph().shepp_logan(4)),
    ("shepp_logan(10**6)", "memory|needs|n", lambda: _ph().shepp_logan(10**6)),
    ("camera(np.int64(64))", "accept", lambda: _ph().camera(I64(64))),
    ("camera(600)", "n", lambda: _ph().camera(600)),
    ("camera(64.0)", "n", lambda: _ph().camera(64.0)),
    ("lines_and_circles(np.int64)", "accept", lambda: _ph().lines_and_circles(I64(2), I64(16), seed=I64(1))),
    ("lines_and_circles(0)", "n", lambda: _ph().lines_and_circles(0)),
    ("lines_and_circles(size=8)", "size", lambda: _ph().lines_and_circles(2, 8)),
    ("lines_and_circles(seed=-1)", "seed", lambda: _ph().lines_and_circles(2, seed=-1)),
    ("lines_and_circles(10**9)", "memory|needs|n", lambda: _ph().lines_and_circles(10**9)),
    ("psi(np.float32(0.1))", "accept", lambda: _th().l1_statistical_dimension_fraction(np.float32(0.1))),
    ("psi(nan)", "s", lambda: _th().l1_statistical_dimension_fraction(NAN)),
    ("psi('0.5')", "s", lambda: _th().l1_statistical_dimension_fraction("0.5")),
    ("psi(True)", "s", lambda: _th().l1_statistical_dimension_fraction(True)),
    ("psi(1.5)", "s", lambda: _th().l1_statistical_dimension_fraction(1.5)),
    ("psi(np.array([0.1, 0.2]))", "s", lambda: _th().l1_statistical_dimension_fraction(np.array([0.1, 0.2]))),
    ("l1_phase_transition(np.int64(5))", "accept", lambda: _th().l1_phase_transition(I64(5))),
    ("l1_phase_transition(0)", "num", lambda: _th().l1_phase_transition(0)),
    ("l1_phase_transition(2.5)", "num", lambda: _th().l1_phase_transition(2.5)),
    ("l1_phase_transition(10**9)", "num", lambda: _th().l1_phase_transition(10**9)),
    ("data.path('nope')", "name", lambda: _da().path("nope")),
    ("data.path(3)", "name", lambda: _da().path(3)),
    ("data.load(None)", "name", lambda: _da().load(None)),
    ("data.load('sar-dca1000')", "accept", lambda: _da().load("sar-dca1000")),
]


# ---------------------------------------------------------------------------- testing helpers
def _t() -> Any:
    import csbox.testing as t

    return t


def _pen() -> Any:
    from csbox.penalties import L1

    return L1(0.1)


def _lasso_solver(A: Any, y: Any, **kw: Any) -> Any:
    from csbox.solvers import fista

    return fista(A, y, lam=0.1, **kw)


CASES["testing"] += [
    ("dottest(batch=np.int64(2))", "accept", lambda: _t().dottest(_op().FFT(4), batch=I64(2))),
    ("dottest(seed=-1)", "seed", lambda: _t().dottest(_op().FFT(4), seed=-1)),
    ("dottest(seed=1.5)", "seed", lambda: _t().dottest(_op().FFT(4), seed=1.5)),
    ("dottest(rtol=nan)", "rtol", lambda: _t().dottest(_op().FFT(4), rtol=NAN)),
    ("dottest(xp='numpy')", "xp", lambda: _t().dottest(_op().FFT(4), xp="numpy")),
    ("dottest(dtype=np.float32)", "accept", lambda: _t().dottest(_op().FFT(4), dtype=np.float32)),
    ("dottest(batch=(2.5,))", "batch", lambda: _t().dottest(_op().FFT(4), batch=(2.5,))),
    ("dottest(complex dtype)", "dtype", lambda: _t().dottest(_op().FFT(4), dtype=np.complex128)),
    (
        "check_operator(normal_rtol=-1)",
        "normal_rtol",
        lambda: _t().check_operator(_op().FFT(4), normal_rtol=-1.0),
    ),
    (
        "check_operator(normal_rtol=nan)",
        "normal_rtol",
        lambda: _t().check_operator(_op().FFT(4), normal_rtol=NAN),
    ),
    ("check_operator(dtype='float16')", "dtype", lambda: _t().check_operator(_op().FFT(4), dtype="float16")),
    ("check_solver('f')", "solve", lambda: _t().check_solver("f", _op().Identity(3), np.ones(3))),
    (
        "check_solver(x_shape='a')",
        "x_shape",
        lambda: _t().check_solver(_lasso_solver, _op().Identity(3), np.ones(3), x_shape="a", max_iter=3),
    ),
    ("check_penalty(n_trials=-1)", "n_trials", lambda: _t().check_penalty(_pen(), n_trials=-1)),
    ("check_penalty(n_trials=np.int64)", "accept", lambda: _t().check_penalty(_pen(), n_trials=I64(2))),
    ("check_penalty(shape=2.5)", "shape", lambda: _t().check_penalty(_pen(), shape=2.5)),
    ("check_penalty(shape=(0,))", "shape", lambda: _t().check_penalty(_pen(), shape=(0,))),
    ("check_penalty(seed=-1)", "seed", lambda: _t().check_penalty(_pen(), seed=-1)),
    ("check_penalty('x')", "P", lambda: _t().check_penalty("x")),
    ("Backend.randn(shape=2.5)", "shape", lambda: _t().available_backends()[0].randn(2.5)),
]


# ---------------------------------------------------------------------------- other areas' pending names
def _dic() -> Any:
    import csbox.dictionary as d

    return d


def _spk() -> Any:
    import csbox.mri.spokes as s

    return s


def _dps() -> Any:
    import csbox.sampling.dps as d

    return d


def _tmp() -> Path:
    return Path(tempfile.mkdtemp())


CASES["other-areas"] += [
    (
        "extract_patches(np.int64 size)",
        "accept",
        lambda: _dic().extract_patches(np.ones((8, 8)), I64(4), I64(2)),
    ),
    ("extract_patches(size > image)", "size", lambda: _dic().extract_patches(np.ones((4, 4)), 8)),
    ("extract_patches(NaN)", "img", lambda: _dic().extract_patches(np.full((8, 8), NAN), 4)),
    ("extract_patches(1-D)", "img", lambda: _dic().extract_patches(np.ones(8), 4)),
    ("extract_patches(stride=0)", "stride", lambda: _dic().extract_patches(np.ones((8, 8)), 4, 0)),
    ("assemble_patches(wrong P)", "P", lambda: _dic().assemble_patches(np.ones((3, 9)), [(0, 0)], (8, 8), 4)),
    ("dct_dictionary(np.int64)", "accept", lambda: _dic().dct_dictionary(I64(4), I64(2))),
    ("dct_dictionary(0)", "n", lambda: _dic().dct_dictionary(0)),
    ("dct_dictionary(ndim=4)", "ndim", lambda: _dic().dct_dictionary(4, 4)),
    ("polar(NaN)", "G", lambda: _dic().polar(np.full((3, 3), NAN))),
    ("polar(1-D)", "G", lambda: _dic().polar(np.ones(3))),
    ("radial_angles(np.int64)", "accept", lambda: _traj().radial_angles(I64(8))),
    ("radial_angles(0)", "n_spokes", lambda: _traj().radial_angles(0)),
    ("radial_angles(golden='no')", "golden", lambda: _traj().radial_angles(8, golden="no")),
    ("golden_subset(np.int64)", "accept", lambda: _spk().golden_subset(I64(16), I64(4))),
    ("golden_subset(5 of 4)", "n_select", lambda: _spk().golden_subset(4, 5)),
    ("uniform_subset(0)", "n_select", lambda: _spk().uniform_subset(8, 0)),
    ("uniform_subset(np.int64)", "accept", lambda: _spk().uniform_subset(I64(16), I64(4))),
    ("spoke_measure(ndarray)", "A", lambda: _spk().spoke_measure(np.eye(3))),
    ("UnrolledRadial(ndarray A)", "A", lambda: _spk().UnrolledRadial(np.eye(3), np.ones(3))),
    (
        "train_spoke_selection(NaN)",
        "images",
        lambda: _spk().train_spoke_selection(np.full((2, 8, 8), NAN), 8, 2, epochs=1),
    ),
    (
        "train_spoke_selection(empty)",
        "images",
        lambda: _spk().train_spoke_selection(np.ones((0, 8, 8)), 8, 2, epochs=1),
    ),
    ("FGP(lam=-1)", "lam", lambda: _fgp(lam=-1.0)),
    ("FGP(G=ndarray)", "G", lambda: _fgp(G=np.eye(3))),
    ("tv_value(stack_axis=5)", "stack_axis", lambda: _tvv(stack_axis=5)),
    ("tv_value(isotropic='x')", "isotropic", lambda: _tvv(isotropic="x")),
    ("reconstruct(ndarray A)", "accept", lambda: __import__("csbox").reconstruct(np.eye(3), np.ones(3))),
    (
        "reconstruct(solver='x')",
        "solver",
        lambda: __import__("csbox").reconstruct(_op().Identity(3), np.ones(3), solver="x"),
    ),
    ("reconstruct(NaN y)", "y", lambda: __import__("csbox").reconstruct(_op().Identity(3), np.full(3, NAN))),
    (
        "reconstruct(bool y)",
        "y|accept",
        lambda: __import__("csbox").reconstruct(_op().Identity(3), np.ones(3, bool)),
    ),
    (
        "reconstruct(penalties='l1')",
        "penalties",
        lambda: __import__("csbox").reconstruct(_op().Identity(3), np.ones(3), "l1"),
    ),
    ("DPSSampler(np.int64)", "accept", lambda: _dps().DPSSampler(I64(16), I64(4))),
    ("DPSSampler(seed=-1)", "seed", lambda: _dps().DPSSampler(16, 4, seed=-1)),
    ("DPSSampler(shape mismatch)", "shape", lambda: _dps().DPSSampler(16, 4, shape=(3, 3))),
    ("save_mask(NaN)", "mask", lambda: _dps().save_mask(_tmp() / "m.npz", np.full(4, NAN))),
    ("save_mask(empty)", "mask", lambda: _dps().save_mask(_tmp() / "m.npz", np.ones(0, bool))),
    ("load_mask(missing)", "m.npz|path", lambda: _dps().load_mask(_tmp() / "m.npz")),
    ("load_mask(shape mismatch)", "shape", lambda: _load_mask_shape()),
    ("evaluate(NaN images)", "images", lambda: _evaluate(np.full((2, 8), NAN))),
    ("evaluate(empty images)", "images", lambda: _evaluate(np.ones((0, 8)))),
    ("evaluate(batch_size=0)", "batch_size", lambda: _evaluate(np.ones((2, 8)), batch_size=0)),
    ("UnrolledISTA(np.int64)", "accept", lambda: _un().UnrolledISTA((I64(8),), I64(2))),
    ("UnrolledISTA(cnn_width=-1)", "cnn_width", lambda: _un().UnrolledISTA((8,), 2, cnn_width=-1)),
    ("ResidualCNN(0)", "width", lambda: _un().ResidualCNN(0)),
    ("ResidualCNN(np.int64)", "accept", lambda: _un().ResidualCNN(I64(4))),
    (
        "sparse_wht_signal(np.int64)",
        "accept",
        lambda: __import__("csbox.sparse_wht").sparse_wht.sparse_wht_signal(I64(6), I64(3)),
    ),
    (
        "sparse_wht_signal(k > 2**n)",
        "n_nonzero",
        lambda: __import__("csbox.sparse_wht").sparse_wht.sparse_wht_signal(2, 5),
    ),
    (
        "sparse_wht_signal(n=0)",
        "n",
        lambda: __import__("csbox.sparse_wht").sparse_wht.sparse_wht_signal(0, 1),
    ),
    (
        "sparse_wht_signal(seed=-1)",
        "seed",
        lambda: __import__("csbox.sparse_wht").sparse_wht.sparse_wht_signal(4, 2, seed=-1),
    ),
]


def _traj() -> Any:
    import csbox.mri.trajectories as t

    return t


def _un() -> Any:
    import csbox.sampling.unrolled as u

    return u


def _fgp(**kw: Any) -> Any:
    from csbox.operators import Gradient
    from csbox.penalties import FGP

    args = {"b": np.ones((4, 4)), "lam": 0.1, "G": Gradient((4, 4)), "isotropic": True, "q0": None}
    args.update(kw)
    return FGP(**args)


def _tvv(**kw: Any) -> Any:
    from csbox.penalties import tv_value

    args = {"Dx": np.ones((2, 4, 4)), "isotropic": True, "stack_axis": 0}
    args.update(kw)
    return tv_value(**args)


def _load_mask_shape() -> Any:
    p = _tmp() / "m.npz"
    _dps().save_mask(p, np.ones(4, bool))
    return _dps().load_mask(p, shape=(3,))


def _evaluate(images: np.ndarray, **kw: Any) -> Any:
    d = _dps()
    return d.evaluate(_un().UnrolledISTA((8,), 1), images, np.ones(8, bool), **kw)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--family", default=None)
    p.add_argument("--timeout", type=int, default=20)
    args = p.parse_args()
    from . import sweep_bad_input_core as me  # run as __main__, the module object differs

    total: Counter = Counter()
    for family, cases in me.CASES.items():
        if args.family and family != args.family:
            continue
        counts: Counter = Counter()
        for label, arg, fn in cases:
            outcome, detail = classify(arg, fn, timeout=args.timeout)
            counts[outcome] += 1
            if args.verbose or outcome in ("silent", "hang", "obscure"):
                print(f"  [{outcome:8s}] {family}: {label}: {detail}")
        total += counts
        print(
            f"{family:12s} {len(cases):3d} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
    print(
        f"{'all':12s} {sum(total.values()):3d} cases: "
        + ", ".join(f"{k} {v}" for k, v in sorted(total.items()))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
