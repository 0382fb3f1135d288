#!/usr/bin/env python3
"""Runs every benchmark case of bench/README.md several times and prints the medians.

Called by `bench/run` after it has built everything; standard library only. Each
repetition runs the raw baseline, Python rosy and Swift rosy one after the other, for
Unix sockets and for TCP loopback, so that the noise of a shared machine hits all three
alike. Python and Swift nodes run inside a private network namespace (`unshare -n`,
bench/lib/session); the raw baseline needs no discovery and runs on loopback directly.
"""

import argparse
import json
import os
import platform
import statistics
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SIZES = [0, 1000, 65536, 1048576]
SOCKETS = ["unix", "tcp"]
IMPLS = ["swift", "python", "raw"]
# What users pick instead of rosy (bench/python/zenohbench.py, zmqbench.py): their Python APIs,
# from PyPI into .venv-bench, over the same sockets, at the sizes of ALT_SIZES.
ALTERNATIVES = ["zenoh", "zmq"]
ALT_SIZES = [0, 1000, 1048576]
# The `rosy speedtest` pair users run (bench/python/speedtest_pair.py), at these sizes.
SPEEDTEST_SIZES = [0, 1000]
# The window of the Swift session whose nodes busy-poll (rosy's BusyPolling).
BUSY_POLL_US = 50


# ---- running the cases -------------------------------------------------------------------


SESSION_COUNT = 0


def run_lines(cmd: list[str], timeout: float, extra_env: dict | None = None) -> list[dict]:
    """Runs cmd, returns the JSON objects it printed one per line."""
    global SESSION_COUNT
    SESSION_COUNT += 1
    # A domain of its own per session: Swift's default discovery is a registry directory on
    # the file system, which a network namespace does not separate from other nodes.
    env = dict(os.environ, ROSY_DOMAIN_ID=f"bench-{os.getpid()}-{SESSION_COUNT}", **(extra_env or {}))
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        print(f"  ! timed out: {' '.join(cmd)}", file=sys.stderr)
        return []
    rows = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    if proc.returncode != 0:
        tail = "\n    ".join(proc.stderr.strip().splitlines()[-8:])
        print(f"  ! exit {proc.returncode}: {' '.join(cmd)}\n    {tail}", file=sys.stderr)
    return rows


def raw_session(raw: str, sock: str, args) -> list[dict]:
    rows = []
    for size in SIZES:
        rows += run_lines([raw, "throughput", sock, str(size), str(args.seconds)], 60)
    rows += run_lines([raw, "latency", sock, "0", str(args.rate), str(args.latency_seconds)], 60)
    for inflight in (1, 64):
        rows += run_lines([raw, "service", sock, str(inflight), str(args.seconds)], 60)
    # What one call at a time costs without wake-ups: both ends spin a core (a reference only).
    rows += run_lines([raw, "service-spin", sock, "1", str(args.seconds)], 60)
    return rows


def common_flags(sock: str, args) -> list[str]:
    return ["--socket", sock, "--seconds", str(args.seconds),
            "--latency-seconds", str(args.latency_seconds), "--rate", str(args.rate)]


def one_cpu() -> list[str]:
    """`taskset` onto the first CPU this process may use: both ends of a call then share a
    CPU, so each wake-up is a switch on that CPU instead of a wake-up of another (idle) one."""
    return ["taskset", "-c", str(min(os.sched_getaffinity(0)))]


