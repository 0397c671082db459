"""Each loss directly, and the losses against each other (as optax's tests do).

The Python API computes through the same engine as the command line; these tests hold the
losses to each other where PyTorch's definitions say they agree, and to hand-computed
values where they stand alone.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import bcecli
from bcecli.errors import BceError
from bcecli.losses import API, LOSSES
from bcecli.losses.bce import bce_terms
from bcecli.losses.bce_logits import bce_logits_terms
from bcecli.losses.cross_entropy import ce_index_terms, ce_prob_terms
from bcecli.losses.nll import nll_terms
from bcecli.losses.numerics import log_softmax, sigmoid

RNG = np.random.default_rng(31)
X = RNG.normal(scale=2, size=(9, 4))
Y = (RNG.random((9, 4)) < 0.5).astype(float)
IDX = RNG.integers(0, 4, 9)
W = np.array([0.5, 2.0, 1.0, 3.0])


# ------------------------------------------------------------------ the terms, by hand

def test_bce_terms_by_hand() -> None:
    p, y = np.array([0.9, 0.2, 0.0, 1.0]), np.array([1.0, 0.3, 1.0, 1.0])
    want = [-math.log(0.9), -(0.3 * math.log(0.2) + 0.7 * math.log(0.8)), 100.0, 0.0]
    assert bce_terms(p, y).tolist() == pytest.approx(want, rel=1e-15)
    assert bce_terms(p, y, np.array([2.0])).tolist() == pytest.approx(
        [2 * v for v in want], rel=1e-15)


def test_bce_logits_terms_by_hand() -> None:
    x, y, pw = np.array([1.5, -2.0]), np.array([1.0, 0.25]), np.array([3.0, 2.0])
    ls = [math.log(1 / (1 + math.exp(-v))) for v in x]
    want = [(1 - y[i]) * x[i] - (1 + (pw[i] - 1) * y[i]) * ls[i] for i in range(2)]
    assert bce_logits_terms(x, y, pos_weight=pw).tolist() == pytest.approx(want, rel=1e-15)


def test_ce_terms_by_hand() -> None:
    x = np.array([[2.0, 0.5, -1.0]])
    lse = math.log(sum(math.exp(v) for v in x[0]))
    t = ce_index_terms(x, np.array([1]), W[:3], label_smoothing=0.3)
    nll = [lse - v for v in x[0]]
    want = 0.7 * 2.0 * nll[1] + 0.1 * sum(w * n for w, n in zip(W[:3], nll, strict=True))
    assert t.values.tolist() == pytest.approx([want], rel=1e-14)
    assert t.denominators is not None and t.denominators.tolist() == [2.0]
    probs = ce_prob_terms(x, np.array([[0.2, 0.8, 0.0]]))
    assert probs.values.tolist() == pytest.approx([0.2 * nll[0] + 0.8 * nll[1]], rel=1e-14)


def test_nll_terms_by_hand() -> None:
    t = nll_terms(np.array([[-0.5, 1.5, 3.0], [2.0, 0.0, -7.0]]), np.array([1, 2]), W[:3])
    assert t.values.tolist() == [-3.0, 7.0]
    assert t.denominators is not None and t.denominators.tolist() == [2.0, 1.0]


# ------------------------------------------------------------------ losses against each other

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ce_with_one_hot_probabilities_equals_ce_with_indices(reduction: str) -> None:
    one_hot = np.eye(4)[IDX]
    a = bcecli.ce(X, IDX, reduction=reduction)
    b = bcecli.ce(X, one_hot, reduction=reduction)
    assert np.allclose(a.terms, b.terms, rtol=1e-14, atol=0)
    assert np.allclose(a.loss, b.loss, rtol=1e-14, atol=0)


def test_ce_with_one_hot_and_smoothing_equals_smoothed_indices() -> None:
    a = bcecli.ce(X, IDX, label_smoothing=0.2)
    b = bcecli.ce(X, np.eye(4)[IDX], label_smoothing=0.2)
    assert a.loss == pytest.approx(b.loss, rel=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_logits_equals_bce_of_sigmoid(reduction: str) -> None:
    x = np.clip(X, -8, 8)  # away from saturation, where σ(x) keeps its precision
    a = bcecli.bce_logits(x, Y, reduction=reduction)
    b = bcecli.bce(sigmoid(x), Y, reduction=reduction)
    c = bcecli.bce(x, Y, sigmoid=True, reduction=reduction)
    assert np.allclose(a.terms, b.terms, rtol=1e-12) and np.array_equal(b.terms, c.terms)
    assert np.allclose(a.loss, b.loss, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_of_log_softmax_equals_ce(weighted: bool, reduction: str) -> None:
    idx = IDX.copy()
    idx[[1, 5]] = 2
    w = W if weighted else None
    lsm = log_softmax(X).log_probs
    a = bcecli.nll(lsm, idx, weight=w, ignore_index=2, reduction=reduction)
    b = bcecli.ce(X, idx, weight=w, ignore_index=2, reduction=reduction)
    assert np.allclose(a.terms, b.terms, rtol=1e-14, atol=0)
    assert np.allclose(a.loss, b.loss, rtol=1e-14, atol=0)


def test_k_dimensional_nll_of_log_softmax_equals_ce() -> None:
    x = RNG.normal(size=(3, 5, 4, 2))
    t = RNG.integers(0, 5, (3, 4, 2))
    lsm = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    assert bcecli.nll(lsm, t).loss == pytest.approx(bcecli.ce(x, t).loss, rel=1e-14)


@pytest.mark.parametrize(("name", "extra"), [
    ("bce", {}), ("bce_logits", {"pos_weight": np.ones(4)}), ("ce", {}), ("nll", {}),
])
def test_weights_of_one_change_nothing(name: str, extra: dict[str, object]) -> None:
    fn = API[name]
    x = sigmoid(X) if name == "bce" else X
    t = IDX if name in ("ce", "nll") else Y
    plain = fn(x, t, reduction="none")
    weighted = fn(x, t, weight=np.ones(4), reduction="none", **extra)
    assert np.array_equal(plain.terms, weighted.terms)
    assert fn(x, t).loss == fn(x, t, weight=np.ones(4), **extra).loss


# ------------------------------------------------------------------ the Python API

def test_api_functions_take_the_options_of_their_command() -> None:
    for name, loss in LOSSES.items():
        fn = API[loss.api_name]
        params = inspect.signature(fn).parameters
        assert list(params)[:2] == ["input", "target"], name
        keywords = {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
        assert keywords == {p.name for p in loss.params} | {"reduction", "dtype"}, name
        for p in loss.params:
            assert params[p.name].default == p.default, (name, p.name)
        assert fn.__doc__ and loss.help.formula[0] in fn.__doc__


def test_api_result() -> None:
    r = bcecli.bce([[0.9, 0.1, 0.3], [0.4, 0.8, 0.2]], [[1, 0, 0], [0, 1, 0]])
    assert r.loss == pytest.approx(0.2540847836081325, rel=1e-15)
    assert r.terms.shape == (2, 3) and r.row_means.shape == (2,)
    assert r.row_means.mean() == pytest.approx(r.loss, rel=1e-15)
    assert r.warnings == []
    none = bcecli.bce([[0.9, 0.1]], [[1, 0]], reduction="none")
    assert np.array_equal(none.loss, none.terms)
    assert "bce mean=0.2540847836081325" in repr(r)


def test_api_result_shows_the_cli_table() -> None:
    from typer.testing import CliRunner

    from bcecli.cli import app

    x, t = "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]", "[0, 2]"
    cli = CliRunner().invoke(app, ["ce", "-i", x, "-t", t], env={"COLUMNS": "80"})
    r = bcecli.ce(np.array(eval(x)), np.array(eval(t)))
    assert r.table(width=80) == cli.stdout
    bundle = r._repr_mimebundle_()
    assert "CrossEntropyLoss" in bundle["text/html"] and bundle["text/plain"] == str(r)
    assert "0.1755" in bundle["text/html"]


def test_api_explain() -> None:
    r = bcecli.bce([[-0.4089, -1.2471, 0.5907]], [[0, 1, 1]], sigmoid=True)
    assert "0 × ln 0.3992 + (1 − 0) × ln(1 − 0.3992) = −0.5095" in r.explain()


def test_api_errors_are_bce_errors() -> None:
    with pytest.raises(BceError, match=r"shape mismatch"):
        bcecli.bce([[0.5, 0.5]], [[1, 0, 0]])
    with pytest.raises(BceError, match=r"input\[0, 1\]: input value 1.5 is outside \[0, 1\]"):
        bcecli.bce([[0.5, 1.5]], [[1, 0]])
    with pytest.raises(BceError, match="not an array of numbers"):
        bcecli.ce([["a", "b"]], [0])
    with pytest.raises(BceError, match="label-smoothing"):
        bcecli.ce([[1.0, 2.0]], [0], label_smoothing=2.0)


CE_X, CE_T = [[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], [0, 2]
CE_MEAN, CE_MEAN32 = 0.17545638058931123, 0.17545640468597412  # torch, float64 and float32


@pytest.mark.parametrize("value", ["Sum", "MEAN", "bogus", None, 1, ""])
def test_api_refuses_an_unknown_reduction(value: object) -> None:
    """torch: ValueError 'Sum is not a valid value for reduction'; it used to be a mean."""
    with pytest.raises(BceError, match="reduction must be 'mean', 'sum' or 'none'; got"):
        bcecli.ce(CE_X, CE_T, reduction=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "want"), [
    ("float64", CE_MEAN), (np.float64, CE_MEAN), (np.dtype("float64"), CE_MEAN),
    ("float32", CE_MEAN32), (np.float32, CE_MEAN32), (np.dtype("float32"), CE_MEAN32),
    ("torch.float32", CE_MEAN32), ("torch.float64", CE_MEAN),
])
def test_api_dtypes_are_taken_as_given(value: object, want: float) -> None:
    """np.float64 used to compute in float32 (anything but the text 'float64' did)."""
    r = bcecli.ce(CE_X, CE_T, dtype=value)  # type: ignore[arg-type]
    assert r.loss == want
    assert r.outcome.options.dtype == ("float64" if want == CE_MEAN else "float32")


@pytest.mark.parametrize(("value", "shown"), [
    ("float16", "float64 or float32 only"), (np.float16, "float64 or float32 only"),
    ("float", "float64 in numpy but float32 in PyTorch"), (float, "say which"),
    ("double", "got 'double'"), (np.int64, "got <class"), (None, "got None"),
])
def test_api_refuses_other_dtypes(value: object, shown: str) -> None:
    with pytest.raises(BceError, match="dtype must be 'float64' or 'float32'") as info:
        bcecli.ce(CE_X, CE_T, dtype=value)  # type: ignore[arg-type]
    assert shown in str(info.value)


@pytest.mark.parametrize("value", ["2", 1.5, 2.0, None, True, np.array([2])])
def test_api_ignore_index_must_be_an_integer(value: object) -> None:
    """torch: 'ignore_index must be int, not float' (and not bool); '2' used to ignore
    nothing."""
    with pytest.raises(BceError, match="ignore_index must be an integer; got"):
        bcecli.ce(CE_X, CE_T, ignore_index=value)  # type: ignore[arg-type]
    assert bcecli.ce(CE_X, CE_T, ignore_index=np.int64(2)).loss == 0.24131129665715703


@pytest.mark.parametrize("value", ["0.1", None, np.array([0.1, 0.2]), True, [0.1], 10**400])
def test_api_label_smoothing_must_be_a_number(value: object) -> None:
    """These were a TypeError, a ValueError or an OverflowError."""
    with pytest.raises(BceError, match="label_smoothing must be a number; got"):
        bcecli.ce(CE_X, CE_T, label_smoothing=value)  # type: ignore[arg-type]
    assert bcecli.ce(CE_X, CE_T, label_smoothing=1).loss == 1.875456380589311  # torch's


def test_api_sigmoid_must_be_a_bool() -> None:
    with pytest.raises(BceError, match="sigmoid must be True or False; got 'yes'"):
        bcecli.bce([[0.5]], [[1.0]], sigmoid="yes")  # type: ignore[arg-type]
    assert bcecli.bce([[0.0]], [[1.0]], sigmoid=np.True_).loss == pytest.approx(math.log(2))


def test_api_unknown_keywords_name_the_valid_ones() -> None:
    with pytest.raises(BceError, match=r"ce\(input, target, \.\.\.\): unknown option 'foo'; its "
                       r"options are weight, ignore_index, label_smoothing, reduction, dtype"):
        bcecli.ce(CE_X, CE_T, foo=1)  # type: ignore[call-arg]
    with pytest.raises(BceError, match="unknown option 'pos_weight'"):
        bcecli.bce([[0.5]], [[1.0]], pos_weight=[2.0])  # type: ignore[call-arg]
    with pytest.raises(BceError, match="missing a required argument: 'target'"):
        bcecli.nll(CE_X)  # type: ignore[call-arg]


@pytest.mark.parametrize(("args", "shown"), [
    (([10**400, 0], [1, 0]), r"input\[0\]: input value 100000000… \(401 digits\) is beyond"),
    (([0.5, 0.5], [-10**400, 0]), r"target\[0\]: target value -10000000… \(401 digits\)"),
    ((np.ma.array([.5, .7], mask=[0, 1]), [1, 1]), r"input: a masked array with 1 of 2 values"),
    (([0.5, 0.7], np.ma.array([1, 1], mask=[1, 1])), r"target: a masked array with 2 of 2"),
    ((["0.5", "0.7"], [1, 1]), r"input: not an array of numbers: it holds text"),
    (([0.5, 0.7], [1, "1"]), r"target: not an array of numbers: it holds text"),
    ((np.array([0.5, "0.7"], dtype=object), [1, 1]), r"input\[1\]: '0.7' is not a number"),
    (([0.5, 0.7j], [1, 1]), r"input: .* complex numbers"),
    ((None, [1, 1]), r"input: None is not an array of numbers"),
    (([0.5, None], [1, 1]), r"input\[1\]: None is not a number"),
    ((np.array(["2020-01-01"], dtype="datetime64[D]"), [1]), r"input: not an array of numbers"),
])
def test_api_arrays_are_numbers_or_refused(args: tuple[object, object], shown: str) -> None:
    """An OverflowError, a mask dropped, text read as numbers: now each a BceError."""
    with pytest.raises(BceError, match=shown):
        bcecli.bce(*args)  # type: ignore[arg-type]


def test_api_arrays_that_are_numbers_are_read_as_they_are() -> None:
    from fractions import Fraction

    want = 0.5249110622493389  # torch: BCELoss()([0.5, 0.7], [1, 1])
    assert bcecli.bce(np.ma.array([.5, .7], mask=[0, 0]), [1, 1]).loss == want  # none masked
    assert bcecli.bce(np.array([Fraction(1, 2), 0.7], dtype=object), [True, True]).loss == want
    assert bcecli.bce([0.5, 0.7], np.array([1, 1], dtype=np.uint64)).loss == want


@pytest.mark.parametrize(("option", "value", "shown"), [
    ("weight", "abc", "weight: not an array of numbers: it holds text"),
    ("weight", {"a": 1}, "weight: {'a': 1} is not a number"),
    ("weight", object(), "weight: <object object"),
    ("weight", [[1], [2, 3]], "weight: not an array of numbers"),
    ("weight", [1j, 1, 1], "weight: .* complex"),
    ("weight", np.ma.array([1, 2, 3], mask=[0, 0, 1]), "weight: a masked array"),
    ("weight", [1e400, 1, 1], r"weight\[0\]: weight value inf is not a finite number"),
    ("pos_weight", "2", "pos_weight: not an array of numbers: it holds text"),
    ("pos_weight", [10**309], r"pos_weight\[0\]: pos_weight value 100000000… \(310 digits\)"),
])
def test_api_weights_are_numbers_or_refused(option: str, value: object, shown: str) -> None:
    """pos_weight='2' used to be read as the number 2."""
    fn = bcecli.bce_logits if option == "pos_weight" else bcecli.ce
    x, t = ([[1.0, 2.0, 3.0]], [[1.0, 0.0, 1.0]]) if option == "pos_weight" else (CE_X, CE_T)
    with pytest.raises(BceError, match=shown):
        fn(x, t, **{option: value})


@pytest.mark.parametrize("make", [
    lambda: bcecli.ce([[1e308, -1e308]], [0]),
    lambda: bcecli.ce([[1e308, -1e308]], [[0.5, 0.5]], label_smoothing=0.1),
    lambda: bcecli.ce([[3e38, -3e38]], [1], dtype="float32", weight=[1.0, 2.0]),
    lambda: bcecli.bce_logits([[1e308, -1e308]], [[1, 0]]),
    lambda: bcecli.bce([[1e308, -1e308]], [[1, 0]], sigmoid=True),
])
def test_api_results_render_without_numpy_warnings(make) -> None:  # noqa: ANN001
    """x − max(x) overflows in log_softmax (as in torch: −inf): printing the result, or its
    explanation, wrote 'RuntimeWarning: overflow encountered in subtract'."""
    import io
    import warnings

    from rich.console import Console

    r = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "mean" in str(r)
        assert "Loss:" in r.explain()
        assert "text/html" in r._repr_mimebundle_()
        Console(file=io.StringIO(), width=100).print(r)
        assert r.grad.shape == r.outcome.input_shape
    assert bcecli.ce([[1e308, -1e308]], [0]).loss == 0.0  # torch: 0.0 (and inf for [1])
    assert bcecli.ce([[1e308, -1e308]], [1]).loss == math.inf


def test_package_exports_every_registered_loss() -> None:
    for name in API:
        assert getattr(bcecli, name) is API[name]
        assert name in dir(bcecli)
    with pytest.raises(AttributeError):
        bcecli.__getattr__("nope")
