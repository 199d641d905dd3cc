"""A fast check of the benchmark harness's arithmetic (the benchmark itself never runs here:
`python3 scripts/dev.py bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bench.load import Measurement, parse
from bench.otlp_sink import otlp_sink
from bench.profile import layer_table
from bench.profile import summarize as summarize_profile
from bench.report import (
    WORKLOADS,
    Summary,
    against_table,
    comparison_table,
    observability_table,
    observability_targets,
    summarize,
    targets,
)
from bench.revision import worktree
from bench.run import options

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:1
BENCH_RESULT {"requests": 20000, "duration_us": 10000000, "connect_errors": 0, \
"read_errors": 1, "write_errors": 0, "status_errors": 2, "timeouts": 3, \
"p50_us": 1500, "p90_us": 2500, "p99_us": 9000, "max_us": 12000}
"""


def measurement(requests_per_second: float, p99_ms: float = 10.0) -> Measurement:
    return Measurement(
        requests=int(requests_per_second * 10), seconds=10, errors=0, p50_ms=1, p99_ms=p99_ms
    )


def test_wrk_output_becomes_a_measurement() -> None:
    m = parse(WRK_OUTPUT)
    assert m.requests_per_second == 2000
    assert (m.errors, m.p50_ms, m.p99_ms) == (6, 1.5, 9.0)


def test_summary_takes_medians_and_adds_errors() -> None:
    rounds = [measurement(1000, 30), measurement(3000, 10), measurement(2000, 20)]
    summary = summarize(rounds)
    assert (summary.requests_per_second, summary.p99_ms, summary.rounds) == (2000, 20, 3)


def test_targets_compare_the_service_with_baseline_and_ceiling() -> None:
    def app(requests_per_second: float, p99_ms: float) -> dict[str, Summary]:
        return {w: summarize([measurement(requests_per_second, p99_ms)]) for w in WORKLOADS}

    results = {"service": app(4000, 12), "baseline": app(1000, 50), "ceiling": app(6000, 10)}
    rows = {target: (got, met) for target, got, met in targets(results, {"service": 70 << 20})}
    assert rows["read: >= 3x baseline req/s"] == ("4.00x", True)
    assert rows["list: >= 4x baseline req/s"] == ("4.00x", True)
    assert rows["mixed: >= 50% of ceiling req/s"] == ("67%", True)
    assert rows["read: p99 <= 1.5x ceiling's"] == ("1.20x", True)
    assert rows["service peak RSS <= 80 MiB"] == ("70.0 MiB", True)
    assert "| `GET /notes/{random id}` | service | 4,000 |" in comparison_table(results)


def test_observability_targets_compare_the_service_with_bare_and_naive() -> None:
    def app(requests_per_second: float, p99_ms: float) -> dict[str, Summary]:
        return {w: summarize([measurement(requests_per_second, p99_ms)]) for w in WORKLOADS}

    results = {"service": app(1100, 16), "bare": app(2000, 10), "naive": app(1000, 10)}
    rows = {
        target: (got, met)
        for target, got, met in observability_targets(results, {"service": 81 << 20})
    }
    assert rows["create: >= naive Tortoise req/s"] == ("1.10x", True)
    assert rows["read: >= 50% of bare req/s (stretch 60%)"] == ("55%", True)
    assert rows["list: p99 <= 1.5x bare's"] == ("1.60x", False)
    assert rows["service peak RSS <= 80 MiB"] == ("81.0 MiB", False)
    slower = {**results, "service": app(900, 10)}
    rows = {
        target: (got, met) for target, got, met in observability_targets(slower, {"service": 0})
    }
    assert rows["read: >= naive Tortoise req/s"] == ("0.90x", False)
    assert rows["mixed: >= 50% of bare req/s (stretch 60%)"] == ("45%", False)
    assert "| `POST /notes/` | 1,100 | 2,000 | 1,000 | 55% | 1.10x |" in observability_table(
        results
    )


