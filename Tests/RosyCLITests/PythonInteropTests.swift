import Foundation
import RosyTestSupport
import XCTest

/// The `rosy` command against Python rosy 0.8.3's own CLI and demo nodes on loopback.
///
/// Python rosy finds nodes by mDNS, which tests may not use in the machine's network; the
/// bridge below runs unmodified Python rosy code with its discovery class swapped for one
/// that reads and writes rosy-swift's local registry (files plus a held flock), so Python
/// and Swift nodes meet in one mesh. Everything on the wire is Python rosy's own.
final class PythonInteropTests: XCTestCase {
    private var domain = ""
    private var directory = URL(fileURLWithPath: "/tmp")
    private var background: [BackgroundProcess] = []

    override func setUpWithError() throws {
        domain = "cli-py-\(UUID().uuidString.prefix(8))"
        directory = try TestSupport.temporaryDirectory("rosy-cli-py")
        try Data(Self.bridge.utf8).write(to: directory.appendingPathComponent("registry_bridge.py"))
    }

    override func tearDown() {
        for process in background { process.kill9() }
        try? FileManager.default.removeItem(at: directory)
    }

    private var bridgePath: String { directory.appendingPathComponent("registry_bridge.py").path }

    private func rosy(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try TestSupport.run(TestSupport.executable("rosy").path, ["--domain-id", domain] + arguments,
                            currentDirectory: directory, timeout: timeout)
    }

    private func startRosy(_ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess.rosy(["--domain-id", domain] + arguments, directory: directory)
        background.append(process)
        return process
    }

    /// Python rosy's CLI (`rosy ARGS`) or a module (`-m rosy.demo.x`), through the bridge.
    private func startPython(_ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess(try TestSupport.python(), ["-u", bridgePath] + arguments,
                                            environment: ["ROSY_DOMAIN_ID": domain], directory: directory)
        background.append(process)
        return process
    }

    private func runPython(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try TestSupport.run(try TestSupport.python(), ["-u", bridgePath] + arguments,
                            environment: ["ROSY_DOMAIN_ID": domain], currentDirectory: directory, timeout: timeout)
    }

    func testCallsAPythonServiceAndListsIt() throws {
        let provider = try startPython(["-m", "rosy.demo.service_provider"])
        provider.waitFor("Started service...")
        let call = try rosy(["service", "call", "multiply", "6", "7"])
        XCTAssertEqual(call.status, 0, call.stderr)
        XCTAssertTrue(call.stdout.contains("Response: 42\n"), call.stdout)
        let nodes = try rosy(["node", "list", "-v", "--discovery-time", "1"])
        XCTAssertTrue(nodes.stdout.contains("service_provider@"), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("- services:\n  - 'multiply'"), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("UnixConnectionSpec(path='/tmp/rosy-node-server."), nodes.stdout)
    }

    func testTopicsBothWays() throws {
        // Python sends, Swift echoes.
        let echo = try startRosy(["topic", "echo", "to-swift"])
        echo.waitFor("Listening to topics")
        let pythonSend = try runPython(["rosy", "topic", "send", "to-swift", "'from python'", "(1, b'\\x00')", "k={'a': None}"])
        XCTAssertEqual(pythonSend.status, 0, pythonSend.stderr)
        echo.waitFor("  k={'a': None}")
        XCTAssertTrue(echo.stdout.contains("topic='to-swift'\nargs:\n  0: 'from python'\n  1: (1, b'\\x00')\nkwargs:\n  k={'a': None}\n"), echo.stdout)
        // Python lists the Swift node.
        let list = try runPython(["rosy", "node", "list", "--discovery-time", "1"])
        XCTAssertTrue(list.stdout.contains("'rosy topic echo'@"), list.stdout + list.stderr)
        XCTAssertTrue(list.stdout.contains("  - 'to-swift'"), list.stdout)
        XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
        // Swift sends, Python echoes.
        let pythonEcho = try startPython(["rosy", "topic", "echo", "to-python"])
        pythonEcho.waitFor("Listening to topics")
        let send = try rosy(["topic", "send", "to-python", "3.5", "[True, None]", "n=-7"])
        XCTAssertEqual(send.status, 0, send.stderr)
        pythonEcho.waitFor("  n=-7")
        XCTAssertTrue(pythonEcho.stdout.contains("topic='to-python'\nargs:\n  0: 3.5\n  1: [True, None]\nkwargs:\n  n=-7\n"), pythonEcho.stdout)
    }

