"""Estimates pi with PySpark, deterministically (a fixed grid instead of random points)."""

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("pi").getOrCreate()
side = 2000
inside = (
    spark.sparkContext.parallelize(range(side), 4)
    .map(lambda i: sum(1 for j in range(side) if ((i + 0.5) / side) ** 2 + ((j + 0.5) / side) ** 2 < 1))
    .sum()
)
print(f"PI {4.0 * inside / side**2:.2f}")
spark.stop()
