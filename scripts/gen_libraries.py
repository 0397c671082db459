#!/usr/bin/env python3
"""Generate tests/golden/libraries/libraries.json: losses as Keras 3, scikit-learn, optax and
torch compute them, for ``bcecli --like LIB``.

Inputs are always in bcecli's torch layout (classes on axis 1).  Each *spec* (one input,
target and set of options) is run through every library that can express it:

- keras (Keras 3, JAX backend): ``BinaryCrossentropy`` (``from_logits=True`` for
  ``bce --sigmoid`` and ``bce-logits``), ``SparseCategoricalCrossentropy(from_logits=True)``
  for class indices (``ignore_class=`` for an ignore index), ``CategoricalCrossentropy(
  from_logits=True)`` for class probabilities and for label-smoothed class indices (on
  one-hot targets); ``sample_weight=`` one per sample; reduction mean -> the default
  "sum_over_batch_size", sum -> "sum", none -> None; the loss is built with ``dtype=``.
  The class axis of ce inputs (and probability targets) is moved last first.
- sklearn: ``log_loss`` on raveled 0/1 targets and probabilities (labels=[0, 1]; a (N,)
  sample weight is repeated over each sample's elements), and for ce with class indices on
  ``scipy.special.softmax(x, axis=1)`` computed in float64 (then cast to the case dtype).
  reduction sum -> normalize=False; no reduction none.
- optax: ``sigmoid_binary_cross_entropy``, ``softmax_cross_entropy_with_integer_labels``,
  ``softmax_cross_entropy`` (+ ``smooth_labels``), reduced by jnp.mean / jnp.sum.
- torch: torch.nn.functional's binary_cross_entropy(_with_logits) / cross_entropy, for
  reference.

float64 keras and optax cases run in a subprocess with ``jax_enable_x64`` on, float32 ones
in a subprocess with it off (JAX's default), so each library sees a fresh process.

How to run it (the generation venv holds torch, keras, jax, optax and scikit-learn)::

    KERAS_BACKEND=jax $GENVENV/bin/python scripts/gen_libraries.py
    KERAS_BACKEND=jax $GENVENV/bin/python scripts/gen_libraries.py --out /tmp/lib.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_golden import enc  # noqa: E402 - the script's directory is on the path only now

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden" / "libraries" / "libraries.json"
SEED = 20_260_517
NP_DTYPE = {"float64": np.float64, "float32": np.float32}


# ----------------------------------------------------------------------------------------
# specs
# ----------------------------------------------------------------------------------------

def default_libs(s: dict[str, Any]) -> list[str]:
    loss, ls, sw, red, ii = s["loss"], s["label_smoothing"], s["sample_weight"], \
        s["reduction"], s["ignore_index"]
    ndim = np.asarray(s["input"]).ndim
    libs = ["keras"]
    if loss == "bce" and not s["sigmoid"]:
        if not ls and red != "none":
            libs.append("sklearn")
        if not ls:
            libs.append("torch")
    elif loss in ("bce", "bce-logits"):
        if not ls and sw is None:
            libs.append("optax")
        if not ls:
            libs.append("torch")
    else:  # ce
        index = s["target_kind"] == "index"
        if sw is None and ii is None:
            libs.append("optax")
        if index and ndim == 2 and not ls and ii is None and red != "none":
            libs.append("sklearn")
        if sw is None:
            libs.append("torch")
    return libs


def build_specs() -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    specs: list[dict[str, Any]] = []

    def r(a: Any, dtype: str) -> Any:
        """Values exactly representable in the case dtype (float64 lists)."""
        return np.asarray(a, dtype=np.float64).astype(NP_DTYPE[dtype]).astype(np.float64).tolist()

    def add(group: str, loss: str, inp: Any, tgt: Any, *, sigmoid: bool = False,
            ls: float = 0.0, sw: Any = None, red: str = "mean", dtype: str = "float32",
            ii: int | None = None, libs: list[str] | None = None, kind: str | None = None,
            extra: dict[str, Any] | None = None) -> None:
        if kind is None:
            kind = "index" if loss == "ce" and np.asarray(tgt).ndim < np.asarray(inp).ndim \
                else ("prob" if loss == "ce" else "binary")
        s = {
            "group": group, "loss": loss, "target_kind": kind,
            "sigmoid": sigmoid, "label_smoothing": ls,
            "sample_weight": None if sw is None else r(sw, dtype),
            "reduction": red, "dtype": dtype, "ignore_index": ii,
            "input": r(inp, dtype),
            "target": (np.asarray(tgt, dtype=np.int64).tolist() if kind == "index"
                       else r(tgt, dtype)),
            "extra": extra or {},
        }
        s["libs"] = libs if libs is not None else default_libs(s)
        specs.append(s)

    DT = ("float32", "float64")
    # ---- bce on probabilities: the clip at the edges, one element each ----
    edges = [(1.0, 0), (0.0, 1), (1.0, 1), (0.0, 0), (1e-8, 1), (1e-8, 0), (1 - 1e-8, 0),
             (1 - 1e-8, 1), (1 - 1e-7, 0), (1e-7, 1), (0.5, 1), (1e-300, 1)]
    for dt in DT:
        for p, y in edges:
            add(f"bce-edge-p{p!r}-y{y}-{dt}", "bce", [[p]], [[y]], dtype=dt)
    # a row mixing edges, and 1-D
    mix_p = [[0.0, 1.0, 0.3, 1e-8], [1 - 1e-7, 0.5, 1.0, 0.0]]
    mix_y = [[0, 1, 1, 1], [0, 1, 0, 1]]
    for dt in DT:
        for red in ("mean", "sum", "none"):
            add(f"bce-edge-mix-{red}-{dt}", "bce", mix_p, mix_y, red=red, dtype=dt)
    # random probabilities with 0/1 targets
    P = rng.uniform(0.02, 0.98, (3, 4))
    Y = rng.integers(0, 2, (3, 4))
    for dt in DT:
        for red in ("mean", "sum", "none"):
            add(f"bce-rand-{red}-{dt}", "bce", P, Y, red=red, dtype=dt)
    # 1-D input (N,)
    p1 = rng.uniform(0.05, 0.95, 5)
    y1 = rng.integers(0, 2, 5)
    for dt in DT:
        for red in ("mean", "sum", "none"):
            add(f"bce-1d-{red}-{dt}", "bce", p1, y1, red=red, dtype=dt)
    for red in ("mean", "sum", "none"):
        add(f"bce-1d-sw-{red}-float32", "bce", p1, y1, sw=[1.0, 2.0, 0.0, 0.5, 3.0], red=red)
    # soft targets (sklearn refuses)
    Ys = rng.uniform(0, 1, (3, 4))
    for dt in DT:
        add(f"bce-soft-{dt}", "bce", P, Ys, dtype=dt)
    add("bce-soft-none-float32", "bce", P, Ys, red="none")
    # out of range probability
    add("bce-p-above-1-float32", "bce", [[1.5, 0.2]], [[1, 0]])
    add("bce-p-below-0-float32", "bce", [[-0.5, 0.2]], [[1, 0]])
    # label smoothing (keras only)
    for ls in (0.1, 0.3):
        for dt in DT:
            add(f"bce-ls{ls}-{dt}", "bce", mix_p, mix_y, ls=ls, dtype=dt)
        add(f"bce-ls{ls}-none-float32", "bce", P, Y, ls=ls, red="none")
        add(f"bce-ls{ls}-sum-float32", "bce", P, Y, ls=ls, red="sum")
    # sample weights
    sws = {"nonuniform": [0.5, 2.0, 1.5], "zeros": [0.0, 1.0, 0.0], "allzero": [0.0, 0.0, 0.0]}
    for name, sw in sws.items():
        for red in ("mean", "sum", "none"):
            add(f"bce-sw-{name}-{red}-float32", "bce", P, Y, sw=sw, red=red)
        add(f"bce-sw-{name}-mean-float64", "bce", P, Y, sw=sw, dtype="float64")
    add("bce-sw-ls0.1-float32", "bce", P, Y, sw=sws["nonuniform"], ls=0.1)
    add("bce-sw-edges-float32", "bce", mix_p, mix_y, sw=[2.0, 0.5])

    # ---- bce --sigmoid and bce-logits ----
    big_x = [[50.0, -50.0, 1e4, -1e4, 0.0], [17.0, -17.0, 100.0, -100.0, 1e-3]]
    big_y = [[0, 1, 0, 1, 1], [1, 0, 1, 0, 0]]
    big_y2 = [[1, 0, 1, 0, 0], [0, 1, 0, 1, 1]]
    X = rng.normal(0, 2.5, (3, 4))
    for dt in DT:
        for red in ("mean", "sum", "none"):
            add(f"bcel-big-wrong-{red}-{dt}", "bce-logits", big_x, big_y, red=red, dtype=dt)
        add(f"bcel-big-right-none-{dt}", "bce-logits", big_x, big_y2, red="none", dtype=dt)
        add(f"bcel-rand-mean-{dt}", "bce-logits", X, Y, dtype=dt)
        add(f"bcel-soft-mean-{dt}", "bce-logits", X, Ys, dtype=dt)
        add(f"bces-big-wrong-mean-{dt}", "bce", big_x, big_y, sigmoid=True, dtype=dt)
        add(f"bces-big-wrong-none-{dt}", "bce", big_x, big_y, sigmoid=True, red="none",
            dtype=dt)
        add(f"bces-rand-mean-{dt}", "bce", X, Ys, sigmoid=True, dtype=dt)
    add("bcel-rand-sum-float32", "bce-logits", X, Ys, red="sum")
    x1 = rng.normal(0, 3, 4)
    for red in ("mean", "sum", "none"):
        add(f"bcel-1d-{red}-float32", "bce-logits", x1, [1, 0, 0, 1], red=red)
    for ls in (0.1, 0.3):
        add(f"bcel-ls{ls}-float32", "bce-logits", X, Y, ls=ls)
        add(f"bcel-ls{ls}-big-none-float32", "bce-logits", big_x, big_y, ls=ls, red="none")
    add("bcel-ls0.1-float64", "bce-logits", X, Y, ls=0.1, dtype="float64")
    add("bces-ls0.1-float32", "bce", X, Y, sigmoid=True, ls=0.1)
    for red in ("mean", "sum", "none"):
        add(f"bcel-sw-{red}-float32", "bce-logits", X, Ys, sw=[0.0, 2.0, 0.5], red=red)
    add("bcel-sw-mean-float64", "bce-logits", X, Ys, sw=[0.0, 2.0, 0.5], dtype="float64")

    # ---- ce, class indices ----
    L = rng.normal(0, 2.0, (4, 3))
    T = np.array([0, 2, 1, 2])
    for dt in DT:
        for red in ("mean", "sum", "none"):
            add(f"ce-idx-{red}-{dt}", "ce", L, T, red=red, dtype=dt)
    Lbig = [[1e4, -1e4, 0.0], [50.0, -50.0, 49.0], [-1e4, 1e4, 1e4]]
    Tbig = [1, 0, 2]
    for dt in DT:
        add(f"ce-idx-big-mean-{dt}", "ce", Lbig, Tbig, dtype=dt)
        add(f"ce-idx-big-none-{dt}", "ce", Lbig, Tbig, red="none", dtype=dt)
    for ls in (0.1, 0.3):
        for red in ("mean", "sum", "none"):
            add(f"ce-idx-ls{ls}-{red}-float32", "ce", L, T, ls=ls, red=red)
        add(f"ce-idx-ls{ls}-mean-float64", "ce", L, T, ls=ls, dtype="float64")
    add("ce-idx-ls0.1-big-none-float32", "ce", Lbig, Tbig, ls=0.1, red="none")
    for name, sw in {"nonuniform": [0.5, 2.0, 1.0, 3.0], "zeros": [0.0, 1.0, 0.0, 2.0],
                     "allzero": [0.0] * 4}.items():
        for red in ("mean", "sum", "none"):
            add(f"ce-idx-sw-{name}-{red}-float32", "ce", L, T, sw=sw, red=red)
    add("ce-idx-sw-nonuniform-mean-float64", "ce", L, T, sw=[0.5, 2.0, 1.0, 3.0],
        dtype="float64")
    add("ce-idx-sw-ls0.1-float32", "ce", L, T, sw=[0.5, 2.0, 1.0, 3.0], ls=0.1)
    # ignore_index (keras ignore_class; torch ignore_index)
    Ti = [0, -100, 1, -100]
    for red in ("mean", "sum", "none"):
        add(f"ce-idx-ign-100-{red}-float32", "ce", L, Ti, ii=-100, red=red)
    add("ce-idx-ign-100-mean-float64", "ce", L, Ti, ii=-100, dtype="float64")
    add("ce-idx-ign-class2-mean-float32", "ce", L, T, ii=2)
    add("ce-idx-ign-all-mean-float32", "ce", L, [-100] * 4, ii=-100)
    add("ce-idx-ign-all-sum-float32", "ce", L, [-100] * 4, ii=-100, red="sum")
    for red in ("mean", "sum"):
        add(f"ce-idx-ign-sw-{red}-float32", "ce", L, Ti, ii=-100, sw=[0.5, 2.0, 1.0, 3.0],
            red=red)
    # one sample (C,) and out-of-range classes
    add("ce-idx-1d-mean-float32", "ce", [0.5, -1.0, 2.0], 2)
    add("ce-idx-1d-none-float32", "ce", [0.5, -1.0, 2.0], 0, red="none")
    add("ce-idx-oob-none-float32", "ce", L[:2], [3, 1], red="none")
    add("ce-idx-neg-none-float32", "ce", L[:2], [-1, 1], red="none")
    # K-dimensional (N, C, d)
    LK = rng.normal(0, 1.5, (2, 3, 4))
    TK = rng.integers(0, 3, (2, 4))
    for red in ("mean", "sum", "none"):
        add(f"ce-kdim-idx-{red}-float32", "ce", LK, TK, red=red)
    add("ce-kdim-idx-mean-float64", "ce", LK, TK, dtype="float64")
    add("ce-kdim-idx-ls0.1-mean-float32", "ce", LK, TK, ls=0.1)
    TKi = TK.copy()
    TKi[0, 1] = -100
    TKi[1, 3] = -100
    add("ce-kdim-idx-ign-mean-float32", "ce", LK, TKi, ii=-100)
    add("ce-kdim-idx-sw-d4-mean-float32", "ce", LK, TK, sw=[0.5, 2.0])
    LK2 = rng.normal(0, 1.5, (2, 3, 2))
    TK2 = rng.integers(0, 3, (2, 2))
    add("ce-kdim-idx-sw-d2eqN-none-float32", "ce", LK2, TK2, sw=[0.5, 2.0], red="none")
    add("ce-kdim-idx-sw-d2eqN-mean-float32", "ce", LK2, TK2, sw=[0.5, 2.0])

    # ---- ce, class probabilities ----
    Lp = rng.normal(0, 2.0, (3, 4))
    Tp = rng.dirichlet(np.ones(4), 3)
    for dt in DT:
        for red in ("mean", "sum", "none"):
            add(f"ce-prob-{red}-{dt}", "ce", Lp, Tp, red=red, dtype=dt)
    for ls in (0.1, 0.3):
        add(f"ce-prob-ls{ls}-mean-float32", "ce", Lp, Tp, ls=ls)
        add(f"ce-prob-ls{ls}-none-float32", "ce", Lp, Tp, ls=ls, red="none")
    add("ce-prob-ls0.1-mean-float64", "ce", Lp, Tp, ls=0.1, dtype="float64")
    add("ce-prob-unnormalised-none-float32", "ce", Lp, [[0.5, 0.2, 0.1, 0.0],
                                                        [2.0, 0.0, 0.0, 0.0],
                                                        [0.25, 0.25, 0.25, 0.25]], red="none")
    add("ce-prob-big-mean-float32", "ce", Lbig, [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5],
                                                 [0.2, 0.3, 0.5]])
    TpK = np.moveaxis(rng.dirichlet(np.ones(3), (2, 4)), -1, 1)
    add("ce-kdim-prob-mean-float32", "ce", LK, TpK)
    add("ce-kdim-prob-none-float32", "ce", LK, TpK, red="none")
    add("ce-kdim-prob-ls0.1-mean-float64", "ce", LK, TpK, ls=0.1, dtype="float64")
    for red in ("mean", "sum", "none"):
        add(f"ce-prob-sw-{red}-float32", "ce", Lp, Tp, sw=[0.0, 2.0, 0.5], red=red)

    # keras with dtype="float64" but jax_enable_x64 off: a float32 computation
    add("keras-f64-without-x64-bce", "bce", mix_p, mix_y, dtype="float64", libs=["keras"],
        extra={"jax_enable_x64": False})
    add("keras-f64-without-x64-ce", "ce", L, T, dtype="float64", libs=["keras"],
        extra={"jax_enable_x64": False})
    return specs


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------



def result_of(out: Any) -> dict[str, Any]:
    a = np.asarray(out)
    res: dict[str, Any] = {"result_dtype": str(a.dtype), "result_shape": list(a.shape)}
    a64 = a.astype(np.float64)
    res["loss"] = enc(float(a64)) if a.ndim == 0 else enc(a64.tolist())
    return res


def run(fn, s):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call, out = fn(s)
            res = result_of(out)
        except Exception as e:  # noqa: BLE001 - the library's error is the golden data
            call = getattr(e, "_call", None) or s.get("_call", "")
            res = {"error": f"{type(e).__name__}: {e}"[:600]}
    ws = sorted({f"{w.category.__name__}: {w.message}"[:300] for w in caught})
    if ws:
        res["warnings"] = ws
    return call, res


def arrays(s):
    dt = NP_DTYPE[s["dtype"]]
    x = np.asarray(s["input"], dtype=dt)
    if s["target_kind"] == "index":
        t = np.asarray(s["target"], dtype=np.int64)
    else:
        t = np.asarray(s["target"], dtype=dt)
    sw = None if s["sample_weight"] is None else np.asarray(s["sample_weight"], dtype=dt)
    return x, t, sw


# ----------------------------------------------------------------------------------------
# libraries
# ----------------------------------------------------------------------------------------

def keras_case(s):
    import keras

    x, t, sw = arrays(s)
    dt, red, ls = s["dtype"], s["reduction"], s["label_smoothing"]
    kw = ""
    if ls:
        kw += f", label_smoothing={ls!r}"
    kw += {"mean": "", "sum": ', reduction="sum"', "none": ", reduction=None"}[red]
    kw += f', dtype="{dt}"'
    pre = ""
    if s["loss"] in ("bce", "bce-logits"):
        logits = s["loss"] == "bce-logits" or s["sigmoid"]
        fl = "from_logits=True" if logits else "from_logits=False"
        ctor = f"keras.losses.BinaryCrossentropy({fl}{kw})"
        y, p = t, x
        args = "(y, x)"
    else:
        C = x.shape[1] if x.ndim > 1 else x.shape[0]
        xm = np.moveaxis(x, 1, -1) if x.ndim > 2 else x
        pre = "x = np.moveaxis(x, 1, -1); " if x.ndim > 2 else ""
        if s["target_kind"] == "index" and not ls:
            ig = "" if s["ignore_index"] is None else f", ignore_class={s['ignore_index']}"
            ctor = f"keras.losses.SparseCategoricalCrossentropy(from_logits=True{ig}{kw})"
            y = t
            args = "(y, x)"
        elif s["target_kind"] == "index":
            y = np.eye(C, dtype=NP_DTYPE[dt])[t]
            pre += "y = np.eye(C)[y]; "
            ctor = f"keras.losses.CategoricalCrossentropy(from_logits=True{kw})"
            args = "(y, x)"
        else:
            y = np.moveaxis(t, 1, -1) if t.ndim > 2 else t
            if t.ndim > 2:
                pre += "t = np.moveaxis(t, 1, -1); "
            ctor = f"keras.losses.CategoricalCrossentropy(from_logits=True{kw})"
            args = "(t, x)"
        p = xm
    if sw is not None:
        args = args[:-1] + ", sample_weight=sw)"
    call = pre + ctor + args
    s["_call"] = call
    loss = eval(ctor, {"keras": keras})  # noqa: S307 - the call text is what runs
    out = loss(y, p, sample_weight=sw) if sw is not None else loss(y, p)
    return call, np.asarray(out)


def optax_case(s):
    import jax
    import jax.numpy as jnp
    import optax

    x, t, _ = arrays(s)
    red, ls = s["reduction"], s["label_smoothing"]
    dt = s["dtype"]
    x = jnp.asarray(x)
    if s["loss"] in ("bce", "bce-logits"):
        body = "optax.sigmoid_binary_cross_entropy(x, y)"
        v = optax.sigmoid_binary_cross_entropy(x, jnp.asarray(t))
        pre = ""
    else:
        pre = "x = jnp.moveaxis(x, 1, -1); " if x.ndim > 2 else ""
        xm = jnp.moveaxis(x, 1, -1) if x.ndim > 2 else x
        C = xm.shape[-1]
        if s["target_kind"] == "index" and not ls:
            body = "optax.softmax_cross_entropy_with_integer_labels(x, y)"
            v = optax.softmax_cross_entropy_with_integer_labels(xm, jnp.asarray(t))
        elif s["target_kind"] == "index":
            body = (f"optax.softmax_cross_entropy(x, optax.smooth_labels("
                    f"jax.nn.one_hot(y, C, dtype=jnp.{dt}), {ls!r}))")
            v = optax.softmax_cross_entropy(
                xm, optax.smooth_labels(jax.nn.one_hot(jnp.asarray(t), C, dtype=xm.dtype), ls))
        else:
            tm = jnp.moveaxis(jnp.asarray(t), 1, -1) if t.ndim > 2 else jnp.asarray(t)
            if t.ndim > 2:
                pre += "t = jnp.moveaxis(t, 1, -1); "
            if ls:
                body = f"optax.softmax_cross_entropy(x, optax.smooth_labels(t, {ls!r}))"
                v = optax.softmax_cross_entropy(xm, optax.smooth_labels(tm, ls))
            else:
                body = "optax.softmax_cross_entropy(x, t)"
                v = optax.softmax_cross_entropy(xm, tm)
    s["_call"] = pre + body
    if red == "mean":
        body, v = f"jnp.mean({body})", jnp.mean(v)
    elif red == "sum":
        body, v = f"jnp.sum({body})", jnp.sum(v)
    return pre + body, np.asarray(v)


def sklearn_case(s):
    import scipy.special
    from sklearn.metrics import log_loss

    x, t, sw = arrays(s)
    dt = NP_DTYPE[s["dtype"]]
    norm = s["reduction"] == "mean"
    nkw = "" if norm else ", normalize=False"
    if s["loss"] == "bce":
        k = x.size // x.shape[0]
        swr = None if sw is None else np.repeat(sw, k)
        swt = "" if sw is None else (", sample_weight=np.repeat(sw, k)" if k > 1
                                     else ", sample_weight=sw")
        call = f"sklearn.metrics.log_loss(y.ravel(), p.ravel(), labels=[0, 1]{swt}{nkw})"
        s["_call"] = call
        kwargs: dict[str, Any] = {"labels": [0, 1], "normalize": norm}
        if swr is not None:
            kwargs["sample_weight"] = swr
        out = log_loss(t.ravel(), x.ravel(), **kwargs)
    else:
        C = x.shape[1]
        pre = (f"P = scipy.special.softmax(x.astype(np.float64), axis=1).astype(np.{s['dtype']}); ")
        swt = "" if sw is None else ", sample_weight=sw"
        call = pre + f"sklearn.metrics.log_loss(y, P, labels=list(range({C})){swt}{nkw})"
        s["_call"] = call
        P = scipy.special.softmax(x.astype(np.float64), axis=1).astype(dt)
        kwargs = {"labels": list(range(C)), "normalize": norm}
        if sw is not None:
            kwargs["sample_weight"] = sw
        out = log_loss(t, P, **kwargs)
    return call, np.asarray(out)


def torch_case(s):
    import torch
    import torch.nn.functional as F

    td = {"float32": torch.float32, "float64": torch.float64}[s["dtype"]]
    x = torch.tensor(s["input"], dtype=td)
    red, ls = s["reduction"], s["label_smoothing"]
    sw = s["sample_weight"]
    if s["loss"] in ("bce", "bce-logits"):
        y = torch.tensor(s["target"], dtype=td)
        w = None
        wt = ""
        if sw is not None:
            w = torch.tensor(sw, dtype=td)
            if x.dim() > 1:
                w = w.reshape(-1, *([1] * (x.dim() - 1)))
                wt = ", weight=sw.reshape(-1, 1)"
            else:
                wt = ", weight=sw"
        if s["loss"] == "bce-logits":
            call = f'F.binary_cross_entropy_with_logits(x, y{wt}, reduction="{red}")'
            s["_call"] = call
            out = F.binary_cross_entropy_with_logits(x, y, weight=w, reduction=red)
        elif s["sigmoid"]:
            call = f'F.binary_cross_entropy(torch.sigmoid(x), y{wt}, reduction="{red}")'
            s["_call"] = call
            out = F.binary_cross_entropy(torch.sigmoid(x), y, weight=w, reduction=red)
        else:
            call = f'F.binary_cross_entropy(p, y{wt}, reduction="{red}")'
            s["_call"] = call
            out = F.binary_cross_entropy(x, y, weight=w, reduction=red)
    else:
        if s["target_kind"] == "index":
            y = torch.tensor(s["target"], dtype=torch.int64)
        else:
            y = torch.tensor(s["target"], dtype=td)
        ii = -100 if s["ignore_index"] is None else s["ignore_index"]
        extra = "" if ii == -100 else f", ignore_index={ii}"
        if ls:
            extra += f", label_smoothing={ls!r}"
        call = f'F.cross_entropy(x, y{extra}, reduction="{red}")'
        s["_call"] = call
        out = F.cross_entropy(x, y, ignore_index=ii, label_smoothing=ls, reduction=red)
    return call, out.detach().numpy()


LIBS = {"keras": keras_case, "optax": optax_case, "sklearn": sklearn_case, "torch": torch_case}


def versions(libs: list[str]) -> dict[str, str]:
    v = {}
    for name in libs:
        mod = {"sklearn": "sklearn"}.get(name, name)
        v[name] = __import__(mod).__version__
    if "keras" in libs or "optax" in libs:
        import jax
        v["jax"] = jax.__version__
    return v


def worker(lib: str, x64: bool, out: str) -> None:
    """Run one library's cases that belong to this jax_enable_x64 setting."""
    if lib in ("keras", "optax"):
        os.environ["KERAS_BACKEND"] = "jax"
        import jax
        jax.config.update("jax_enable_x64", x64)
    results = []
    for i, s in enumerate(build_specs()):
        if lib not in s["libs"]:
            continue
        if lib in ("keras", "optax"):
            want = s["extra"].get("jax_enable_x64", s["dtype"] == "float64")
            if want != x64:
                continue
        call, res = run(LIBS[lib], s)
        results.append({"spec": i, "call": call, **res})
    Path(out).write_text(json.dumps({"results": results, "versions": versions([lib])}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--worker", choices=sorted(LIBS))
    ap.add_argument("--x64", type=int, default=0)
    ap.add_argument("--worker-out")
    a = ap.parse_args()
    if a.worker:
        worker(a.worker, bool(a.x64), a.worker_out)
        return
    specs = build_specs()
    by_spec: dict[tuple[int, str], dict[str, Any]] = {}
    vers: dict[str, str] = {}
    env = dict(os.environ, KERAS_BACKEND="jax")
    with tempfile.TemporaryDirectory() as tmp:
        for lib, x64s in (("torch", [0]), ("sklearn", [0]), ("keras", [0, 1]),
                          ("optax", [0, 1])):
            for x64 in x64s:
                f = os.path.join(tmp, f"{lib}{x64}.json")
                subprocess.run([sys.executable, __file__, "--worker", lib, "--x64", str(x64),
                                "--worker-out", f], check=True, env=env)
                data = json.loads(Path(f).read_text())
                vers.update(data["versions"])
                for r in data["results"]:
                    by_spec[(r.pop("spec"), lib)] = r
    cases = []
    counts: dict[str, int] = {}
    for i, s in enumerate(specs):
        for lib in ("torch", "keras", "sklearn", "optax"):
            if (i, lib) not in by_spec:
                continue
            r = by_spec[(i, lib)]
            key = f"{lib}/{s['loss']}" + ("-sigmoid" if s["sigmoid"] else "")
            counts[key] = counts.get(key, 0) + 1
            opts = {"sigmoid": s["sigmoid"], "label_smoothing": s["label_smoothing"],
                    "sample_weight": s["sample_weight"], "reduction": s["reduction"],
                    "dtype": s["dtype"]}
            if s["ignore_index"] is not None:
                opts["ignore_index"] = s["ignore_index"]
            opts.update(s["extra"])
            case = {"id": f"{lib}:{s['group']}", "library": lib, "group": s["group"],
                    "loss": s["loss"], "target_kind": s["target_kind"], "options": opts,
                    "input": s["input"], "target": s["target"], "call": r.pop("call"),
                    "result": r}
            cases.append(case)
    doc = {
        "doc": ("Losses as the real libraries compute them, for bcecli --like LIB; generated "
                "by scripts/gen_libraries.py (do not edit by hand). Inputs are in bcecli's "
                "torch layout (classes on axis 1); 'call' is the library call (keras/optax ce "
                "move the class axis last first). result.loss is the library's output converted to "
                "float64 (a float, or a nested list when the output is not a scalar), with "
                "result.result_dtype/result_shape as returned; result.error (no loss) when the "
                "library raises; result.warnings as raised. Non-finite numbers are the strings "
                "'nan', 'inf', '-inf'. float32 inputs are stored as their exact float32 "
                "values. Rules: docs/library-rules.md."),
        "seed": SEED,
        "versions": vers,
        "counts": counts,
        "cases": cases,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(cases)} cases -> {a.out}")
    for k in sorted(counts):
        print(f"  {k}: {counts[k]}")


if __name__ == "__main__":
    main()
