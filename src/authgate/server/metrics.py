"""Prometheus metrics for operators, in the text exposition format 0.0.4,
written by prometheus_client, with its process, garbage-collector and platform
families (``process_…``, ``python_gc_…``, ``python_info``) next to Authgate's.

What is counted: HTTP requests (method, route template, status class) and
their duration; sign-ins by outcome and every audited event by action, both
taken from the audit events a transaction committed (so a sign-in counts
whichever page, API or provider it came through, and only once it happened);
tokens issued by grant type; the verification cache's hits, misses and size;
rows the housekeeping job deleted, by store.

Collecting costs a few dictionary updates per request and no I/O (Authgate's
own counters: prometheus_client's metric objects take a lock per update); they
become prometheus_client families only when scraped, when the process
collector reads ``/proc`` too. Everything
is updated on the event loop's thread (the middleware, the after-commit hook,
the handlers), so no lock is needed. Labels come only from closed sets (route
templates, never paths; known methods and grant types; audit actions, which
are an enum), so no id, token or other request text becomes a label, and the
number of series stays bounded whatever clients send.

Who may read ``/metrics`` is decided by :func:`refusal`: see
``docs/security.md``.
"""

import hmac
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypedDict

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Sample

from authgate import __version__
from authgate.config import Settings
from authgate.domain.audit import Action, AuditEvent
from authgate.errors import AuthgateError, Forbidden, Unauthenticated
from authgate.guard import Principal, VerificationCache
from authgate.util.loopback import is_loopback, local_request

#: ``Content-Type`` of the text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Request durations, in seconds: from a cached token check to a slow hash.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Route label of requests no route matched (their paths are not labels).
UNMATCHED = "unmatched"
#: ``grant_type`` values → label; first-party sign-in is ``password`` or
#: ``passkey``.
GRANT_TYPES = {
    "authorization_code": "authorization_code",
    "refresh_token": "refresh_token",
    "client_credentials": "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code": "device_code",
    "password": "password",
    "passkey": "passkey",
}
LOGIN_OUTCOMES = ("success", "failure", "locked")
LOCAL_ONLY = (
    "Metrics need AUTHGATE_METRICS_TOKEN here: without it they are served only "
    "on a loopback bind, to loopback callers, not through a proxy."
)

Labels = tuple[str, ...]


class SampleData(TypedDict):
    name: str
    labels: dict[str, str]
    value: float


class FamilyData(TypedDict):
    """A metric family as JSON can carry it (:class:`Families`)."""

    help: str
    type: str
    samples: list[SampleData]


#: Metric families by name, as a worker hands them to its siblings
#: (``server/workers.py``): plain JSON, read back as it was written.
Families = dict[str, FamilyData]


class Counter:
    def __init__(self, name: str, help_text: str, labels: Labels = ()) -> None:
        self.name = name
        self.help = help_text
        self.labels = labels
        self.values: dict[Labels, float] = {}

    def inc(self, *values: str, amount: float = 1.0) -> None:
        self.values[values] = self.values.get(values, 0.0) + amount

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.help, labels=self.labels)
        for values, number in sorted(self.values.items()):
            family.add_metric(values, number)
        return family


