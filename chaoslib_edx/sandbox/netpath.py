"""The network path from the LMS replicas to the database endpoint: a TCP proxy that can
be slowed, idle at zero delay until a fault sets one through its control socket.

Ours because nothing at hand delays a TCP path here: this kernel has no `sch_netem`
(`tc qdisc ... netem` fails), nginx's stream module forwards without delay, and neither
Toxiproxy nor a netem-like proxy is packaged for Debian. Like netem on a pod's egress,
the delay applies to what the application sends (each query waits `latency_ms` +/-
`jitter_ms`, replies are not delayed), on open connections as on new ones, and never
reorders bytes. Buffers are bounded: a full queue stops reading from the sender.

A network fault outlives a process restart, so the delay does too: the path keeps it, and
who set it (the run's id and name), in a state file it reads when it starts, written
before the delay is confirmed.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CHUNK = 64 * 1024     # one read
QUEUED_CHUNKS = 16    # per connection and direction: at most 1 MiB held back
MAX_LATENCY_MS = 5000  # above this the LMS's own 5 s DB timeouts fire: a failure, not a delay


@dataclass
class Delay:
    """What the path adds to every chunk the application sends."""

    latency_ms: int = 0
    jitter_ms: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be 0..{MAX_LATENCY_MS}, not {self.latency_ms}")
        if not 0 <= self.jitter_ms <= self.latency_ms:
            raise ValueError(f"jitter_ms must be 0..latency_ms ({self.latency_ms}), "
                             f"not {self.jitter_ms}")

    def sample_s(self) -> float:
        if not self.latency_ms:
            return 0.0
        jitter = random.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return (self.latency_ms + jitter) / 1000


class SlowPath:
    """The proxy: every connection to LISTEN is piped to UPSTREAM through the delay, the
    delay kept in STATE (and read from it at start) with the owner that set it."""

    def __init__(self, upstream: int, state: Path) -> None:
        self.upstream, self.state = upstream, state
        self.delay, self.owner = Delay(), None
        self.connections = 0
        # A damaged file is no delay: the fault's live check then says it ended.
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
            kept = json.loads(state.read_text())
            self.delay, self.owner = Delay(kept["latency_ms"], kept["jitter_ms"]), kept["owner"]

    def set(self, request: dict) -> None:
        """The delay (and owner) REQUEST asks for: on disk first, then in force."""
        owner = request.pop("owner", None)
        delay = Delay(**request)
        tmp = self.state.with_name(self.state.name + ".tmp")
        with tmp.open("w") as out:
            json.dump({**asdict(delay), "owner": owner if delay.latency_ms else None}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.state)
        self.delay, self.owner = delay, owner if delay.latency_ms else None

    async def serve_client(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()  # the endpoint refuses: so does the path
            return
        self.connections += 1
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._delayed(reader, up_writer))
                tasks.create_task(_copy(up_reader, writer))
        except* OSError:
            pass  # one end reset the connection: the other direction was cancelled
        finally:
            self.connections -= 1
            for end in (writer, up_writer):
                end.close()

    async def _delayed(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy READER to WRITER, each chunk held until its due time (never before the
        previous chunk's: bytes keep their order)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUED_CHUNKS)

        async def send() -> None:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    _half_close(writer)
                    return
                writer.write(data)
                await writer.drain()

        async def receive() -> None:
            last_due = 0.0
            while True:
                data = await reader.read(CHUNK)
                last_due = max(last_due, time.monotonic() + self.delay.sample_s())
                await queue.put((last_due, data))
                if not data:
                    return

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(receive())
            tasks.create_task(send())

    async def serve_control(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        """One JSON request per line: {} reads, {"latency_ms": .., "jitter_ms": ..,
        "owner": {...}} sets; the reply is the delay now in force and its owner, or
        {"error": ...}."""
        async with _closing(writer):
            async for line in reader:
                try:
                    request = json.loads(line)
                    if request:
                        self.set(request)
                    reply = {**asdict(self.delay), "owner": self.owner,
                             "connections": self.connections}
                except (ValueError, TypeError) as exc:
                    reply = {"error": str(exc)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(CHUNK):
        writer.write(data)
        await writer.drain()
    _half_close(writer)


def _half_close(writer: asyncio.StreamWriter) -> None:
    if writer.can_write_eof() and not writer.is_closing():
        with contextlib.suppress(OSError):
            writer.write_eof()


@contextlib.asynccontextmanager
async def _closing(writer: asyncio.StreamWriter):
    try:
        yield
    except ConnectionError:
        pass
    finally:
        writer.close()


def control(socket_path: Path | str, request: dict, timeout: float = 5.0) -> dict:
    """Send one control request to a running path; its reply (ValueError on a refusal,
    OSError when the path is not running)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(socket_path))
        conn.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(conn.makefile("rb").readline())
    if "error" in reply:
        raise ValueError(reply["error"])
    return reply


async def _serve(listen: int, upstream: int, control_socket: Path, state: Path) -> None:
    path = SlowPath(upstream, state)
    control_socket.unlink(missing_ok=True)
    data = await asyncio.start_server(path.serve_client, "127.0.0.1", listen, backlog=1024)
    ctl = await asyncio.start_unix_server(path.serve_control, str(control_socket))
    control_socket.chmod(0o600)
    async with data, ctl:
        await asyncio.gather(data.serve_forever(), ctl.serve_forever())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--upstream", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--control", type=Path, required=True, help="unix socket path")
    parser.add_argument("--state", type=Path, required=True,
                        help="where the delay is kept across restarts (JSON)")
    args = parser.parse_args()
    asyncio.run(_serve(args.listen, args.upstream, args.control, args.state))


if __name__ == "__main__":
    main()
