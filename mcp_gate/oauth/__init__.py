"""The gate as an OAuth 2.1 authorization server for MCP clients. Pure: no aiohttp here."""
