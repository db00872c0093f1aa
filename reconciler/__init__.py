"""reconciler: manage Microsoft Entra ID / Microsoft 365 users as code."""

__version__ = "0.1.0"
