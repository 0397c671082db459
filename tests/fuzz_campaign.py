"""A longer fuzz campaign than the test suite runs.

``python3 tests/fuzz_campaign.py [N] [SEED] [--overflow]``

Generates N inputs (default 5000) with the generators of ``tests/test_fuzz.py``: mutated
CSV/TSV/JSON/whitespace text for bce-logits (as files and on stdin), mutated class-index
and probability targets for ce, random bytes, and valid data under random options
(weights, outputs, --explain, float32); runs each in-process through Typer's
CliRunner and prints how many were tried, computed (exit 0), rejected (exit 2), and anything
else (other exit statuses, tracebacks, escaped exceptions, or a disagreement with the
reference reader).  Exits 1 if anything else happened.

Not collected by pytest (the name does not start with ``test_``; the work is under
``__main__``).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import test_fuzz as fz

    if "--overflow" in argv:  # values near the float64 limit, whose sums overflow to inf
        argv = [a for a in argv if a != "--overflow"]
        fz.CHUNKS.extend([b"1e308", b"-1.7e308", b"9e307"])
    n = int(argv[1]) if len(argv) > 1 else 5000
    seed = int(argv[2]) if len(argv) > 2 else 20260401
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    problems: list[str] = []
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            pick = rng.random()
            if pick < 0.6:
                kind, case = "bce", fz.bce_case(rng, tmp)
            elif pick < 0.78:
                kind, case = "ce", fz.ce_case(rng, tmp)
            elif pick < 0.9:
                kind, case = "bytes", fz.random_bytes_case(rng, tmp)
            else:
                kind, case = "opts", fz.option_case(rng, tmp)
                if "--expect" in case.args:  # exit 1 is an answer there; not counted
                    case.args = case.args[:case.args.index("--expect")]
            verdict = ("valid data, random options (invariants only)" if kind == "opts" else
                       "reference: valid" if isinstance(case.expect, float) else
                       "reference: invalid" if case.expect is fz.Invalid else
                       "reference: no verdict (non-ASCII or control bytes)")
            varied = fz.vary_output(case, rng)
            if varied is not case and isinstance(case.expect, float):
                verdict += ", other output (number not compared)"
            case = varied
            outcome = fz.run_cli(case.args, case.stdin)
            counts["tried"] += 1
            counts[{"ok": "ok (exit 0)", "rejected": "rejected (exit 2)"}.get(
                outcome.status, "other")] += 1
            if "Traceback" in outcome.detail:
                counts["tracebacks"] += 1
            verdicts[f"{kind:5s} {verdict}"] += 1
            problem = fz.check(outcome, case.expect, f"#{i} {kind} {case.what[:300]}",
                               case.tol)
            if problem is not None:
                counts["disagreements or failures"] += 1
                problems.append(problem)
    elapsed = time.time() - started
    print(f"fuzz campaign: seed {seed}, {elapsed:.1f} s")
    for key in ["tried", "ok (exit 0)", "rejected (exit 2)", "other", "tracebacks",
                "disagreements or failures"]:
        print(f"  {key:28s} {counts[key]}")
    print("by generator and reference verdict:")
    for key, value in sorted(verdicts.items()):
        print(f"  {key:72s} {value}")
    for problem in problems[:20]:
        print("PROBLEM:", problem)
    return 1 if problems or counts["other"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
