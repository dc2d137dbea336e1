"""The load generator and the raw argon2 baseline, run in a process of their own.

``benchmarks/run.py`` starts this file as a subprocess for every case, writes a
JSON spec on its stdin and reads one JSON result from its stdout, so the load
never shares an interpreter (or a GIL) with the server it measures.

Spec of an HTTP case::

    {"mode": "http", "url": "http://127.0.0.1:PORT", "method": "GET",
     "path": "/healthz", "json": null, "expect": 200,
     "headers": [{"Authorization": "Bearer …"}, …], "once": false,
     "concurrency": 64, "warmup": 1.0, "duration": 6.0, "max_requests": 200000,
     "server_pid": 1234, "db_pid": 5678, "client": "raw"}

``server_pid`` and ``db_pid`` (PostgreSQL's postmaster, if any) are the roots
of process trees whose CPU is summed over the measured window, children
included: a server with workers is a supervisor and its worker processes.

Request ``i`` sends ``headers[i % len(headers)]``; with ``"once": true`` every
entry is used at most once and the case ends early when they run out (fresh
tokens). Only requests started after the warm-up and finished before its end
count. ``"client": "raw"`` swaps httpx for a minimal HTTP/1.1 client
(:class:`RawHttp`).

The body is ``json`` for every request, or with ``"bodies": [{…}, …]`` worker
``w``'s own ``bodies[w]``; ``"form": true`` sends it form-encoded (an OAuth
token request). ``"chain": "refresh_token"`` makes each worker replace that
field of its body with the same field of every answer: a rotating refresh
token, spent once and replaced by the next; the result then carries each
worker's last body under ``"bodies"``, for the next turn to go on from.

Spec of the baselines::

    {"mode": "argon2", "threads": 2, "warmup": 1.0, "duration": 6.0,
     "time_cost": 2, "memory_kib": 19456}
    {"mode": "pyjwt", "token": "eyJ…", "jwk": {…}, "audience": "…",
     "issuer": "…", "warmup": 1.0, "duration": 6.0}
"""

import asyncio
import json
import os
import ssl
import sys
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpcore._synchronization
import httpx

# httpcore asks ``import sniffio`` on every pool operation; sniffio is not
# installed here, and a failed import walks sys.path each time (~0.3 ms per
# request on the benchmark machine). We only ever run under asyncio.
httpcore._synchronization.current_async_library = lambda: "asyncio"

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int, thread: bool = False) -> float | None:
    """CPU seconds (user + system) a process has used so far, with those of
    its children that have exited and been waited for (a PostgreSQL backend
    that ended during the window still counts, through its postmaster); or
    with ``thread``, its main thread alone (its event loop). Linux only."""
    try:
        with open(
            f"/proc/{pid}/task/{pid}/stat" if thread else f"/proc/{pid}/stat"
        ) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if not thread:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def _children() -> dict[int, list[int]]:
    """Every process's children, from each ``/proc/<pid>/stat``'s ppid."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def tree_cpu(root: int | None) -> tuple[float | None, float | None]:
    """CPU seconds used so far by ``root`` and every process below it (a
    uvicorn supervisor and its workers, a postmaster and its backends), and by
    the main threads of the processes that serve requests alone (their event
    loops): ``root``'s children if it has any, else ``root`` itself."""
    if root is None:
        return None, None
    children = _children()
    pids, index = [root], 0
    while index < len(pids):
        pids += children.get(pids[index], [])
        index += 1
    total = [used for pid in pids if (used := process_cpu(pid)) is not None]
    loops = [
        used
        for pid in children.get(root) or [root]
        if (used := process_cpu(pid, thread=True)) is not None
    ]
    return (sum(total) if total else None), (sum(loops) if loops else None)


