"""One `rosy speedtest recv` and one `rosy speedtest send`, the commands users run, as they
run them: the rows `speedtest` of bench/README.md. Run it inside the private network
namespace of bench/lib/session (with --mdns-host, for Python rosy's mDNS).

  speedtest_pair.py --impl swift|python --rosy ROSY --socket unix|tcp --size N --seconds S

Starts the receiver, then the sender with `--run-time S --message-size N` (and
`--disable-tcp` or `--disable-unix` on both, so the connection is of the kind asked for),
waits for both to end and prints one JSON line from what they printed:

  msgs_per_s   the receiver's last `Received message count: N` / S, computed alike for
               Swift and Python (rosy 0.8.3's receiver prints no total rate)
  sent_mps     the sender's `mps=N` (rosy's: messages sent / run time)
  mean_latency_ms  the receiver's last `Avg latency` (rosy's running mean)
  p50_ms, p99_ms, lost   from the Swift receiver's summary line (Python prints none)
"""

import argparse
import json
import re
import subprocess
import sys


def last(pattern: str, text: str):
    found = re.findall(pattern, text)
    return found[-1] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=("swift", "python"), required=True)
    parser.add_argument("--rosy", required=True, help="the rosy command (Swift binary or the venv's rosy)")
    parser.add_argument("--socket", choices=("unix", "tcp"), required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    only = ["--disable-tcp"] if args.socket == "unix" else ["--disable-unix"]
    receiver = subprocess.Popen([args.rosy, "speedtest", "recv"] + only, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        sender = subprocess.run([args.rosy, "speedtest", "send", "--run-time", str(args.seconds),
                                 "--message-size", str(args.size)] + only,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=args.seconds + 60)
        received, errors = receiver.communicate(timeout=30)
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()
    if sender.returncode != 0 or receiver.returncode != 0:
        sys.exit(f"speedtest failed: send {sender.returncode}, recv {receiver.returncode}\n"
                 f"{sender.stderr[-2000:]}\n{errors[-2000:]}")

    count = int(last(r"Received message count: (\d+);", received) or 0)
    row = dict(impl=args.impl, case="speedtest", socket=args.socket, size=args.size,
               delivered=count, msgs_per_s=round(count / args.seconds),
               mb_per_s=round(count / args.seconds * args.size / 1e6, 1),
               sent_mps=int(last(r"\] mps=(\d+)\n", sender.stdout) or 0),
               mean_latency_ms=round(float(last(r"Avg latency: ([0-9.e-]+)s", received) or 0) * 1000, 3))
    summary = re.search(r"p50_latency=([0-9.]+)ms p99_latency=([0-9.]+)ms lost=(\S+)", received)
    if summary:
        row.update(p50_ms=float(summary[1]), p99_ms=float(summary[2]), lost=summary[3])
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
