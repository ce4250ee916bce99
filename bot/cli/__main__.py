"""``python -m bot.cli``: the ``tovholder`` command, for a checkout without the script."""

from __future__ import annotations

import sys

from bot.cli import main

sys.exit(main())
