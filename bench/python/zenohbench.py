"""Eclipse Zenoh (PyPI `eclipse-zenoh`: its Python API over the Rust core), pub/sub in peer
mode: the rows `zenoh` of bench/README.md, through pairbench.py's cases.

  zenohbench.py --socket tcp|unix [--seconds S] [--sizes 0,1000,1048576]

Two sessions in peer mode with multicast scouting off: the receiver listens on one explicit
endpoint (tcp/127.0.0.1:PORT, or unixsock-stream/PATH) and the sender connects to it, so
nothing is scouted or sent beyond loopback (bench/run also runs it inside a private network
namespace). Throughput publishes with CongestionControl.BLOCK (the sender waits for a slow
subscriber instead of dropping, as rosy's sender waits); the latency case's publisher is
`express` (no batching), as zenoh's own z_ping. The subscriber is a callback.

Zenoh's default configuration sends payloads of 3 kB and more between processes on one
host through shared memory (transport/shared_memory/transport_optimization); that is the
row `zenoh` (impl "zenoh"). `--shared-memory off` turns it off, so that every byte goes
through the socket as rosy's do: impl "zenoh_noshm".
"""

import json
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pairbench  # noqa: E402

KEY = "rosy/bench/t"


def add_arguments(parser) -> None:
    parser.add_argument("--shared-memory", choices=("on", "off"), default="on",
                        help="zenoh's shared-memory transport optimization (on by default in zenoh)")


def impl_name(args) -> str:
    return "zenoh" if args.shared_memory == "on" else "zenoh_noshm"


def config(listen: list[str], connect: list[str], settings: dict):
    import zenoh
    conf = zenoh.Config()
    if settings["shared_memory"] == "off":
        conf.insert_json5("transport/shared_memory/enabled", "false")
    conf.insert_json5("mode", '"peer"')
    conf.insert_json5("scouting/multicast/enabled", "false")
    conf.insert_json5("listen/endpoints", json.dumps(listen))
    conf.insert_json5("connect/endpoints", json.dumps(connect))
    return conf


def address(socket_kind: str, folder: Path) -> str:
    if socket_kind == "unix":
        return f"unixsock-stream/{folder / 'zenoh.sock'}"
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        return f"tcp/127.0.0.1:{probe.getsockname()[1]}"


def receive(endpoint: str, on_message, settings: dict):
    import zenoh
    session = zenoh.open(config([endpoint], [], settings))
    subscriber = session.declare_subscriber(KEY, lambda sample: on_message(sample.payload))

    def close():
        subscriber.undeclare()
        session.close()
    return close


class Sender:
    def __init__(self, endpoint: str, latency: bool, settings: dict) -> None:
        import zenoh
        own = "tcp/127.0.0.1:0" if endpoint.startswith("tcp/") else endpoint + f".sender{int(latency)}"
        self.session = zenoh.open(config([own], [endpoint], settings))
        self.publisher = self.session.declare_publisher(
            KEY, congestion_control=zenoh.CongestionControl.BLOCK, express=latency)

    def wait_connected(self) -> None:
        deadline = time.monotonic() + 30
        while not self.publisher.matching_status.matching:
            if time.monotonic() > deadline:
                sys.exit("zenoh: no subscriber matched within 30 s")
            time.sleep(0.05)

    def send(self, payload: bytes) -> None:
        self.publisher.put(payload)

    def close(self) -> None:
        self.publisher.undeclare()
        self.session.close()


if __name__ == "__main__":
    pairbench.main("zenohbench", "zenoh", ("tcp", "unix"))
