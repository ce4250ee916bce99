"""``python -m bot.cli``: the ``tovholder`` command, as the tests and benchmarks start it."""

from __future__ import annotations

import sys

from bot.cli import main

sys.exit(main())
