"""``authgate.server.metrics``: the exposition a strict parser accepts, bounded
labels, and who may read ``/metrics``."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from authgate import __version__
from authgate.config import Settings
from authgate.domain.audit import Action, AuditEvent
from authgate.server.metrics import (
    Counter,
    CountingCache,
    Histogram,
    Metrics,
    exposition,
    refusal,
)
from authgate.server.workers import Siblings
from authgate.util import clock
from tests.support import prometheus

TOKEN = "metrics-token-0123456789abcdefghijklmnop"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def event(action: Action, **details: object) -> AuditEvent:
    return AuditEvent(action=action.value, at=clock.now(), details=details)


def test_label_values_are_escaped_so_they_read_back_as_written() -> None:
    counter = Counter("odd_total", "Help with a \\ and a\nline feed.", ("text",))
    for text in ('a "quoted" word', "back\\slash", "two\nlines", "ünïcode"):
        counter.inc(text)
    parsed = prometheus.parse(exposition([counter.family()]))
    assert parsed["odd_total"].type == "counter"
    assert parsed["odd_total"].help == "Help with a \\\\ and a\\nline feed."
    for text in ('a "quoted" word', "back\\slash", "two\nlines", "ünïcode"):
        assert prometheus.value(parsed, "odd_total", text=text) == 1


def test_a_histogram_is_cumulative_and_a_bound_is_inclusive() -> None:
    histogram = Histogram("wait_seconds", "Waits.", ("kind",), (0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 1.0, 7.0):
        histogram.observe(seconds, "x")
    parsed = prometheus.parse(exposition([histogram.family()]))
    bucket = "wait_seconds_bucket"
    assert prometheus.value(parsed, bucket, kind="x", le="0.1") == 2
    assert prometheus.value(parsed, bucket, kind="x", le="1") == 4
    assert prometheus.value(parsed, bucket, kind="x", le="+Inf") == 5
    assert prometheus.value(parsed, "wait_seconds_count", kind="x") == 5
    assert prometheus.value(parsed, "wait_seconds_sum", kind="x") == pytest.approx(8.65)


def test_labels_come_from_closed_sets() -> None:
    metrics = Metrics(CountingCache())
    metrics.request("BREW", "/coffee/{pot}", 418, 0.01)
    metrics.request("GET", "unmatched", 404, 0.01)
    metrics.token_issued("urn:ietf:params:oauth:grant-type:device_code")
    metrics.token_issued("urn:example:made-up")  # not a label: not counted
    metrics.audited(
        [
            event(Action.LOGIN_SUCCEEDED),
            event(Action.LOGIN_FAILED, reason="wrong_password"),
            event(Action.LOGIN_FAILED, reason="locked"),
            event(Action.ACCOUNT_LOCKED),
        ]
    )
    parsed = prometheus.parse(metrics.render())
    requests = "authgate_http_requests_total"
    assert prometheus.value(
        parsed, requests, method="other", route="/coffee/{pot}", status="4xx"
    )
    grants = parsed["authgate_tokens_issued_total"].samples
    assert {dict(labels)["grant_type"] for _, labels in grants} == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "device_code",
        "password",
        "passkey",
    }
    assert prometheus.value(
        parsed, "authgate_tokens_issued_total", grant_type="device_code"
    )
    for outcome in ("success", "failure", "locked"):
        assert prometheus.value(parsed, "authgate_logins_total", outcome=outcome) == 1
    assert prometheus.value(
        parsed, "authgate_audit_events_total", action="account.locked"
    )


def test_a_failed_second_step_is_a_failed_sign_in() -> None:
    metrics = Metrics(CountingCache())
    metrics.audited(
        [
            event(Action.MFA_FAILED, method="totp", reason="wrong_code"),
            event(Action.MFA_FAILED, method="totp", reason="locked"),
        ]
    )
    parsed = prometheus.parse(metrics.render())
    for outcome in ("failure", "locked"):
        assert prometheus.value(parsed, "authgate_logins_total", outcome=outcome) == 1


def test_housekeeping_counts_rows_deleted_by_store() -> None:
    metrics = Metrics(CountingCache())
    metrics.pruned({"sessions": 3, "audit": 0})
    metrics.pruned({"sessions": 2})
    parsed = prometheus.parse(metrics.render())
    pruned = "authgate_pruned_rows_total"
    assert prometheus.value(parsed, pruned, store="sessions") == 5
    assert prometheus.value(parsed, pruned, store="audit") == 0


def test_mail_is_counted_by_template_and_outcome() -> None:
    metrics = Metrics(CountingCache())
    metrics.mailed("verify_email", "retried")
    metrics.mailed("verify_email", "sent")
    metrics.mailed("test", "sent")
    parsed = prometheus.parse(metrics.render())
    name = "authgate_mail_total"
    assert prometheus.value(parsed, name, template="verify_email", outcome="sent") == 1
    assert (
        prometheus.value(parsed, name, template="verify_email", outcome="retried") == 1
    )
    assert prometheus.value(parsed, name, template="test", outcome="sent") == 1


def test_the_cache_counts_hits_and_misses() -> None:
    cache = CountingCache()
    metrics = Metrics(cache)
    assert cache.get("absent") is None
    parsed = prometheus.parse(metrics.render())
    assert prometheus.value(parsed, "authgate_verification_cache_misses_total") == 1
    assert prometheus.value(parsed, "authgate_verification_cache_hits_total") == 0
    assert prometheus.value(parsed, "authgate_verification_cache_entries") == 0


def test_a_short_token_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        settings(metrics_token="too-short")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        TOKEN,
        f"Basic {TOKEN}",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN.upper()}",
        "Bearer",
    ],
)
def test_with_a_token_only_the_token_opens(header: str | None) -> None:
    configured = settings(metrics_token=TOKEN)
    headers = {} if header is None else {"authorization": header}
    refused = refusal(configured, headers, "127.0.0.1")
    assert refused is not None
    assert refused.status == 401
    assert TOKEN not in refused.description


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_token_opens_from_anywhere(scheme: str) -> None:
    configured = settings(metrics_token=TOKEN, host="0.0.0.0")  # noqa: S104
    headers = {"authorization": f"{scheme} {TOKEN}", "x-forwarded-for": "192.0.2.1"}
    assert refusal(configured, headers, "203.0.113.9") is None


def test_without_a_token_only_local_callers_of_a_loopback_bind() -> None:
    loopback = settings()
    assert refusal(loopback, {}, "127.0.0.1") is None
    assert refusal(loopback, {}, "::1") is None
    for peer in ("10.0.0.7", "", None):
        refused = refusal(loopback, {}, peer)
        assert refused is not None
        assert refused.status == 403
    for header in ("x-forwarded-for", "forwarded", "x-real-ip"):
        refused = refusal(loopback, {header: "203.0.113.9"}, "127.0.0.1")
        assert refused is not None
        assert refused.status == 403
    exposed = settings(host="0.0.0.0")  # noqa: S104
    refused = refusal(exposed, {}, "127.0.0.1")
    assert refused is not None
    assert refused.status == 403
    assert "AUTHGATE_METRICS_TOKEN" in refused.description


def test_workers_answer_for_each_other_with_their_own_labels(tmp_path: Path) -> None:
    """A scrape reaches one worker of ``authgate serve --workers``; it shows
    every live worker's samples, each labelled, under one header per family."""
    mine, theirs = Metrics(CountingCache(), "101"), Metrics(CountingCache(), "202")
    mine.request("GET", "/healthz", 200, 0.001)
    theirs.request("GET", "/healthz", 200, 0.001)
    theirs.request("GET", "/healthz", 200, 0.001)
    text = mine.render([theirs.families()])
    parsed = prometheus.parse(text)
    requests = "authgate_http_requests_total"
    for worker, count in (("101", 1), ("202", 2)):
        assert (
            prometheus.value(
                parsed,
                requests,
                worker=worker,
                method="GET",
                route="/healthz",
                status="2xx",
            )
            == count
        )
        build = {"worker": worker, "version": __version__}
        assert prometheus.value(parsed, "authgate_build_info", **build) == 1
        assert (
            prometheus.value(
                parsed, "authgate_verification_cache_entries", worker=worker
            )
            == 0
        )
    assert text.count(f"# TYPE {requests} counter") == 1


