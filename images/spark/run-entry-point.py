"""Runs a wheel's entry point the way a Databricks python_wheel_task does.

usage: run-entry-point.py PACKAGE ENTRY_POINT [PARAMETER...]

The entry point is looked up in the installed package's metadata (console_scripts first, then any
group); when the package declares none of that name, PACKAGE.ENTRY_POINT is called directly.
sys.argv becomes [ENTRY_POINT, PARAMETER...], as the task's parameters arrive on Databricks.
"""

import importlib
import importlib.metadata
import re
import sys
from collections.abc import Callable
from typing import Any


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def find_entry_point(package: str, name: str) -> Callable[[], Any]:
    try:
        distribution = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    if distribution is not None:
        candidates = [e for e in distribution.entry_points if e.name == name]
        candidates.sort(key=lambda e: e.group != "console_scripts")
        if candidates:
            return candidates[0].load()
    module = importlib.import_module(normalise(package).replace("-", "_"))
    function = getattr(module, name, None)
    if function is None:
        raise SystemExit(f"{package} has no entry point {name!r} and no function {name!r}: check app.wheel")
    return function


def main() -> Any:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    package, name, *parameters = sys.argv[1:]
    entry_point = find_entry_point(package, name)
    sys.argv = [name, *parameters]
    return entry_point()


if __name__ == "__main__":
    sys.exit(main())
