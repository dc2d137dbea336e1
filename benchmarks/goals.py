"""Issue #17's goal table: for each goal, the figure of each configuration,
worked out from the cases ``run.py`` measured."""

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from harness import PG, Bench, Result, cpu_ratio, fmt


@dataclass(frozen=True)
class Figure:
    text: str
    #: None when the goal does not apply or a side is missing
    met: bool | None = None


@dataclass(frozen=True)
class Goal:
    what: str
    goal: str
    figure: Callable[[Bench, str], Figure | None]


def _result(bench: Bench, case: str, label: str) -> Result | None:
    return bench.results.get((case, label)) or bench.results.get((case, "-"))


def _over(
    bench: Bench, label: str, top: str, bottom: str, at_least: float | None
) -> Figure | None:
    """A ratio of throughputs, with its CPU ratio in brackets."""
    high, low = _result(bench, top, label), _result(bench, bottom, label)
    if high is None or low is None or not low.rate:
        return None
    value = high.rate / low.rate
    met = None if at_least is None else value >= at_least
    return Figure(f"{value:.2f} (CPU {fmt(cpu_ratio(high, low), '.2f')})", met)


def _several(figures: list[Figure | None]) -> Figure | None:
    present = [f for f in figures if f is not None]
    if not present:
        return None
    verdicts = [f.met for f in present if f.met is not None]
    return Figure(
        " / ".join(f.text for f in present), all(verdicts) if verdicts else None
    )


def _bare(bench: Bench, label: str) -> Figure | None:
    return _over(bench, label, "healthz", "bare_healthz", 0.6)


def _cached(bench: Bench, label: str) -> Figure | None:
    cases = ("healthz_jwt", "healthz_pat", "healthz_key")
    return _several([_over(bench, label, c, "healthz", 0.9) for c in cases])


def _cold_jwt(bench: Bench, label: str) -> Figure | None:
    cold, plain = (
        _result(bench, "healthz_jwt_cold", label),
        _result(bench, "healthz", label),
    )
    verify = _result(bench, "pyjwt_verify", label)
    if cold is None or plain is None or verify is None:
        return None
    if not (cold.cost_ms and plain.cost_ms and verify.cost_ms):
        return None
    above = cold.cost_ms - plain.cost_ms
    times = above / verify.cost_ms
    return Figure(
        f"{times:.1f}x ({above * 1000:.0f} us above /healthz; PyJWT "
        f"{verify.cost_ms * 1000:.0f} us)",
        times <= 1.3,
    )


def _rate(bench: Bench, label: str, case: str, at_least: float) -> Figure | None:
    result = _result(bench, case, label)
    if result is None:
        return None
    return Figure(f"{result.rate:,.0f}/s", result.rate >= at_least)


def _client_credentials(bench: Bench, label: str) -> Figure | None:
    return _rate(bench, label, "client_credentials", 1000)


def _refresh(bench: Bench, label: str) -> Figure | None:
    return _several(
        [_rate(bench, label, c, 600) for c in ("refresh_api", "refresh_oauth")]
    )


def _introspection(bench: Bench, label: str) -> Figure | None:
    result = _result(bench, "introspect_pat", label)
    if result is None or not result.server_cores:
        return None
    per_core = result.rate / result.server_cores
    return Figure(
        f"{result.rate:,.0f}/s, {per_core:,.0f}/s per server core", per_core >= 2550
    )


def _login(bench: Bench, label: str) -> Figure | None:
    return _over(bench, label, "login", "argon2_raw", 0.9)


def _tails(bench: Bench, label: str) -> Figure | None:
    """The worst p99 over p50 of the cases at 64 connections."""
    tails = [
        (r.tail, r.case)
        for (_, server), r in bench.results.items()
        if server == label and r.tail is not None and r.concurrency >= 64
    ]
    if not tails:
        return None
    worst, case = max(tails)
    best, _ = min(tails)
    return Figure(f"{best:.1f}-{worst:.1f} (worst: {case})", worst <= 3)


def _scale(bench: Bench, label: str) -> Figure | None:
    """CPU per verification with 1M rows over the same with 1k."""
    figures = []
    for case in ("pat", "jwt_cold", "introspect"):
        small = _result(bench, f"scale_1k_{case}", "scale_1k")
        large = _result(bench, f"scale_1m_{case}", "scale_1m")
        if label == PG.label and small and large and small.cost_ms and large.cost_ms:
            times = large.cost_ms / small.cost_ms
            figures.append(Figure(f"{case} {times:.2f}x", times <= 1.1))
    return _several(list(figures))


def _revocation(bench: Bench, label: str) -> Figure | None:
    if label != PG.label or not bench.revocations:
        return None
    samples = bench.revocations
    worst = max(samples)
    return Figure(
        f"median {statistics.median(samples):.3f} s, max {worst:.3f} s "
        f"({len(samples)} samples)",
        worst <= 1,
    )


GOALS = [
    Goal("/healthz over a bare Starlette app's", ">= 0.6", _bare),
    Goal("/healthz sent a cached JWT / PAT / API key over /healthz", ">= 0.9", _cached),
    Goal(
        "a JWT never seen before: CPU above /healthz over PyJWT", "<= 1.3x", _cold_jwt
    ),
    Goal("client_credentials grants", ">= 1,000/s", _client_credentials),
    Goal("refresh grants (/api/v1/auth/refresh / /oauth/token)", ">= 600/s", _refresh),
    Goal(
        "PAT introspection (/oauth/introspect)", ">= 2,550/s per core", _introspection
    ),
    Goal("login over raw argon2id", ">= 0.9", _login),
    Goal("p99 over p50 at 64 connections, every case", "<= 3", _tails),
    Goal("verification cost, 1M over 1k users and tokens", "<= 1.1x", _scale),
    Goal("a revocation on one instance refused by another", "<= 1 s", _revocation),
]


def goal_table(bench: Bench) -> list[str]:
    """Issue #17's table: the goal, then each configuration's figure."""
    labels = bench.configs
    rows = [["what", "goal", *(c.title for c in labels)]]
    for goal in GOALS:
        cells = []
        for config in labels:
            figure = goal.figure(bench, config.label)
            if figure is None:
                cells.append("-")
            else:
                mark = {True: " ok", False: " NOT met", None: ""}[figure.met]
                cells.append(figure.text + mark)
        if any(cell != "-" for cell in cells):
            rows.append([goal.what, goal.goal, *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=True)
            )
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines
