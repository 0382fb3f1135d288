"""A Python rosy 0.8.3 node of the soak (bench/soak, bench/README.md "Soak").

The same roles, arguments and counts as the Swift rosy-soak-node (bench/soak-node):

  soaknode.py talker TOPIC RATE        sends 1, 2, 3 ... on TOPIC, RATE per second
  soaknode.py listener TOPIC           counts what arrives on TOPIC
  soaknode.py provider SERVICE         answers SERVICE(n) with 2 n
  soaknode.py caller SERVICE RATE      calls SERVICE(n), one at a time, RATE per second
  soaknode.py crasher MIN MAX exit|kill [topic:T | service:S]...

rosy-launch appends `--name NAME`; the domain comes from ROSY_DOMAIN_ID (or --domain-id).
SIGUSR1 stops sending and calling and writes the counts; SIGINT or SIGTERM writes them
again and stops the node. The counts go to $SOAK_OUT/NAME.json (stdout without SOAK_OUT).

With SOAK_TRACEMALLOC=SECONDS (bench/soak --tracemalloc SECONDS) the node traces Python's
allocations, takes a snapshot SECONDS after it starts (after the warm-up) and, when it is
stopped, writes what was allocated since then and is still alive, by file and by source
line, to $SOAK_OUT/NAME.tracemalloc.txt: where the memory a long run adds lives.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tracemalloc
from collections import Counter

from rosy import build_node

CALL_TIMEOUT = 10.0


class Report:
    """What this node counted, written as JSON for the soak driver."""

    def __init__(self, name: str, role: str):
        self.name, self.role = name, role
        self.counts: Counter = Counter()
        self.values: dict = {}

    def write(self, stage: str) -> None:
        data = {"name": self.name, "role": self.role, "impl": "python", "stage": stage,
                "pid": os.getpid(), **self.counts, **self.values}
        folder = os.environ.get("SOAK_OUT")
        if not folder:
            print(json.dumps(data, sort_keys=True), flush=True)
            return
        path = os.path.join(folder, f"{self.name}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(data, f, sort_keys=True)
        os.replace(path + ".tmp", path)


class AllocationTrace:
    """SOAK_TRACEMALLOC: a snapshot after the warm-up, compared with one at SIGUSR1."""

    def __init__(self, name: str):
        self.name = name
        self.after = float(os.environ.get("SOAK_TRACEMALLOC") or 0)
        self.baseline = None
        if self.after > 0:
            tracemalloc.start(8)

    async def take_baseline(self) -> None:
        if self.after > 0:
            await asyncio.sleep(self.after)
            self.baseline = tracemalloc.take_snapshot()

    def write(self) -> None:
        if self.baseline is None or not os.environ.get("SOAK_OUT"):
            return
        now = tracemalloc.take_snapshot()
        lines = [f"{self.name}: live Python allocations, now against {self.after:g} s after the start",
                 f"traced now {tracemalloc.get_traced_memory()[0] / 1024:.0f} KiB", "", "by file:"]
        for stat in now.compare_to(self.baseline, "filename")[:15]:
            lines.append(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {stat.traceback[0].filename}")
        lines += ["", "by line (most recent frame first, 4 frames):"]
        for stat in now.compare_to(self.baseline, "traceback")[:12]:
            lines.append(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            for frame in list(stat.traceback)[-1:-5:-1]:
                lines.append(f"      {frame.filename}:{frame.lineno}")
        with open(os.path.join(os.environ["SOAK_OUT"], f"{self.name}.tracemalloc.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")


async def paced(rate: float, step) -> None:
    """Runs `step` rate times a second on a fixed schedule, until cancelled."""
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate
    next_time = loop.time()
    while True:
        await step()
        next_time += interval
        now = loop.time()
        if now - next_time > 1.0:  # far behind (a loaded machine): no burst
            next_time = now
        await asyncio.sleep(max(0.0, next_time - now))


async def talker(node, report: Report, topic: str, rate: float) -> None:
    while not await node.topic_has_listeners(topic):
        await asyncio.sleep(0.1)
    sequence = 0

    async def step():
        nonlocal sequence
        sequence += 1
        try:
            await node.send(topic, sequence)
            report.counts["sent"] += 1
        except Exception:
            report.counts["send_errors"] += 1

    await paced(rate, step)


async def caller(node, report: Report, service: str, rate: float) -> None:
    while not await node.service_has_providers(service):
        await asyncio.sleep(0.1)
    n = 0

    async def step():
        nonlocal n
        n += 1
        try:
            answer = await asyncio.wait_for(node.call(service, n), CALL_TIMEOUT)
            report.counts["answered" if answer == 2 * n else "wrong"] += 1
        except asyncio.CancelledError:
            raise
        except Exception as error:
            print(f"soak: call {n}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            report.counts["failed"] += 1
            report.counts[f"failed_{type(error).__name__}"] += 1

    await paced(rate, step)


async def listen(node, report: Report, topic: str) -> None:
    async def received(_topic, sequence=None, *args, **kwargs):
        if not isinstance(sequence, int):
            report.counts["malformed"] += 1
            return
        report.counts["received"] += 1
        report.values.setdefault("first_seq", sequence)
        previous = report.values.get("max_seq", 0)
        if previous and sequence > previous + 1:
            print(f"soak: {topic}: messages {previous + 1}...{sequence - 1} missing", file=sys.stderr, flush=True)
        if sequence <= report.values.get("max_seq", 0):
            report.counts["out_of_order"] += 1
        report.values["max_seq"] = max(sequence, report.values.get("max_seq", 0))

    await node.listen(topic, received)


async def provide(node, report: Report | None, service: str) -> None:
    async def answer(_service, n):
        if report is not None:
            report.counts["answered"] += 1
        return 2 * n

    await node.add_service(service, answer)


async def ignore(_topic, *args, **kwargs) -> None:
    pass


async def crash_later(low: float, high: float, how: str) -> None:
    await asyncio.sleep(random.uniform(low, high))
    sys.stdout.flush()
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(1)


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(description="A node of rosy's soak.")
    parser.add_argument("--name", required=True)
    parser.add_argument("--domain-id", default=None)
    parser.add_argument("role", choices=["talker", "listener", "provider", "caller", "crasher"])
    parser.add_argument("words", nargs="*")
    args = parser.parse_args(argv)
    counts = {"talker": 2, "listener": 1, "provider": 1, "caller": 2}
    if args.role in counts and len(args.words) != counts[args.role]:
        parser.error(f"{args.role} takes {counts[args.role]} arguments")
    if args.role == "crasher" and (len(args.words) < 3 or args.words[2] not in ("exit", "kill")):
        parser.error("crasher takes MIN MAX exit|kill [topic:T | service:S]...")
    return args


async def main() -> None:
    args = parse(sys.argv[1:])
    report = Report(args.name, args.role)
    trace = AllocationTrace(args.name)
    baseline = asyncio.create_task(trace.take_baseline())
    options = {"domain_id": args.domain_id} if args.domain_id else {}
    words = args.words
    async with await build_node(args.name, **options) as node:
        work = None
        if args.role == "talker":
            work = asyncio.create_task(talker(node, report, words[0], float(words[1])))
        elif args.role == "caller":
            work = asyncio.create_task(caller(node, report, words[0], float(words[1])))
        elif args.role == "listener":
            await listen(node, report, words[0])
        elif args.role == "provider":
            await provide(node, report, words[0])
        else:
            for word in words[3:]:
                kind, _, name = word.partition(":")
                if kind == "topic":
                    await node.listen(name, ignore)
                elif kind == "service":
                    await provide(node, None, name)
            work = asyncio.create_task(crash_later(float(words[0]), float(words[1]), words[2]))

        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        async def quiesce():
            if work is not None:
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            report.write("quiesced")

        loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(quiesce()))
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        report.write("started")
        await stop.wait()
        trace.write()
        if work is not None:
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
    baseline.cancel()
    report.write("stopped")


if __name__ == "__main__":
    asyncio.run(main())
