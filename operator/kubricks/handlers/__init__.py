"""kopf handlers, one module per kind: read, call the builders, apply, patch status."""
