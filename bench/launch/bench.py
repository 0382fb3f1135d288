#!/usr/bin/env python3
"""rosy-launch figures: start and stop of 100 nodes, restart latency, merged logging
throughput, idle CPU and memory, with real processes. Not a test: it prints numbers.

`bench/run` runs it in every repetition, next to the node cases. By hand:

    swift build -c release --product rosy-launch
    python3 bench/launch/bench.py --launch .build/release/rosy-launch [--python .venv/bin/python3]

With `--python`, Python rosy 0.8.3's `rosy launch` runs the same launch files for the cases
it can do (start, stop, idle): it starts processes and stops them on Ctrl+C, and neither
restarts nodes nor merges their logs. Every figure is printed as a sentence, then as one
JSON object per line (bench/runner.py reads those).
"""
import argparse, json, os, shutil, signal, socket, subprocess, sys, tempfile, time

# The same node for both launchers: rosy 0.8.3 appends `--name NAME` to every command, and
# rosy-launch does too (pass_name defaults to true), so `sh -c` takes it as $0 and $1.
SLEEPER = "    command: [sh, -c, 'exec sleep 1000']\n"


class Launcher:
    """One launcher program: rosy-launch, or Python rosy's `rosy launch`."""

    def __init__(self, impl, argv):
        self.impl, self.argv = impl, argv

    def start(self, folder, yaml, notify=None):
        path = os.path.join(folder, "bench.yaml")
        with open(path, "w") as f:
            f.write(yaml)
        env = dict(os.environ, XDG_RUNTIME_DIR=os.path.join(folder, "run"), NO_COLOR="1")
        env.pop("NOTIFY_SOCKET", None)
        if notify:
            env["NOTIFY_SOCKET"] = notify
        extra = ["--log-dir", os.path.join(folder, "logs")] if self.impl == "swift" else []
        return subprocess.Popen([*self.argv, path, *extra], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env, cwd=folder,
                                start_new_session=True)

    @staticmethod
    def interrupt(p):
        """Ctrl+C at a terminal: SIGINT to the launcher's whole process group."""
        os.killpg(p.pid, signal.SIGINT)


