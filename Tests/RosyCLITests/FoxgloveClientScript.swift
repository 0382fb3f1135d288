/// The Foxglove client of `FoxgloveBridgeTests`: Python's `websockets` package speaking
/// foxglove.websocket.v1 (github.com/foxglove/ws-protocol, docs/spec.md), written from the
/// spec, not from the bridge. One scenario per run; it prints one JSON object per line.
enum FoxgloveClientScript {
    static let source = #"""
import asyncio, json, socket, struct, sys, time, urllib.request
from urllib.parse import urlparse
from websockets.asyncio.client import connect

SUBPROTOCOL = "foxglove.websocket.v1"

def out(**fields):
    print(json.dumps(fields), flush=True)

async def open_client(url, **kwargs):
    return await connect(url, subprotocols=[SUBPROTOCOL], proxy=None, compression=None, **kwargs)

class Client:
    """The connection and what the server has said so far."""
    def __init__(self, ws):
        self.ws, self.channels, self.services = ws, {}, {}
        self.texts, self.data, self.responses = [], [], []

    async def next(self, timeout=30):
        message = await asyncio.wait_for(self.ws.recv(), timeout)
        if isinstance(message, str):
            m = json.loads(message)
            self.texts.append(m)
            op = m["op"]
            if op == "advertise":
                for c in m["channels"]:
                    self.channels[c["topic"]] = c
            elif op == "unadvertise":
                gone = set(m["channelIds"])
                self.channels = {t: c for t, c in self.channels.items() if c["id"] not in gone}
            elif op == "advertiseServices":
                for s in m["services"]:
                    self.services[s["name"]] = s
            elif op == "unadvertiseServices":
                gone = set(m["serviceIds"])
                self.services = {n: s for n, s in self.services.items() if s["id"] not in gone}
            return m
        opcode = message[0]
        if opcode == 1:
            _, subscription, stamp = struct.unpack_from("<BIQ", message)
            self.data.append((subscription, stamp, json.loads(message[13:])))
        elif opcode == 3:
            _, service, call, length = struct.unpack_from("<BIII", message)
            encoding = message[13:13 + length].decode()
            self.responses.append({"serviceId": service, "callId": call, "encoding": encoding,
                                   "payload": message[13 + length:].decode()})
        return message

    async def until(self, done, timeout=30):
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out; texts so far: {self.texts}")
            await self.next(left)

    def statuses(self):
        return [m for m in self.texts if m["op"] == "status"]

async def stream(url, *topics):
    c = Client(await open_client(url))
    first = await c.next()
    out(serverInfo=first)
    await c.until(lambda: all(t in c.channels for t in topics))
    out(channels={t: c.channels[t] for t in topics})
    subscriptions = {i + 1: t for i, t in enumerate(topics)}
    await c.ws.send(json.dumps({"op": "subscribe", "subscriptions": [
        {"id": i, "channelId": c.channels[t]["id"]} for i, t in subscriptions.items()]}))
    def counts():
        return {t: sum(1 for d in c.data if d[0] == i) for i, t in subscriptions.items()}
    await c.until(lambda: all(n >= 3 for n in counts().values()))
    out(messages={t: [d[2] for d in c.data if d[0] == i][:3] for i, t in subscriptions.items()},
        stamps=[d[1] for d in c.data], now=time.time_ns())
    ids = sorted(c.channels[t]["id"] for t in topics)
    out(waiting="unadvertise")
    await c.until(lambda: not any(t in c.channels for t in topics), timeout=60)
    gone = sorted(i for m in c.texts if m["op"] == "unadvertise" for i in m["channelIds"])
    out(unadvertised=[i for i in gone if i in ids], expected=ids)

async def publish(url, topic):
    c = Client(await open_client(url))
    await c.next()
    await c.ws.send(json.dumps({"op": "advertise", "channels": [
        {"id": 1, "topic": topic, "encoding": "json", "schemaName": "rosy.Message"},
        {"id": 2, "topic": topic, "encoding": "protobuf", "schemaName": "x.Y"}]}))
    reader = asyncio.ensure_future(c.until(lambda: False, timeout=3600))
    await c.ws.send(b"\x01" + struct.pack("<I", 1) + b"not json")
    await c.ws.send(b"\x01" + struct.pack("<I", 9) + b"{}")
    message = json.dumps({"args": [{"x": 3.5}], "kwargs": {"note": "from foxglove"}}).encode()
    out(publishing=True)
    for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 50):
        await c.ws.send(b"\x01" + struct.pack("<I", 1) + message)
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    reader.cancel()
    out(statuses=c.statuses())

