"""Data terms (LeastSquares, WeightedLeastSquares, ResidualBall) against dense NumPy algebra."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csbox.backend import array_namespace, to_numpy
from csbox.penalties import LeastSquares, ResidualBall, WeightedLeastSquares


def _cplx(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _terms(rng, shape):
    w = rng.random(shape) * 3.0
    w.flat[0] = 0.0  # a zero weight ignores that sample
    return {"ls": (LeastSquares(), np.ones(shape)), "wls": (WeightedLeastSquares(w), w)}


@pytest.mark.parametrize("name", ["ls", "wls"])
def test_value_and_gradient_match_dense_algebra(name):
    rng = np.random.default_rng(0)
    shape = (3, 7)
    f, w = _terms(rng, shape)[name]
    f = f.bind(np.zeros(shape, complex), 1)
    v, y, d = _cplx(rng, *shape), _cplx(rng, *shape), _cplx(rng, *shape)
    assert float(f.value(v, y)) == pytest.approx(0.5 * np.sum(w * np.abs(v - y) ** 2), rel=1e-13)
    # the gradient w.r.t. v (real inner product Re<g, d>) by central differences: f is quadratic,
    # so the central difference is exact up to rounding of f (~1e-16 |f| / h)
    h = 1e-4
    fd = (float(f.value(v + h * d, y)) - float(f.value(v - h * d, y))) / (2 * h)
    assert np.real(np.vdot(f.grad(v, y), d)) == pytest.approx(fd, rel=1e-9)
    # Lipschitz factor: ||grad(a) - grad(b)|| <= L ||a - b||, attained by a difference on the max weight
    a, b = _cplx(rng, *shape), _cplx(rng, *shape)
    L = f.lipschitz
    assert np.linalg.norm(f.grad(a, y) - f.grad(b, y)) <= L * np.linalg.norm(a - b) * (1 + 1e-12)
    e = np.zeros(shape)
    e.flat[np.argmax(w)] = 1.0
    assert np.linalg.norm(f.grad(y + e, y)) == pytest.approx(L)


@pytest.mark.parametrize("name", ["ls", "wls"])
@pytest.mark.parametrize("step", [0.3, 2.0])
def test_prox_is_the_minimiser(name, step):
    """prox(v) = argmin_u 0.5||u - v||^2 + s f(u): the optimality condition u - v + s grad f(u) = 0,
    and no perturbed point does better (the objective is strongly convex)."""
    rng = np.random.default_rng(1)
    shape = (4, 5)
    f, _ = _terms(rng, shape)[name]
    f = f.bind(np.zeros(shape), 1)
    v, y = _cplx(rng, *shape), _cplx(rng, *shape)
    u = f.prox(v, y, step)
    np.testing.assert_allclose(u - v + step * f.grad(u, y), 0.0, atol=1e-12)

    def obj(p):
        return 0.5 * np.sum(np.abs(p - v) ** 2) + step * float(f.value(p, y))

    for _ in range(20):
        assert obj(u) <= obj(u + 1e-3 * _cplx(rng, *shape))


def test_residual_ball_value_and_projection_optimality():
    """proj onto {u : ||u - y|| <= eps}: inside the ball, fixed on inside points, and the
    variational inequality Re<v - p, q - p> <= 0 for every q in the ball (its characterisation)."""
    rng = np.random.default_rng(2)
    y, v = _cplx(rng, 12), _cplx(rng, 12)
    eps = 0.5 * np.linalg.norm(v - y)
    ball = ResidualBall(eps).bind(y, 1)
    p = ball.prox(v, y, 1.0)
    assert np.linalg.norm(p - y) == pytest.approx(eps, rel=1e-14)
    assert float(ball.value(p, y)) == 0.0 and float(ball.value(v, y)) == np.inf
    inside = y + 0.3 * eps * (v - y) / np.linalg.norm(v - y)
    np.testing.assert_allclose(ball.prox(inside, y, 7.0), inside)  # independent of the step
    for _ in range(50):
        d = _cplx(rng, 12)
        q = y + eps * rng.random() * d / np.linalg.norm(d)
        assert np.real(np.vdot(v - p, q - p)) <= 1e-12
    assert float(ball.distance(v, y)) == pytest.approx(np.linalg.norm(v - y) - eps)


def test_residual_ball_is_per_problem_in_a_batch():
    rng = np.random.default_rng(3)
    y, v = _cplx(rng, 3, 8), _cplx(rng, 3, 8)
    v[1] = y[1] + 1e-3  # inside the ball: left alone
    ball = ResidualBall(0.2).bind(y, 1)
    p = ball.prox(v, y, 1.0)
    for b in range(3):
        one = ResidualBall(0.2).bind(y[b], 1).prox(v[b], y[b], 1.0)
        np.testing.assert_allclose(p[b], one, atol=1e-15)
    np.testing.assert_allclose(p[1], v[1])


@given(st.floats(0.0, 5.0), st.integers(0, 2**31 - 1))
def test_projection_is_idempotent_and_feasible(eps, seed):
    rng = np.random.default_rng(seed)
    y, v = rng.standard_normal(6), 3.0 * rng.standard_normal(6)
    ball = ResidualBall(eps).bind(y, 1)
    p = ball.prox(v, y)
    assert np.linalg.norm(p - y) <= eps * (1 + 1e-12) + 1e-15
    np.testing.assert_allclose(ball.prox(p, y), p, atol=1e-12)


def test_weights_broadcast_and_move_to_the_data_namespace(backend):
    rng = np.random.default_rng(4)
    w = rng.random((2, 1)) + 0.5  # per-coil weights on (coils, samples) data
    y = backend.asarray(rng.standard_normal((2, 6)))
    v = backend.asarray(rng.standard_normal((2, 6)))
    f = WeightedLeastSquares(w).bind(y, 1)
    val = f.value(v, y)
    assert array_namespace(val) is array_namespace(y)
    ref = 0.5 * np.sum(w * (to_numpy(v) - to_numpy(y)) ** 2)
    assert float(to_numpy(val)) == pytest.approx(ref, rel=1e-5 if backend.single else 1e-13)


def test_bad_input():
    with pytest.raises(ValueError, match="weights"):
        WeightedLeastSquares(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="weights"):
        WeightedLeastSquares(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="zero"):
        WeightedLeastSquares(np.zeros(3))
    with pytest.raises(TypeError, match="weights"):
        WeightedLeastSquares("1")
    with pytest.raises(TypeError, match="weights"):
        WeightedLeastSquares(np.ones(3, complex))
    with pytest.raises(ValueError, match="broadcast"):
        WeightedLeastSquares(np.ones(3)).bind(np.ones(4), 1)
    with pytest.raises(ValueError, match="eps"):
        ResidualBall(-1.0)
    with pytest.raises(ValueError, match="not differentiable"):
        ResidualBall(1.0).grad(np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="step"):
        LeastSquares().prox(np.ones(2), np.zeros(2), 0.0)
