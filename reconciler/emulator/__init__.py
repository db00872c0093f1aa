"""A local stand-in tenant: Microsoft Graph, the Exchange admin API and the token endpoint."""