async def call(url, service):
    c = Client(await open_client(url))
    await c.next()
    await c.until(lambda: service in c.services)
    s = c.services[service]
    out(service=s)
    def request(service_id, call_id, payload, encoding=b"json"):
        return (b"\x02" + struct.pack("<III", service_id, call_id, len(encoding)) + encoding + payload)
    await c.ws.send(request(s["id"], 1, json.dumps({"args": [6, 7], "kwargs": {}}).encode()))
    await c.ws.send(request(s["id"], 2, json.dumps({"args": ["a", None]}).encode()))
    await c.ws.send(request(999, 3, b"{}"))
    await c.ws.send(request(s["id"], 4, b"not json"))
    await c.ws.send(request(s["id"], 5, b"{}", encoding=b"cbor"))
    failures = lambda: [m for m in c.texts if m["op"] == "serviceCallFailure"]
    await c.until(lambda: len(c.responses) >= 1 and len(failures()) >= 4)
    out(responses=c.responses, failures=failures())

async def flood(url, topic, seconds):
    """A client that reads nothing (and a small receive buffer), and one that reads all."""
    host, port = urlparse(url).hostname, urlparse(url).port
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    sock.connect((host, port))
    slow = Client(await open_client(url, sock=sock, max_queue=1, ping_interval=None, max_size=None))
    fast = Client(await open_client(url, max_size=None))
    for c in (slow, fast):
        await c.until(lambda: topic in c.channels)
        await c.ws.send(json.dumps({"op": "subscribe", "subscriptions": [{"id": 1, "channelId": c.channels[topic]["id"]}]}))
    out(subscribed=True)
    # The fast one reads until the sender has been quiet for 3 s.
    last = time.monotonic()
    deadline = time.monotonic() + seconds + 60
    while time.monotonic() < deadline:
        try:
            await fast.next(timeout=0.5)
            if fast.data:
                last = time.monotonic()
        except (asyncio.TimeoutError, TimeoutError):
            if fast.data and time.monotonic() - last > 3:
                break
    seqs = sorted({d[2]["args"][0] for d in fast.data})
    missing = (seqs[-1] - seqs[0] + 1 - len(seqs)) if seqs else -1
    out(fast={"count": len(fast.data), "first": seqs[0] if seqs else None,
              "last": seqs[-1] if seqs else None, "missing": missing})
    # Now the slow one reads what was kept for it.
    while True:
        try:
            await slow.next(timeout=3)
        except (asyncio.TimeoutError, TimeoutError):
            break
    out(slow={"count": len(slow.data),
              "dropped": [m["message"] for m in slow.statuses() if "dropped" in m["message"]]})

async def refuse(url):
    http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    page = http.open(url.replace("ws://", "http://"), timeout=10).read().decode()
    try:
        ws = await connect(url, proxy=None)
        refused = f"accepted with subprotocol {ws.subprotocol}"
    except Exception as error:
        refused = f"{type(error).__name__}: {error}"
    out(http=page, refused=refused)

scenario, url, *rest = sys.argv[1:]
if scenario == "flood":
    asyncio.run(flood(url, rest[0], float(rest[1])))
elif scenario == "publish":
    asyncio.run(publish(url, rest[0]))
else:
    asyncio.run({"stream": stream, "call": call, "refuse": refuse}[scenario](url, *rest))
"""#
}