    func testBagFilesBetweenPythonAndSwift() throws {
        // Python records what Swift sends; Swift reads the .bag.
        let recorder = try startPython(["rosy", "bag", "record", "t", "-o", "py.bag"])
        recorder.waitFor("Recording topics to")
        for word in ["'one'", "'two'"] {
            XCTAssertEqual(try rosy(["topic", "send", "t", word, "n=(1, 2)"]).status, 0)
        }
        recorder.waitFor(".", count: 2)
        recorder.interrupt()
        XCTAssertTrue(recorder.stdout.contains("Recorded 2 messages"), recorder.stdout + recorder.stderr)
        let info = try rosy(["bag", "info", "-i", "py.bag"])
        XCTAssertTrue(info.stdout.contains("format:   rosy (.bag)\n"), info.stdout + info.stderr)
        XCTAssertTrue(info.stdout.contains("messages: 2\n"), info.stdout)

        // Swift plays Python's file to a Python echo.
        let pythonEcho = try startPython(["rosy", "topic", "echo", "t"])
        pythonEcho.waitFor("Listening to topics")
        XCTAssertEqual(try rosy(["bag", "play", "-i", "py.bag", "--wait-for-listeners", "30"]).status, 0)
        pythonEcho.waitFor("  0: 'two'")
        XCTAssertTrue(pythonEcho.stdout.contains("args:\n  0: 'one'\nkwargs:\n  n=(1, 2)\n"), pythonEcho.stdout)
        pythonEcho.interrupt()

        // Swift records (.bag); Python plays Swift's file to a Swift echo.
        let swiftRecorder = try startRosy(["bag", "record", "u", "-o", "swift.bag"])
        swiftRecorder.waitFor("Recording topics to")
        XCTAssertEqual(try runPython(["rosy", "topic", "send", "u", "b'\\x01'", "x=1.5"]).status, 0)
        swiftRecorder.waitFor(".")
        XCTAssertEqual(swiftRecorder.interrupt(), 0)
        let echo = try startRosy(["topic", "echo", "u"])
        echo.waitFor("Listening to topics")
        let play = try runPython(["rosy", "bag", "play", "-i", "swift.bag"])
        XCTAssertEqual(play.status, 0, play.stderr)
        echo.waitFor("  x=1.5")
        XCTAssertTrue(echo.stdout.contains("args:\n  0: b'\\x01'\nkwargs:\n  x=1.5\n"), echo.stdout)
    }

