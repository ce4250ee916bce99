"""Smoke test of the container image against this machine's PostgreSQL and the Twilio simulator.

``make image-smoke`` builds the image and runs this (``.ci/run`` does when
Docker is available). In a throwaway database, with fresh random keys, it:

1. runs ``tovholder db upgrade`` in the image (the one-off migration job);
2. starts ``tovholder serve`` from the image, read-only, on the host network,
   with the Twilio simulator (``python -m bot.simulators``) on the host as Twilio;
3. waits for ``/readyz``, and checks PID 1 is tini and the user is not root;
4. loads a styled page and the design system's CSS it links (200, text/css);
5. posts an SMS signed as Twilio signs (twilio's RequestValidator), after an
   unsigned one is refused, and waits for the receipt at the simulator;
6. stops the container and checks it exits cleanly on SIGTERM.

It stops by itself (every wait is bounded) and removes the container, the
simulator and the database whatever happens. It prints no message bodies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[2]
ADMIN_DSN = os.environ.get("TOVHOLDER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# The municipality's number and a family's phone: made-up Danish numbers.
SERVICE_NUMBER = "+4570700001"
FAMILY_NUMBER = "+4520300002"
STYLED_PAGE = "/sagsbehandler/log-ind"


class SmokeFailure(Exception):
    """The image does not do what the smoke test expects."""


@dataclass(frozen=True)
class Run:
    """One smoke run: its names, ports and secrets (fresh each time)."""

    image: str
    database: str
    container: str
    port: int
    sim_port: int
    account_sid: str
    auth_token: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def dsn_for(database: str, *, driver: str = "postgresql") -> str:
    """The admin DSN, pointed at ``database`` (and written for ``driver``)."""
    parts = urllib.parse.urlsplit(ADMIN_DSN)
    return urllib.parse.urlunsplit(parts._replace(scheme=driver, path="/" + database))


def key() -> str:
    """A fresh 32-byte key, written as `tovholder keys new` writes it."""
    return secrets.token_urlsafe(32)


def environment(run: Run) -> dict[str, str]:
    """The service's settings for this run (non-demo: real random keys)."""
    return {
        "TOVHOLDER_DATABASE_URL": dsn_for(run.database, driver="postgresql+asyncpg"),
        "TOVHOLDER_PUBLIC_BASE_URL": run.base_url,
        # Host network: listen on loopback only, not on every interface of the host.
        "TOVHOLDER_HOST": "127.0.0.1",
        "TOVHOLDER_PORT": str(run.port),
        "TOVHOLDER_KEKS": key(),
        "TOVHOLDER_INDEX_KEY": key(),
        "TOVHOLDER_JOURNAL_SIGNING_KEY": key(),
        "TOVHOLDER_METRICS_TOKEN": key(),
        "TOVHOLDER_TWILIO_ACCOUNT_SID": run.account_sid,
        "TOVHOLDER_TWILIO_AUTH_TOKEN": run.auth_token,
        "TOVHOLDER_TWILIO_BASE_URL": run.sim_url,
    }


def docker(*args: str, timeout: float = 60.0, check: bool = True) -> str:
    """Run a docker command; its standard output, stripped."""
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise SmokeFailure(f"docker {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def http(
    url: str, *, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    """GET (or POST a form to) ``url``: status, content type and body; HTTP errors too."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()


def wait_for(what: str, check: Callable[[], bool], *, seconds: float) -> None:
    """Poll ``check`` until it says yes; a SmokeFailure naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, urllib.error.URLError):
            pass  # not listening yet
        time.sleep(0.5)
    raise SmokeFailure(f"{what}: not within {seconds:.0f} s")


@contextmanager
def step(name: str) -> Iterator[None]:
    """Print the step and how long it took (or that it failed)."""
    start = time.monotonic()
    try:
        yield
    except Exception:
        print(f"FAIL {name} ({time.monotonic() - start:.1f} s)", flush=True)
        raise
    print(f"ok   {name} ({time.monotonic() - start:.1f} s)", flush=True)


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def database(run: Run) -> Iterator[None]:
    """A throwaway database, dropped afterwards (with any connection still open)."""
    asyncio.run(admin(f'CREATE DATABASE "{run.database}"'))
    try:
        yield
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{run.database}" WITH (FORCE)'))


