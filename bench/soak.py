#!/usr/bin/env python3
"""The soak's driver (bench/soak runs it; bench/README.md "Soak"). Standard library only.

Runs inside the private network namespace that `.ci/netns/run-in-netns` makes (dbus and
avahi-daemon on loopback only, a PID namespace of its own): it refuses the machine's own.
It starts `rosy-launch bench/launch/soak.yaml` (20 nodes: 16 that never crash, 4 crashers
restarted all the time), and for `--minutes` minutes:

  - runs `rosy node list` every 10 s and counts its answers and the nodes it lists;
  - every 5 s reads the open descriptors (/proc/PID/fd) and VmRSS of the supervisor and of
    each of the 16 long-lived nodes, and `rosy-launch status` (pids, states, restarts).

Then it asks the talkers and callers to stop sending (SIGUSR1), lets the last messages
arrive, stops the launch with SIGINT, checks that no process of the launch is left, reads
the counts every node wrote (SOAK_OUT) and prints the table, with PASS/FAIL per target.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
LAUNCH_FILE = BENCH / "launch" / "soak.yaml"
PYNODE = BENCH / "python" / "soaknode.py"
DOMAIN = "soak"
SAMPLE_EVERY = 5.0
LIST_EVERY = 10.0
# Samples at each end of the run whose highest descriptor count is compared.
WINDOW = 6
RSS_GROWTH_LIMIT = 10.0
RESTART_TARGET = 1000

TOPIC_PAIRS = [  # (pair, talker, listener)
    ("Swift -> Swift", "swift-talker-ss", "swift-listener-ss"),
    ("Swift -> Python", "swift-talker-sp", "py-listener-sp"),
    ("Python -> Swift", "py-talker-ps", "swift-listener-ps"),
    ("Python -> Python", "py-talker-pp", "py-listener-pp"),
]
SERVICE_PAIRS = [  # (pair, caller, provider)
    ("Swift -> Swift", "swift-caller-ss", "swift-provider-ss"),
    ("Swift -> Python", "swift-caller-sp", "py-provider-sp"),
    ("Python -> Swift", "py-caller-ps", "swift-provider-ps"),
    ("Python -> Python", "py-caller-pp", "py-provider-pp"),
]
LONG_LIVED = [name for pairs in (TOPIC_PAIRS, SERVICE_PAIRS) for _, a, b in pairs for name in (b, a)]
SENDERS = [a for pairs in (TOPIC_PAIRS, SERVICE_PAIRS) for _, a, _ in pairs]
CRASHERS = ["swift-crasher-exit", "swift-crasher-kill", "py-crasher-exit", "py-crasher-kill"]
NODE_PROGRAMS = ("rosy-soak-node", "soaknode.py", "rosy-launch")


# ---- /proc ---------------------------------------------------------------------------------


def rss_rates(rss: list[int]) -> list[float]:
    """KB per minute over the first and the second half of the samples (SAMPLE_EVERY apart)."""
    half = len(rss) // 2
    if half < 1:
        return [0.0, 0.0]
    minutes = half * SAMPLE_EVERY / 60
    return [round((rss[half] - rss[0]) / minutes, 1), round((rss[-1] - rss[-1 - half]) / minutes, 1)]


def descriptors(pid: int) -> tuple[int, int] | tuple[None, None]:
    """Open descriptors (/proc/PID/fd), and how many of them are not sockets: files, pipes,
    eventfds, epoll. Sockets come and go with the crashers a node is linked to; a leak of
    anything else shows in the second count alone."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None, None
    targets = []
    for fd in fds:
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    others = [target for target in targets if not target.startswith("socket:")]
    # What a node opens beyond its first sample's, kept to explain a count that moves.
    first = FIRST_TARGETS.setdefault(pid, set(targets))
    for target in others:
        if target not in first:
            extra = EXTRA_TARGETS.setdefault(pid, {})
            key = re.sub(r"\[\d+\]", "[…]", target)
            extra[key] = extra.get(key, 0) + 1
    return len(fds), len(others)


FIRST_TARGETS: dict[int, set[str]] = {}
EXTRA_TARGETS: dict[int, dict[str, int]] = {}