    /// Python rosy with its discovery read from and written to rosy-swift's local registry.
    static let bridge = #"""
"""Runs Python rosy 0.8.3's own CLI or demos with discovery through rosy-swift's local
registry instead of mDNS, so tests can put Python and Swift nodes in one mesh on loopback.

Usage: python registry_bridge.py rosy ARGS...        (rosy's CLI)
       python registry_bridge.py -m MODULE ARGS...   (e.g. rosy.demo.service_provider)

The registry: <runtime dir>/discovery/<blake2b-5 hex of domain>/<uuid>.node (JSON) and
<uuid>.lock, held with flock for as long as the node lives.
"""
import asyncio, fcntl, hashlib, json, os, runpy, socket, sys, uuid as uuidlib
from socket import AddressFamily

from rosy.discovery.base import NodeDiscovery
from rosy.specs import IpConnectionSpec, MeshNodeSpec, MeshTopologySpec, NodeId, UnixConnectionSpec


def registry_dir(domain_id):
    base = os.environ.get("XDG_RUNTIME_DIR")
    root = os.path.join(base, "rosy") if base else f"/tmp/rosy-{os.getuid()}"
    digest = hashlib.blake2b(domain_id.encode(), digest_size=5).hexdigest()
    path = os.path.join(root, "discovery", digest)
    os.makedirs(path, exist_ok=True)
    return path


def record(spec):
    conns = []
    for c in spec.connection_specs:
        if isinstance(c, UnixConnectionSpec):
            conns.append({"kind": "unix", "host": c.host, "path": c.path})
        else:
            conns.append({"kind": "ip", "host": c.host, "port": c.port, "family": int(c.family)})
    return {"version": 1, "name": spec.id.name, "hostname": spec.id.hostname, "uuid": str(spec.id.uuid),
            "connections": conns, "topics": sorted(spec.topics), "services": sorted(spec.services)}


def spec_of(r):
    conns = []
    for c in r["connections"]:
        if c["kind"] == "unix":
            conns.append(UnixConnectionSpec(path=c["path"], host=c["host"]))
        else:
            conns.append(IpConnectionSpec(host=c["host"], port=c["port"], family=AddressFamily(c["family"])))
    return MeshNodeSpec(id=NodeId(r["name"], r["hostname"], uuidlib.UUID(r["uuid"])),
                        connection_specs=conns, topics=set(r["topics"]), services=set(r["services"]))


def alive(directory, uuid):
    try:
        fd = os.open(os.path.join(directory, uuid + ".lock"), os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


class RegistryNodeDiscovery(NodeDiscovery):
    def __init__(self, domain_id, *args, **kwargs):
        self.dir = registry_dir(domain_id)
        self.topology_changed_callback = None
        self._topology = MeshTopologySpec(nodes=[])
        self._own = None
        self._lock_fd = None
        self._task = None

    @property
    def topology(self):
        return self._topology

    async def start(self):
        await self._scan()
        self._task = asyncio.create_task(self._poll())

    async def stop(self):
        if self._task:
            self._task.cancel()
        if self._own:
            for suffix in (".node", ".lock"):
                try:
                    os.unlink(os.path.join(self.dir, self._own + suffix))
                except OSError:
                    pass
            os.close(self._lock_fd)

    async def register_node(self, node):
        self._own = str(node.id.uuid)
        self._lock_fd = os.open(os.path.join(self.dir, self._own + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        await self.update_node(node)

    async def update_node(self, node):
        tmp = os.path.join(self.dir, f".{node.id.uuid}.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump(record(node), f)
        os.rename(tmp, os.path.join(self.dir, f"{node.id.uuid}.node"))
        await self._scan()

    async def _poll(self):
        while True:
            await asyncio.sleep(0.2)
            await self._scan()

    async def _scan(self):
        nodes = []
        for name in sorted(os.listdir(self.dir)):
            if not name.endswith(".node"):
                continue
            uuid = name[:-5]
            if uuid != self._own and not alive(self.dir, uuid):
                continue
            try:
                with open(os.path.join(self.dir, name)) as f:
                    nodes.append(spec_of(json.load(f)))
            except (OSError, ValueError, KeyError):
                continue
        key = sorted(json.dumps(record(n), sort_keys=True) for n in nodes)
        old = sorted(json.dumps(record(n), sort_keys=True) for n in self._topology.nodes)
        if key != old:
            self._topology = MeshTopologySpec(nodes=nodes)
            await self._call_topology_changed_callback()


import rosy.node.builder
import rosy.cli.utils
rosy.node.builder.ZeroconfNodeDiscovery = RegistryNodeDiscovery
rosy.cli.utils.ZeroconfNodeDiscovery = RegistryNodeDiscovery

if __name__ == "__main__":
    if sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [module] + sys.argv[3:]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        from rosy.cli.main import main
        sys.argv = ["rosy"] + sys.argv[2:]
        main()
"""#
}
