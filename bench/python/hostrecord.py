"""Answers mDNS address queries for this host's `<fqdn>.local.` inside a private namespace.

Python rosy resolves a node only once the SRV target host (`socket.getfqdn()` + `.local.`)
has an address record; on a real machine Avahi publishes it. Inside the benchmark's own
network namespace no Avahi runs, so this registers a placeholder service whose server is
that host name with the address 127.0.0.1: python-zeroconf then answers the A queries.
Runs until killed. Never start it outside a private network namespace.
"""

import signal
import socket
import sys
import time

from zeroconf import ServiceInfo, Zeroconf

from rosy.discovery.zeroconf import get_mdns_fqdn


def main() -> None:
    zc = Zeroconf()
    info = ServiceInfo(
        type_="_rosy-bench-host._tcp.local.",
        name=f"host-{socket.gethostname()}._rosy-bench-host._tcp.local.",
        port=9,
        server=get_mdns_fqdn(),
        addresses=[socket.inet_aton("127.0.0.1")],
    )
    zc.register_service(info)
    print("hostrecord: ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        zc.unregister_service(info)
        zc.close()


if __name__ == "__main__":
    main()
