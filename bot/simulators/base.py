"""What every gateway simulator shares.

Kept background tasks, a client session and a shutdown that ends hanging
requests at once; the sent messages behind ``GET|DELETE /_sim/messages``; the
error shape and JSON reading of the ``/_sim/`` control surface. Fault
injection is in :mod:`bot.simulators.faults`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from typing import Any, Final

import aiohttp
from aiohttp import web

logger = logging.getLogger(__name__)

# How long a simulator waits for the service it posts webhooks to.
CLIENT_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


class SimulatorState:
    """What a simulator keeps: the messages sent to it, and its background work.

    The background work (status reports, inbound webhooks) is kept and watched.
    """

    def __init__(self, public_keys: Sequence[str]) -> None:
        """Start empty.

        Args:
            public_keys: The fields of a sent message that ``GET /_sim/messages``
                shows.
        """
        self.messages: list[dict[str, Any]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.closing = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._public_keys = tuple(public_keys)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the simulator's client session is not running")
        return self._session

    @session.setter
    def session(self, session: aiohttp.ClientSession | None) -> None:
        self._session = session

    def serve_with(self, app: web.Application) -> None:
        """Run the client session and background tasks for as long as ``app`` runs."""
        app.cleanup_ctx.append(self._lifecycle)
        app.on_shutdown.append(self._wake_sleepers)

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            self.session = session
            try:
                yield
            finally:
                self.closing.set()
                tasks = list(self.tasks)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self.session = None

    async def _wake_sleepers(self, app: web.Application) -> None:
        # Runs before the server waits for open handlers, so "hang" ends at once.
        self.closing.set()

    def public_message(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """A sent message as ``GET /_sim/messages`` shows it."""
        return {key: message[key] for key in self._public_keys}

    def forget_messages(self) -> None:
        """Forget the messages sent; a simulator extends this to what it keeps about them."""
        self.messages.clear()

    def add_message_routes(self, app: web.Application) -> None:
        """Serve ``GET /_sim/messages`` (what was sent) and ``DELETE`` (forget it) on ``app``."""
        app.router.add_get("/_sim/messages", self._list_messages)
        app.router.add_delete("/_sim/messages", self._clear_messages)
        app.router.add_get("/_sim/busy", self._busy)

    async def _list_messages(self, request: web.Request) -> web.Response:
        return web.json_response([self.public_message(m) for m in self.messages])

    async def _busy(self, request: web.Request) -> web.Response:
        """How many status reports (and other background sends) are still on their way."""
        return web.json_response({"tasks": len(self.tasks)})

    async def _clear_messages(self, request: web.Request) -> web.Response:
        self.forget_messages()
        return web.Response(status=204)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coro`` in the background, keeping a reference and logging failures."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("simulator task %s failed", task.get_name(), exc_info=exc)

    async def pause(self, seconds: float) -> bool:
        """Sleep for ``seconds`` unless the app shuts down first.

        Returns:
            True if the full time passed, False if shutdown cut it short.
        """
        if seconds <= 0:
            return not self.closing.is_set()
        try:
            await asyncio.wait_for(self.closing.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False


def sim_error(status: int, message: str) -> web.Response:
    """An error answer of a simulator's own control surface (``/_sim/``)."""
    return web.json_response({"error": message}, status=status)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, or None if it is not JSON."""
    try:
        return await request.json()
    except ValueError:
        return None
