"""The ``kubricks`` command."""

import click

from kubricks import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kubricks builds unified Spark images and runs Spark jobs on Kubernetes or Databricks."""


@main.command()
def version() -> None:
    """Print the version."""
    click.echo(__version__)
