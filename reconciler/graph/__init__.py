"""The one way to the network: Microsoft Graph and the Exchange admin API over httpx."""
