"""Shared benchmark plumbing: a PostgreSQL database of its own, gunicorn, a load generator."""

from __future__ import annotations

import http.client
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database(name: str) -> str:
    """Drop and create database `name`; return its SQLAlchemy URL."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def start_gunicorn(env: dict, app: str, port: int, workers: int = 0, threads: int = 0):
    """gunicorn with the production settings (gunicorn.conf.py) on a loopback port;
    `workers` / `threads` override them when given."""
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    cmd += ["-w", str(workers)] if workers else []
    cmd += ["--threads", str(threads)] if threads else []
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 60  # a loaded shared machine can take long to import
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])


def stop(proc: subprocess.Popen, grace: float = 30) -> None:
    """Stop a server started here: SIGTERM, then SIGKILL if it is still up after `grace`
    seconds (gunicorn's graceful shutdown can outlast a loaded machine's patience)."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _worker(args) -> list[tuple[float, int, float, float]]:
    """One load process: `threads` keep-alive connections sending its share of requests;
    (latency, status, start, end) of each (perf_counter is one clock for all processes)."""
    port, requests, threads = args

    def run(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out = []
        for method, path, body in chunk:
            start = time.perf_counter()
            conn.request(method, path, body=body, headers={"Content-Type": "text/xml"})
            response = conn.getresponse()
            response.read()
            end = time.perf_counter()
            out.append((end - start, response.status, start, end))
        conn.close()
        return out

    chunks = [requests[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return [item for result in pool.map(run, chunks) for item in result]


def load(
    port: int, requests: list[tuple[str, str, bytes]], concurrency: int = 16, procs: int = 4
) -> dict:
    """Send `requests` at `concurrency` (procs × threads); throughput and latency percentiles."""
    threads = concurrency // procs
    shares = [(port, requests[i::procs], threads) for i in range(procs)]
    with get_context("fork").Pool(procs) as pool:
        results = [item for part in pool.map(_worker, shares) for item in part]
    # From the first request sent to the last answer: starting and stopping the load
    # processes is no part of the server's time.
    return _summary(results, max(r[3] for r in results) - min(r[2] for r in results))


def _summary(results: list[tuple], elapsed: float) -> dict:
    latencies = sorted(r[0] for r in results)
    return {
        "n": len(results),
        "errors": sum(1 for r in results if r[1] != 200),
        "rps": len(results) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "results": results,
        "elapsed": elapsed,
    }


def alternate(measure, port: int, series: dict[str, list], rounds: int) -> dict[str, dict]:
    """Load each series in turn, a slice per round (A B A B …), and combine each one's
    rounds: on a shared machine the speed drifts, and a baseline measured beside its
    comparison in every round keeps the drift out of the ratio."""
    parts: dict[str, list[dict]] = {name: [] for name in series}
    for r in range(rounds):
        for name, requests in series.items():
            size = len(requests)
            chunk = requests[r * size // rounds : (r + 1) * size // rounds]
            parts[name].append(measure(load, port, chunk))
    return {name: _combined(runs) for name, runs in parts.items()}


def _combined(runs: list[dict]) -> dict:
    stats = _summary([r for run in runs for r in run["results"]], sum(r["elapsed"] for r in runs))
    if all("cpu_ms" in run for run in runs):
        stats["cpu_ms"] = {
            group: sum(run["cpu_ms"][group] * run["n"] for run in runs) / stats["n"]
            for group in runs[0]["cpu_ms"]
        }
    return stats


class CpuMeter:
    """CPU seconds per request spent by gunicorn (the server `pid` and its workers),
    PostgreSQL, Redis and the load generator (this process's children), around a load.

    `database`: count only the PostgreSQL backends connected to it (on a shared machine
    other sessions' backends come and go between two samples, which can even make the
    difference negative); by default every postgres process counts."""

    GROUPS = ("gunicorn", "postgres", "redis", "loadgen")

    def __init__(self, server_pid: int, database: str | None = None):
        self.server_pid = server_pid
        self.backend = f" {database} ".encode() if database else b"postgres"
        self.tick = os.sysconf("SC_CLK_TCK")

    def _sample(self) -> dict:
        out = dict.fromkeys(self.GROUPS, 0.0)
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            group = self._group(int(pid), int(stat[1]), cmdline)
            if group:
                out[group] += (int(stat[11]) + int(stat[12])) / self.tick
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["loadgen"] = usage.ru_utime + usage.ru_stime
        return out

    def _group(self, pid: int, ppid: int, cmdline: bytes) -> str | None:
        if self.server_pid in (pid, ppid):
            return "gunicorn"
        if cmdline.startswith(b"postgres") and self.backend in cmdline:
            return "postgres"
        return "redis" if cmdline.startswith(b"redis-server") else None

    def measure(self, load_fn, *args, **kwargs) -> dict:
        before = self._sample()
        stats = load_fn(*args, **kwargs)
        after = self._sample()
        stats["cpu_ms"] = {g: (after[g] - before[g]) / stats["n"] * 1000 for g in self.GROUPS}
        return stats

    @staticmethod
    def describe(stats: dict) -> str:
        parts = "  ".join(f"{g} {v:.3f}" for g, v in stats["cpu_ms"].items())
        return f"{parts}  total {sum(stats['cpu_ms'].values()):.3f}"


def describe(label: str, stats: dict) -> str:
    return (
        f"{label:<22} {stats['n']:>7} req  {stats['rps']:>8.1f} req/s  p50 {stats['p50_ms']:6.2f} ms"
        f"  p99 {stats['p99_ms']:7.2f} ms  errors {stats['errors']}"
    )
