"""A bounded, closed-loop HTTP load generator (standard library + requests).

``run()`` sends a fixed list of requests from ``concurrency`` threads, each
with its own keep-alive connection, and stops when the list is exhausted or
the time cap is reached. It measures the latency of every request on the
client side and the throughput over the wall time of the whole run.
"""

import dataclasses
import math
import threading
import time

import requests


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = None


@dataclasses.dataclass
class Result:
    planned: int
    done: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list = dataclasses.field(default_factory=list)
    capped: bool = False
    first_error: str = ''

    @property
    def throughput(self):
        return self.done / self.elapsed if self.elapsed else 0.0

    def percentile(self, pct):
        """Latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return float('nan')
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
        rank = min(rank, len(ordered))
        return ordered[rank - 1] * 1000.0


def run(base_url, reqs, expected_status, headers, concurrency=8,
        time_cap=10.0, warmup=()):
    """Send ``reqs`` to ``base_url`` and return a :class:`Result`.

    ``warmup`` requests go first through the same connections and are not
    measured. A response whose status is not ``expected_status`` counts as
    an error (its latency is not recorded).
    """
    result = Result(planned=len(reqs))
    lock = threading.Lock()
    cursor = {'warm': 0, 'main': 0}
    started = {}
    start = threading.Barrier(
        concurrency + 1,
        action=lambda: started.__setitem__('t', time.perf_counter()))
    ends = []

    def take(name, items):
        with lock:
            index = cursor[name]
            cursor[name] += 1
        return items[index] if index < len(items) else None

    def send(session, req):
        return session.request(req.method, base_url + req.path,
                               data=req.body, timeout=120)

    def worker():
        session = requests.Session()
        session.headers.update(headers)
        latencies = []
        errors = 0
        first_error = ''
        try:
            while (req := take('warm', warmup)) is not None:
                try:
                    _ = send(session, req).content
                except requests.RequestException:
                    pass
        finally:
            start.wait()
        deadline = started['t'] + time_cap
        while True:
            if time.perf_counter() >= deadline:
                with lock:
                    result.capped = cursor['main'] < len(reqs)
                break
            req = take('main', reqs)
            if req is None:
                break
            t0 = time.perf_counter()
            try:
                resp = send(session, req)
                _ = resp.content
                status = resp.status_code
            except requests.RequestException as exc:
                status = None
                detail = repr(exc)
            t1 = time.perf_counter()
            if status == expected_status:
                latencies.append(t1 - t0)
            else:
                errors += 1
                if not first_error:
                    first_error = ('%s %s -> %s %s' % (
                        req.method, req.path, status,
                        resp.text[:200] if status else detail))
        end = time.perf_counter()
        session.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            result.done += len(latencies)
            result.first_error = result.first_error or first_error
            ends.append(end)

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()
    result.elapsed = max(ends) - started['t'] if ends else 0.0
    return result
