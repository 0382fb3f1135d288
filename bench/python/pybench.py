"""The Python rosy 0.8.3 side of rosy's benchmarks, modelled on `rosy speedtest`.

Two roles, each its own process and node (run them inside the private network namespace
that bench/run makes; see bench/README.md):

  pybench.py responder --socket unix|tcp
      Listens to `warmup`, `t` (throughput) and `lat` (latency) and provides the services
      `echo` (returns its argument) and `result` (returns what was delivered since the
      last `result` call, then starts counting afresh).
  pybench.py driver --socket unix|tcp [--seconds S] [--sizes 0,1000,...]
      Waits for the responder, then runs every case once and prints one JSON line per case.

Counting happens at the receiver: the driver sends as fast as rosy lets it for S seconds
(as `rosy speedtest send` does: one tuple `(time.time(), 'A' * size)` per message), waits
for the outbox to drain and asks the responder through `result` what it got.
Both nodes offer only the socket kind under test, so the connection is of that kind.
"""

import argparse
import asyncio
import json
import logging
import resource
import time

from rosy import build_node

THROUGHPUT_TOPIC = "t"
LATENCY_TOPIC = "lat"
DRAIN_SECONDS = 1.5


def node_options(socket_kind: str) -> dict:
    unix = socket_kind == "unix"
    return dict(
        allow_unix_connections=unix,
        allow_tcp_connections=not unix,
        # Loopback only: no multicast name resolution needed for the data connection.
        node_server_host="127.0.0.1",
        node_client_host="127.0.0.1",
        # As rosy speedtest: no load balancer, one peer per topic anyway.
        topic_load_balancer=None,
        service_load_balancer=None,
    )


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def usage() -> tuple[float, int]:
    """CPU seconds (user + system) and context switches of this process so far."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime, u.ru_nvcsw + u.ru_nivcsw


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


# ---- responder -------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.delivered = 0
        self.first = 0.0
        self.last = 0.0
        self.latencies_us: list[float] = []
        self.usage_at_reset = usage()

    def count(self) -> None:
        now = time.monotonic()
        if self.delivered == 0:
            self.first = now
        self.last = now
        self.delivered += 1


async def responder(args: argparse.Namespace) -> None:
    tally = Tally()
    node = await build_node(name="pybench responder", **node_options(args.socket))

    async def on_warmup(topic, *_args):
        pass

    async def on_message(topic, data):
        tally.count()

    async def on_latency(topic, data):
        tally.latencies_us.append((time.time() - data[0]) * 1e6)
        tally.count()

    async def echo(service, value):
        return value

    async def result(service):
        latencies = sorted(tally.latencies_us)
        report = dict(
            delivered=tally.delivered,
            seconds=tally.last - tally.first,
            p50_us=percentile(latencies, 0.50),
            p99_us=percentile(latencies, 0.99),
            rss_kb=rss_kb(),
            cpu_s=usage()[0] - tally.usage_at_reset[0],
            ctx_switches=usage()[1] - tally.usage_at_reset[1],
        )
        tally.reset()
        return report

    await node.listen("warmup", on_warmup)
    await node.listen(THROUGHPUT_TOPIC, on_message)
    await node.listen(LATENCY_TOPIC, on_latency)
    await node.add_service("echo", echo)
    await node.add_service("result", result)
    print("pybench responder: ready", flush=True)
    await node.forever()


# ---- driver ----------------------------------------------------------------------------


def emit(**fields) -> None:
    print(json.dumps(dict(impl="python", **fields)), flush=True)


async def warm_up(node) -> None:
    """As rosy speedtest's sender: 1 s of messages on `warmup`."""
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        await node.send("warmup")
        await asyncio.sleep(0)


async def flood(node, size: int, seconds: float) -> None:
    """As rosy speedtest's sender: send as fast as it goes."""
    topic = node.get_topic(THROUGHPUT_TOPIC)
    filler = "A" * size
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await topic.send((time.time(), filler))
        await asyncio.sleep(0)


async def paced(node, rate: float, seconds: float) -> None:
    topic = node.get_topic(LATENCY_TOPIC)
    step = 1.0 / rate
    next_time = time.monotonic()
    for _ in range(int(rate * seconds)):
        next_time += step
        delay = next_time - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await topic.send((time.time(), ""))


async def calls(node, inflight: int, seconds: float) -> tuple[int, float]:
    done = 0
    start = time.monotonic()
    end = start + seconds

    async def worker():
        nonlocal done
        while time.monotonic() < end:
            await node.call("echo", 0)
            done += 1

    await asyncio.gather(*(worker() for _ in range(inflight)))
    return done, time.monotonic() - start


async def collect(node) -> dict:
    await asyncio.sleep(DRAIN_SECONDS)
    return await node.call("result")


async def driver(args: argparse.Namespace) -> None:
    node = await build_node(name="pybench driver", **node_options(args.socket))
    await node.wait_for_listener(THROUGHPUT_TOPIC, poll_interval=0.1)
    await node.wait_for_service_provider("result", poll_interval=0.1)
    at_rest = await node.call("result")
    emit(case="rss_at_rest", socket=args.socket, rss_kb=at_rest["rss_kb"], driver_rss_kb=rss_kb())

    if "service1" in args.cases:  # one call at a time alone (the one-CPU rows of bench/run)
        done, secs = await calls(node, 1, args.seconds)
        emit(case="service", socket=args.socket, inflight=1, calls=done,
             seconds=round(secs, 3), calls_per_s=round(done / secs))
    for size in args.sizes if "throughput" in args.cases else ():
        await warm_up(node)
        await node.call("result")  # the responder counts (and uses CPU) from here on
        before = usage()
        await flood(node, size, args.seconds)
        got = await collect(node)
        after = usage()
        mps = (got["delivered"] - 1) / got["seconds"] if got["seconds"] > 0 else 0.0
        delivered = max(1, got["delivered"])
        emit(case="throughput", socket=args.socket, size=size, delivered=got["delivered"],
             seconds=round(got["seconds"], 3), msgs_per_s=round(mps),
             mb_per_s=round(mps * size / 1e6, 1), rss_kb=got["rss_kb"], driver_rss_kb=rss_kb(),
             recv_cpu_us_per_msg=round(got["cpu_s"] * 1e6 / delivered, 1),
             send_cpu_us_per_msg=round((after[0] - before[0]) * 1e6 / delivered, 1),
             recv_ctx_per_kmsg=round(got["ctx_switches"] * 1000 / delivered, 1),
             send_ctx_per_kmsg=round((after[1] - before[1]) * 1000 / delivered, 1))

    if "latency" in args.cases:
        await paced(node, args.rate, args.latency_seconds)
        got = await collect(node)
        emit(case="latency", socket=args.socket, size=0, rate=args.rate,
             delivered=got["delivered"], p50_us=round(got["p50_us"], 1),
             p99_us=round(got["p99_us"], 1))

    for inflight in (1, 64) if "service" in args.cases else ():
        done, secs = await calls(node, inflight, args.seconds)
        emit(case="service", socket=args.socket, inflight=inflight, calls=done,
             seconds=round(secs, 3), calls_per_s=round(done / secs))
    await node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=("responder", "driver"))
    parser.add_argument("--socket", choices=("unix", "tcp"), required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--latency-seconds", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[0, 1000, 65536, 1048576])
    parser.add_argument("--cases", type=lambda s: set(s.split(",")),
                        default={"throughput", "latency", "service"},
                        help="comma separated: throughput, latency, service; service1 alone")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(responder(args) if args.role == "responder" else driver(args))


if __name__ == "__main__":
    main()
