"""The operator image: builds from the local base, runs the CLI as a non-root user."""

import subprocess


def docker_run(image: str, *args: str, entrypoint: str | None = None) -> subprocess.CompletedProcess[str]:
    options = ["--entrypoint", entrypoint] if entrypoint else []
    return subprocess.run(
        ["docker", "run", "--rm", *options, image, *args], capture_output=True, text=True, check=False
    )


def test_the_cli_runs_as_a_non_root_user(operator_image: str) -> None:
    uid = docker_run(operator_image, "-u", entrypoint="id")
    assert uid.stdout.strip() == "65532"
    helped = docker_run(operator_image, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "run" in helped.stdout
    assert "crds" in helped.stdout


def test_the_image_carries_the_scripts_it_bakes_into_spark_images(operator_image: str) -> None:
    """Installed from a wheel, the package finds images/spark where the wheel put it."""
    assets = docker_run(
        operator_image,
        "-c",
        "import kubricks.images.render as r; print(sorted(p.name for p in r.ASSETS.iterdir()))",
        entrypoint="/opt/kubricks/bin/python",
    )
    assert assets.returncode == 0, assets.stderr
    assert "entrypoint.sh" in assets.stdout
    assert "layout-pip-spark.py" in assets.stdout
