"""Counts words with PySpark and prints the counts as one JSON line.

WORDCOUNT_LINGER_SECONDS keeps the application alive that long after the count (idle executors can then be
seen going away under dynamic allocation)."""

import json
import os
import sys
import time


def count_words(lines: list[str], linger_seconds: float) -> dict[str, int]:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("wordcount").getOrCreate()
    try:
        words = spark.sparkContext.parallelize(lines, 2).flatMap(str.split)
        counts = dict(words.map(lambda word: (word, 1)).reduceByKey(lambda a, b: a + b).collect())
        time.sleep(linger_seconds)
        return counts
    finally:
        spark.stop()


def main() -> None:
    linger_seconds = float(os.environ.get("WORDCOUNT_LINGER_SECONDS", "0"))
    counts = count_words(sys.argv[1:] or ["to be or not to be"], linger_seconds)
    print("WORDCOUNT " + json.dumps(counts, sort_keys=True))
