"""Lays Spark out at DEST as its binary distribution does, from a pip-installed pyspark.

pyspark from the package index carries Spark's jars and scripts inside the Python package. Spark's own
layout keeps PySpark in python/lib/pyspark.zip and py4j-<version>-src.zip, which spark-submit puts on
the Python path itself; that keeps pyspark out of the image's Python environment.
"""

import importlib.metadata
import shutil
import sys
import zipfile
from pathlib import Path

import py4j
import pyspark

PACKAGE_ONLY = {"jars", "bin", "sbin", "data", "examples", "licenses", "python"}


def zip_package(package_dir: Path, archive: Path, skip: set[str]) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(package_dir.rglob("*")):
            relative = path.relative_to(package_dir)
            if relative.parts[0] in skip or "__pycache__" in relative.parts or path.is_dir():
                continue
            zipped.write(path, Path(package_dir.name) / relative)


def main(dest: Path) -> None:
    spark = Path(pyspark.__file__).parent
    lib = dest / "python" / "lib"
    lib.mkdir(parents=True)
    for part in ("jars", "bin", "sbin", "data", "examples", "licenses"):
        if (spark / part).is_dir():
            shutil.copytree(spark / part, dest / part, symlinks=True)
    (dest / "conf").mkdir(exist_ok=True)
    zip_package(spark, lib / "pyspark.zip", PACKAGE_ONLY)
    py4j_version = importlib.metadata.version("py4j")
    zip_package(Path(py4j.__file__).parent, lib / f"py4j-{py4j_version}-src.zip", set())
    (dest / "RELEASE").write_text(f"Spark {importlib.metadata.version('pyspark')} laid out from pyspark\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