def children(pid):
    """The direct children of pid, from every thread's /proc children list."""
    found = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    found.update(int(c) for c in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return found


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for_sleepers(launcher_pid, count, timeout=60.0):
    """Polls until `count` children of the launcher run `sleep`; returns their pids."""
    deadline = time.monotonic() + timeout
    sleeping = set()
    while time.monotonic() < deadline:
        for pid in children(launcher_pid) - sleeping:
            if comm(pid) == "sleep":
                sleeping.add(pid)
        if len(sleeping) >= count:
            return sleeping
        time.sleep(0.0005)
    raise TimeoutError(f"only {len(sleeping)} of {count} nodes running after {timeout:.0f} s")


def start_and_stop(launcher, folder, count=100):
    """Exec of the launcher until `count` nodes run `sleep` (the same test for both
    launchers), then Ctrl+C (SIGINT to its process group, as a terminal sends it) until the
    launcher has exited; counts the nodes left running. rosy-launch puts each node in a
    process group of its own and stops them itself; Python rosy's nodes share its group, so
    they get the SIGINT too (one SIGINT to the Python launcher alone only cancels its asyncio
    task, which its blocking wait never checks)."""
    yaml = "nodes:\n" + "".join(f"  n{i}:\n{SLEEPER}" for i in range(count))
    t0 = time.monotonic()
    p = launcher.start(folder, yaml)
    nodes = wait_for_sleepers(p.pid, count)
    started = time.monotonic() - t0
    t1 = time.monotonic()
    launcher.interrupt(p)
    # A blocking wait: Popen.wait(timeout) polls with growing sleeps (1, 3, 7 ... 31, 63 ms),
    # which would round the stop time up. bench/runner.py's timeout covers a hang.
    p.wait()
    stopped = time.monotonic() - t1
    left = [pid for pid in nodes if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return {"start_ms": started * 1000, "stop_ms": stopped * 1000, "nodes_left": len(left)}


def ready_time(launcher, folder, count=100):
    """rosy-launch only: exec until READY=1 on a systemd notify socket."""
    path = os.path.join(folder, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(60)
    yaml = "nodes:\n" + "".join(f"  n{i}:\n{SLEEPER}" for i in range(count))
    t0 = time.monotonic()
    p = launcher.start(folder, yaml, notify=path)
    while b"READY=1" not in s.recv(4096):
        pass
    ready = time.monotonic() - t0
    p.send_signal(signal.SIGTERM)
    p.wait()
    s.close()
    return {"ready_ms": ready * 1000}


def restart_latency(launcher, folder):
    """rosy-launch only. The node crashes (exit 1) after 20 ms; the merged log says when the
    supervisor saw the exit and when the new process started."""
    yaml = """nodes:
  crasher:
    command: sleep 0.02; exit 1
    pass_name: false
    max_restarts: 1000
    backoff: {reset_after: 0.01}
"""
    p = launcher.start(folder, yaml)
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    p.wait()
    log = open(os.path.join(folder, "logs", "bench-latest", "launch.log")).read().splitlines()

    def seconds(line):
        h, m, s = line[11:23].split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    ended, gaps = None, []
    for line in log:
        if "crasher (pid" in line and "ended" in line:
            ended = seconds(line)
        elif "crasher started" in line and ended is not None:
            gaps.append(seconds(line) - ended)
            ended = None
    gaps.sort()
    return {"restarts": len(gaps), "restart_median_ms": gaps[len(gaps) // 2] * 1000,
            "restart_worst_ms": gaps[-1] * 1000}


def logging_throughput(launcher, folder, nodes=4, lines=1_000_000):
    """rosy-launch only: nodes print as fast as they can; every line must reach launch.log."""
    text = "x" * 90
    yaml = "log_max_size: 4G\nnodes:\n" + "".join(
        f"  flood{i}:\n    command: yes '{i}-{text}' | head -n {lines}\n    pass_name: false\n    restart: never\n"
        for i in range(nodes))
    t0 = time.monotonic()
    p = launcher.start(folder, yaml)
    p.wait()
    elapsed = time.monotonic() - t0
    merged = os.path.join(folder, "logs", "bench-latest", "launch.log")
    count = sum(1 for line in open(merged, errors="replace") if "| " in line and "-xxxx" in line)
    size = nodes * lines * (len(text) + 3)
    return {"log_mb_per_s": size / elapsed / 1e6, "log_lines": count,
            "log_lines_lost": nodes * lines - count, "log_seconds": elapsed}


def idle(launcher, folder, seconds=10):
    """10 sleeping nodes: the launcher's CPU over `seconds`, and its VmRSS."""
    yaml = "nodes:\n" + "".join(f"  n{i}:\n{SLEEPER}" for i in range(10))
    p = launcher.start(folder, yaml)
    wait_for_sleepers(p.pid, 10)
    time.sleep(2)
    hz = os.sysconf("SC_CLK_TCK")

    def ticks():
        fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    t0, c0 = time.monotonic(), ticks()
    time.sleep(seconds)
    t1, c1 = time.monotonic(), ticks()
    rss = [l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")][0].split()[1]
    launcher.interrupt(p)
    p.wait()
    return {"cpu_percent": 100.0 * (c1 - c0) / hz / (t1 - t0), "rss_kb": int(rss)}


def report(impl, case, figures):
    print(json.dumps({"impl": impl, "case": case, "socket": "-", **figures}), flush=True)


def main():
    parser = argparse.ArgumentParser(description="rosy-launch figures; see bench/launch/README.md.")
    parser.add_argument("--launch", default=".build/release/rosy-launch", help="the rosy-launch binary")
    parser.add_argument("--python", help="python3 of a venv with rosy 0.8.3: also run `rosy launch`")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args()

    launchers = [Launcher("swift", [os.path.abspath(args.launch)])]
    if args.python:
        launchers.append(Launcher("python", [os.path.abspath(args.python), "-m", "rosy", "launch"]))
    folders = []

    def fresh():
        folders.append(tempfile.mkdtemp(prefix="rosy-launch-bench-"))
        return folders[-1]

    try:
        for _ in range(args.reps):
            for launcher in launchers:
                name = {"swift": "rosy-launch", "python": "Python rosy launch"}[launcher.impl]
                f = start_and_stop(launcher, fresh())
                print(f"{name}: 100 nodes running {f['start_ms']:.0f} ms after exec; Ctrl+C to exit "
                      f"{f['stop_ms']:.0f} ms, {f['nodes_left']} nodes left running")
                report(launcher.impl, "launch_100", f)
                if launcher.impl == "swift":
                    f = ready_time(launcher, fresh())
                    print(f"{name}: READY=1 {f['ready_ms']:.0f} ms after exec (100 nodes)")
                    report(launcher.impl, "launch_ready", f)
                    f = restart_latency(launcher, fresh())
                    print(f"{name}: restart after a crash (exit seen -> running again): median "
                          f"{f['restart_median_ms']:.0f} ms, worst {f['restart_worst_ms']:.0f} ms "
                          f"({f['restarts']} restarts)")
                    report(launcher.impl, "launch_restart", f)
                    f = logging_throughput(launcher, fresh())
                    print(f"{name}: merged logging {f['log_mb_per_s']:.0f} MB/s, {f['log_lines_lost']} "
                          f"lines lost ({f['log_seconds']:.1f} s; merged + per-node files, terminal to /dev/null)")
                    report(launcher.impl, "launch_logging", f)
                f = idle(launcher, fresh())
                print(f"{name}: idle with 10 nodes {f['cpu_percent']:.2f}% CPU over 10 s, "
                      f"RSS {f['rss_kb'] / 1024:.1f} MB")
                report(launcher.impl, "launch_idle", f)
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
