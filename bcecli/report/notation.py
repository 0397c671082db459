"""How ``--explain`` writes its formulas: as text for a terminal, or as Markdown with LaTeX.

The losses write each explain line once, through a :class:`Notation`: its symbols (``×``
or ``\\cdot``, ``ln`` or ``\\ln``), its numbers (typographic minus, or LaTeX's ``-`` and
``\\times 10^{…}``) and its framing: :meth:`Notation.math` is the text as it is in
:data:`TEXT` and ``$…$`` in :data:`TEX`, :meth:`Notation.prose` is the text as it is, or
escaped for Markdown.  So the text output is what it always was, and the Markdown output
(``-f markdown --explain``) says the same with math that GitHub, KaTeX and MathJax render.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bcecli.report.numbers import added, computed, echo, minus, subscript, to_ascii
from bcecli.report.numbers import rounded as _rounded

_MARKDOWN = re.compile(r"([\\`*_|<~$\[\]])")
_EXPONENT = re.compile(r"^(-?[0-9.]+)e([+-])0*([0-9]+)$")


def escape(text: str) -> str:
    """Text as Markdown shows it literally: its special characters backslash-escaped.

    >>> escape("w[y]*(1 - p) | a_b")
    'w\\\\[y\\\\]\\\\*(1 - p) \\\\| a\\\\_b'
    """
    return _MARKDOWN.sub(r"\\\1", text)


def tex_number(text: str) -> str:
    """A number as :func:`~bcecli.report.numbers.rounded` or ``echo`` writes it, in LaTeX.

    >>> tex_number("-0.5095"), tex_number("3.0000e-09"), tex_number("1e+300")
    ('-0.5095', '3.0000 \\\\times 10^{-9}', '1 \\\\times 10^{300}')
    >>> tex_number("nan"), tex_number("-inf")
    ('\\\\mathrm{NaN}', '-\\\\infty')
    """
    text = text.replace("−", "-")
    if text.lstrip("-") == "nan":
        return r"\mathrm{NaN}"
    if text.lstrip("-") == "inf":
        return text.replace("inf", r"\infty")
    match = _EXPONENT.match(text)
    if match is None:
        return text
    mantissa, sign, power = match.groups()
    return rf"{mantissa} \times 10^{{{'-' if sign == '-' else ''}{power}}}"


@dataclass(frozen=True)
class Notation:
    """The symbols, numbers and framing of one way of writing the calculation."""

    tex: bool
    times: str
    """Multiplication in a written-out element: `` × `` or `` \\cdot ``."""
    dot: str
    """Multiplication in a formula: ``·`` or `` \\cdot ``."""
    minus: str
    ln: str
    max: str
    sigma: str
    ell: str
    sum: str
    dots: str
    to: str
    epsilon: str
    ascii: bool = False
    """Markdown in ASCII (``--ascii``): the prose's symbols as words (LaTeX is ASCII)."""

    def math(self, text: str) -> str:
        """A formula inside a line: as it is, or inline math."""
        return f"${text}$" if self.tex else text

    def display(self, text: str) -> str:
        """A formula on a line of its own: as it is, or display math."""
        return f"$$\n{text}\n$$" if self.tex else text

    def prose(self, text: str) -> str:
        """Words (with the text's own symbols): as they are, or escaped for Markdown."""
        if not self.tex:
            return text
        return escape(to_ascii(text) if self.ascii else text)

    def num(self, text: str) -> str:
        """A number written by :mod:`bcecli.report.numbers`, in this notation."""
        return tex_number(text) if self.tex else minus(text)

    def rounded(self, v: float, p: int) -> str:
        """A computed number (:func:`~bcecli.report.numbers.rounded`)."""
        return self.num(_rounded(v, p))

    def echo(self, v: float, dtype: str, p: int) -> str:
        """A given number, as typed when short (:func:`~bcecli.report.numbers.echo`)."""
        return self.num(echo(v, dtype, p))

    def given(self, v: float, dtype: str, p: int) -> str:
        """A given number inside a formula, negative ones in parentheses."""
        s = self.echo(v, dtype, p)
        return f"({s})" if v < 0 else s

    def computed(self, v: float, p: int) -> str:
        """A computed number inside a formula, negative ones in parentheses."""
        if not self.tex:
            return computed(v, p)
        s = self.rounded(v, p)
        return f"({s})" if s.startswith("-") else s

    def added(self, values: list[float], p: int,
              text: Callable[[float, int], str] = _rounded) -> str:
        """Numbers written as a sum, negative ones after the first in parentheses."""
        if not self.tex:
            return added(values, p, text)
        out = [tex_number(text(v, p)) for v in values]
        return " + ".join(t if i == 0 or not t.startswith("-") else f"({t})"
                          for i, t in enumerate(out))

    def sub(self, base: str, index: tuple[int, ...]) -> str:
        """A symbol with an element's index: ``ℓ₀₂`` or ``\\ell_{0,2}``."""
        if not self.tex:
            return base + subscript(index)
        return base + "_{" + ",".join(map(str, index)) + "}"

    def exp(self, exponent: str) -> str:
        """e to a power: ``e^−x`` or ``e^{-x}``."""
        return f"e^{{{exponent}}}" if self.tex else f"e^{exponent}"

    def e_to(self, v: float, dtype: str, p: int) -> str:
        """e to a given number: ``e^(−1.5)`` or ``e^{-1.5}``."""
        return self.exp(self.echo(v, dtype, p) if self.tex else self.given(v, dtype, p))

    def raw(self, text: str) -> str:
        """A number as it is written (a hyphen for its minus sign), in this notation."""
        return tex_number(text) if self.tex else text

    def g(self, v: float) -> str:
        """An option's value as typed (``%g``): ``0.1``."""
        return self.raw(f"{v:g}")


TEXT = Notation(tex=False, times=" × ", dot="·", minus="−", ln="ln", max="max", sigma="σ",
                ell="ℓ", sum="Σ", dots="…", to="→", epsilon="ε")
"""The terminal's notation: the text ``--explain`` always wrote."""
TEX = Notation(tex=True, times=r" \cdot ", dot=r" \cdot ", minus="-", ln=r"\ln", max=r"\max",
               sigma=r"\sigma", ell=r"\ell", sum=r"\sum", dots=r"\ldots", to=r"\to",
               epsilon=r"\varepsilon")
"""Markdown with LaTeX math (``-f markdown --explain``)."""
