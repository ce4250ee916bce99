"""The web pages: the caseworker's inbox and the family's secure inbox.

Server-rendered (aiohttp-jinja2) in the Danish common design system (dkfds),
with a little progressive enhancement and no build chain. Views parse and
check; the service modules here (``sessions``, ``accounts``, ``codes``,
``citizen``, ``inbox``) and ``bot.domain.conversations`` decide and store.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