class Histogram:
    def __init__(
        self, name: str, help_text: str, labels: Labels, buckets: Sequence[float]
    ) -> None:
        self.name = name
        self.help = help_text
        self.labels = labels
        self.buckets = tuple(buckets)
        self.series: dict[Labels, _Series] = {}

    def observe(self, amount: float, *values: str) -> None:
        series = self.series.get(values)
        if series is None:
            series = self.series[values] = _Series(len(self.buckets) + 1)
        series.counts[bisect_left(self.buckets, amount)] += 1
        series.total += amount

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.help, labels=self.labels)
        bounds = [*map(_number, self.buckets), "+Inf"]
        for values, series in sorted(self.series.items()):
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip(bounds, series.counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            family.add_metric(values, buckets, series.total)
        return family


class _Series:
    """One label set of a histogram: the count in each bucket (not cumulative;
    the last is +Inf) and the sum of the values observed."""

    __slots__ = ("counts", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets
        self.total = 0.0


class Gauge:
    """A value read when scraped (cheap reads only: no database)."""

    def __init__(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.name = name
        self.help = help_text
        self.read = read

    def family(self) -> Metric:
        return GaugeMetricFamily(self.name, self.help, value=self.read())


class CountingCache(VerificationCache):
    """The guard's verification cache, counting look-ups for ``/metrics``."""

    def __init__(self, max_entries: int = 10_000) -> None:
        super().__init__(max_entries)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Principal | None:
        found = super().get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found


class Metrics:
    """One instance's metrics (every instance is scraped on its own; the
    workers of one ``authgate serve`` answer for each other)."""

    def __init__(self, cache: CountingCache, worker: str | None = None) -> None:
        #: Which of ``authgate serve``'s processes this is, when it runs several.
        self.worker = worker
        self.requests = Counter(
            "authgate_http_requests_total",
            "HTTP requests answered, by method, route template and status class.",
            ("method", "route", "status"),
        )
        self.duration = Histogram(
            "authgate_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ("method", "route"),
            DURATION_BUCKETS,
        )
        self.logins = Counter(
            "authgate_logins_total",
            "Sign-ins: success (any method), failure (wrong or unknown name or "
            "password, wrong second-factor code, disabled account), locked "
            "(refused: the account is locked).",
            ("outcome",),
        )
        self.tokens = Counter(
            "authgate_tokens_issued_total",
            "Access tokens issued, by grant type (password: the first-party "
            "/api/v1/auth/login).",
            ("grant_type",),
        )
        self.audit = Counter(
            "authgate_audit_events_total",
            "Audit events committed, by action.",
            ("action",),
        )
        self.pruned_rows = Counter(
            "authgate_pruned_rows_total",
            "Rows the housekeeping job deleted on this instance, by store.",
            ("store",),
        )
        self.mail = Counter(
            "authgate_mail_total",
            "Mail delivery attempts on this instance, by template and outcome: "
            "sent, retried (it failed and is tried again later), failed (given "
            "up).",
            ("template", "outcome"),
        )
        for outcome in LOGIN_OUTCOMES:
            self.logins.inc(outcome, amount=0)
        for grant in GRANT_TYPES.values():
            self.tokens.inc(grant, amount=0)
        started = time.time()
        self._families: list[Counter | Histogram | Gauge] = [
            Gauge(
                "authgate_start_time_seconds",
                "When this instance started (Unix time).",
                lambda: started,
            ),
            self.requests,
            self.duration,
            self.logins,
            self.tokens,
            self.audit,
            self.pruned_rows,
            self.mail,
            _CacheCounter(
                "authgate_verification_cache_hits_total",
                "Credential checks answered from the verification cache.",
                lambda: cache.hits,
            ),
            _CacheCounter(
                "authgate_verification_cache_misses_total",
                "Credential checks the verification cache could not answer.",
                lambda: cache.misses,
            ),
            Gauge(
                "authgate_verification_cache_entries",
                "Verified credentials held in the cache.",
                lambda: len(cache),
            ),
        ]
        #: What every Python service reports: memory, CPU, open files, the
        #: garbage collector, the interpreter (read when scraped).
        self._process = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self._process)
        GCCollector(registry=self._process)
        PlatformCollector(registry=self._process)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.inc(method, route, f"{status // 100}xx")
        self.duration.observe(seconds, method, route)

    def token_issued(self, grant_type: str) -> None:
        label = GRANT_TYPES.get(grant_type)
        if label is not None:
            self.tokens.inc(label)

    def audited(self, events: Iterable[AuditEvent]) -> None:
        """After a commit: the events it wrote (see the module docstring)."""
        for event in events:
            self.audit.inc(event.action)
            if event.action == Action.LOGIN_SUCCEEDED:
                self.logins.inc("success")
            elif event.action in (Action.LOGIN_FAILED, Action.MFA_FAILED):
                # A wrong second step is a failed sign-in too.
                locked = event.details.get("reason") == "locked"
                self.logins.inc("locked" if locked else "failure")

    def pruned(self, counts: Mapping[str, int]) -> None:
        """After a housekeeping run (store names are a closed set)."""
        for store, count in counts.items():
            self.pruned_rows.inc(store, amount=count)

    def mailed(self, template: str, outcome: str) -> None:
        """After a delivery attempt was recorded (templates are a closed set:
        the files in ``mail/templates``)."""
        self.mail.inc(template, outcome)

    def collect(self) -> Iterator[Metric]:
        """Every family, the process's too (prometheus_client's process, GC
        and platform collectors), each sample labelled with this worker when
        there are several (``server/workers.py``)."""
        build = GaugeMetricFamily(
            "authgate_build_info", "The running version.", labels=("version",)
        )
        build.add_metric((__version__,), 1)
        families: list[Iterable[Metric]] = [
            (build,),
            (family.family() for family in self._families),
            self._process.collect(),
        ]
        for found in families:
            for family in found:
                # A copy: a collector may hand out the same family every time
                # (the platform's), and render() adds the siblings' samples.
                copy = Metric(family.name, family.documentation, family.type)
                copy.samples = [
                    sample._replace(labels={"worker": self.worker, **sample.labels})
                    if self.worker is not None
                    else sample
                    for sample in family.samples
                ]
                yield copy

    def families(self) -> Families:
        """:meth:`collect` as data a sibling worker can read back."""
        return {
            family.name: {
                "help": family.documentation,
                "type": family.type,
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": s.value}
                    for s in family.samples
                ],
            }
            for family in self.collect()
        }

    def render(self, siblings: Iterable[Families] = ()) -> str:
        """This process's metrics, and its sibling workers' latest ones, in
        prometheus_client's exposition: one header per family."""
        merged = {family.name: family for family in self.collect()}
        for theirs in siblings:
            for name, data in theirs.items():
                family = merged.get(name)
                if family is None:
                    family = merged[name] = Metric(name, data["help"], data["type"])
                family.samples.extend(
                    Sample(s["name"], s["labels"], s["value"]) for s in data["samples"]
                )
        return exposition(merged.values())


class _CacheCounter(Gauge):
    """A counter kept elsewhere (by the cache), read when scraped."""

    def family(self) -> Metric:
        return CounterMetricFamily(self.name, self.help, value=self.read())


class MetricsMiddleware:
    """Outermost, so every answer is counted and timed, the refusals of the
    inner middleware included."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before it answers

        async def observe(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self.metrics.request(
                scope["method"],
                route_template(scope),
                status,
                time.perf_counter() - started,
            )


def route_template(scope: Mapping[str, Any]) -> str:
    """The full path template of what answered (``/api/v1/admin/users/{user_id}``,
    ``/static/{path}``), never the path itself.

    The router leaves the matched route in the scope, but its template lacks
    the prefix it was included under (``/api/v1``): that prefix is the part of
    the path before the route's own template, filled with the request's path
    parameters. Prefixes are constants, so the labels stay a closed set."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str) and template:
        try:
            filled = template.format_map(scope.get("path_params", {}))
        except (KeyError, IndexError, ValueError):
            return template
        path: str = scope["path"]
        return (
            path[: len(path) - len(filled)] + template
            if path.endswith(filled)
            else template
        )
    mount = scope.get("root_path", "")[len(scope.get("app_root_path", "")) :]
    return f"{mount}/{{path}}" if mount else UNMATCHED


def refusal(
    settings: Settings, headers: Mapping[str, str], peer: str | None
) -> AuthgateError | None:
    """Why this request may not read the metrics, or ``None``.

    With ``AUTHGATE_METRICS_TOKEN`` set, only ``Authorization: Bearer <it>``
    (compared in constant time). Without it, only on a loopback bind, from a
    loopback peer, and not through a proxy: a reverse proxy on the same
    machine would otherwise serve them to anyone."""
    token = settings.metrics_token
    if token is not None:
        scheme, _, presented = headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), expected
        ):
            return None
        return Unauthenticated("Send Authorization: Bearer <AUTHGATE_METRICS_TOKEN>.")
    if is_loopback(settings.host) and local_request(peer, headers):
        return None
    return Forbidden(LOCAL_ONLY)


def exposition(families: Iterable[Metric]) -> str:
    """These families in the text format 0.0.4 (prometheus_client's writer)."""

    class _Families:
        def collect(self) -> Iterable[Metric]:
            return families

    return generate_latest(_Families()).decode()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
