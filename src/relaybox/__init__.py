"""relaybox: a self-hosted SMS and RCS messaging platform with a BSG-compatible HTTP API."""

__version__ = "0.1.0"
