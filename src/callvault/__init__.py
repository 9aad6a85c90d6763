"""callvault: a self-hosted call-history server with a RingCentral-compatible Call Log API."""

__version__ = "0.1.0"
