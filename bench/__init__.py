"""Benchmarks: ``python -m bench`` runs them all and prints measured figures beside targets.

A benchmark is a module with ``run() -> list[Row]``; register it in
``bench.__main__.BENCHMARKS``. Benchmarks are not tests: they assert nothing,
they measure and print.
"""

from __future__ import annotations

from bench.common import Row

__all__ = ["Row"]
