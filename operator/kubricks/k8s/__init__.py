"""Small helpers over the kubernetes client: conditions, status patches, Secrets and ConfigMaps."""
