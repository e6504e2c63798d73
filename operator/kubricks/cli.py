"""The ``kubricks`` command."""

import click

from kubricks import __version__
from kubricks.api.crd import KINDS, custom_resource_definition, render_yaml


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kubricks builds unified Spark images and runs Spark jobs on Kubernetes or Databricks."""


@main.command()
def version() -> None:
    """Print the version."""
    click.echo(__version__)


@main.command()
def crds() -> None:
    """Print the CustomResourceDefinitions as YAML: kubricks crds | kubectl apply --server-side -f -"""
    click.echo(render_yaml(custom_resource_definition(kind) for kind in KINDS), nl=False)