def trend(values: list[float]) -> float:
    """The rise of the least-squares line through `values` (evenly spaced samples) from the
    first sample to the last: a leak climbs, links to crashers coming and going do not."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    slope = (sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
             / sum((i - mean_x) ** 2 for i in range(n)))
    return slope * (n - 1)


def rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def launch_processes(exclude: set[int]) -> list[tuple[int, str]]:
    """Every live process (not a zombie) that runs a soak node or rosy-launch."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        # The program, or the script a python3 runs: not a command that names them later on.
        if any(os.path.basename(word) in NODE_PROGRAMS for word in argv[:2]):
            found.append((int(entry), " ".join(argv).strip()))
    return found


def interfaces() -> list[str]:
    """The network interfaces of this process's network namespace."""
    with open("/proc/self/net/dev") as f:
        return [line.split(":")[0].strip() for line in f.readlines()[2:]]


# ---- the launch --------------------------------------------------------------------------


class Soak:
    def __init__(self, args):
        self.args = args
        self.folder = Path(tempfile.mkdtemp(prefix="rosy-soak-"))
        self.out = self.folder / "counts"
        self.runtime = self.folder / "runtime"
        for path in (self.out, self.runtime):
            path.mkdir()
        self.socket = str(self.runtime / "soak-control.sock")
        self.env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime), NO_COLOR="1",
                        SOAK_NODE=args.node, SOAK_PYTHON=args.python, SOAK_PYNODE=str(PYNODE),
                        SOAK_OUT=str(self.out), SOAK_TOPIC_RATE=str(args.topic_rate),
                        SOAK_CALL_RATE=str(args.call_rate), SOAK_FLAKY_RATE=str(args.flaky_rate),
                        SOAK_SWIFT_LIFETIME=args.swift_lifetime, SOAK_PYTHON_LIFETIME=args.python_lifetime,
                        SOAK_TRACEMALLOC=str(args.tracemalloc or ""))
        self.env.pop("ROSY_DOMAIN_ID", None)
        self.launch: subprocess.Popen | None = None
        self.samples: list[dict] = []  # {"t", "procs": {name: (pid, fds, rss, other_fds)}}
        self.lists: list[dict] = []
        self.statuses: list[dict] = []
        self.pids_seen: set[int] = set()

    def start(self) -> None:
        log = open(self.folder / "launch-output.log", "w")
        self.launch = subprocess.Popen(
            [self.args.launch, str(LAUNCH_FILE), "--log-dir", str(self.folder / "logs"),
             "--socket", self.socket, "--color", "never"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.folder,
            start_new_session=True)

    def status(self) -> dict | None:
        try:
            got = subprocess.run([self.args.launch, "status", "--json", "--socket", self.socket],
                                 capture_output=True, text=True, timeout=20, env=self.env)
        except subprocess.TimeoutExpired:
            return None
        if got.returncode != 0:
            return None
        try:
            status = json.loads(got.stdout)
        except json.JSONDecodeError:
            return None
        for node in status["nodes"]:
            if node.get("pid"):
                self.pids_seen.add(node["pid"])
        return status

    def wait_until_running(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.launch.poll() is not None:
                raise SystemExit(f"soak: rosy-launch exited with {self.launch.returncode}; "
                                 f"see {self.folder / 'launch-output.log'}")
            status = self.status()
            if status:
                running = {n["label"] for n in status["nodes"] if n["state"] == "running"}
                if all(name in running for name in LONG_LIVED):
                    return status
            time.sleep(0.5)
        raise SystemExit("soak: the long-lived nodes were not all running after "
                         f"{timeout:.0f} s; see {self.folder / 'launch-output.log'}")

    def wait_until_listed(self, timeout: float = 60) -> float:
        """Seconds from now until one `rosy node list` lists every long-lived node."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if not self.list_nodes(0.0)["missing"]:
                return time.monotonic() - t0
        raise SystemExit(f"soak: `rosy node list` did not list the 16 long-lived nodes within {timeout:.0f} s")

    def sample(self, elapsed: float) -> None:
        status = self.status()
        if status is None:
            return
        self.statuses.append({"t": elapsed, "status": status})
        procs = {"rosy-launch (supervisor)": self.launch.pid}
        for node in status["nodes"]:
            if node["label"] in LONG_LIVED and node.get("pid"):
                procs[node["label"]] = node["pid"]
        self.samples.append({"t": elapsed, "procs": {
            name: (pid, fds, rss_kb(pid), others)
            for name, pid in procs.items() for fds, others in [descriptors(pid)]}})

    def node_list(self, elapsed: float) -> None:
        listed = self.list_nodes(elapsed, log=True)
        if listed["missing"]:
            # Why: the reader's log of that list (which instances came without a readable
            # TXT), and whether a list of the CLI's default 5 s, right after, shows them.
            name = f"node-list-miss-{elapsed:.0f}s.log"
            (self.folder / name).write_text(listed.pop("log"))
            again = self.list_nodes(elapsed, discovery_time=5)
            listed["log_file"] = name
            listed["shown_by_5s_list_after"] = [n for n in listed["missing"] if n not in again["missing"]]
        listed.pop("log", None)
        self.lists.append(listed)

    def list_nodes(self, elapsed: float, discovery_time: float = 2, log: bool = False) -> dict:
        """One `rosy node list`: answered or not, how many nodes, which long-lived ones missing."""
        try:
            got = subprocess.run([self.args.rosy, "node", "list", "--domain-id", DOMAIN,
                                  "--discovery-time", f"{discovery_time:g}"]
                                 + (["--log-level", "trace"] if log else []),
                                 capture_output=True, text=True, timeout=30, env=self.env)
            ok, text, errors = got.returncode == 0, got.stdout, got.stderr
        except subprocess.TimeoutExpired:
            ok, text, errors = False, "", "timed out"
        match = re.match(r"(\d+) nodes:", text)
        names = set(re.findall(r"^(\S+)@", text, re.MULTILINE))
        return {"t": elapsed, "ok": ok and match is not None,
                "nodes": int(match.group(1)) if match else 0,
                "long_lived_listed": sum(name in names for name in LONG_LIVED),
                "missing": [name for name in LONG_LIVED if name not in names],
                "log": text + "\n--- stderr\n" + errors}

    def signal_senders(self) -> None:
        status = self.status() or {"nodes": []}
        for node in status["nodes"]:
            if node["label"] in SENDERS and node.get("pid"):
                try:
                    os.kill(node["pid"], signal.SIGUSR1)
                except ProcessLookupError:
                    pass

    def stop(self, timeout: float = 60) -> float:
        """SIGINT to the supervisor (as Ctrl+C): returns how long it took to exit."""
        if self.launch is None or self.launch.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        self.launch.send_signal(signal.SIGINT)
        try:
            self.launch.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.launch.pid, signal.SIGKILL)
            self.launch.wait()
        return time.monotonic() - t0

    def kill_leftovers(self) -> list[tuple[int, str]]:
        left = launch_processes({os.getpid()})
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return left

    def counts(self) -> dict:
        found = {}
        for path in self.out.glob("*.json"):
            try:
                found[path.stem] = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                pass
        return found


# ---- the run -----------------------------------------------------------------------------


def run(args) -> dict:
    soak = Soak(args)
    seconds = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else min(max(30.0, 0.1 * seconds), 0.5 * seconds)
    print(f"soak: {args.minutes:g} min, warm-up {warmup:.0f} s, folder {soak.folder}", flush=True)
    interrupted = False
    left: list = []
    stop_seconds = 0.0
    formed = None
    started = time.monotonic()
    try:
        soak.start()
        soak.wait_until_running()
        print(f"soak: the 16 long-lived nodes run after {time.monotonic() - started:.1f} s", flush=True)
        # A node that runs is not yet on the mesh (Python rosy takes a second or two to import
        # and register): the clock starts once one `rosy node list` shows all of them.
        formed = soak.wait_until_listed()
        print(f"soak: `rosy node list` shows all 16 after {formed:.1f} s", flush=True)
        t0 = time.monotonic()
        next_sample = next_list = 0.0
        warm_index = None
        while (elapsed := time.monotonic() - t0) < seconds:
            if soak.launch.poll() is not None:
                print("soak: rosy-launch exited during the run", file=sys.stderr)
                break
            if elapsed >= next_list:
                soak.node_list(elapsed)
                next_list += LIST_EVERY
            if elapsed >= next_sample:
                soak.sample(elapsed)
                if warm_index is None and elapsed >= warmup:
                    warm_index = len(soak.samples) - 1
                next_sample += SAMPLE_EVERY
                if len(soak.samples) % 12 == 0:
                    restarts = sum(n["restarts"] for n in soak.statuses[-1]["status"]["nodes"])
                    print(f"soak: {elapsed:.0f} s, {restarts} restarts", flush=True)
            time.sleep(max(0.0, min(next_list, next_sample) - (time.monotonic() - t0)))
        soak.sample(time.monotonic() - t0)
        final_status = soak.statuses[-1]["status"] if soak.statuses else {"nodes": []}
        soak.signal_senders()
        time.sleep(args.drain)
    except KeyboardInterrupt:
        interrupted = True
        print("\nsoak: interrupted: stopping the launch", file=sys.stderr)
        final_status = soak.statuses[-1]["status"] if soak.statuses else {"nodes": []}
    finally:
        stop_seconds = soak.stop()
        time.sleep(0.5)
        left = soak.kill_leftovers()
    result = summarize(soak, final_status, warm_index if not interrupted else None, seconds, warmup)
    result.update(stop_seconds=stop_seconds, mesh_formed_s=formed, processes_left=[cmd for _, cmd in left],
                  interrupted=interrupted, folder=str(soak.folder))
    return result


# ---- the summary -------------------------------------------------------------------------


def summarize(soak: Soak, final_status: dict, warm_index, seconds: float, warmup: float) -> dict:
    counts = soak.counts()
    nodes = {n["label"]: n for n in final_status["nodes"]}
    restarts = {name: nodes[name]["restarts"] for name in CRASHERS if name in nodes}
    stable_restarts = {name: nodes[name]["restarts"] for name in LONG_LIVED if name in nodes}
    not_running = [name for name in LONG_LIVED if nodes.get(name, {}).get("state") != "running"]
    failed_crashers = [name for name in CRASHERS if nodes.get(name, {}).get("state") == "failed"]

    topics = []
    for pair, talker, listener in TOPIC_PAIRS:
        got = counts.get(listener, {})
        # A message received was sent: a talker stopped within its send counts it there, not
        # in "sent" (Python's `await node.send` is cancelled after the write).
        sent = max(counts.get(talker, {}).get("sent", 0), got.get("max_seq", 0))
        received, first = got.get("received", 0), got.get("first_seq", 1)
        # Messages sent before the listener's link existed (the talker starts as soon as any
        # listener is known, a crasher maybe) are not losses while both ends were up.
        expected = max(sent - first + 1, 0)
        topics.append({"pair": pair, "talker": talker, "listener": listener, "sent": sent,
                       "received": received, "first_seq": first, "max_seq": got.get("max_seq", 0),
                       "out_of_order": got.get("out_of_order", 0), "lost": expected - received,
                       "send_errors": counts.get(talker, {}).get("send_errors", 0),
                       "talker_stage": counts.get(talker, {}).get("stage"),
                       "listener_stage": got.get("stage")})
    services = []
    for pair, caller, provider in SERVICE_PAIRS:
        c = counts.get(caller, {})
        services.append({"pair": pair, "caller": caller, "provider": provider,
                         "answered": c.get("answered", 0), "failed": c.get("failed", 0),
                         "wrong": c.get("wrong", 0),
                         "failures": {k: v for k, v in c.items() if k.startswith("failed_")},
                         "provider_answered": counts.get(provider, {}).get("answered", 0),
                         "caller_stage": c.get("stage")})
    flaky_counts = counts.get("swift-caller-ss", {})
    flaky = {"answered": flaky_counts.get("flaky_answered", 0), "failed": flaky_counts.get("flaky_failed", 0),
             "wrong": flaky_counts.get("flaky_wrong", 0),
             "failures": {k[6:]: v for k, v in flaky_counts.items() if k.startswith("flaky_failed_")}}

    processes = []
    if warm_index is not None and soak.samples:
        measured = soak.samples[warm_index:]
        for name in ["rosy-launch (supervisor)"] + LONG_LIVED:
            series = [s["procs"][name] for s in measured if name in s["procs"]]
            if not series:
                continue
            pids = {pid for pid, _, _, _ in series}
            fds = [f for _, f, _, _ in series if f is not None]
            rss = [r for _, _, r, _ in series if r is not None]
            others = [o for _, _, _, o in series if o is not None]
            if not fds or not rss or not others:
                continue
            head, tail = fds[:WINDOW], fds[-WINDOW:]
            processes.append({
                "process": name, "same_pid": len(pids) == 1, "fds_start": fds[0], "fds_end": fds[-1],
                "fds_min": min(fds), "fds_max": max(fds), "fds_start_window_max": max(head),
                "fds_end_window_max": max(tail), "fds_trend": trend(fds),
                "other_fds_start": others[0], "other_fds_end": others[-1],
                "other_fds_start_window_max": max(others[:WINDOW]),
                "other_fds_end_window_max": max(others[-WINDOW:]),
                "other_fds_end_window_median": statistics.median_high(others[-WINDOW:]),
                "non_socket_opened_later": EXTRA_TARGETS.get(next(iter(pids)), {}) if len(pids) == 1 else {},
                "rss_start_kb": rss[0], "rss_end_kb": rss[-1],
                "rss_growth_percent": 100.0 * (rss[-1] - rss[0]) / rss[0], "samples": len(series),
                # How fast RSS still rises, in the first and the second half of the measured
                # time: memory that is bounded (e.g. the departed nodes a node remembers for
                # 5 to 7.5 minutes) levels off; a leak keeps its pace.
                "rss_kb_per_min_halves": rss_rates(rss)})

    lists_ok = sum(1 for l in soak.lists if l["ok"])
    total_restarts = sum(restarts.values())
    supervisor = next((p for p in processes if p["process"].startswith("rosy-launch")), None)
    ours = [p for p in processes if not p["process"].startswith("py-")]
    reference = [p for p in processes if p["process"].startswith("py-")]

    def no_leak(p: dict) -> bool:
        # The median of the last samples: a leaked file stays and raises it; a file a node
        # has open at the instant of one sample (e.g. while it reads /etc/hosts) does not.
        return p["other_fds_end_window_median"] <= p["other_fds_start_window_max"] and p["fds_trend"] < 1.0

    missed: dict[str, int] = {}
    for l in soak.lists:
        for name in l.get("missing", []):
            missed[name] = missed.get(name, 0) + 1
    targets = {
        "no descriptor growth: files, pipes and eventfds (median of the last samples) not above their first samples, and "
        "the line fitted to all descriptors rising by less than 1 over the run (every process)":
            bool(processes) and all(no_leak(p) for p in processes),
        f"RSS within +{RSS_GROWTH_LIMIT:g}% after warm-up (rosy-launch and every Swift node)":
            bool(ours) and all(p["rss_growth_percent"] <= RSS_GROWTH_LIMIT for p in ours),
        "no call lost while both ends were up (stable pairs: 0 failed, 0 wrong)":
            all(s["failed"] == 0 and s["wrong"] == 0 and s["answered"] > 0 for s in services),
        "no topic message lost while both ends were up (stable pairs)":
            all(t["lost"] == 0 and t["received"] > 0 for t in topics),
        f"supervisor restarts >= {RESTART_TARGET:,} with no descriptor leak":
            total_restarts >= RESTART_TARGET and supervisor is not None
            and no_leak(supervisor),
        "long-lived nodes still running at the end, never restarted; no crasher marked failed":
            not not_running and not any(stable_restarts.values()) and not failed_crashers,
        "every `rosy node list` answered and listed the 16 long-lived nodes":
            bool(soak.lists) and all(l["ok"] and l["long_lived_listed"] == len(LONG_LIVED) for l in soak.lists),
    }
    return {"seconds": seconds, "warmup_s": warmup, "restarts": restarts, "restarts_total": total_restarts,
            "stable_restarts": stable_restarts, "not_running": not_running, "failed_crashers": failed_crashers,
            "topics": topics, "services": services, "flaky": flaky, "processes": processes,
            "node_list": {"runs": len(soak.lists), "ok": lists_ok, "missed": missed,
                          "complete": sum(1 for l in soak.lists if l["ok"] and not l["missing"]),
                          "incomplete": [{"t": round(l["t"], 1), "missing": l["missing"],
                                          "shown_by_5s_list_after": l.get("shown_by_5s_list_after", []),
                                          "log_file": l.get("log_file")}
                                         for l in soak.lists if l["missing"]],
                          "nodes_min": min((l["nodes"] for l in soak.lists), default=0),
                          "nodes_max": max((l["nodes"] for l in soak.lists), default=0),
                          "long_lived_listed_min": min((l["long_lived_listed"] for l in soak.lists), default=0)},
            "targets": targets,
            # Python rosy 0.8.3's own memory: reported, not a target of this project (its
            # discovery queues one lookup per node seen, one at a time; bench/README.md "Soak").
            "reference": {f"Python rosy 0.8.3 nodes' RSS within +{RSS_GROWTH_LIMIT:g}% after warm-up":
                          bool(reference) and all(p["rss_growth_percent"] <= RSS_GROWTH_LIMIT for p in reference)},
            # Strictly: moves with the crashers' sockets and pipes open at the instant of a sample.
            "informative": {"all descriptors, strictly: highest count of the last samples <= of the first (every process)":
                            bool(processes) and all(p["fds_end_window_max"] <= p["fds_start_window_max"] for p in processes)},
            "samples": [{"t": round(s["t"], 1), **{name: {"fds": fds, "rss_kb": rss, "other_fds": other}
                                                   for name, (_, fds, rss, other) in s["procs"].items()}}
                        for s in soak.samples]}


def render(result: dict) -> str:
    mb = lambda kb: f"{kb / 1024:.1f}"
    lines = [f"Soak of {result['seconds'] / 60:g} min (warm-up {result['warmup_s']:.0f} s): "
             f"20 nodes, {len(CRASHERS)} of them crashing; supervisor stopped in {result['stop_seconds']:.1f} s "
             f"(SIGINT), processes left: {len(result['processes_left'])}. The clock started once "
             f"`rosy node list` showed all 16 long-lived nodes ({result['mesh_formed_s'] or 0:.1f} s after "
             "they ran).", ""]
    r = result["restarts"]
    lines += ["| restarts by the supervisor | count |", "|---|---:|"]
    lines += [f"| {name} | {count:,} |" for name, count in r.items()]
    lines += [f"| **total** | **{result['restarts_total']:,}** |", ""]
    lines += ["| topic pair | sent | received | lost while both up | first seq received | out of order |",
              "|---|---:|---:|---:|---:|---:|"]
    for t in result["topics"]:
        lines.append(f"| {t['pair']} ({t['talker']} -> {t['listener']}) | {t['sent']:,} | {t['received']:,} "
                     f"| {t['lost']:,} | {t['first_seq']} | {t['out_of_order']} |")
    lines += ["", "| service pair | calls answered | failed | wrong answer | answered by the provider |",
              "|---|---:|---:|---:|---:|"]
    for s in result["services"]:
        lines.append(f"| {s['pair']} ({s['caller']} -> {s['provider']}) | {s['answered']:,} | {s['failed']:,} "
                     f"| {s['wrong']} | {s['provider_answered']:,} |")
    f = result["flaky"]
    why = ", ".join(f"{k} {v:,}" for k, v in sorted(f["failures"].items())) or "none"
    lines.append(f"| soak.flaky, provided by crashers only (swift-caller-ss) | {f['answered']:,} | {f['failed']:,} "
                 f"| {f['wrong']} | – |")
    lines += ["", f"soak.flaky failures (expected: calls while its providers were down or died): {why}.", ""]
    lines += ["| process | fds start | fds end | fds min–max | fitted rise | non-socket fds start → end "
              "| RSS start MB | RSS end MB | RSS growth | RSS KB/min, 1st half → 2nd half |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in result["processes"]:
        lines.append(f"| {p['process']} | {p['fds_start']} | {p['fds_end']} | {p['fds_min']}–{p['fds_max']} "
                     f"| {p['fds_trend']:+.2f} | {p['other_fds_start']} → {p['other_fds_end']} "
                     f"| {mb(p['rss_start_kb'])} | {mb(p['rss_end_kb'])} | {p['rss_growth_percent']:+.1f}% "
                     f"| {p['rss_kb_per_min_halves'][0]:+.1f} → {p['rss_kb_per_min_halves'][1]:+.1f} |")
    later = [(p["process"], t, c) for p in result["processes"]
             for t, c in sorted(p.get("non_socket_opened_later", {}).items())]
    if later:
        lines += ["", "Files, pipes and eventfds open at some sample but not at the first (in how many samples): "
                  + "; ".join(f"{name}: {target} ({count})" for name, target, count in later) + "."]
    n = result["node_list"]
    lines += ["", f"`rosy node list` every {LIST_EVERY:g} s: {n['ok']} of {n['runs']} answered, "
                  f"{n['nodes_min']}–{n['nodes_max']} nodes listed, at least {n['long_lived_listed_min']} "
                  f"of the {len(LONG_LIVED)} long-lived ones; {n['complete']} listed all 16."]
    for l in n["incomplete"]:
        shown = l.get("shown_by_5s_list_after", [])
        lines.append(f"- at {l['t']:.0f} s: missed {', '.join(l['missing'])}; a 5 s list right after "
                     f"showed {', '.join(shown) if shown else 'none of them'} (log: {l.get('log_file')})")
    lines.append("")
    lines += ["| target | met |", "|---|---|"]
    lines += [f"| {name} | {'PASS' if ok else '**FAIL**'} |" for name, ok in result["targets"].items()]
    lines += [f"| {name} (the reference's, not counted: bench/README.md \"Soak\") | {'yes' if ok else 'no'} |"
              for name, ok in result["reference"].items()]
    lines += [f"| {name} (informative: the crashers' links and pipes of the moment) | {'yes' if ok else 'no'} |"
              for name, ok in result["informative"].items()]
    if result["processes_left"]:
        lines += ["", "Processes left after the stop (killed): " + "; ".join(result["processes_left"])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="rosy's soak; see bench/README.md.")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run (fractions allowed)")
    parser.add_argument("--launch", required=True, help="the rosy-launch binary")
    parser.add_argument("--rosy", required=True, help="the rosy CLI binary")
    parser.add_argument("--node", required=True, help="the rosy-soak-node binary")
    parser.add_argument("--python", required=True, help="python3 of a venv with rosy 0.8.3")
    parser.add_argument("--warmup", type=float, help="seconds before the first sample (default: "
                        "10%% of the run, at least 30 s, at most half the run)")
    parser.add_argument("--topic-rate", type=float, default=100, help="messages per second per talker")
    parser.add_argument("--call-rate", type=float, default=20, help="calls per second per caller")
    parser.add_argument("--flaky-rate", type=float, default=5, help="calls per second to soak.flaky")
    parser.add_argument("--swift-lifetime", default="0.3 1.5", help="MIN MAX seconds a Swift crasher lives")
    parser.add_argument("--python-lifetime", default="0.5 2.0", help="MIN MAX seconds a Python crasher lives")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds between SIGUSR1 and the stop")
    parser.add_argument("--tracemalloc", type=float, metavar="SECONDS",
                        help="Python nodes trace their allocations and, at the end, write what "
                        "they added since SECONDS after their start (COUNTS/NAME.tracemalloc.txt)")
    parser.add_argument("--out", type=Path, help="also write the result as JSON here")
    args = parser.parse_args()
    if args.minutes <= 0:
        parser.error("--minutes must be more than 0")
    for option in ("launch", "rosy", "node", "python"):
        path = os.path.abspath(getattr(args, option))
        if not os.access(path, os.X_OK):
            parser.error(f"--{option} {getattr(args, option)}: no such executable")
        setattr(args, option, path)
    if os.environ.get("ROSY_NETNS_INSIDE") != "1" or interfaces() != ["lo"]:
        parser.error("run me inside .ci/netns/run-in-netns (bench/soak does), never in the machine's network")
    result = run(args)
    table = render(result)
    print()
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(dict(result, table=table), indent=1) + "\n")
        print(f"\nJSON: {args.out}")
    sys.exit(0 if all(result["targets"].values()) and not result["interrupted"] else 1)


if __name__ == "__main__":
    main()
