"""Figures as ratios to their reference in the same run, against the goals; the table and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from statistics import median

from bench.wrk import WrkResult

# Phase: (reference target, goal as a share of the reference's requests per second).
GOALS = {
    "warm": ("trivial view", 0.70),
    "cold": ("trivial view", 0.25),
    "proxy": ("static file", 0.50),
}
# With the server cache on, every GET (the trivial view's too) first looks for a stored page,
# which makes the warm reference slower. The verdict uses the reference of the same server; the
# note also gives the ratio to the trivial view of the cache-off server, the stricter reading.
SECOND_REFERENCES = {"warm": "cold"}


@dataclass
class Measurement:
    phase: str
    target: str
    url: str
    result: WrkResult | None
    is_reference: bool = False
    round: int = 1
    # What was checked before measuring (status, type, cache hit or miss) and any warning.
    checks: list[str] = field(default_factory=list)
    problem: str = ""
    raw: str = ""  # wrk's report as printed


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
    rounds: int = 1


def reference_rps(measurements: list[Measurement], phase: str, round_: int) -> float | None:
    """Mean requests per second of a round's reference runs (measured before and after it)."""
    figures = [
        m.result.requests_per_second
        for m in measurements
        if m.phase == phase
        and m.round == round_
        and m.is_reference
        and m.result is not None
        and not m.problem
    ]
    return sum(figures) / len(figures) if figures else None


def _median(values: list[float]) -> float | None:
    return median(values) if values else None


def evaluate(measurements: list[Measurement]) -> list[Row]:
    """One row per phase and target: the median over rounds of its ratio to the round's
    reference, and PASS or FAIL against the phase's goal."""
    groups: dict[tuple[str, str, bool], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.phase, m.target, m.is_reference), []).append(m)
    rows = []
    for (phase, target, is_reference), runs in groups.items():
        reference_name, goal = GOALS[phase]
        measured = [m for m in runs if m.result is not None and not m.problem]
        references = {m.round: reference_rps(measurements, phase, m.round) for m in runs}
        ratios = [
            m.result.requests_per_second / references[m.round]
            for m in measured
            if references[m.round]
        ]
        notes = sorted({m.problem for m in runs if m.problem})
        non_2xx = sum(m.result.non_2xx_3xx for m in measured)
        socket_errors = sum(m.result.socket_errors for m in measured)
        if non_2xx or socket_errors:
            notes.append(f"{non_2xx} non-2xx/3xx, {socket_errors} socket errors")
        ratio = _median(ratios)
        if is_reference:
            # The spread of the reference is the noise of the run.
            ratio, verdict = None, "REF"
            notes.append(
                "runs: " + " / ".join(f"{m.result.requests_per_second:,.0f}" for m in measured)
            )
        elif ratio is None or len(measured) < len(runs):
            verdict = "ERROR"
        else:
            verdict = "PASS" if ratio >= goal and not non_2xx else "FAIL"
        rows.append(
            Row(
                phase=phase,
                target=target,
                rps=_median([m.result.requests_per_second for m in measured]),
                p50_ms=_median([m.result.p50_ms for m in measured]),
                p99_ms=_median([m.result.p99_ms for m in measured]),
                reference=reference_name,
                reference_rps=_median([r for r in references.values() if r]),
                ratio=ratio,
                goal=None if is_reference else goal,
                verdict=verdict,
                note="; ".join(notes),
                rounds=len(runs),
            )
        )
    return [_with_second_reference(row, rows) for row in rows]


def _with_second_reference(row: Row, rows: list[Row]) -> Row:
    other = SECOND_REFERENCES.get(row.phase)
    second = next((r.reference_rps for r in rows if r.phase == other and r.verdict == "REF"), None)
    if row.verdict == "REF" or row.rps is None or not second:
        return row
    extra = f"{row.rps / second:.0%} of the {other} {row.reference}"
    return replace(row, note="; ".join(filter(None, [row.note, extra])))


def _number(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def format_table(rows: list[Row]) -> str:
    """A plain-text table: target, rps, p50, p99, reference, ratio, goal, verdict."""
    header = (
        "phase",
        "target",
        "req/s",
        "p50 ms",
        "p99 ms",
        "reference",
        "ref req/s",
        "ratio",
        "goal",
        "result",
    )
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
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
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
                "round": m.round,
                "checks": m.checks,
                "problem": m.problem,
                "wrk": asdict(m.result) if m.result else None,
                "wrk_report": m.raw,
            }
            for m in measurements
        ],
        "summary": summary(rows),
    }
