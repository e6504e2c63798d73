"""Emulators for local work and tests: ``kubricks databricks emulate`` serves kubricks.emulator.databricks."""
