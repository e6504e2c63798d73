"""Machinery every handler shares: one reconciling task per object, status writing, the one failure path,
image resolution and Databricks clients."""
