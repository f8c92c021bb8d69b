"""Figures as ratios to their reference in the same run, against the goals; the table and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from bench.wrk import WrkResult

# Phase: (reference target, goal as a share of the reference's requests per second).
GOALS = {
    "warm": ("trivial view", 0.70),
    "cold": ("trivial view", 0.25),
    "proxy": ("static file", 0.50),
}


@dataclass
class Measurement:
    phase: str
    target: str
    url: str
    result: WrkResult | None
    is_reference: bool = False
    # What was checked before measuring (status, type, cache hit or miss) and any warning.
    checks: list[str] = field(default_factory=list)
    problem: str = ""


@dataclass(frozen=True)
class Row:
    phase: str
    target: str
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    reference: str
    reference_rps: float | None
    ratio: float | None
    goal: float | None
    verdict: str  # PASS, FAIL, REF (a reference), or ERROR (could not be measured)
    note: str = ""


def reference_rps(measurements: list[Measurement], phase: str) -> float | None:
    """Mean requests per second of the phase's reference runs (measured before and after)."""
    figures = [
        m.result.requests_per_second
        for m in measurements
        if m.phase == phase and m.is_reference and m.result is not None and not m.problem
    ]
    return sum(figures) / len(figures) if figures else None


def evaluate(measurements: list[Measurement]) -> list[Row]:
    """One row per measurement: its ratio to the phase's reference and PASS or FAIL."""
    rows = []
    for m in measurements:
        reference_name, goal = GOALS[m.phase]
        reference = reference_rps(measurements, m.phase)
        result = m.result
        rps = result.requests_per_second if result else None
        ratio = rps / reference if rps is not None and reference else None
        notes = [m.problem] if m.problem else []
        if result and result.errors:
            notes.append(
                f"{result.non_2xx_3xx} non-2xx/3xx, {result.socket_errors} socket errors"
            )
        if m.is_reference:
            verdict, row_goal = "REF", None
        elif result is None or ratio is None or m.problem:
            verdict, row_goal = "ERROR", goal
        else:
            passed = ratio >= goal and not result.non_2xx_3xx
            verdict, row_goal = ("PASS" if passed else "FAIL"), goal
        rows.append(
            Row(
                phase=m.phase,
                target=m.target,
                rps=rps,
                p50_ms=result.p50_ms if result else None,
                p99_ms=result.p99_ms if result else None,
                reference=reference_name,
                reference_rps=reference,
                ratio=ratio,
                goal=row_goal,
                verdict=verdict,
                note="; ".join(notes),
            )
        )
    return rows


def _number(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def format_table(rows: list[Row]) -> str:
    """A plain-text table: target, rps, p50, p99, reference, ratio, goal, verdict."""
    header = ("phase", "target", "req/s", "p50 ms", "p99 ms", "reference", "ref req/s", "ratio",
              "goal", "result")  # fmt: skip
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.phase,
                row.target,
                _number(row.rps, ",.0f"),
                _number(row.p50_ms, ".1f"),
                _number(row.p99_ms, ".1f"),
                row.reference,
                _number(row.reference_rps, ",.0f"),
                _number(row.ratio, ".0%"),
                "-" if row.goal is None else f">= {row.goal:.0%}",
                row.verdict + (f"  ({row.note})" if row.note else ""),
            )
        )
    widths = [max(len(line[i]) for line in lines[:] if i < len(line)) for i in range(len(header))]
    widths[-1] = 0
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
                for line in lines]  # fmt: skip
    rendered.insert(1, "-" * max(len(line) for line in rendered))
    return "\n".join(line.rstrip() for line in rendered)


def summary(rows: list[Row]) -> dict[str, int]:
    verdicts = [row.verdict for row in rows if row.verdict != "REF"]
    return {v: verdicts.count(v) for v in ("PASS", "FAIL", "ERROR")}


def as_json(rows: list[Row], measurements: list[Measurement], context: dict) -> dict:
    """Everything of the run for bench/results/: settings, seeded data, rows and raw figures."""
    return {
        **context,
        "rows": [asdict(row) for row in rows],
        "measurements": [
            {
                "phase": m.phase,
                "target": m.target,
                "url": m.url,
                "is_reference": m.is_reference,
                "checks": m.checks,
                "problem": m.problem,
                "wrk": asdict(m.result) if m.result else None,
            }
            for m in measurements
        ],
        "summary": summary(rows),
    }
