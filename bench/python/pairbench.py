"""The harness for the rows of the libraries users pick instead of rosy (zenohbench.py,
zmqbench.py): one sender and one receiver process, the cases of the rosy rows.

  throughput: 1 s of warm-up, then the sender sends `size` bytes per message as fast as
      the library lets it for S seconds; after 1.5 s to drain, the receiver reports what it
      got: msgs_per_s = (delivered - 1) / (last arrival - first arrival), as pybench.py.
  latency: one message every 1/rate s for L seconds, the 8-byte send time (time.time())
      as its payload; the receiver keeps time.time() - send time of each: p50, p99.

The receiver is a process of its own (multiprocessing, spawn: no library state is forked),
told what to do and asked for its counts over a pipe, so counting never travels on the
transport under test. A transport module gives:

  receive(address, on_message, settings) -> close   # on_message(payload) for each message
  Sender(address, latency: bool, settings)          # .wait_connected(), .send(payload), .close()
  address(socket_kind, folder) -> str               # where the receiver listens
  add_arguments(parser)                             # the transport's own options, if any

`settings` is the dict of the parsed command line.

`--read-payload`: the receiver copies each payload into a Python `bytes` (`bytes(payload)`),
as a listener that uses the data does; rosy's listeners get the message decoded, while
Zenoh's callback gets a `ZBytes` (in shared memory, with Zenoh's default configuration) and
pyzmq's `recv(copy=False)` a `Frame`, both unread unless asked. The impl gets `_read`.

One JSON line per case on stdout, as the other bench programs.
"""

import argparse
import importlib
import json
import multiprocessing
import struct
import sys
import tempfile
import time
from pathlib import Path

DRAIN_SECONDS = 1.5
STAMP = struct.Struct("<d")


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


class Tally:
    def __init__(self, read_payload: bool = False) -> None:
        self.latency = False
        self.read_payload = read_payload
        self.reset()

    def reset(self) -> None:
        self.delivered = 0
        self.first = 0.0
        self.last = 0.0
        self.latencies_us: list[float] = []

    def on_message(self, payload) -> None:
        if self.read_payload:
            payload = bytes(payload)
        now = time.monotonic()
        if self.latency:
            self.latencies_us.append((time.time() - STAMP.unpack_from(bytes(payload))[0]) * 1e6)
        if self.delivered == 0:
            self.first = now
        self.last = now
        self.delivered += 1

    def report(self) -> dict:
        latencies = sorted(self.latencies_us)
        return dict(delivered=self.delivered, seconds=self.last - self.first,
                    p50_us=percentile(latencies, 0.50), p99_us=percentile(latencies, 0.99))


def receiver_process(module: str, address: str, settings: dict, conn) -> None:
    transport = importlib.import_module(module)
    tally = Tally(read_payload=settings.get("read_payload", False))
    close = transport.receive(address, tally.on_message, settings)
    conn.send("ready")
    while True:
        command = conn.recv()
        if command == "result":
            conn.send(tally.report())
            tally.reset()
        elif command in ("throughput", "latency"):
            tally.latency = command == "latency"
            tally.reset()
        else:
            break
    close()


def run(module: str, impl: str, socket_kind: str, args: argparse.Namespace) -> None:
    transport = importlib.import_module(module)
    folder = Path(tempfile.mkdtemp(prefix=f"rosy-{impl}-bench-"))
    address = transport.address(socket_kind, folder)
    spawn = multiprocessing.get_context("spawn")
    here, there = spawn.Pipe()
    settings = vars(args)
    receiver = spawn.Process(target=receiver_process, args=(module, address, settings, there), daemon=True)
    receiver.start()
    if not here.poll(60) or here.recv() != "ready":
        sys.exit(f"{impl} receiver did not start")

    def ask(command: str) -> dict | None:
        here.send(command)
        return here.recv() if command == "result" else None

    def emit(**fields) -> None:
        print(json.dumps(dict(impl=impl, socket=socket_kind, **fields)), flush=True)

    sender = transport.Sender(address, latency=False, settings=settings)
    sender.wait_connected()
    for size in args.sizes:
        filler = b"A" * size
        end = time.monotonic() + 1.0  # warm-up, as rosy speedtest's second
        while time.monotonic() < end:
            sender.send(filler)
        time.sleep(0.5)  # the warm-up's tail is not counted
        ask("throughput")
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            sender.send(filler)
        time.sleep(DRAIN_SECONDS)
        got = ask("result")
        mps = (got["delivered"] - 1) / got["seconds"] if got["seconds"] > 0 else 0.0
        emit(case="throughput", size=size, delivered=got["delivered"], seconds=round(got["seconds"], 3),
             msgs_per_s=round(mps), mb_per_s=round(mps * size / 1e6, 1))
    sender.close()

    sender = transport.Sender(address, latency=True, settings=settings)
    sender.wait_connected()
    ask("latency")
    step = 1.0 / args.rate
    next_time = time.monotonic()
    for _ in range(int(args.rate * args.latency_seconds)):
        next_time += step
        delay = next_time - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sender.send(STAMP.pack(time.time()))
    time.sleep(DRAIN_SECONDS)
    got = ask("result")
    emit(case="latency", size=0, rate=args.rate, delivered=got["delivered"],
         p50_us=round(got["p50_us"], 1), p99_us=round(got["p99_us"], 1))
    sender.close()
    ask("stop")
    receiver.join(10)


def main(module: str, impl: str, sockets: tuple[str, ...]) -> None:
    parser = argparse.ArgumentParser(description=f"{impl} pub/sub throughput and latency (bench/README.md)")
    parser.add_argument("--socket", choices=sockets, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--latency-seconds", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1000, 1048576])
    parser.add_argument("--read-payload", action="store_true",
                        help="the receiver copies each payload into bytes, as a listener that uses it")
    transport = importlib.import_module(module)
    if hasattr(transport, "add_arguments"):
        transport.add_arguments(parser)
    args = parser.parse_args()
    name = getattr(transport, "impl_name", lambda _: impl)(args)
    run(module, name + ("_read" if args.read_payload else ""), args.socket, args)
