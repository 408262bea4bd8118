"""The engine moves messages forward: dispatch, receipts, expiry, webhooks."""

from relaybox.engine.runner import Engine

__all__ = ["Engine"]
