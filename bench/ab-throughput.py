#!/usr/bin/env python3
"""A/B of the 1 MB topic throughput: rosy-bench binaries interleaved with ZeroMQ, medians.

    REPS=5 python3 bench/ab-throughput.py A=/tmp/a/rosy-bench B=.build/release/rosy-bench

Per repetition and socket kind (SOCKS, default unix,tcp): one session of each binary
(`bench/lib/session`, in a private network namespace, `--cases throughput --sizes 1048576`),
then bench/python/zmqbench.py (ZMQ=0 leaves it out; it needs .venv-bench, made by
bench/run). Prints every row, then the medians of every numeric field per binary and socket.
Needs root for `unshare -n`, as bench/run. See PERF-NOTES round 9.
"""
import json, os, subprocess, sys, statistics
from pathlib import Path
BENCH = str(Path(__file__).resolve().parent)
ROOT = str(Path(BENCH).parent)
reps = int(os.environ.get("REPS", "3"))
secs = os.environ.get("SECS", "2")
zmq = os.environ.get("ZMQ", "1") == "1"
socks = os.environ.get("SOCKS", "unix,tcp").split(",")
bins = sys.argv[1:]  # label=path
n = 0
def run(cmd):
    global n; n += 1
    env = dict(os.environ, ROSY_DOMAIN_ID=f"ab-{os.getpid()}-{n}")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300, env=env)
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.strip().startswith("{")]
    if p.returncode: print("ERR", p.stderr[-800:], file=sys.stderr)
    return rows
res = {}
for rep in range(reps):
    for sock in socks:
        for spec in bins:
            label, path = spec.split("=")
            cmd = ["unshare", "-n", BENCH + "/lib/session", path, "responder", "--socket", sock, "--discovery", "local", "--",
                   path, "driver", "--discovery", "local", "--socket", sock, "--seconds", secs, "--cases", "throughput", "--sizes", "1048576"]
            for r in run(cmd):
                if r.get("case") == "throughput" and r.get("size") == 1048576:
                    res.setdefault((label, sock), []).append(r)
                    print(label, sock, json.dumps(r), flush=True)
        if zmq:
            cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", ROOT + "/.venv-bench/bin/python3", BENCH + "/python/zmqbench.py",
                   "--socket", "ipc" if sock == "unix" else "tcp", "--sizes", "1048576", "--seconds", secs, "--latency-seconds", "0.3"]
            for r in run(cmd):
                if r.get("case") == "throughput":
                    res.setdefault(("zmq", sock), []).append(r)
                    print("zmq", sock, json.dumps(r), flush=True)
print("== medians")
for (label, sock), rows in sorted(res.items()):
    keys = [k for k in rows[0] if isinstance(rows[0][k], (int, float)) and k not in ("size",)]
    med = {k: statistics.median(r.get(k, 0) for r in rows) for k in keys}
    print(label, sock, "n=%d" % len(rows), " ".join(f"{k}={med[k]:.6g}" for k in keys), "all msgs/s:", [round(r.get("msgs_per_s", 0)) for r in rows])