def test_profile_samples_are_grouped_by_innermost_layer() -> None:
    collapsed = (
        "main (service/cli.py:1);get (tortoise/queryset.py:9);run (asyncpg/connection.py:3) 6\n"
        "main (service/cli.py:1);build (pypika_tortoise/queries.py:2) 4\n"
    )
    by_layer, by_function, total = summarize_profile(collapsed)
    assert total == 10
    assert by_layer["asyncpg (driver, pool)"] == 6
    assert by_layer["pypika (SQL building for tortoise)"] == 4
    assert by_function["main (service/cli.py:1)"] == 10
    other, _, other_total = summarize_profile("main (service/cli.py:1) 5\n")
    table = layer_table({"read": (by_layer, total), "list": (other, other_total)})
    assert "| layer | read | list |" in table
    assert "| asyncpg (driver, pool) | 60% | 0% |" in table
    assert "| service (our code) | 0% | 100% |" in table


def test_against_table_puts_the_revision_beside_the_service() -> None:
    service = {w: summarize([measurement(950, 12)]) for w in (*WORKLOADS, "floor")}
    other = {w: summarize([measurement(1000, 10)]) for w in WORKLOADS}  # no floor measured
    table = against_table("service", "service@main", {"service": service, "service@main": other})
    assert "| service req/s | service@main req/s | service / service@main |" in table
    assert "| `GET /notes/{random id}` | 950 | 1,000 | 95% | 12.0 | 10.0 |" in table
    assert "/health/live" not in table  # only rows both apps have


def test_apps_default_to_the_two_services_with_against(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["bench.run", "--quick", "--against", "main"])
    assert options().apps == {"service", "against"}
    monkeypatch.setattr(sys, "argv", ["bench.run", "--against", "HEAD~2", "--against", "HEAD~1"])
    assert options().against == ["HEAD~2", "HEAD~1"]  # both take turns in the same rounds
    monkeypatch.setattr(sys, "argv", ["bench.run", "--no-workers", "--deep-notes", "0"])
    assert options().apps == {"service", "baseline", "ceiling", "bare", "naive"}
    monkeypatch.setattr(sys, "argv", ["bench.run", "--against", "main", "--apps", "baseline"])
    with pytest.raises(SystemExit):  # no service, and baseline without ceiling
        options()
    monkeypatch.setattr(sys, "argv", ["bench.run", "--apps", "service,bare"])
    with pytest.raises(SystemExit):  # bare without naive
        options()


def test_extra_environment_for_the_service_is_name_value_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["bench.run", "--service-env", "OTEL_BSP_SCHEDULE_DELAY=500", "--otlp-sink"]
    monkeypatch.setattr(sys, "argv", [*argv, "--service-env", "OTEL_SERVICE_NAME=a=b"])
    parsed = options()
    assert parsed.service_env == [("OTEL_BSP_SCHEDULE_DELAY", "500"), ("OTEL_SERVICE_NAME", "a=b")]
    assert parsed.otlp_sink
    monkeypatch.setattr(sys, "argv", ["bench.run", "--service-env", "NOEQUALS"])
    with pytest.raises(SystemExit):
        options()


def test_the_otlp_sink_accepts_an_export() -> None:
    with otlp_sink() as endpoint:
        response = httpx.post(
            f"{endpoint}/v1/traces",
            content=b"\x0a\x00",
            headers={"Content-Type": "application/x-protobuf"},
        )
    assert response.status_code == 200


def test_revision_worktree_is_removed_even_when_the_run_fails(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *args], check=True, text=True,
                              capture_output=True)  # fmt: skip
        return done.stdout

    git("init", "--quiet")
    (tmp_path / "marker").write_text("old\n")
    git("add", "marker")
    git("-c", "user.name=bench", "-c", "user.email=bench@example.com",
        "commit", "--quiet", "-m", "old")  # fmt: skip
    (tmp_path / "marker").write_text("new\n")  # the working tree moves on
    seen: list[Path] = []

    def failing_run(rev: str) -> None:
        with worktree(rev, tmp_path) as checkout:
            seen.append(checkout.root)
            assert (checkout.root / "marker").read_text() == "old\n"
            assert checkout.name == f"service@{rev}"
            raise RuntimeError("the benchmark failed")

    with pytest.raises(RuntimeError):
        failing_run("HEAD")
    assert len(seen) == 1
    assert not seen[0].exists()
    assert git("worktree", "list").count("\n") == 1  # only the main one is left
    with pytest.raises(SystemExit, match="no-such-revision"):
        failing_run("no-such-revision")