def process_usage(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and context switches (voluntary + involuntary, every
    thread) of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    switches = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            for line in status.read_text().splitlines():
                if "ctxt_switches:" in line:  # voluntary_ and nonvoluntary_
                    switches += int(line.split()[1])
        except OSError:
            pass  # the thread ended meanwhile
    return cpu, switches


def nio_echo_session(binary: str, sock: str, args) -> list[dict]:
    """Bare SwiftNIO, one 8-byte call at a time echoed (`rosy-bench nio-echo`), with loops
    that sleep, with loops that busy-poll, and with both ends on one CPU: the most NIO's
    event loop allows rosy's calls. Loopback only, no discovery, so no namespace (as the
    raw baseline). The server's CPU and context switches per call come from /proc."""
    rows = []
    for case, spin, pin in (("nio_echo", 0, []), ("nio_echo_busypoll", BUSY_POLL_US, []),
                            ("nio_echo_onecpu", 0, one_cpu())):
        folder = Path(tempfile.mkdtemp(prefix="rosy-nio-echo-"))
        if sock == "unix":
            address = str(folder / "echo.sock")
        else:
            with socket.socket() as probe:  # a free port on loopback
                probe.bind(("127.0.0.1", 0))
                address = str(probe.getsockname()[1])
        common = ["--socket", sock, "--address", address, "--spin-microseconds", str(spin)]
        server = subprocess.Popen(pin + [binary, "nio-echo", "--role", "server"] + common,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            if "ready" not in (server.stdout.readline() if server.stdout else ""):
                print(f"  ! nio-echo server ({sock}) did not start", file=sys.stderr)
                continue
            before = process_usage(server.pid)
            got = run_lines(pin + [binary, "nio-echo", "--role", "client", "--seconds", str(args.seconds)] + common, 60)
            after = process_usage(server.pid)
        finally:
            server.terminate()
            server.wait()
            shutil.rmtree(folder, ignore_errors=True)
        for row in got:
            row["case"] = case
            calls = max(1, row.get("calls", 1))
            row["recv_cpu_us_per_call"] = round((after[0] - before[0]) * 1e6 / calls, 1)
            row["recv_ctx_per_call"] = round((after[1] - before[1]) / calls, 3)
        rows += got
    return rows


def one_cpu_rows(impl: str, binary: str, sock: str, args) -> list[dict]:
    """One call at a time with both ends on one CPU (`taskset`): rows `service_onecpu`. The
    same calls as the `service` rows; what changes is only where the kernel runs the ends."""
    if impl == "raw":
        rows = run_lines(one_cpu() + [binary, "service", sock, "1", str(args.seconds)], 60)
    elif impl == "python":
        script = str(BENCH / "python" / "pybench.py")
        rows = run_lines(one_cpu() + ["unshare", "-n", str(BENCH / "lib" / "session"), "--mdns-host", binary,
                                      binary, script, "responder", "--socket", sock, "--",
                                      binary, script, "driver"] + common_flags(sock, args)
                         + ["--cases", "service1"], 600)
    else:
        discovery = ["--discovery", args.swift_discovery]
        rows = run_lines(one_cpu() + ["unshare", "-n", str(BENCH / "lib" / "session"),
                                      binary, "responder", "--socket", sock] + discovery + ["--",
                                      binary, "driver"] + discovery + common_flags(sock, args)
                         + ["--cases", "service1"], 600)
    rows = [row for row in rows if row.get("case") == "service" and row.get("inflight") == 1]
    for row in rows:
        row["case"] = "service_onecpu"
    return rows


def python_session(python: str, sock: str, args) -> list[dict]:
    script = str(BENCH / "python" / "pybench.py")
    cmd = ["unshare", "-n", str(BENCH / "lib" / "session"), "--mdns-host", python,
           python, script, "responder", "--socket", sock, "--",
           python, script, "driver"] + common_flags(sock, args) + only_throughput(args)
    return run_lines(cmd, 600)


def only_throughput(args) -> list[str]:
    """`--only speedtest`: the library rows the speedtest table compares with, alone."""
    return ["--cases", "throughput", "--sizes", ",".join(map(str, SPEEDTEST_SIZES))] if args.only == "speedtest" else []


def swift_session(binary: str, sock: str, args, long_run: bool = False) -> list[dict]:
    flags = common_flags(sock, args) + only_throughput(args)
    if long_run:
        flags += ["--long-run", str(args.long_seconds)]
    discovery = ["--discovery", args.swift_discovery]
    cmd = ["unshare", "-n", str(BENCH / "lib" / "session"),
           binary, "responder", "--socket", sock] + discovery + ["--",
           binary, "driver"] + discovery + flags
    return run_lines(cmd, 600 + (args.long_seconds if long_run else 0))


def swift_no_shared_memory_session(binary: str, sock: str, args) -> list[dict]:
    """The large throughput cases with the shared-memory lane off (`ROSY_SHARED_MEMORY=0`):
    every byte through the socket, as Zenoh's "no shm" row; rows `swift_noshm`."""
    cmd = ["unshare", "-n", str(BENCH / "lib" / "session"),
           binary, "responder", "--socket", sock, "--discovery", args.swift_discovery, "--",
           binary, "driver", "--discovery", args.swift_discovery] + common_flags(sock, args) + [
           "--cases", "throughput", "--sizes", "65536,1048576"]
    rows = [r for r in run_lines(cmd, 600, {"ROSY_SHARED_MEMORY": "0"}) if r.get("case") == "throughput"]
    for r in rows:
        r["impl"] = "swift_noshm"
    return rows


def swift_busy_poll_session(binary: str, sock: str, args) -> list[dict]:
    """One call at a time between two nodes whose loops busy-poll: rows `service_busypoll`."""
    spin = ["--discovery", args.swift_discovery, "--spin-microseconds", str(BUSY_POLL_US)]
    cmd = ["unshare", "-n", str(BENCH / "lib" / "session"),
           binary, "responder", "--socket", sock] + spin + ["--",
           binary, "driver"] + spin + common_flags(sock, args) + ["--cases", "service1"]
    rows = run_lines(cmd, 600)
    for row in rows:
        if row.get("case") == "service":
            row["case"] = "service_busypoll"
            row["busy_poll_us"] = BUSY_POLL_US
    return rows


def in_private_network(cmd: list[str]) -> list[str]:
    """cmd inside a network namespace of its own with loopback up (and nothing else), so that
    whatever a library scouts or multicasts stays off the machine's interfaces."""
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + cmd


def alternative_sessions(impl: str, python: str, sock: str, args) -> list[dict]:
    """The rows of Zenoh (with its default shared memory, and without) or ZeroMQ for one
    socket kind, and at 1 MB each library's default again with the receiver reading the
    payload into `bytes` (impl `..._read`, pairbench.py `--read-payload`). ZeroMQ's Unix
    socket is its `ipc` transport; the rows say `unix`."""
    every = ["--sizes", ",".join(str(size) for size in ALT_SIZES)]
    large = ["--sizes", str(max(ALT_SIZES)), "--read-payload"]
    if impl == "zenoh":
        script = str(BENCH / "python" / "zenohbench.py")
        variants = [["--shared-memory", "on"] + every, ["--shared-memory", "off"] + every,
                    ["--shared-memory", "on"] + large]
        kind = sock
    else:
        script = str(BENCH / "python" / "zmqbench.py")
        variants = [every, large]
        kind = "ipc" if sock == "unix" else sock
    rows = []
    for variant in variants:
        got = run_lines(in_private_network([python, script, "--socket", kind] + variant
                                           + common_flags(sock, args)[2:]), 300)
        for row in got:
            row["socket"] = sock
            row["transport"] = kind
        rows += got
    return rows


def speedtest_sessions(impl: str, rosy: str, python: str, sock: str, args) -> list[dict]:
    """`rosy speedtest recv` + `rosy speedtest send` as users run them (Swift's `rosy`, or the
    venv's Python `rosy`), on a host as users have it: a private network namespace with its
    own host name, dbus and avahi-daemon (.ci/netns/run-in-netns), so that a TCP address
    `<host>.local` resolves through mDNS as on a robot."""
    rows = []
    for size in SPEEDTEST_SIZES:
        rows += run_lines([str(ROOT / ".ci" / "netns" / "run-in-netns"), "--hostname", "speedtest", "--",
                           python, str(BENCH / "python" / "speedtest_pair.py"), "--impl", impl,
                           "--rosy", rosy, "--socket", sock, "--size", str(size),
                           "--seconds", str(args.speedtest_seconds)], 120 + args.speedtest_seconds)
    return rows


# ---- the table ---------------------------------------------------------------------------


def launch_session(launch: str, python: str | None) -> list[dict]:
    """The supervisor's figures (bench/launch/bench.py): rosy-launch, and Python rosy's
    `rosy launch` for the cases it can do."""
    cmd = [sys.executable, str(BENCH / "launch" / "bench.py"), "--launch", launch]
    if python:
        cmd += ["--python", python]
    return run_lines(cmd, 300)


def key_of(row: dict) -> tuple:
    case = row["case"]
    if case in ("throughput", "throughput_plain", "speedtest"):
        return (case, row["socket"], row["size"])
    if case in ("service", "service_plain", "service_await", "service_busypoll", "service-spin",
                "nio_echo", "nio_echo_busypoll", "service_onecpu", "nio_echo_onecpu"):
        return (case, row["socket"], row["inflight"])
    return (case, row["socket"], None)


def collect(rows: list[dict]) -> dict:
    """(impl, case key, metric) -> list of values over the repetitions."""
    values = defaultdict(list)
    for row in rows:
        for metric in ("msgs_per_s", "mb_per_s", "p50_us", "p99_us", "calls_per_s", "rss_kb",
                       "driver_rss_kb", "recv_cpu_us_per_msg", "send_cpu_us_per_msg",
                       "recv_ctx_per_kmsg", "send_ctx_per_kmsg", "recv_cpu_us_per_call",
                       "send_cpu_us_per_call", "recv_ctx_per_call", "send_ctx_per_call",
                       "sent_mps", "mean_latency_ms", "p50_ms", "p99_ms", *LAUNCH_METRICS):
            if metric in row:
                values[(row["impl"], key_of(row), metric)].append(row[metric])
        if row.get("case") == "speedtest" and "lost" in row:  # a count, or "unknown"
            values[(row["impl"], key_of(row), "lost")].append(row["lost"])
    return values


def median(values: dict, impl: str, key: tuple, metric: str):
    got = values.get((impl, key, metric))
    return statistics.median(got) if got else None


def size_label(size: int) -> str:
    return {0: "0 B", 1000: "1 kB", 65536: "64 kB", 1048576: "1 MB"}.get(size, f"{size} B")


def table_rows(values: dict) -> list[tuple]:
    """(label, unit, key, metric, higher_is_better)"""
    rows = []
    for sock in SOCKETS:
        for size in SIZES:
            rows.append((f"topic {size_label(size)} {sock}", "msg/s",
                         ("throughput", sock, size), "msgs_per_s", True))
            if size >= 65536:
                rows.append((f"topic {size_label(size)} {sock}", "MB/s",
                             ("throughput", sock, size), "mb_per_s", True))
    for sock in SOCKETS:
        for size in (0, 1000):
            rows.append((f"topic {size_label(size)} {sock}, Swift sender in a plain task", "msg/s",
                         ("throughput_plain", sock, size), "msgs_per_s", True))
    for sock in SOCKETS:
        rows.append((f"latency p50 @1k/s {sock}", "µs", ("latency", sock, None), "p50_us", False))
        rows.append((f"latency p99 @1k/s {sock}", "µs", ("latency", sock, None), "p99_us", False))
    for sock in SOCKETS:
        for metric in ("p50", "p99"):
            rows.append((f"latency {metric} @1k/s {sock}, Swift sender in a plain task", "µs",
                         ("latency_plain", sock, None), f"{metric}_us", False))
    for case, suffix in (("service", ""), ("service_plain", ", Swift callers in plain tasks"),
                         ("service_await", ", Swift handler that awaits")):
        for sock in SOCKETS:
            for inflight in (1, 64):
                rows.append((f"service {inflight} in flight {sock}{suffix}", "calls/s",
                             (case, sock, inflight), "calls_per_s", True))
    for sock in SOCKETS:
        rows.append((f"service 1 in flight {sock}, raw baseline busy-polling (a core per end)", "calls/s",
                     ("service-spin", sock, 1), "calls_per_s", True))
    for sock in SOCKETS:
        rows.append((f"service 1 in flight {sock}, Swift nodes busy-polling ({BUSY_POLL_US} µs)", "calls/s",
                     ("service_busypoll", sock, 1), "calls_per_s", True))
    for sock in SOCKETS:
        rows.append((f"service 1 in flight {sock}, bare SwiftNIO echo (a reference)", "calls/s",
                     ("nio_echo", sock, 1), "calls_per_s", True))
        rows.append((f"service 1 in flight {sock}, bare SwiftNIO echo busy-polling ({BUSY_POLL_US} µs)", "calls/s",
                     ("nio_echo_busypoll", sock, 1), "calls_per_s", True))
    for sock in SOCKETS:
        rows.append((f"service 1 in flight {sock}, both ends on one CPU (taskset)", "calls/s",
                     ("service_onecpu", sock, 1), "calls_per_s", True))
        rows.append((f"service 1 in flight {sock}, bare SwiftNIO echo on one CPU (taskset)", "calls/s",
                     ("nio_echo_onecpu", sock, 1), "calls_per_s", True))
    rows.append(("receiver RSS at rest", "MB", ("rss_at_rest", "unix", None), "rss_kb", False))
    rows.append(("sender RSS at rest", "MB", ("rss_at_rest", "unix", None), "driver_rss_kb", False))
    return rows


def fmt(value, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "MB":
        return f"{value / 1024:.1f}"
    if unit == "µs" or unit == "MB/s":
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,.0f}"


def ratio(a, b) -> str:
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    if r < 0.1:
        return f"{r:.2g}"
    return f"{r:.2f}" if r < 10 else f"{r:.0f}"


def render_table(values: dict) -> str:
    lines = ["| case | unit | Swift | Python | raw | Swift/Python | Swift/raw |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for label, unit, key, metric, _ in table_rows(values):
        # Python and raw have one form of each case: a `_plain` row compares with it. Nodes
        # that busy-poll, and bare NIO echoing, compare with the calls of Python and raw, and
        # with the raw baseline that busy-polls when they do.
        case = key[0].removesuffix("_plain").removesuffix("_await").removesuffix("_busypoll")
        base = ("service" if case == "nio_echo" else case,) + key[1:]
        raw_base = ("service-spin",) + key[1:] if key[0].endswith("_busypoll") else base
        if key[0].endswith("_onecpu"):  # against Python and raw on one CPU too
            base = raw_base = ("service_onecpu",) + key[1:]
        s = median(values, "swift", key, metric)
        p, r = median(values, "python", base, metric), median(values, "raw", raw_base, metric)
        lines.append(f"| {label} | {unit} | {fmt(s, unit)} | {fmt(p, unit)} | {fmt(r, unit)} "
                     f"| {ratio(s, p)} | {ratio(s, r)} |")
    return "\n".join(lines)


def render_cpu_table(values: dict) -> str:
    """Where the time goes: CPU per delivered message at each end (throughput cases)."""
    lines = ["| case | Swift recv + send µs/msg | Python recv + send µs/msg "
             "| Swift ctx switches per 1000 msgs recv / send |",
             "|---|---:|---:|---:|"]
    for sock in SOCKETS:
        for size in SIZES:
            key = ("throughput", sock, size)
            cells = []
            for impl in ("swift", "python"):
                r = median(values, impl, key, "recv_cpu_us_per_msg")
                t = median(values, impl, key, "send_cpu_us_per_msg")
                cells.append("–" if r is None or t is None else f"{r:,.1f} + {t:,.1f}")
            rc = median(values, "swift", key, "recv_ctx_per_kmsg")
            sc = median(values, "swift", key, "send_ctx_per_kmsg")
            ctx = "–" if rc is None or sc is None else f"{rc:,.0f} / {sc:,.0f}"
            lines.append(f"| topic {size_label(size)} {sock} | {cells[0]} | {cells[1]} | {ctx} |")
            r = median(values, "swift_noshm", key, "recv_cpu_us_per_msg")
            t = median(values, "swift_noshm", key, "send_cpu_us_per_msg")
            if r is not None and t is not None:
                rc = median(values, "swift_noshm", key, "recv_ctx_per_kmsg")
                sc = median(values, "swift_noshm", key, "send_ctx_per_kmsg")
                lines.append(f"| topic {size_label(size)} {sock}, Swift without shared memory | {r:,.1f} + {t:,.1f} | – "
                             f"| {rc:,.0f} / {sc:,.0f} |")
    lines += ["", "| case | Swift provider + caller µs/call | Swift ctx switches per call provider / caller |",
              "|---|---:|---:|"]
    for case, suffix in (("service", ""), ("service_await", ", handler that awaits"),
                         ("service_busypoll", f", nodes busy-polling ({BUSY_POLL_US} µs)")):
        for sock in SOCKETS:
            for inflight in (1, 64):
                key = (case, sock, inflight)
                if case == "service_busypoll" and inflight != 1:
                    continue
                r, t = (median(values, "swift", key, m) for m in ("recv_cpu_us_per_call", "send_cpu_us_per_call"))
                rc, sc = (median(values, "swift", key, m) for m in ("recv_ctx_per_call", "send_ctx_per_call"))
                cpu = "–" if r is None or t is None else f"{r:,.1f} + {t:,.1f}"
                ctx = "–" if rc is None or sc is None else f"{rc:.1f} / {sc:.1f}"
                lines.append(f"| service {inflight} in flight {sock}{suffix} | {cpu} | {ctx} |")
    # One call at a time on one CPU, and bare SwiftNIO (server + client) the same three ways.
    for case, suffix in (("service_onecpu", ", both ends on one CPU"), ("nio_echo", ", bare SwiftNIO echo"),
                         ("nio_echo_busypoll", f", bare SwiftNIO echo busy-polling ({BUSY_POLL_US} µs)"),
                         ("nio_echo_onecpu", ", bare SwiftNIO echo on one CPU")):
        for sock in SOCKETS:
            key = (case, sock, 1)
            r, t = (median(values, "swift", key, m) for m in ("recv_cpu_us_per_call", "send_cpu_us_per_call"))
            rc, sc = (median(values, "swift", key, m) for m in ("recv_ctx_per_call", "send_ctx_per_call"))
            cpu = "–" if r is None or t is None else f"{r:,.1f} + {t:,.1f}"
            ctx = "–" if rc is None or sc is None else f"{rc:.2f} / {sc:.2f}"
            lines.append(f"| service 1 in flight {sock}{suffix} | {cpu} | {ctx} |")
    return "\n".join(lines)


def render_alternatives_table(values: dict) -> str:
    """Swift rosy beside what users pick instead of it: Zenoh (its default configuration,
    which moves payloads of 3 kB and more through shared memory, and with shared memory off)
    and ZeroMQ PUSH/PULL. Throughput ratios are Swift rosy / the other (above 1: rosy ahead);
    latency ratios are the other / Swift rosy (above 1: rosy's is lower, so rosy ahead)."""
    others = (("zenoh", "Zenoh"), ("zenoh_noshm", "Zenoh, no shm"), ("zmq", "ZeroMQ"))
    if not any(median(values, impl, ("throughput", sock, 0), "msgs_per_s") is not None
               for impl, _ in others for sock in SOCKETS):
        return ""
    lines = ["| case | unit | Swift rosy | " + " | ".join(name for _, name in others) + " | "
             + " | ".join(f"rosy/{name}" for _, name in others) + " | rosy ahead of all |",
             "|---|---|---:|" + "---:|" * (2 * len(others)) + "---|"]

    def row(label, unit, key, metric, higher_is_better, impl="swift"):
        s = median(values, impl, key, metric)
        got = [median(values, impl, key, metric) for impl, _ in others]
        ratios = [ratio(s, o) if higher_is_better else ratio(o, s) for o in got]
        ahead = None if s is None or any(o is None for o in got) else all(
            (s > o) if higher_is_better else (s < o) for o in got)
        verdict = "–" if ahead is None else ("yes" if ahead else "**no**")
        lines.append(f"| {label} | {unit} | {fmt(s, unit)} | " + " | ".join(fmt(o, unit) for o in got)
                     + " | " + " | ".join(ratios) + f" | {verdict} |")

    for sock in SOCKETS:
        for size in ALT_SIZES:
            key = ("throughput", sock, size)
            row(f"topic {size_label(size)} {sock}", "msg/s", key, "msgs_per_s", True)
            if size >= 65536:
                row(f"topic {size_label(size)} {sock}", "MB/s", key, "mb_per_s", True)
                if median(values, "swift_noshm", key, "msgs_per_s") is not None:
                    row(f"topic {size_label(size)} {sock}, Swift rosy without shared memory", "msg/s", key,
                        "msgs_per_s", True, impl="swift_noshm")
        for metric in ("p50", "p99"):
            row(f"latency {metric} @1k/s {sock}", "µs", ("latency", sock, None), f"{metric}_us", False)
    return "\n".join(lines)


def render_payload_read_table(values: dict) -> str:
    """1 MB with every receiver holding the data: rosy's listener gets the message decoded
    (a Swift String), while the rows above count Zenoh's `ZBytes` and pyzmq's `Frame`
    without reading them; here their receivers copy each payload into `bytes`
    (impls `zenoh_read`, `zmq_read`). Ratios: Swift rosy / the other."""
    size = max(ALT_SIZES)
    others = (("zenoh_read", "Zenoh, payload read"), ("zmq_read", "ZeroMQ, payload read"))
    if not any(median(values, impl, ("throughput", sock, size), "msgs_per_s") is not None
               for impl, _ in others for sock in SOCKETS):
        return ""
    lines = ["| 1 MB, receiver reads the payload | Swift rosy msg/s | " + " | ".join(f"{n} msg/s" for _, n in others)
             + " | " + " | ".join(f"rosy/{n}" for _, n in others) + " |",
             "|---|---:|" + "---:|" * (2 * len(others))]
    for sock in SOCKETS:
        key = ("throughput", sock, size)
        s = median(values, "swift", key, "msgs_per_s")
        got = [median(values, impl, key, "msgs_per_s") for impl, _ in others]
        lines.append(f"| topic 1 MB {sock} | {fmt(s, 'msg/s')} | " + " | ".join(fmt(o, "msg/s") for o in got)
                     + " | " + " | ".join(ratio(s, o) for o in got) + " |")
    return "\n".join(lines)


def render_speedtest_table(values: dict) -> str:
    """`rosy speedtest` pairs, Swift and Python: delivered messages/s, and the Swift pair
    against bench's library rate for the same size and socket (the `throughput` row)."""
    if not any(median(values, impl, ("speedtest", sock, size), "msgs_per_s") is not None
               for impl in ("swift", "python") for sock in SOCKETS for size in SPEEDTEST_SIZES):
        return ""
    lines = ["| rosy speedtest pair | Swift msg/s | Python msg/s | Swift/Python | Swift library rate (topic row) "
             "| speedtest / library | Swift mean / p50 / p99 latency, ms | Swift lost |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for sock in SOCKETS:
        for size in SPEEDTEST_SIZES:
            key = ("speedtest", sock, size)
            s, p = (median(values, impl, key, "msgs_per_s") for impl in ("swift", "python"))
            lib = median(values, "swift", ("throughput", sock, size), "msgs_per_s")
            lat = "/".join("–" if v is None else f"{v:.1f}" for v in (
                median(values, "swift", key, m) for m in ("mean_latency_ms", "p50_ms", "p99_ms")))
            lost = values.get(("swift", key, "lost"))
            lines.append(f"| {size_label(size)} {sock} | {fmt(s, '')} | {fmt(p, '')} | {ratio(s, p)} "
                         f"| {fmt(lib, '')} | {ratio(s, lib)} | {lat} | {', '.join(map(str, lost)) if lost else '–'} |")
    return "\n".join(lines)


LAUNCH_METRICS = ("start_ms", "stop_ms", "nodes_left", "ready_ms", "restart_median_ms",
                  "restart_worst_ms", "log_mb_per_s", "log_lines_lost", "cpu_percent")


def render_launch_table(values: dict) -> str:
    """The supervisor (issue 3's figures): medians, except the worst restart and the counts of
    lost lines and of nodes left running, which are the worst repetition's."""
    if not any(key[1][0].startswith("launch_") for key in values):
        return ""

    def m(impl, case, metric, worst=False):
        got = values.get((impl, (case, "-", None), metric))
        if not got:
            return None
        return max(got) if worst else statistics.median(got)

    def verdict(value, ok):
        return "–" if value is None or ok is None else ("yes" if ok(value) else "**no**")

    rows = [
        ("100 nodes running after exec", "ms", "launch_100", "start_ms", False, "< 1,000 ms",
         lambda v: v < 1000),
        ("100 nodes: READY=1 (systemd notify) after exec", "ms", "launch_ready", "ready_ms", False,
         "", None),
        ("100 nodes: Ctrl+C until the launcher exits", "ms", "launch_100", "stop_ms", False, "", None),
        ("nodes left running after Ctrl+C (worst)", "", "launch_100", "nodes_left", True, "0",
         lambda v: v == 0),
        ("a crashed node running again, median", "ms", "launch_restart", "restart_median_ms", False,
         "< 100 ms", lambda v: v < 100),
        ("a crashed node running again, worst", "ms", "launch_restart", "restart_worst_ms", True,
         "< 100 ms", lambda v: v < 100),
        ("merged logging, 4 nodes × 1,000,000 lines", "MB/s", "launch_logging", "log_mb_per_s",
         False, "≥ 100 MB/s", lambda v: v >= 100),
        ("lines lost from the merged log (worst)", "", "launch_logging", "log_lines_lost", True,
         "0", lambda v: v == 0),
        ("idle, 10 nodes: CPU over 10 s", "%", "launch_idle", "cpu_percent", False, "< 0.5 %",
         lambda v: v < 0.5),
        ("idle, 10 nodes: resident memory", "MB", "launch_idle", "rss_kb", False, "< 30 MB",
         lambda v: v < 30 * 1024),
    ]
    lines = ["| supervisor | unit | rosy-launch | Python rosy launch | Swift/Python | target | met |",
             "|---|---|---:|---:|---:|---|---|"]
    for label, unit, case, metric, worst, target, ok in rows:
        s, p = m("swift", case, metric, worst), m("python", case, metric, worst)
        if unit == "%":
            cells = ["–" if v is None else f"{v:.2f}" for v in (s, p)]
        else:
            cells = [fmt(v, unit) for v in (s, p)]
        lines.append(f"| {label} | {unit} | {cells[0]} | {cells[1]} | {ratio(s, p)} | {target} "
                     f"| {verdict(s, ok)} |")
    return "\n".join(lines)


def render_summary(values: dict) -> str:
    """The short table of README.md's Benchmarks section (`--render JSONL --summary`)."""
    def m(impl, key, metric):
        return median(values, impl, key, metric)

    def times(a, b):
        if a is None or b is None or b == 0:
            return ""
        x = a / b
        return f"{x:.1f}×" if x < 100 else f"{x:.0f}×"

    lines = ["| case | Swift | Python rosy 0.8.3 | raw socket | Swift/Python |", "|---|---:|---:|---:|---:|"]
    names = {"unix": "Unix socket", "tcp": "TCP loopback"}
    for sock in SOCKETS:
        for size in (0, 1000):
            key = ("throughput", sock, size)
            s, p = m("swift", key, "msgs_per_s"), m("python", key, "msgs_per_s")
            lines.append(f"| topic {size_label(size)}, {names[sock]} | {fmt(s, '')} msg/s | {fmt(p, '')} msg/s | – | {times(s, p)} |")
    for sock in SOCKETS:
        key = ("throughput", sock, 1048576)
        s, p, r = (m(impl, key, "mb_per_s") for impl in IMPLS)
        lines.append(f"| topic 1 MB, {names[sock]} | {fmt(s, '')} MB/s | {fmt(p, '')} MB/s | {fmt(r, '')} MB/s | {times(s, p)} |")
    key = ("latency", "unix", None)
    lines.append("| latency p50 / p99 at 1,000 msg/s, Unix | " + " | ".join(
        f"{fmt(m(impl, key, 'p50_us'), '')} / {fmt(m(impl, key, 'p99_us'), '')} µs" for impl in IMPLS) + " | |")
    for sock in SOCKETS:
        calls = {impl: [m(impl, ("service", sock, k), "calls_per_s") for k in (1, 64)] for impl in IMPLS}
        s, p = calls["swift"], calls["python"]
        lines.append(f"| service calls, 1 / 64 in flight, {names[sock].split()[0]} | " + " | ".join(
            f"{fmt(calls[impl][0], '')} / {fmt(calls[impl][1], '')} per s" for impl in IMPLS)
            + f" | {times(s[0], p[0])} / {times(s[1], p[1])} |")
    for sock in SOCKETS:
        b, p, r = (m(impl, (case, sock, 1), "calls_per_s")
                   for impl, case in (("swift", "service_busypoll"), ("python", "service"), ("raw", "service-spin")))
        lines.append(f"| service calls, 1 in flight, both ends busy-polling, {names[sock].split()[0]} "
                     f"| {fmt(b, '')} per s | | {fmt(r, '')} per s | {times(b, p)} |")
    for sock in SOCKETS:
        n = [m("swift", (case, sock, 1), "calls_per_s") for case in ("nio_echo", "nio_echo_busypoll")]
        p = m("python", ("service", sock, 1), "calls_per_s")
        lines.append(f"| bare SwiftNIO echo, 1 in flight, sleeping / busy-polling, {names[sock].split()[0]} "
                     f"| {fmt(n[0], '')} / {fmt(n[1], '')} per s | | | {times(n[0], p)} / {times(n[1], p)} |")
    for sock in SOCKETS:
        o, p, r, n = (m(impl, (case, sock, 1), "calls_per_s") for impl, case in (
            ("swift", "service_onecpu"), ("python", "service_onecpu"), ("raw", "service_onecpu"),
            ("swift", "nio_echo_onecpu")))
        lines.append(f"| service calls, 1 in flight, both ends on one CPU, {names[sock].split()[0]} "
                     f"| {fmt(o, '')} per s (bare NIO {fmt(n, '')}) | {fmt(p, '')} per s | {fmt(r, '')} per s | {times(o, p)} |")
    for sock in SOCKETS:
        a = [m("swift", ("service_await", sock, k), "calls_per_s") for k in (1, 64)]
        p = [m("python", ("service", sock, k), "calls_per_s") for k in (1, 64)]
        lines.append(f"| same, Swift handler that awaits, {names[sock].split()[0]} | {fmt(a[0], '')} / {fmt(a[1], '')} per s "
                     f"| | | {times(a[0], p[0])} / {times(a[1], p[1])} |")
    rs, rp = (m(impl, ("rss_at_rest", "unix", None), "rss_kb") for impl in ("swift", "python"))
    lines.append(f"| resident memory at rest | {fmt(rs, 'MB')} MB | {fmt(rp, 'MB')} MB | | |")

    def launch(impl, case, metric):
        return m(impl, (case, "-", None), metric)

    if launch("swift", "launch_100", "start_ms") is not None:
        start = [launch(impl, "launch_100", "start_ms") for impl in ("swift", "python")]
        stop = [launch(impl, "launch_100", "stop_ms") for impl in ("swift", "python")]
        lines.append(f"| supervisor: 100 nodes started / stopped (Ctrl+C) | {fmt(start[0], '')} / {fmt(stop[0], '')} ms "
                     f"| {fmt(start[1], '')} / {fmt(stop[1], '')} ms | | |")
        lines.append(f"| supervisor: crashed node running again | {fmt(launch('swift', 'launch_restart', 'restart_median_ms'), '')} ms "
                     "| never restarted | | |")
        lines.append(f"| supervisor: merged logging | {fmt(launch('swift', 'launch_logging', 'log_mb_per_s'), '')} MB/s "
                     "| not merged | | |")
        idle = [(launch(impl, "launch_idle", "cpu_percent"), launch(impl, "launch_idle", "rss_kb"))
                for impl in ("swift", "python")]
        lines.append("| supervisor idle, 10 nodes: CPU, memory | " + " | ".join(
            "–" if c is None else f"{c:.2f} %, {fmt(r, 'MB')} MB" for c, r in idle) + " | | |")
    return "\n".join(lines)


def render_targets(values: dict, long_rows: list[dict]) -> str:
    def m(impl, key, metric):
        return median(values, impl, key, metric)

    def ratio(a, b) -> str:
        """One decimal, so that a ratio just under its target does not print as the target."""
        if a is None or b is None or b == 0:
            return "–"
        return f"{a / b:.2f}" if a / b < 10 else f"{a / b:.1f}"

    lines = ["| target | measured (median) | met |", "|---|---|---|"]

    def verdict(ok):
        return "–" if ok is None else ("yes" if ok else "**no**")

    for sock in SOCKETS:
        for size in (0, 1000):
            key = ("throughput", sock, size)
            s, p = m("swift", key, "msgs_per_s"), m("python", key, "msgs_per_s")
            ok = None if s is None or p is None else (s >= 30 * p and s >= 1_000_000)
            lines.append(f"| {size_label(size)} {sock}: ≥ 30× Python and ≥ 1,000,000 msg/s "
                         f"| {fmt(s, 'msg/s')} msg/s, {ratio(s, p)}× Python | {verdict(ok)} |")
    for sock in SOCKETS:
        key = ("throughput", sock, 1048576)
        s, r = m("swift", key, "mb_per_s"), m("raw", key, "mb_per_s")
        ok = None if s is None or r is None else s >= 0.6 * r
        lines.append(f"| 1 MB {sock}: ≥ 60% of raw bandwidth | {fmt(s, 'MB/s')} MB/s, "
                     f"{ratio(s, r)} of raw | {verdict(ok)} |")
    s = m("swift", ("latency", "unix", None), "p99_us")
    lines.append(f"| latency p99 at 1,000 msg/s over Unix < 100 µs | {fmt(s, 'µs')} µs "
                 f"| {verdict(None if s is None else s < 100)} |")
    s = m("swift", ("latency_plain", "unix", None), "p99_us")
    lines.append(f"| same, Swift sender in a plain task | {fmt(s, 'µs')} µs "
                 f"| {verdict(None if s is None else s < 100)} |")
    for sock in SOCKETS:
        for inflight in (1, 64):
            key = ("service", sock, inflight)
            s, p = m("swift", key, "calls_per_s"), m("python", key, "calls_per_s")
            ok = None if s is None or p is None else s >= 20 * p
            lines.append(f"| service calls {inflight} in flight {sock}: ≥ 20× Python "
                         f"| {fmt(s, 'calls/s')} calls/s, {ratio(s, p)}× Python | {verdict(ok)} |")
            a = m("swift", ("service_await", sock, inflight), "calls_per_s")
            ok = None if a is None or p is None else a >= 20 * p
            lines.append(f"| same, Swift handler that awaits "
                         f"| {fmt(a, 'calls/s')} calls/s, {ratio(a, p)}× Python | {verdict(ok)} |")
            if inflight == 1:
                b = m("swift", ("service_busypoll", sock, 1), "calls_per_s")
                ok = None if b is None or p is None else b >= 20 * p
                lines.append(f"| same, both nodes busy-polling ({BUSY_POLL_US} µs, opt-in) "
                             f"| {fmt(b, 'calls/s')} calls/s, {ratio(b, p)}× Python | {verdict(ok)} |")
                n = m("swift", ("nio_echo_busypoll", sock, 1), "calls_per_s")
                lines.append(f"| (bare SwiftNIO echo busy-polling: the most NIO's loop allows) "
                             f"| {fmt(n, 'calls/s')} calls/s, {ratio(n, p)}× Python | – |")
                o = m("swift", ("service_onecpu", sock, 1), "calls_per_s")
                po = m("python", ("service_onecpu", sock, 1), "calls_per_s")
                ok = None if o is None or po is None else o >= 20 * po
                lines.append(f"| same, both ends on one CPU (taskset; Python too) "
                             f"| {fmt(o, 'calls/s')} calls/s, {ratio(o, po)}× Python on one CPU, "
                             f"{ratio(o, p)}× Python as above | {verdict(ok)} |")
    for sock in SOCKETS:
        for size in SPEEDTEST_SIZES:
            key = ("speedtest", sock, size)
            s, p = m("swift", key, "msgs_per_s"), m("python", key, "msgs_per_s")
            lib = m("swift", ("throughput", sock, size), "msgs_per_s")
            ok = None if s is None or p is None or lib is None else (s >= 30 * p and s >= 0.8 * lib)
            lines.append(f"| rosy speedtest {size_label(size)} {sock}: ≥ 30× the Python pair and ≥ 80% of "
                         f"the library rate | {fmt(s, 'msg/s')} msg/s, {ratio(s, p)}× Python, "
                         f"{ratio(s, lib)} of {fmt(lib, 'msg/s')} | {verdict(ok)} |")
    for impl, name in (("zenoh", "Zenoh"), ("zmq", "ZeroMQ")):
        behind = []
        for sock in SOCKETS:
            for size in ALT_SIZES:
                key = ("throughput", sock, size)
                s, o = m("swift", key, "msgs_per_s"), m(impl, key, "msgs_per_s")
                if s is not None and o is not None and s <= o:
                    behind.append(f"{size_label(size)} {sock}")
        measured = all(m(who, ("throughput", sock, size), "msgs_per_s") is not None
                       for who in ("swift", impl) for sock in SOCKETS for size in ALT_SIZES)
        lines.append(f"| Swift rosy ahead of {name} at every size (throughput) | "
                     f"{'behind at ' + ', '.join(behind) if behind else ('ahead at all' if measured else 'not run')} "
                     f"| {verdict(None if not measured else not behind)} |")
    s = m("swift", ("rss_at_rest", "unix", None), "rss_kb")
    d = m("swift", ("rss_at_rest", "unix", None), "driver_rss_kb")
    worst = max(x for x in (s, d, 0) if x is not None) if (s or d) else None
    lines.append(f"| RSS at rest < 30 MB | receiver {fmt(s, 'MB')} MB, sender {fmt(d, 'MB')} MB "
                 f"| {verdict(None if worst is None else worst < 30 * 1024)} |")
    long = [r for r in long_rows if r.get("case") == "rss_long"]
    if long:
        series = "; ".join(
            f"{r['elapsed_s']:.0f} s: recv {r['rss_kb'] / 1024:.1f} / send {r['driver_rss_kb'] / 1024:.1f}"
            for r in long)
        first, last = long[0], long[-1]
        growth = max(last["rss_kb"] - first["rss_kb"], last["driver_rss_kb"] - first["driver_rss_kb"])
        lines.append(f"| RSS flat over a {last['elapsed_s']:.0f} s full-speed run (MB) | {series} "
                     f"| {verdict(growth < 5 * 1024)} (growth {growth / 1024:.1f} MB after the first sample) |")
    else:
        lines.append("| RSS flat over a 60 s full-speed run | not run (bench/run --long) | – |")
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}{mem}, "
            f"Linux {platform.release()}, load average {os.getloadavg()[0]:.2f} at the start")


# ---- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Runs rosy's benchmark cases; see bench/README.md.")
    parser.add_argument("--raw", help="the compiled rawbench binary")
    parser.add_argument("--python", help="python3 of a venv with rosy 0.8.3")
    parser.add_argument("--render", type=Path, metavar="JSONL",
                        help="print the tables of an earlier run's rows and exit (runs nothing)")
    parser.add_argument("--summary", action="store_true",
                        help="with --render: print only README.md's short table")
    parser.add_argument("--swift", help="the rosy-bench release binary (omit to skip Swift)")
    parser.add_argument("--launch", help="the rosy-launch release binary (omit to skip the supervisor)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of every case")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of a throughput or service case")
    parser.add_argument("--latency-seconds", type=float, default=3.0, help="length of the latency case")
    parser.add_argument("--rate", type=float, default=1000.0, help="send rate of the latency case")
    parser.add_argument("--long", action="store_true", help="add the 60 s full-speed RSS run (Swift)")
    parser.add_argument("--long-seconds", type=float, default=60.0)
    parser.add_argument("--swift-discovery", choices=("default", "local"), default="local",
                        help="how the two Swift nodes find each other: the node's default, "
                             "or RosyDiscovery's LocalDiscovery alone")
    parser.add_argument("--rosy-cli", help="the release `rosy` command (the Swift `rosy speedtest` rows)")
    parser.add_argument("--bench-python", help="python3 of .venv-bench (eclipse-zenoh, pyzmq): the Zenoh and ZeroMQ rows")
    parser.add_argument("--only", choices=("speedtest",),
                        help="speedtest: only the `rosy speedtest` pairs and the topic rows of their sizes")
    parser.add_argument("--speedtest-seconds", type=float, default=5.0, help="--run-time of a `rosy speedtest` pair")
    parser.add_argument("--impls", default=",".join(IMPLS + ALTERNATIVES),
                        help="comma list of swift,python,raw,zenoh,zmq")
    parser.add_argument("--json", type=Path, default=ROOT / ".build" / "bench" / "latest.jsonl",
                        help="where every measured row is written")
    args = parser.parse_args()
    if args.render:
        rows = [json.loads(line) for line in args.render.read_text().splitlines() if line.strip()]
        values = collect(rows)
        long_rows = [r for r in rows if r.get("case") == "rss_long"]
        if args.summary:
            print(render_summary(values))
            return
        print(*(t for t in (render_table(values), render_speedtest_table(values),
                            render_alternatives_table(values), render_payload_read_table(values),
                            render_cpu_table(values),
                            render_targets(values, long_rows), render_launch_table(values)) if t),
              sep="\n\n")
        return
    if not args.raw or not args.python:
        parser.error("--raw and --python are required (bench/run passes them)")

    impls = [i for i in args.impls.split(",") if i in IMPLS + ALTERNATIVES]
    if "swift" in impls and not args.swift:
        impls.remove("swift")
    if not args.bench_python or args.only == "speedtest":
        impls = [i for i in impls if i not in ALTERNATIVES]
    if args.only == "speedtest":
        impls = [i for i in impls if i != "raw"]
    python_rosy = str(Path(args.python).parent / "rosy")
    started = time.time()
    print(f"machine: {machine()}", flush=True)
    rows: list[dict] = []
    for rep in range(1, args.reps + 1):
        for impl in impls:
            for sock in SOCKETS:
                print(f"[rep {rep}/{args.reps}] {impl} {sock} ...", flush=True)
                if args.only == "speedtest":
                    session = swift_session(args.swift, sock, args) if impl == "swift" else python_session(args.python, sock, args)
                    got = session + speedtest_sessions(impl, args.rosy_cli if impl == "swift" else python_rosy,
                                                       args.python, sock, args)
                elif impl == "raw":
                    got = raw_session(args.raw, sock, args) + one_cpu_rows(impl, args.raw, sock, args)
                elif impl == "python":
                    got = (python_session(args.python, sock, args) + one_cpu_rows(impl, args.python, sock, args)
                           + speedtest_sessions(impl, python_rosy, args.python, sock, args))
                elif impl in ALTERNATIVES:
                    got = alternative_sessions(impl, args.bench_python, sock, args)
                else:
                    got = (swift_session(args.swift, sock, args) + swift_no_shared_memory_session(args.swift, sock, args)
                           + swift_busy_poll_session(args.swift, sock, args)
                           + one_cpu_rows(impl, args.swift, sock, args) + nio_echo_session(args.swift, sock, args))
                    if args.rosy_cli:
                        got += speedtest_sessions(impl, args.rosy_cli, args.python, sock, args)
                for row in got:
                    row["rep"] = rep
                rows += got
        if args.launch and "swift" in impls and not args.only:
            print(f"[rep {rep}/{args.reps}] supervisor (rosy-launch"
                  f"{', Python rosy launch' if 'python' in impls else ''}) ...", flush=True)
            got = launch_session(args.launch, args.python if "python" in impls else None)
            for row in got:
                row["rep"] = rep
            rows += got
    long_rows: list[dict] = []
    if args.long and "swift" in impls:
        print(f"[long] swift unix, {args.long_seconds:.0f} s at full speed ...", flush=True)
        long_rows = swift_session(args.swift, "unix", args, long_run=True)
        rows += long_rows

    args.json.parent.mkdir(parents=True, exist_ok=True)
    with args.json.open("w") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")

    values = collect(rows)
    print()
    print(f"Medians of {args.reps} runs; {args.seconds:g} s per throughput/service case, "
          f"latency at {args.rate:g} msg/s for {args.latency_seconds:g} s; "
          f"took {time.time() - started:.0f} s.")
    print(f"Machine: {machine()}")
    print()
    print(render_table(values))
    for extra in (render_speedtest_table(values), render_alternatives_table(values),
                  render_payload_read_table(values)):
        if extra:
            print()
            print(extra)
    print()
    print(render_cpu_table(values))
    print()
    print(render_targets(values, long_rows))
    launch_table = render_launch_table(values)
    if launch_table:
        print()
        print(launch_table)
    print(f"\nEvery row: {args.json}")


if __name__ == "__main__":
    main()
