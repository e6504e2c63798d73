"""Databricks: REST payload builders, an async client, state mapping, and an emulator of the API."""
