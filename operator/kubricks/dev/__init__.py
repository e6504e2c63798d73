"""kubricks dev: a local kind cluster for trying kubricks."""