def idle_cpu() -> float:
    """Seconds all cores have spent idle since boot (``/proc/stat``): what
    nobody on the machine used."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    return (int(fields[4]) + int(fields[5])) / CLOCK_TICKS


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client over one asyncio connection, for
    ``"client": "raw"``: it costs a small fraction of httpx's CPU per request,
    so the server, not the generator, is what saturates."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: Any, form: bool
    ) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port
            )
        payload = b"" if body is None else _encode(body, form)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            kind = "application/x-www-form-urlencoded" if form else "application/json"
            lines += [f"Content-Type: {kind}"]
        lines += [f"Content-Length: {len(payload)}", "", ""]
        self.writer.write("\r\n".join(lines).encode("latin-1") + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported")
        return status, await self.reader.readexactly(length)

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()


class HttpxClient:
    """One ``httpx.AsyncClient`` (one keep-alive connection) per worker, keeping
    no cookies: a pool shared by many workers costs httpcore several times more
    CPU per request.
    They share one SSL context (plain http needs none, but every client would
    otherwise build its own, ~0.1 s of CPU each)."""

    _ssl: ssl.SSLContext | None = None

    def __init__(self, url: str) -> None:
        if HttpxClient._ssl is None:
            HttpxClient._ssl = ssl.create_default_context()
        self.client = httpx.AsyncClient(
            base_url=url, timeout=30.0, verify=HttpxClient._ssl
        )

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: Any, form: bool
    ) -> tuple[int, bytes]:
        if form:
            response = await self.client.request(
                method, path, headers=headers, data=body
            )
        else:
            response = await self.client.request(
                method, path, headers=headers, json=body
            )
        # Each request is someone new (a login, a token request): nothing the
        # last answer set, such as a session cookie, goes with the next.
        self.client.cookies.clear()
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


def _encode(body: Any, form: bool) -> bytes:
    return urlencode(body).encode() if form else json.dumps(body).encode()


async def drive_http(spec: dict[str, Any]) -> dict[str, Any]:
    headers: list[dict[str, str]] = spec.get("headers") or [{}]
    bodies: list[Any] = spec.get("bodies") or [spec.get("json")]
    form: bool = spec.get("form", False)
    chain: str | None = spec.get("chain")
    once: bool = spec.get("once", False)
    limit: int = spec.get("max_requests", 200_000)
    if once:
        limit = min(limit, len(headers))
    concurrency: int = spec["concurrency"]
    expect: int = spec.get("expect", 200)
    make_client = RawHttp if spec.get("client") == "raw" else HttpxClient
    next_index = 0
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counted = 0
    marks: dict[str, float | None] = {}

    clients = [make_client(spec["url"]) for _ in range(concurrency)]
    start = time.perf_counter()
    measure_from = start + spec["warmup"]
    measure_to = measure_from + spec["duration"]

    last: list[Any] = [bodies[w % len(bodies)] for w in range(concurrency)]

    async def worker(slot: int, client: RawHttp | HttpxClient, body: Any) -> None:
        nonlocal next_index, counted
        try:
            while True:
                now = time.perf_counter()
                if now >= measure_to or next_index >= limit:
                    return
                index = next_index
                next_index += 1
                status, content = await client.request(
                    spec["method"],
                    spec["path"],
                    headers[index % len(headers)],
                    body,
                    form,
                )
                done = time.perf_counter()
                if status != expect:
                    key = f"{status} {content[:120].decode(errors='replace')}"
                    errors[key] = errors.get(key, 0) + 1
                    if chain:
                        return  # its token is spent: nothing left to send
                    continue
                if chain:
                    body = last[slot] = {**body, chain: json.loads(content)[chain]}
                if now >= measure_from and done <= measure_to:
                    counted += 1
                    latencies.append(done - now)
        finally:
            await client.aclose()

    def mark(when: str) -> None:
        server, loops = tree_cpu(spec.get("server_pid"))
        marks[f"server_{when}"], marks[f"loop_{when}"] = server, loops
        marks[f"db_{when}"] = tree_cpu(spec.get("db_pid"))[0]
        marks[f"idle_{when}"] = idle_cpu()
        marks[f"self_{when}"] = time.process_time()
        marks[f"wall_{when}"] = time.perf_counter()

    async def sample_cpu() -> None:
        # Server and generator CPU over exactly the measured window.
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        mark("from")
        await asyncio.sleep(max(0.0, measure_to - time.perf_counter()))
        mark("to")

    sampler = asyncio.create_task(sample_cpu())
    await asyncio.gather(
        *(
            worker(w, client, bodies[w % len(bodies)])
            for w, client in enumerate(clients)
        )
    )
    ended = time.perf_counter()
    if once and ended < measure_to:
        # Ran out of fresh tokens early: measure up to the last request.
        sampler.cancel()
        mark("to")
    else:
        await sampler

    window = min(ended, measure_to) - measure_from
    return {
        "requests": counted,
        "seconds": window,
        "errors": errors,
        "latencies_ms": [round(seconds * 1000, 3) for seconds in latencies],
        "server_cores": _cores(marks, "server"),
        "loop_cores": _cores(marks, "loop"),
        "load_cores": _cores(marks, "self"),
        "db_cores": _cores(marks, "db"),
        "idle_cores": _cores(marks, "idle"),
        "bodies": last if chain else None,
    }


def _cores(marks: dict[str, float | None], name: str) -> float | None:
    """CPU used over the sampled window, in cores (1.0 = one core busy)."""
    low, high = marks.get(f"{name}_from"), marks.get(f"{name}_to")
    wall_from, wall_to = marks.get("wall_from"), marks.get("wall_to")
    if low is None or high is None or wall_from is None or wall_to is None:
        return None
    return (high - low) / (wall_to - wall_from) if wall_to > wall_from else None


def drive_argon2(spec: dict[str, Any]) -> dict[str, Any]:
    """argon2id verifications per second with ``threads`` threads (argon2-cffi
    releases the GIL, so threads use every core, as the server's pool does)."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher(
        time_cost=spec["time_cost"], memory_cost=spec["memory_kib"], parallelism=1
    )
    password = "correct horse battery staple"
    password_hash = hasher.hash(password)
    start = time.perf_counter()
    measure_from = start + spec["warmup"]
    measure_to = measure_from + spec["duration"]
    counts = [0] * spec["threads"]

    def run(slot: int) -> None:
        while True:
            began = time.perf_counter()
            if began >= measure_to:
                return
            hasher.verify(password_hash, password)
            if began >= measure_from and time.perf_counter() <= measure_to:
                counts[slot] += 1

    threads = [
        threading.Thread(target=run, args=(slot,)) for slot in range(spec["threads"])
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_from, wall_from = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.join()
    return {
        "requests": sum(counts),
        "seconds": spec["duration"],
        "errors": {},
        "latencies_ms": [],
        "server_cores": None,
        "loop_cores": None,
        "load_cores": (time.process_time() - cpu_from)
        / (time.perf_counter() - wall_from),
    }


def drive_pyjwt(spec: dict[str, Any]) -> dict[str, Any]:
    """PyJWT's own ES256 verification of one Authgate access token, its
    signature and registered claims, in a loop on one thread: what a JWT never
    seen before cannot cost less than."""
    import jwt

    key = jwt.PyJWK(spec["jwk"])
    token, audience, issuer = spec["token"], spec["audience"], spec["issuer"]

    def verify() -> None:
        jwt.decode(token, key, algorithms=["ES256"], audience=audience, issuer=issuer)

    warm_until = time.perf_counter() + spec["warmup"]
    while time.perf_counter() < warm_until:
        verify()
    cpu_from, wall_from = time.process_time(), time.perf_counter()
    measure_to = wall_from + spec["duration"]
    counted = 0
    while time.perf_counter() < measure_to:
        verify()
        counted += 1
    seconds = time.perf_counter() - wall_from
    return {
        "requests": counted,
        "seconds": seconds,
        "errors": {},
        "latencies_ms": [],
        "server_cores": None,
        "loop_cores": None,
        "load_cores": (time.process_time() - cpu_from) / seconds,
    }


def main() -> None:
    spec = json.load(sys.stdin)
    if spec["mode"] == "argon2":
        result = drive_argon2(spec)
    elif spec["mode"] == "pyjwt":
        result = drive_pyjwt(spec)
    else:
        result = asyncio.run(drive_http(spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
