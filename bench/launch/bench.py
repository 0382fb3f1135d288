#!/usr/bin/env python3
"""rosy-launch figures for bench/README: start of 100 nodes, restart latency, merged logging
throughput, idle CPU and memory. Not a test: it prints numbers.

    swift build -c release --product rosy-launch
    python3 bench/launch/bench.py .build/release/rosy-launch
"""
import os, shutil, signal, socket, subprocess, sys, tempfile, time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/release/rosy-launch")


def launch(folder, yaml, notify=None, extra=()):
    path = os.path.join(folder, "bench.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    env = dict(os.environ, XDG_RUNTIME_DIR=os.path.join(folder, "run"), NO_COLOR="1")
    if notify:
        env["NOTIFY_SOCKET"] = notify
    return subprocess.Popen([BIN, path, "--log-dir", os.path.join(folder, "logs"), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=folder)


def notify_socket(folder):
    path = os.path.join(folder, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(60)
    return s, path


def wait_ready(s):
    while True:
        if b"READY=1" in s.recv(4096):
            return


def start_100(folder):
    nodes = "".join(f"  n{i}:\n    command: [sleep, '1000']\n    pass_name: false\n" for i in range(100))
    s, path = notify_socket(folder)
    t0 = time.monotonic()
    p = launch(folder, "nodes:\n" + nodes, notify=path)
    wait_ready(s)
    started = time.monotonic() - t0
    t1 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    p.wait()
    stopped = time.monotonic() - t1
    return started, stopped


def restart_latency(folder):
    # The node records when it starts, then crashes (exit 1) after 20 ms; the supervisor's
    # merged log says when it saw the exit and when the new process started.
    yaml = """nodes:
  crasher:
    command: sleep 0.02; exit 1
    pass_name: false
    max_restarts: 1000
    backoff: {reset_after: 0.01}
"""
    p = launch(folder, yaml)
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
    return len(gaps), gaps[len(gaps) // 2], gaps[-1]


def logging_throughput(folder, nodes=4, lines=1_000_000):
    text = "x" * 90
    yaml = "log_max_size: 4G\nnodes:\n" + "".join(
        f"  flood{i}:\n    command: yes '{i}-{text}' | head -n {lines}\n    pass_name: false\n    restart: never\n"
        for i in range(nodes))
    t0 = time.monotonic()
    p = launch(folder, yaml)
    p.wait()
    elapsed = time.monotonic() - t0
    merged = os.path.join(folder, "logs", "bench-latest", "launch.log")
    count = sum(1 for line in open(merged, errors="replace") if "| " in line and "-xxxx" in line)
    size = nodes * lines * (len(text) + 3)
    return size / elapsed / 1e6, count, nodes * lines, elapsed


def idle(folder, seconds=10):
    nodes = "".join(f"  n{i}:\n    command: [sleep, '1000']\n    pass_name: false\n" for i in range(10))
    p = launch(folder, "nodes:\n" + nodes)
    time.sleep(2)
    hz = os.sysconf("SC_CLK_TCK")

    def ticks():
        fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    t0, c0 = time.monotonic(), ticks()
    time.sleep(seconds)
    t1, c1 = time.monotonic(), ticks()
    rss = [l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")][0].split()[1]
    p.send_signal(signal.SIGTERM)
    p.wait()
    return 100.0 * (c1 - c0) / hz / (t1 - t0), int(rss) / 1024


def main():
    folders = []

    def fresh():
        folders.append(tempfile.mkdtemp(prefix="rosy-launch-bench-"))
        return folders[-1]

    started, stopped = start_100(fresh())
    print(f"100 nodes: all started (READY=1) {started * 1000:.0f} ms after exec; stopped in {stopped * 1000:.0f} ms")
    n, median, worst = restart_latency(fresh())
    print(f"restart after a crash: exit seen -> running again: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms ({n} restarts, backoff reset each time)")
    mbps, count, expected, elapsed = logging_throughput(fresh())
    print(f"merged logging: {mbps:.0f} MB/s ({count} of {expected} lines in launch.log, {elapsed:.1f} s; terminal to /dev/null, merged + per-node files)")
    cpu, rss = idle(fresh())
    print(f"idle with 10 nodes: {cpu:.2f}% CPU over 10 s, RSS {rss:.1f} MB")
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