def test_a_worker_reads_its_live_siblings_snapshots_only(tmp_path: Path) -> None:
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = Metrics(CountingCache(), str(sibling.pid))
        theirs.request("GET", "/healthz", 200, 0.001)
        # (read once: the process's own figures move between reads)
        written = theirs.families()
        (tmp_path / f"{sibling.pid}.json").write_text(json.dumps(written))
        dead = Metrics(CountingCache(), "999999999")
        (tmp_path / "999999999.json").write_text(json.dumps(dead.families()))
        mine = Metrics(CountingCache(), str(os.getpid()))
        siblings = Siblings(tmp_path, mine.families)
        siblings.write()  # its own snapshot is not read back as a sibling's
        assert (tmp_path / f"{os.getpid()}.json").exists()
        found = siblings.read()
    finally:
        sibling.kill()
        sibling.wait()
    assert found == [written]


def test_the_process_figures_come_with_each_worker_label() -> None:
    """prometheus_client's own reader takes the whole scrape, and the process
    and garbage-collector families every Python service has are there, once
    per worker."""
    mine, theirs = Metrics(CountingCache(), "101"), Metrics(CountingCache(), "202")
    text = mine.render([theirs.families()])
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name in ("process_resident_memory_bytes", "process_cpu_seconds"):
        workers = {sample.labels["worker"] for sample in families[name].samples}
        assert workers == {"101", "202"}
    collected = families["python_gc_objects_collected"]
    assert collected.type == "counter"
    assert {sample.labels["worker"] for sample in collected.samples} == {"101", "202"}
    assert "python_info" in families
    prometheus.parse(text)  # and the strict reader too


def test_every_scrape_shows_each_worker_once() -> None:
    """A collector may hand out the same family on every collection (the
    platform's ``python_info``): a scrape adding the siblings' samples must
    not add them to it, or the next scrape shows them twice."""
    mine, theirs = Metrics(CountingCache(), "101"), Metrics(CountingCache(), "202")
    for _ in range(3):
        parsed = prometheus.parse(mine.render([theirs.families()]))
    info = [labels for _, labels in parsed["python_info"].samples]
    assert sorted(dict(labels)["worker"] for labels in info) == ["101", "202"]
