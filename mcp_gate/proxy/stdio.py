"""stdio backends: one child process per MCP session, spoken to in newline-delimited JSON.

MCP transports §stdio: the client writes JSON-RPC messages to the child's stdin and reads
them from its stdout, one per line; stderr is for logs. Lifecycle of a child:

- started when its MCP session opens, in a process group of its own (so `npx`/`uvx`
  grandchildren go with it), with only the environment the config gives it plus a few
  neutral variables (PATH, HOME, locale, cache dirs) — never the gate's own environment,
  which holds the gate's secrets;
- `initialize` must be answered within the server's `timeout`, else the child is killed
  (a command that hangs at start must not hold a session slot forever);
- stderr lines go to the gate's log with server and session, at most
  `STDERR_LINES_PER_WINDOW` per `STDERR_WINDOW_SECONDS` (a chatty child cannot flood it);
- stopped by closing stdin, then SIGTERM to the group, then SIGKILL after
  `STDIO_TERMINATE_GRACE_SECONDS`; always waited for, so no zombie is left; whatever is
  left of its process group is killed once the leader is gone, so no orphan is left either.
A child that exits on its own (or writes a line over `STDIO_LINE_LIMIT_BYTES`, and is
stopped for it) ends the channel; the session fails its pending requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping

import structlog

from mcp_gate.errors import BackendUnavailableError
from mcp_gate.jsonrpc import Message, dumps, kind_of, parse_messages
from mcp_gate.proxy.channels import ChannelClosedError, QueueChannelBase

log = structlog.get_logger()

# Messages can be several MiB (a file, an image); a line longer than this is refused.
STDIO_LINE_LIMIT_BYTES = 64 * 1024 * 1024
# A well-behaved server exits promptly on stdin EOF or SIGTERM; this bounds the rest.
STDIO_TERMINATE_GRACE_SECONDS = 5.0
STDERR_LINES_PER_WINDOW = 50
STDERR_WINDOW_SECONDS = 10.0
STDERR_LINE_CHARS = 2000
# Once the child is dead its pipes close and the readers finish; this bounds the wait when
# an escaped grandchild still holds them open.
READER_DRAIN_SECONDS = 2.0

# Variables a child may inherit from the gate: where programs are, who/where HOME is,
# the locale and the cache dirs package runners need. None of them holds a secret.
INHERITED_VARIABLES = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "USER",
    "LOGNAME",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "npm_config_cache",
    "UV_CACHE_DIR",
)


def child_environment(configured: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a child: neutral inherited variables, then the config's."""
    env = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    env.update(configured)
    return env


class StdioChannel(QueueChannelBase):
    """One child process serving one MCP session."""

    def __init__(
        self,
        server: str,
        command: str,
        args: list[str],
        env: Mapping[str, str],
        cwd: str | None,
        timeout_seconds: float,
    ) -> None:
        super().__init__(server, timeout_seconds)
        self._argv = [command, *args]
        self._env = child_environment(env)
        self._cwd = cwd
        self._process: asyncio.subprocess.Process | None = None
        self._write_lock = asyncio.Lock()
        self._initialize_ids: set[object] = set()
        self._readers: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env,
                cwd=self._cwd,
                limit=STDIO_LINE_LIMIT_BYTES,
                start_new_session=True,  # own process group: signals reach grandchildren
            )
        except OSError as exc:
            raise BackendUnavailableError(
                self.server, f"cannot start {self._argv[0]!r}: {exc.strerror}"
            ) from None
        log.info("backend_started", server=self.server, pid=self._process.pid)
        self._readers = [
            asyncio.create_task(self._read_stdout(), name=f"stdio-out-{self.server}"),
            asyncio.create_task(self._read_stderr(), name=f"stdio-err-{self.server}"),
        ]

    async def send(self, message: Message) -> None:
        process = self._process
        if self._closed or process is None or process.stdin is None:
            raise ChannelClosedError
        if message.get("method") == "initialize" and "id" in message:
            self._initialize_ids.add(message["id"])
            self._spawn(self._expect_initialize_answer(message["id"]))
        line = dumps(message) + b"\n"
        try:
            async with self._write_lock:
                process.stdin.write(line)
                await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise ChannelClosedError from None

    async def _expect_initialize_answer(self, request_id: object) -> None:
        await asyncio.sleep(self.timeout_seconds)
        if request_id in self._initialize_ids and not self._closed:
            log.warning("backend_initialize_timeout", server=self.server, pid=self.pid)
            await self._refuse({"id": request_id, "method": "initialize"}, "server did not start")
            await self._terminate()

    async def _read_stdout(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        stdout = self._process.stdout
        try:
            while line := await stdout.readline():
                try:
                    messages, _ = parse_messages(line)
                except ValueError:
                    log.warning("backend_output_invalid", server=self.server, pid=self.pid)
                    continue
                for message in messages:
                    request_id = message.get("id")
                    if kind_of(message) == "response" and isinstance(request_id, str | int):
                        self._initialize_ids.discard(request_id)
                    await self._deliver(message)
        except ValueError:  # StreamReader.readline: a line over the limit
            log.warning("backend_message_too_large", server=self.server, pid=self.pid)
            # policy: the stream cannot be resynchronised; a child still running would
            # hold the session (and wait() below) forever.
            await self._terminate()
        finally:
            self._end()
            code = self._process.returncode
            if code is None:
                code = await self._process.wait()
            _kill_group(self._process.pid)
            log.info(
                "backend_exited",
                server=self.server,
                mcp_session=self.session_label,
                pid=self.pid,
                exit_code=code,
            )

    async def _read_stderr(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        stderr = self._process.stderr
        window_start, lines, dropped = time.monotonic(), 0, 0
        while True:
            try:
                line = await stderr.readline()
            except ValueError:  # an overlong line: the reader skipped it
                line = b"[line too long]\n"
            if not line:
                break
            now = time.monotonic()
            if now - window_start > STDERR_WINDOW_SECONDS:
                self._log_suppressed(dropped)
                window_start, lines, dropped = now, 0, 0
            lines += 1
            if lines > STDERR_LINES_PER_WINDOW:
                dropped += 1
                continue
            log.info(
                "backend_stderr",
                server=self.server,
                mcp_session=self.session_label,
                line=line.decode("utf-8", "replace").rstrip()[:STDERR_LINE_CHARS],
            )
        self._log_suppressed(dropped)

    def _log_suppressed(self, dropped: int) -> None:
        if dropped:
            log.warning(
                "backend_stderr_suppressed",
                server=self.server,
                mcp_session=self.session_label,
                lines=dropped,
            )

    async def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            for sig in (signal.SIGTERM, signal.SIGKILL):
                _signal_group(process.pid, sig)
                try:
                    async with asyncio.timeout(STDIO_TERMINATE_GRACE_SECONDS):
                        await process.wait()
                    break
                except TimeoutError:
                    continue
        # The group may hold grandchildren that outlived the leader.
        _kill_group(process.pid)

    async def aclose(self) -> None:
        self._end()
        await self._terminate()
        # The readers end by themselves once the child is gone (and log its exit).
        if self._readers:
            _, stuck = await asyncio.wait(self._readers, timeout=READER_DRAIN_SECONDS)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        await self._cancel_tasks()

    def kill(self) -> None:
        """SIGKILL to the child's process group, unwaited: the gate exits right after."""
        if self._process is not None:
            _kill_group(self._process.pid)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _kill_group(pgid: int) -> None:
    _signal_group(pgid, signal.SIGKILL)
