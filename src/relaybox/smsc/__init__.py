"""The SMSC simulator: an SMPP server with the built-in simulator's outcome rules (`relaybox smsc`)."""

from relaybox.smsc.server import ReceivedPart, SmscSimulator

__all__ = ["ReceivedPart", "SmscSimulator"]
