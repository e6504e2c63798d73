"""kopf handlers, one module per kind (the SparkJob's two targets share one): read, call the builders, apply,
patch status. They never import each other; what they share lives in kubricks.control."""
