"""The SMPP 3.4 operator connector (connector.py) and its wire format (pdu.py, encoding.py, receipts.py)."""

from relaybox.connectors.smpp.connector import SmppConnector, SmppSettings

__all__ = ["SmppConnector", "SmppSettings"]
