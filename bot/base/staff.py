"""Who is asking: a member of staff, as every staff-facing request knows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A signed-in member of staff (sagsbehandler, team lead, on duty).

    Attributes:
        id: the staff member's id.
        tenant_id: their municipality; every query they make is held to it.
        team_id: their team, which decides the cases they cover.
        role: ``caseworker``, ``lead`` or ``admin``.
        today: the local (Copenhagen) day of the request, from the service's
            clock; it decides whose cases they cover (a colleague absent that
            day who named them substitute). None: they cover nobody.
    """

    id: str
    tenant_id: str
    team_id: str
    role: str
    today: date | None = None
