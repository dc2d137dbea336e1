"""Authgate: self-hosted authentication for APIs, web apps, CLIs and MCP servers."""

__version__ = "0.1.0"
