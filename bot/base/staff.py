"""Who is asking: a member of staff, as every staff-facing request knows them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A signed-in member of staff (sagsbehandler, team lead, on duty).

    Attributes:
        id: the staff member's id.
        tenant_id: their municipality; every query they make is held to it.
        team_id: their team, which decides the cases they cover.
        role: ``caseworker``, ``lead`` or ``admin``.
    """

    id: str
    tenant_id: str
    team_id: str
    role: str
