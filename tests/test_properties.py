"""Property-based tests (Hypothesis) of the front door (xai.explain) and the metrics: random
shapes, dtypes, non-finite values, targets and batch sizes on tiny models. Every input either
works -- finite float32 of the documented shape -- or gets a ValueError / TypeError; never a
TensorFlow error, another exception, or a silent NaN. Bounded and derandomised for CI."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import xai  # noqa: E402

from helpers import conv1d_net, gap_net  # noqa: E402

BOUNDED = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CHEAP = {"smooth_gradcam++": {"n": 2}, "smoothgrad": {"n": 2}, "integrated_gradients":
         {"steps": 4}, "rise": {"n_masks": 4}, "scorecam": {}, "sise": {},
         "opticam": {"iterations": 3}}
MODELS = {}


def _model(kind):
    if kind not in MODELS:
        MODELS[kind] = gap_net(size=8, classes=3) if kind == "2d" else conv1d_net(length=12)
    return MODELS[kind]


FAULTS = ["none"] * 8 + ["size", "channels", "rank", "empty", "nan", "inf", "-inf",
                        "target", "batch_size", "zeros", "huge"]


@st.composite
def cases(draw):
    """(kind, x, target, batch_size) with at most one fault: x of a wrong rank, size, channel
    count or empty, NaN or ±inf at a drawn place, all zeros or huge, a bad target or batch
    size."""
    fault = draw(st.sampled_from(FAULTS))
    kind = draw(st.sampled_from(["2d", "1d"]))
    n = draw(st.integers(1, 3))
    shape = [n, 8, 8, 3] if kind == "2d" else [n, 12, 1]
    if fault == "size":
        shape[1] += draw(st.sampled_from([-3, 2]))
    elif fault == "channels":
        shape[-1] += 1
    elif fault == "rank":
        shape = shape[1:]
    elif fault == "empty":
        shape[0] = 0
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16, np.uint8, np.int64]))
    x = (np.random.default_rng(draw(st.integers(0, 2 ** 16))).random(shape) * 4).astype(dtype)
    if fault == "zeros":  # a constant input: zero gradients, constant maps
        x = np.zeros_like(x)
    elif fault == "huge":  # finite, but its logits overflow float32
        x = x.astype(np.float32) * np.float32(1e37)
    elif fault in ("nan", "inf", "-inf"):
        x = x.astype(np.float32)
        x.reshape(-1)[draw(st.integers(0, x.size - 1))] = float(fault)
    target = draw(st.one_of(st.none(), st.integers(0, 2),
                            st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    if fault == "target":
        target = draw(st.one_of(st.integers(-2, 4), st.lists(st.integers(-1, 3), max_size=4),
                                st.sampled_from(["tabby", "1", 1.5, True, [[0]]])))
    batch_size = draw(st.sampled_from([64, 1, 2]))
    if fault == "batch_size":
        batch_size = draw(st.sampled_from([0, -1, 1.5, True, "8"]))
    return kind, x, target, batch_size


def _check(call, expected_shape):
    try:
        out = call()
    except (ValueError, TypeError) as exc:
        assert type(exc).__module__.split(".")[0] in ("builtins", "xai"), repr(exc)
        assert str(exc).strip(), "an error with no message"
        hypothesis.event("refused: " + str(exc)[:60])
        return None
    hypothesis.event("worked")
    out = out[0] if isinstance(out, tuple) else out
    assert isinstance(out, np.ndarray) and out.dtype == np.float32, type(out)
    assert out.shape == expected_shape, (out.shape, expected_shape)
    assert np.isfinite(out).all(), "a silent NaN or inf"
    return out


@BOUNDED
@given(case=cases(), method=st.sampled_from(list(xai.METHODS)))
def test_explain_works_or_says_why(case, method):
    kind, x, target, batch_size = case
    options = dict(CHEAP.get(method, {}))
    if "batch_size" in xai.METHODS[method].options():
        options["batch_size"] = batch_size
    if "progress" in xai.METHODS[method].options():
        options["progress"] = False
    returns = xai.METHODS[method].returns
    expected = x.shape[:-1] if returns == "map" else x.shape
    out = _check(lambda: xai.explain(_model(kind), x, method=method, target=target, **options),
                 expected)
    if out is not None and returns == "map":
        assert out.min() >= 0 and out.max() <= 1 + 1e-6


@st.composite
def maps_for(draw, x):
    """Maps for x: its spatial shape or its own shape (attributions), random, signed or
    constant; or at most one fault: a wrong shape, a NaN or an inf."""
    fault = draw(st.sampled_from(["none"] * 6 + ["shape", "nan", "inf"]))
    shape = draw(st.sampled_from([x.shape[:-1], x.shape]))
    if fault == "shape":
        shape = draw(st.sampled_from([x.shape[1:-1], (x.shape[0], 5, 5), (x.shape[0] + 1, 8, 8)]))
    m = np.random.default_rng(draw(st.integers(0, 999))).random(shape).astype(np.float32)
    m = m - draw(st.sampled_from([0.0, 0.5])) if draw(st.booleans()) else np.full_like(m, 0.3)
    if fault in ("nan", "inf"):
        m.reshape(-1)[draw(st.integers(0, m.size - 1))] = float(fault)
    return m


@BOUNDED
@given(data=st.data(), metric=st.sampled_from(["deletion", "insertion", "drop_increase",
                                               "mufidelity"]), case=cases())
def test_metrics_work_or_say_why(data, metric, case):
    _, x, target, batch_size = case
    if x.ndim != 4 or x.shape[1:] != (8, 8, 3):  # the metrics' own input checks: 2-D model
        x = np.random.default_rng(1).random((len(x) or 1, 8, 8, 3)).astype(x.dtype)
    maps = data.draw(maps_for(x))
    model = _model("2d")
    common = {"target": target, "batch_size": batch_size}
    if metric == "deletion":
        call = lambda: xai.metrics.deletion_auc(model, x, maps, steps=4, **common)  # noqa: E731
    elif metric == "insertion":
        call = lambda: xai.metrics.insertion_auc(model, x, maps, steps=4, **common)  # noqa: E731
    elif metric == "drop_increase":
        call = lambda: xai.metrics.drop_increase(model, x, maps, keep=0.5,  # noqa: E731
                                                 per_sample=True, **common)
    else:
        call = lambda: xai.metrics.mufidelity(model, x, maps, grid=4, n_subsets=8,  # noqa: E731
                                              **common)
    try:
        out = call()
    except (ValueError, TypeError) as exc:
        assert type(exc).__module__.split(".")[0] in ("builtins", "xai"), repr(exc)
        hypothesis.event("refused: " + str(exc)[:60])
        return
    hypothesis.event("worked")
    values = np.concatenate([np.ravel(np.asarray(v, np.float64)) for v in
                             (out.values() if isinstance(out, dict) else [out])])
    assert np.isfinite(values).all(), f"{metric} gave {out}"
