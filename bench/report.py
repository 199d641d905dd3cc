"""From measurements to the README's tables: medians over rounds, ratios, targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median

from bench.load import Measurement

MIB = 1024 * 1024
WORKLOADS = ("read", "list", "create", "mixed")
DESCRIPTIONS = {
    "read": "`GET /notes/{random id}`",
    "list": "`GET /notes/?limit=50&after={random id}`",
    "create": "`POST /notes/`",
    "mixed": "80% reads, 20% creates",
    "floor": "`GET /health/live` (no database)",
}
# Required multiple of the baseline's requests/s (the targets).
BASELINE_TARGETS = {"read": 3.0, "list": 4.0, "create": 3.0}
CEILING_SHARE_TARGET = 0.5
P99_TARGET = 1.5
RSS_TARGET_MIB = 80
# Observability at near-zero cost: against the bare ceiling (no log, no middleware) and the
# naive Tortoise app.
BARE_SHARE_TARGET = 0.5
BARE_SHARE_STRETCH = 0.6


@dataclass(frozen=True)
class Summary:
    """Medians over the rounds of one app on one workload."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    rounds: int
    server_cpu_ms: float
    db_cpu_ms: float


def summarize(rounds: Sequence[Measurement]) -> Summary:
    return Summary(
        requests_per_second=median(m.requests_per_second for m in rounds),
        p50_ms=median(m.p50_ms for m in rounds),
        p99_ms=median(m.p99_ms for m in rounds),
        errors=sum(m.errors for m in rounds),
        rounds=len(rounds),
        server_cpu_ms=median(m.server_cpu_ms for m in rounds),
        db_cpu_ms=median(m.db_cpu_ms for m in rounds),
    )


Results = Mapping[str, Mapping[str, Summary]]  # app -> workload -> summary


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")


