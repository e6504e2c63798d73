"""Unified Spark images: rendering, content addressing, building, pushing and checking."""
