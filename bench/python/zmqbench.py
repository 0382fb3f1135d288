"""ZeroMQ (PyPI `pyzmq`), PUSH/PULL: the rows `zmq` of bench/README.md, through
pairbench.py's cases.

  zmqbench.py --socket ipc|tcp [--seconds S] [--sizes 0,1000,1048576]

The receiver binds a PULL socket (ipc://PATH or tcp://127.0.0.1:PORT) and reads in a
thread of its own, `recv(copy=False)`; the sender's PUSH socket connects and sends each
message as one frame, copied below 64 kB and zero-copy from 64 kB up (pyzmq's advice).
PUSH blocks at its high-water mark (1,000 messages), so a slow receiver slows the sender
and nothing is dropped, as with rosy.
"""

import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pairbench  # noqa: E402


def address(socket_kind: str, folder: Path) -> str:
    if socket_kind == "ipc":
        return f"ipc://{folder / 'zmq.sock'}"
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def receive(endpoint: str, on_message, settings: dict):
    import zmq
    context = zmq.Context()
    pull = context.socket(zmq.PULL)
    pull.bind(endpoint)

    def loop():
        try:
            while True:
                on_message(pull.recv(copy=False))
        except zmq.ContextTerminated:
            pull.close(linger=0)

    threading.Thread(target=loop, daemon=True).start()
    return lambda: context.term()


class Sender:
    def __init__(self, endpoint: str, latency: bool, settings: dict) -> None:
        import zmq
        self.context = zmq.Context()
        self.push = self.context.socket(zmq.PUSH)
        self.push.connect(endpoint)

    def wait_connected(self) -> None:
        time.sleep(0.2)  # PUSH queues until connected; the warm-up second covers the rest

    def send(self, payload: bytes) -> None:
        self.push.send(payload, copy=len(payload) < 65536)

    def close(self) -> None:
        self.push.close(linger=-1)  # sends what is queued first
        self.context.term()


if __name__ == "__main__":
    pairbench.main("zmqbench", "zmq", ("ipc", "tcp"))