def comparison_table(results: Results) -> str:
    lines = [
        "| workload | app | req/s | p50 ms | p99 ms | errors | req/s vs baseline "
        "| req/s vs ceiling | p99 vs ceiling | app CPU µs/req | PostgreSQL CPU µs/req |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for workload in WORKLOADS:
        base, ceiling = results["baseline"][workload], results["ceiling"][workload]
        for app in ("service", "baseline", "ceiling"):
            s = results[app][workload]
            lines.append(
                f"| {DESCRIPTIONS[workload]} | {app} | {s.requests_per_second:,.0f} "
                f"| {s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.errors} "
                f"| {ratio(s.requests_per_second, base.requests_per_second):.2f}x "
                f"| {ratio(s.requests_per_second, ceiling.requests_per_second):.0%} "
                f"| {ratio(s.p99_ms, ceiling.p99_ms):.2f}x "
                f"| {s.server_cpu_ms * 1000:.0f} | {s.db_cpu_ms * 1000:.0f} |"
            )
    return "\n".join(lines)


def rss_table(peak_rss: Mapping[str, int]) -> str:
    lines = ["| app | peak RSS |", "|---|--:|"]
    lines += [f"| {app} | {rss / MIB:.1f} MiB |" for app, rss in peak_rss.items()]
    return "\n".join(lines)


def targets(results: Results, peak_rss: Mapping[str, int]) -> list[tuple[str, str, bool]]:
    """(target, what was measured, met) for each of the issue's targets."""
    service, base, ceiling = results["service"], results["baseline"], results["ceiling"]
    rows: list[tuple[str, str, bool]] = []
    for workload, wanted in BASELINE_TARGETS.items():
        got = ratio(service[workload].requests_per_second, base[workload].requests_per_second)
        rows.append((f"{workload}: >= {wanted:g}x baseline req/s", f"{got:.2f}x", got >= wanted))
    for workload in WORKLOADS:
        share = ratio(service[workload].requests_per_second, ceiling[workload].requests_per_second)
        rows.append(
            (
                f"{workload}: >= {CEILING_SHARE_TARGET:.0%} of ceiling req/s",
                f"{share:.0%}",
                share >= CEILING_SHARE_TARGET,
            )
        )
    return rows + p99_rows(service, ceiling, "ceiling") + [rss_row(peak_rss)]


def p99_rows(
    service: Mapping[str, Summary], reference: Mapping[str, Summary], name: str
) -> list[tuple[str, str, bool]]:
    """Per workload: the service's p99 within P99_TARGET times the reference app's."""
    rows = []
    for workload in WORKLOADS:
        p99 = ratio(service[workload].p99_ms, reference[workload].p99_ms)
        rows.append(
            (f"{workload}: p99 <= {P99_TARGET:g}x {name}'s", f"{p99:.2f}x", p99 <= P99_TARGET)
        )
    return rows


def rss_row(peak_rss: Mapping[str, int]) -> tuple[str, str, bool]:
    rss = peak_rss["service"] / MIB
    return (f"service peak RSS <= {RSS_TARGET_MIB} MiB", f"{rss:.1f} MiB", rss <= RSS_TARGET_MIB)


def targets_table(rows: Sequence[tuple[str, str, bool]]) -> str:
    lines = ["| target | measured | met |", "|---|--:|:-:|"]
    lines += [f"| {target} | {got} | {'yes' if met else '**no**'} |" for target, got, met in rows]
    return "\n".join(lines)


def pair_table(
    title: str, first: str, second: str, results: Mapping[str, Mapping[str, Summary]]
) -> str:
    """Two variants side by side (e.g. 1 and 2 workers, or the first and a deep page)."""
    lines = [
        f"| {title} | {first} req/s | {second} req/s | ratio | {first} p99 ms | {second} p99 ms |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for row, pair in results.items():
        a, b = pair[first], pair[second]
        lines.append(
            f"| {row} | {a.requests_per_second:,.0f} | {b.requests_per_second:,.0f} "
            f"| {ratio(b.requests_per_second, a.requests_per_second):.2f}x "
            f"| {a.p99_ms:.1f} | {b.p99_ms:.1f} |"
        )
    return "\n".join(lines)


def against_table(current: str, other: str, results: Mapping[str, Mapping[str, Summary]]) -> str:
    """The current service and another revision's side by side, one row per workload (and
    the floor when both have it): req/s, their ratio, p99, CPU per request, errors."""
    lines = [
        f"| workload | {current} req/s | {other} req/s | {current} / {other} "
        f"| {current} p99 ms | {other} p99 ms | {current} app CPU µs/req "
        f"| {other} app CPU µs/req | {current} PostgreSQL CPU µs/req "
        f"| {other} PostgreSQL CPU µs/req | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for workload in (*WORKLOADS, "floor"):
        if workload not in results[current] or workload not in results[other]:
            continue
        a, b = results[current][workload], results[other][workload]
        lines.append(
            f"| {DESCRIPTIONS[workload]} | {a.requests_per_second:,.0f} "
            f"| {b.requests_per_second:,.0f} "
            f"| {ratio(a.requests_per_second, b.requests_per_second):.0%} "
            f"| {a.p99_ms:.1f} | {b.p99_ms:.1f} "
            f"| {a.server_cpu_ms * 1000:.0f} | {b.server_cpu_ms * 1000:.0f} "
            f"| {a.db_cpu_ms * 1000:.0f} | {b.db_cpu_ms * 1000:.0f} "
            f"| {a.errors} / {b.errors} |"
        )
    return "\n".join(lines)


def observability_table(results: Results) -> str:
    """The service (logs, metrics and request ids on) against the bare ceiling and the naive
    Tortoise app, one row per workload."""
    lines = [
        "| workload | service req/s | bare | naive Tortoise | service / bare "
        "| service / naive | p99 ms service / bare | app CPU µs/req service / bare / naive |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for workload in WORKLOADS:
        s, b, n = (results[app][workload] for app in ("service", "bare", "naive"))
        lines.append(
            f"| {DESCRIPTIONS[workload]} | {s.requests_per_second:,.0f} "
            f"| {b.requests_per_second:,.0f} | {n.requests_per_second:,.0f} "
            f"| {ratio(s.requests_per_second, b.requests_per_second):.0%} "
            f"| {ratio(s.requests_per_second, n.requests_per_second):.2f}x "
            f"| {s.p99_ms:.1f} / {b.p99_ms:.1f} "
            f"| {s.server_cpu_ms * 1000:.0f} / {b.server_cpu_ms * 1000:.0f} "
            f"/ {n.server_cpu_ms * 1000:.0f} |"
        )
    return "\n".join(lines)


def observability_targets(
    results: Results, peak_rss: Mapping[str, int]
) -> list[tuple[str, str, bool]]:
    """(target, what was measured, met): at least the naive app, at least half of bare (the
    stretch: 60%), p99 within 1.5x of bare's, and the peak RSS."""
    service, bare, naive = results["service"], results["bare"], results["naive"]
    rows: list[tuple[str, str, bool]] = []
    for workload in WORKLOADS:
        got = ratio(service[workload].requests_per_second, naive[workload].requests_per_second)
        rows.append((f"{workload}: >= naive Tortoise req/s", f"{got:.2f}x", got >= 1))
    for workload in WORKLOADS:
        share = ratio(service[workload].requests_per_second, bare[workload].requests_per_second)
        rows.append(
            (
                f"{workload}: >= {BARE_SHARE_TARGET:.0%} of bare req/s "
                f"(stretch {BARE_SHARE_STRETCH:.0%})",
                f"{share:.0%}" + (" (stretch met)" if share >= BARE_SHARE_STRETCH else ""),
                share >= BARE_SHARE_TARGET,
            )
        )
    return rows + p99_rows(service, bare, "bare") + [rss_row(peak_rss)]
