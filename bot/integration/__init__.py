"""Integration and operations: the case system's REST API, integration keys,
idempotent POSTs, signed outbound webhooks, metrics, readiness, JSON logs and
bulk import. Plugged into the app by :mod:`bot.integration.extension`.
"""
