"""One gate for everything that leaves: only the outbox relay hands a message to a gateway.

Every outbound SMS and e-mail notice must pass the send-time gate
(``bot.domain.outbox.relay``: consent, STOP, restriction, representative
periods, quiet hours, sensitive content, the decision guard, the segment
limit). The gate is only a gate if nothing can go around it, so this test walks
the syntax tree of every module of ours and finds every place that calls a
gateway's ``send``/``send_many`` or the e-mail sender's ``send``: those places
must be exactly the two relay modules that send what the gate let through.

"A gateway" is followed the way code reaches one: ``svc.gateway``,
``svc.gateways[...]`` / ``.get(...)``, ``svc.email``, a gateway or mail sender
built from ``channels``, a parameter typed as one, any name bound to one of
those (also through ``getattr``), and ``getattr(gateway, "send")``. The
gateways themselves (``channels/``: failover hands an SMS to the gateway it
picked) are the far side of the gate, not a way around it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Where code that decides or wires lives: everything that could reach a gateway.
SCANNED = ("bot", "scheduler", "journal")
# The outbox relay's two ways out: plain SMS in batches, and everything else one by one.
RELAY = {"bot/domain/outbox/batch.py", "bot/domain/outbox/single.py"}

SEND = {"send", "send_many"}
# Attributes of Services (and the like) that hold a gateway or the mail sender.
HOLDERS = {"gateway", "gateways", "email"}
# Types whose values are gateways or mail senders (constructors and annotations).
SENDER_TYPES = {
    "SmsGateway",
    "TwilioGateway",
    "GatewayApiGateway",
    "FailoverGateway",
    "EmailNotices",
}


def _type_names(node: ast.expr | None) -> set[str]:
    """Every plain name in an annotation (``X | None``, ``dict[str, X]``, ``"X"``)."""
    if node is None:
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _type_names(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return set()
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
    return names


class _Finder(ast.NodeVisitor):
    """Finds calls that hand something to a gateway or the mail sender.

    Flow-insensitive on purpose: a name bound to a gateway anywhere in the module
    counts as a gateway everywhere in it (a false alarm is cheap, a miss is not).
    """

    def __init__(self, tree: ast.Module) -> None:
        self.senders: set[str] = set()  # names bound to a gateway / mail sender
        self.send_refs: set[str] = set()  # names bound to a gateway's send method
        self.hits: list[int] = []
        self._bind(tree)

    def _bind(self, tree: ast.Module) -> None:
        """Collect names bound to gateways until nothing new is learnt."""
        while True:
            before = (len(self.senders), len(self.send_refs))
            for node in ast.walk(tree):
                if isinstance(node, ast.arg) and _type_names(node.annotation) & SENDER_TYPES:
                    self.senders.add(node.arg)
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    if _type_names(node.annotation) & SENDER_TYPES or (
                        node.value is not None and self.is_sender(node.value)
                    ):
                        self.senders.add(node.target.id)
                elif isinstance(node, ast.Assign | ast.NamedExpr | ast.For | ast.withitem):
                    value, targets = _binding(node)
                    if value is None:
                        continue
                    names = {
                        t.id for tgt in targets for t in ast.walk(tgt) if isinstance(t, ast.Name)
                    }
                    if self.is_sender(value):
                        self.senders |= names
                    if self.is_send_ref(value):
                        self.send_refs |= names
            if (len(self.senders), len(self.send_refs)) == before:
                return

    def is_sender(self, node: ast.expr) -> bool:
        """Whether ``node`` evaluates to a gateway, a dict of them, or the mail sender."""
        if isinstance(node, ast.Await):
            return self.is_sender(node.value)
        if isinstance(node, ast.Name):
            return node.id in self.senders
        if isinstance(node, ast.Attribute):
            return node.attr in HOLDERS or (self.is_sender(node.value) and node.attr not in SEND)
        if isinstance(node, ast.Subscript):
            return self.is_sender(node.value)
        if isinstance(node, ast.Call):
            func = node.func
            if _type_names(func) & SENDER_TYPES and isinstance(func, ast.Name | ast.Attribute):
                return True  # built here
            if _is_getattr(node):
                return self.is_sender(node.args[0]) or (
                    _const(node.args[1]) in HOLDERS if len(node.args) > 1 else False
                )
            # svc.gateways.get("twilio"), gateways.values(), …
            return isinstance(func, ast.Attribute) and (
                func.attr not in SEND and self.is_sender(func.value)
            )
        if isinstance(node, ast.IfExp):
            return self.is_sender(node.body) or self.is_sender(node.orelse)
        if isinstance(node, ast.BoolOp):
            return any(self.is_sender(v) for v in node.values)
        return False

    def is_send_ref(self, node: ast.expr) -> bool:
        """Whether ``node`` is a gateway's send method itself (``gw.send``, ``getattr(gw, "send")``)."""
        if isinstance(node, ast.Name):
            return node.id in self.send_refs
        if isinstance(node, ast.Attribute):
            return node.attr in SEND and self.is_sender(node.value)
        if isinstance(node, ast.Call) and _is_getattr(node) and len(node.args) > 1:
            return _const(node.args[1]) in SEND and self.is_sender(node.args[0])
        if isinstance(node, ast.IfExp):
            return self.is_send_ref(node.body) or self.is_send_ref(node.orelse)
        return False

    def visit_Call(self, node: ast.Call) -> None:
        if self.is_send_ref(node.func):
            self.hits.append(node.lineno)
        self.generic_visit(node)