@contextmanager
def simulator(run: Run, log: Path) -> Iterator[None]:
    """The Twilio simulator on the host, stopped afterwards."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TWILIO_SIM_ACCOUNT_SID": run.account_sid,
        "TWILIO_SIM_AUTH_TOKEN": run.auth_token,
    }
    command = [sys.executable, "-m", "bot.simulators", "--port", str(run.sim_port)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "--status-delay", "0.2"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        wait_for(
            "the simulator answers",
            lambda: http(run.sim_url + "/_sim/messages")[0] == 200,
            seconds=30,
        )
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def container(run: Run, env_file: Path) -> Iterator[None]:
    """``tovholder serve`` from the image; the container is removed afterwards."""
    docker(
        "run", "--detach", "--name", run.container, "--network", "host",
        "--read-only", "--tmpfs", "/tmp", "--env-file", str(env_file), run.image,
    )  # fmt: skip
    try:
        yield
    except Exception:
        # Its log says why (the service never logs message bodies or numbers).
        logs = subprocess.run(
            ["docker", "logs", "--tail", "30", run.container],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        print("--- the container's last log lines ---", logs.stdout, logs.stderr, sep="\n")
        raise
    finally:
        docker("rm", "--force", run.container, check=False)


def check_running(run: Run) -> None:
    """Ready, PID 1 is tini, and the service runs as uid 10001 (not root)."""
    with step("/readyz answers 200 (schema at head, keys unwrap)"):

        def ready() -> bool:
            if docker("inspect", "--format", "{{.State.Running}}", run.container) != "true":
                raise SmokeFailure("the container stopped")
            return http(run.base_url + "/readyz")[0] == 200

        wait_for("/readyz answers 200", ready, seconds=90)
    with step("PID 1 is tini; the service runs as uid 10001"):
        pid1 = docker("exec", run.container, "cat", "/proc/1/cmdline").split("\0")[0]
        uid = docker("exec", run.container, "id", "-u")
        if pid1 != "/usr/bin/tini" or uid != "10001":
            raise SmokeFailure(f"PID 1 is {pid1!r} and the uid {uid}")


def check_styled_page(run: Run) -> None:
    """The login page links the design system's CSS, and the image serves it."""
    with step(f"{STYLED_PAGE} is styled: the dkfds CSS it links answers 200"):
        status, _, page = http(run.base_url + STYLED_PAGE)
        found = re.search(rb'href="([^"]*dkfds[^"]*\.css[^"]*)"', page)
        if status != 200 or found is None:
            raise SmokeFailure(f"{STYLED_PAGE}: HTTP {status}, dkfds CSS linked: {bool(found)}")
        href = found.group(1).decode()
        status, kind, css = http(urllib.parse.urljoin(run.base_url, href))
        if status != 200 or kind != "text/css" or len(css) < 10_000:
            raise SmokeFailure(f"{href}: HTTP {status}, {kind}, {len(css)} bytes")


def inbound_form(run: Run) -> dict[str, str]:
    """An incoming SMS as Twilio posts it."""
    sid = "SM" + secrets.token_hex(16)
    return {
        "AccountSid": run.account_sid,
        "ApiVersion": "2010-04-01",
        "Body": "Hej, smoke test",
        "From": FAMILY_NUMBER,
        "MessageSid": sid,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": SERVICE_NUMBER,
    }


def receipts(run: Run) -> list[dict[str, object]]:
    """What the service sent the family's phone, as the simulator recorded it."""
    _, _, body = http(run.sim_url + "/_sim/messages")
    sent = [m for m in json.loads(body) if m.get("to") == FAMILY_NUMBER]
    return [m for m in sent if m.get("from") == SERVICE_NUMBER]


def check_sms(run: Run) -> None:
    """An unsigned SMS is refused; a Twilio-signed one is filed and receipted."""
    url = run.base_url + "/webhooks/twilio/sms"
    form = inbound_form(run)
    with step("an unsigned SMS is refused (403)"):
        status, _, _ = http(url, data=form)
        if status != 403:
            raise SmokeFailure(f"unsigned SMS: HTTP {status}")
    with step("a Twilio-signed SMS is taken (200 TwiML)"):
        signature = RequestValidator(run.auth_token).compute_signature(url, form)
        status, kind, _ = http(url, data=form, headers={"X-Twilio-Signature": signature})
        if status != 200 or "xml" not in kind:
            raise SmokeFailure(f"signed SMS: HTTP {status}, {kind}")
    with step("the receipt arrives at the simulator"):
        wait_for("a receipt at the simulator", lambda: bool(receipts(run)), seconds=60)


def check_stop(run: Run) -> None:
    """SIGTERM (``docker stop``) reaches the service through tini; it exits 0."""
    with step("docker stop: the service shuts down cleanly (exit 0)"):
        docker("stop", "--time", "30", run.container, timeout=60)
        code = docker("inspect", "--format", "{{.State.ExitCode}}", run.container)
        if code != "0":
            raise SmokeFailure(f"the container exited with {code}")


def smoke(run: Run, work: Path) -> None:
    """Every step, in order; the first failure stops the run (cleanup still happens)."""
    env_file = work / "tovholder.env"
    # A file, not -e arguments: the keys stay out of the process list.
    env_file.write_text("".join(f"{k}={v}\n" for k, v in environment(run).items()))
    env_file.chmod(0o600)
    with database(run), simulator(run, work / "simulator.log"):
        with step("tovholder db upgrade (the one-off migration job)"):
            docker(
                "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp",
                "--env-file", str(env_file), run.image, "tovholder", "db", "upgrade",
                timeout=180,
            )  # fmt: skip
        with step("tovholder tenant create (the operator's command, in the image)"):
            docker(
                "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp",
                "--env-file", str(env_file), run.image, "tovholder", "tenant", "create",
                "--slug", "smoke", "--name", "Smoke Kommune", "--sms-number", SERVICE_NUMBER,
                timeout=120,
            )  # fmt: skip
        with container(run, env_file):
            check_running(run)
            check_styled_page(run)
            check_sms(run)
            check_stop(run)


def main() -> int:
    """Run the smoke test; 0 when every step passes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", default="tovholder:latest")
    args = parser.parse_args()
    tag = secrets.token_hex(4)
    run = Run(
        image=args.image,
        database=f"tovholder_smoke_{tag}",
        container=f"tovholder-smoke-{tag}",
        port=free_port(),
        sim_port=free_port(),
        account_sid="AC" + secrets.token_hex(16),
        auth_token=secrets.token_hex(16),
    )
    # A SIGTERM (CI's time limit) still removes the container and the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("image smoke test: terminated"))
    start = time.monotonic()
    print(f"image smoke test: {run.image}, database {run.database}", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="tovholder-smoke-") as work:
            smoke(run, Path(work))
    except (SmokeFailure, subprocess.TimeoutExpired, OSError, asyncpg.PostgresError) as exc:
        print(f"image smoke test FAILED: {exc}", flush=True)
        return 1
    print(f"image smoke test passed in {time.monotonic() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
