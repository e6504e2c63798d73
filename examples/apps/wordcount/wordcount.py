"""Counts words with PySpark and prints the counts as one JSON line."""

import json
import sys


def count_words(lines: list[str]) -> dict[str, int]:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("wordcount").getOrCreate()
    try:
        words = spark.sparkContext.parallelize(lines, 2).flatMap(str.split)
        return dict(words.map(lambda word: (word, 1)).reduceByKey(lambda a, b: a + b).collect())
    finally:
        spark.stop()


def main() -> None:
    counts = count_words(sys.argv[1:] or ["to be or not to be"])
    print("WORDCOUNT " + json.dumps(counts, sort_keys=True))
