"""Other Spark operators' resources as kubricks resources: pure conversions, nothing applied."""