def _binding(node: ast.AST) -> tuple[ast.expr | None, list[ast.expr]]:
    if isinstance(node, ast.Assign):
        return node.value, list(node.targets)
    if isinstance(node, ast.NamedExpr):
        return node.value, [node.target]
    if isinstance(node, ast.For):
        return node.iter, [node.target]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return node.context_expr, [node.optional_vars]
    return None, []


def _is_getattr(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 1


def _const(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def sends_in(source: str) -> list[int]:
    """The lines of ``source`` that hand something to a gateway or the mail sender."""
    tree = ast.parse(source)
    finder = _Finder(tree)
    finder.visit(tree)
    return sorted(finder.hits)


def senders_in_tree() -> dict[str, list[int]]:
    """Every module of ours that calls a gateway's or the mail sender's send, with the lines."""
    found = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            lines = sends_in(path.read_text(encoding="utf-8"))
            if lines:
                found[path.relative_to(ROOT).as_posix()] = lines
    return found


def test_only_the_outbox_relay_hands_messages_to_a_gateway() -> None:
    """Only the outbox relay's batch and one-by-one modules call a gateway's or the mail sender's send."""
    found = senders_in_tree()
    around = {path: lines for path, lines in found.items() if path not in RELAY}
    assert not around, f"sends around the outbox gate (module: lines): {around}"
    # And the walk sees the relay's own sends: a finder that finds nothing proves nothing.
    assert set(found) == RELAY, found


SENDS_AROUND_THE_GATE = {
    "the gateway on Services": "async def f(svc):\n    await svc.gateway.send(sms)\n",
    "the mail sender": "async def f(svc):\n    await svc.email.send(to=a, subject=b, text=c, reference=d)\n",
    "one gateway by name": "async def f(svc):\n    gw = svc.gateways.get('twilio')\n    await gw.send(sms)\n",
    "a gateway by subscript": "async def f(svc):\n    await svc.gateways['gatewayapi'].send_many([sms])\n",
    "an alias through getattr": (
        "async def f(svc):\n    g = getattr(svc, 'gateway')\n    many = getattr(g, 'send_many')\n"
        "    await many([sms])\n"
    ),
    "a typed parameter": (
        "from channels.base import SmsGateway\n"
        "async def f(gateway: SmsGateway | None) -> None:\n    await gateway.send(sms)\n"
    ),
    "a gateway built here": (
        "from channels.twilio import TwilioGateway\n"
        "async def f(cfg):\n    async with TwilioGateway(cfg) as tw:\n        await tw.send(sms)\n"
    ),
    "a loop over every gateway": (
        "async def f(svc):\n    for gw in svc.gateways.values():\n        await gw.send(sms)\n"
    ),
}

NOT_A_GATEWAY = {
    "the compose module's send": "async def f(svc, u):\n    await compose.send(svc, u, 'c', d)\n",
    "a letter client": "async def f(client, memo):\n    await client.send(memo)\n",
    "the gateway's name": "def f(svc):\n    return svc.gateway.name\n",
    "a webhook check": "def f(svc, req):\n    return svc.gateways.get('twilio').verify_inbound(req)\n",
}


@pytest.mark.parametrize("case", sorted(SENDS_AROUND_THE_GATE))
def test_a_send_around_the_gate_is_found(case: str) -> None:
    """A module that reaches a gateway or the mail sender directly is caught, however it gets there."""
    assert sends_in(SENDS_AROUND_THE_GATE[case]), case


@pytest.mark.parametrize("case", sorted(NOT_A_GATEWAY))
def test_other_sends_are_not_gateways(case: str) -> None:
    """Calls named ``send`` on things that are not gateways are left alone."""
    assert not sends_in(NOT_A_GATEWAY[case]), case


def test_a_module_outside_the_relay_that_sends_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synthetic tree where a scheduler module sends a reminder itself: the structural check fails and names it."""
    for rel, source in {
        "bot/domain/outbox/batch.py": "async def f(svc):\n    await svc.gateway.send_many(x)\n",
        "bot/domain/outbox/single.py": "async def f(svc):\n    await svc.gateway.send(x)\n",
        "scheduler/reminders.py": (
            "async def remind(svc, sms):\n    gateway = svc.gateway\n    return await gateway.send(sms)\n"
        ),
        "journal/empty.py": "",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(source, encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match=r"scheduler/reminders\.py.*\[3\]"):
        test_only_the_outbox_relay_hands_messages_to_a_gateway()
