"""SparkImage spec → a multi-stage Dockerfile and its build context. Pure: no I/O beyond reading the
scripts under images/spark, and everything resolved from the outside world arrives in ``ResolvedInputs``.

Stages:
  base-<variant>   each variant's base, pinned by digest when known
  tools-<variant>  download tools and the build's extra CAs, proxies and package index (never shipped)
  spark            Spark laid out at /opt/spark (from pip, an archive, or another image)
  deps-<variant>   the Python environment with the user's packages
  app-<variant>    the application: source files under /opt/app, wheels under /opt/kubricks/wheels
  rapids           the RAPIDS Accelerator jar (gpu variant, when asked)
  <variant>        the final image: cpu, gpu
Layers that change most (the app) come last, so an app change rebuilds only the last layers.
"""

import hashlib
import io
import json
import re
import shlex
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from kubricks.api.sparkimage import AppSource, ProxySpec, SparkImageSpec, Variant


def _assets_dir() -> Path:
    """The scripts baked into images: packaged with the wheel, or images/spark in a source checkout."""
    packaged = Path(__file__).resolve().parent / "assets"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "images" / "spark"


ASSETS = _assets_dir()
SCRIPTS = {
    "kubricks/bin/entrypoint": "entrypoint.sh",
    "kubricks/bin/spark-env": "spark-env.sh",
    "kubricks/bin/gpu-discovery": "gpu-discovery.sh",
    "kubricks/bin/run-entry-point.py": "run-entry-point.py",
}
LAYOUT_SCRIPT = "layout-pip-spark.py"
EXECUTABLE = {"kubricks/bin/entrypoint", "kubricks/bin/gpu-discovery"}

SPARK_UID = 185
KUBRICKS_DIR = "/opt/kubricks"
WHEELS_DIR = f"{KUBRICKS_DIR}/wheels"
GPU_DISCOVERY_SCRIPT = f"{KUBRICKS_DIR}/bin/gpu-discovery"
WHEEL_LAUNCHER = f"{KUBRICKS_DIR}/bin/run-entry-point.py"
DATABRICKS_VENV = "/databricks/python3"
DEFAULT_VENV = "/opt/kubricks/python"
DATABRICKS_PACKAGES = ("bash", "iproute2", "coreutils", "procps", "sudo", "acl")
MAVEN_REPOSITORY = "https://repo1.maven.org/maven2"
RAPIDS_PLUGIN = "com.nvidia.spark.SQLPlugin"
DATABRICKS_JARS = "/databricks/jars"
BUILD_CA = "build/extra-ca.pem"
CACHE_SCOPE_ARG = "KUBRICKS_CACHE_SCOPE"
"""Declared in every stage that runs commands and set to the SparkImage's namespace: a build engine's cache never
serves one namespace the result of another's RUN (a private git fetch, a private package index)."""


@dataclass(frozen=True)
class ResolvedInputs:
    """What the renderer needs from the outside world, resolved beforehand by the caller."""

    base_digests: dict[str, str] = field(default_factory=dict)
    """Base image reference → its manifest digest; a base with a digest is pinned in FROM."""
    git_commits: dict[str, str] = field(default_factory=dict)
    """Git URL + ref ("url#ref") → the commit it resolved to."""
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    """ConfigMap name → its data (file name → content)."""
    ca_bundle: str | None = None
    """Extra PEM certificates trusted by downloads during the build."""
    cache_scope: str = "local"
    """Who may reuse the engine's cached steps of this build: the SparkImage's namespace."""


@dataclass(frozen=True)
class BuildContext:
    dockerfile: str
    files: dict[str, bytes]
    """Build-context files (path → content) besides the Dockerfile."""
    build_args: dict[str, str]
    base_images: tuple[str, ...] = ()
    """The images the stages start FROM, pinned: pulled first, with the SparkImage's own credentials."""
    cache_scope: str = "local"
    """The value of the cache-scope build argument: not part of the content address."""

    def engine_build_args(self) -> dict[str, str]:
        """The build arguments the engine gets: the spec's and the cache scope."""
        return {**self.build_args, CACHE_SCOPE_ARG: self.cache_scope}

    def tarball(self) -> bytes:
        """The context as the tar stream ``docker build`` takes."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name, content in sorted({**self.files, "Dockerfile": self.dockerfile.encode()}.items()):
                info = tarfile.TarInfo(name)
                info.size = len(content)
                info.mode = 0o755 if name in EXECUTABLE else 0o644
                archive.addfile(info, io.BytesIO(content))
        return buffer.getvalue()

    def inputs_hash(self) -> str:
        """The content address of what goes into the image: the Dockerfile (which pins base digests, versions,
        package lists and git commits), every context file but the build's own CAs (they only let downloads
        verify), and the build arguments."""
        digest = hashlib.sha256()
        shipped = {name: content for name, content in self.files.items() if name != BUILD_CA}
        canonical = {
            "dockerfile": self.dockerfile,
            "files": {name: hashlib.sha256(content).hexdigest() for name, content in sorted(shipped.items())},
            "buildArgs": dict(sorted(self.build_args.items())),
        }
        digest.update(json.dumps(canonical, sort_keys=True).encode())
        return f"sha256:{digest.hexdigest()}"


def proxy_build_args(proxy: ProxySpec | None) -> dict[str, str]:
    """Docker's predefined proxy build arguments: used by the build, never stored in the image."""
    if proxy is None:
        return {}
    values = {"HTTP_PROXY": proxy.http, "HTTPS_PROXY": proxy.https, "NO_PROXY": proxy.no_proxy}
    return {key: value for name, value in values.items() if value for key in (name, name.lower())}


def image_tag(inputs_hash: str, variant: Variant) -> str:
    return f"{variant}-{inputs_hash.removeprefix('sha256:')[:24]}"


def git_key(url: str, ref: str) -> str:
    return f"{url}#{ref}"


def rapids_version(spec: SparkImageSpec, variant: Variant) -> str | None:
    """The RAPIDS Accelerator version the variant carries, if any: only gpu variants do."""
    return spec.gpu.rapids if variant == "gpu" and spec.gpu and "gpu" in spec.variants else None


def rapids_plugins(given: str | None) -> str:
    """spark.plugins with RAPIDS' SQL plugin added to what the user set."""
    plugins = [plugin for plugin in (given or "").split(",") if plugin.strip()]
    return ",".join([*plugins, RAPIDS_PLUGIN] if RAPIDS_PLUGIN not in plugins else plugins)


def venv_path(spec: SparkImageSpec) -> str:
    return DATABRICKS_VENV if spec.databricks else DEFAULT_VENV


def refuse_line_breaks(value: object, path: str = "spec") -> None:
    """Raises when any string in ``value`` holds a line break or another control character. The API server and
    the models refuse them already; this is the last line of defence, since a line break in a Dockerfile ends
    the instruction and starts one of the writer's choosing."""
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_line_breaks(key, f"{path} (a key)")
            refuse_line_breaks(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_line_breaks(item, f"{path}[{index}]")
    elif isinstance(value, str) and re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError(f"{path} holds a line break or another control character; write it on one line")


def _quote(words: list[str] | tuple[str, ...]) -> str:
    return " ".join(shlex.quote(word) for word in words)


def _apt_install(packages: list[str] | tuple[str, ...]) -> str:
    return (
        "RUN apt-get update \\\n"
        f" && apt-get install -y --no-install-recommends {_quote(sorted(set(packages)))} \\\n"
        " && rm -rf /var/lib/apt/lists/*"
    )


def _pinned(reference: str, inputs: ResolvedInputs) -> str:
    digest = inputs.base_digests.get(reference)
    return f"{reference.split('@', 1)[0]}@{digest}" if digest else reference


class _Renderer:
    def __init__(self, spec: SparkImageSpec, inputs: ResolvedInputs) -> None:
        self.spec = spec
        self.inputs = inputs
        self.files: dict[str, bytes] = {}
        self.base_images: list[str] = []
        self.stages: list[str] = []
        self.venv = venv_path(spec)

    # --- helpers ------------------------------------------------------------------------------------

    def stage(self, text: str) -> None:
        lines = text.strip("\n").split("\n")
        if any(line.startswith("RUN ") for line in lines):
            lines.insert(1, f"ARG {CACHE_SCOPE_ARG}")
        self.stages.append("\n".join(lines))

    def tools(self, variant: Variant) -> None:
        """A throw-away stage for downloads: tools, CA certificates plus the extra CAs, proxies, the index."""
        packages = ["ca-certificates", "curl", "python3", "python3-venv"]
        if any(source.git for source in self.spec.app.sources):
            packages.append("git")
        lines = [
            f"FROM base-{variant} AS tools-{variant}",
            "ARG DEBIAN_FRONTEND=noninteractive",
            _apt_install(packages),
        ]
        if self.inputs.ca_bundle:
            lines.append(f"COPY {BUILD_CA} /usr/local/share/ca-certificates/kubricks-build-extra.crt")
            lines.append("RUN update-ca-certificates")
        lines.append(
            "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "
            "REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt "
            "GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1"
        )
        index = self.pip_index_env()
        if index:
            lines.append(f"ENV {index}")
        self.stage("\n".join(lines))

    def pip_index_env(self) -> str:
        python = self.spec.python
        env = []
        if python.index_url:
            env.append(f"PIP_INDEX_URL={shlex.quote(python.index_url)}")
        if python.extra_index_urls:
            env.append(f"PIP_EXTRA_INDEX_URL={shlex.quote(' '.join(python.extra_index_urls))}")
        return " ".join(env)

    def first_tools(self) -> str:
        return f"tools-{self.spec.variants[0]}"

    # --- stages -------------------------------------------------------------------------------------

    def pulled(self, reference: str) -> str:
        pinned = _pinned(reference, self.inputs)
        if pinned not in self.base_images:
            self.base_images.append(pinned)
        return pinned

    def bases(self) -> None:
        for variant in self.spec.variants:
            self.stage(f"FROM {self.pulled(getattr(self.spec.base, variant))} AS base-{variant}")

    def spark(self) -> None:
        source = self.spec.spark.source
        version = self.spec.spark.version
        if source.image:
            self.stage(
                f"FROM {self.pulled(source.image.ref)} AS spark-dist\n"
                "FROM scratch AS spark\n"
                f"COPY --from=spark-dist {source.image.path} /opt/spark"
            )
        elif source.archive:
            self.stage(
                f"FROM {self.first_tools()} AS spark\n"
                f"RUN curl -fsSL -o /tmp/spark.tgz {shlex.quote(source.archive.url)} \\\n"
                f' && echo "{source.archive.sha512}  /tmp/spark.tgz" | sha512sum -c - \\\n'
                " && mkdir -p /opt/spark && tar -xzf /tmp/spark.tgz -C /opt/spark --strip-components=1 \\\n"
                " && rm /tmp/spark.tgz"
            )
        else:
            self.files[f"build/{LAYOUT_SCRIPT}"] = (ASSETS / LAYOUT_SCRIPT).read_bytes()
            self.stage(
                f"FROM {self.first_tools()} AS spark\n"
                f"COPY build/{LAYOUT_SCRIPT} /tmp/{LAYOUT_SCRIPT}\n"
                f"RUN python3 -m venv /tmp/pyspark && /tmp/pyspark/bin/pip install pyspark=={version} \\\n"
                f" && /tmp/pyspark/bin/python /tmp/{LAYOUT_SCRIPT} /opt/spark"
            )

    def deps(self, variant: Variant) -> None:
        venv_flags = " --system-site-packages" if self.spec.databricks else ""
        lines = [
            f"FROM tools-{variant} AS deps-{variant}",
            f"RUN python3 -m venv{venv_flags} {self.venv} && {self.venv}/bin/pip install --upgrade pip wheel",
        ]
        if self.spec.python.packages:
            lines.append(f"RUN {self.venv}/bin/pip install -- {_quote(self.spec.python.packages)}")
        self.stage("\n".join(lines))

    def app(self, variant: Variant) -> None:
        app = self.spec.app
        if not app.sources:
            return
        lines = [f"FROM deps-{variant} AS app-{variant}"]
        lines.append(f"RUN mkdir -p /opt/app {WHEELS_DIR} /tmp/src")
        for index, source in enumerate(app.sources):
            lines.extend(self.app_source(index, source))
        self.stage("\n".join(lines))

    def app_source(self, index: int, source: AppSource) -> list[str]:
        src = f"/tmp/src/{index}"
        pip = f"{self.venv}/bin/pip"
        if source.pip:
            return [f"RUN {pip} wheel --wheel-dir {WHEELS_DIR} -- {shlex.quote(source.pip)}"]
        if source.git:
            commit = self.inputs.git_commits.get(git_key(source.git.url, source.git.ref), source.git.ref)
            checked_out = f"/tmp/git/{index}/{source.git.sub_path or '.'}/."
            checkout = (
                f"RUN git init -q /tmp/git/{index} && cd /tmp/git/{index} \\\n"
                f" && git fetch -q --depth 1 -- {shlex.quote(source.git.url)} {shlex.quote(commit)} \\\n"
                f" && git checkout -q FETCH_HEAD \\\n"
                f" && cp -a {shlex.quote(checked_out)} {src}/ && rm -rf {src}/.git"
            )
            lines = [f"RUN mkdir -p {src}", checkout]
        elif source.config_map:
            name = source.config_map.name
            data = self.inputs.config_maps.get(name)
            if data is None:
                raise ValueError(f"the ConfigMap {name!r} of spec.app.sources[{index}] was not resolved")
            for file_name, content in sorted(data.items()):
                self.files[f"app/{index}/{file_name}"] = content.encode()
            lines = [f"COPY app/{index}/ {src}/"]
        else:
            raise ValueError(f"spec.app.sources[{index}] names no source")
        if self.spec.app.wheel:
            lines.append(f"RUN {pip} wheel --no-deps --wheel-dir {WHEELS_DIR} {src}")
        else:
            lines.append(f"RUN cp -a {src}/. /opt/app/")
        return lines

    def rapids(self) -> None:
        version = rapids_version(self.spec, "gpu")
        if not version:
            return
        scala = self.spec.spark.scala
        jar = f"rapids-4-spark_{scala}-{version}.jar"
        url = f"${{MAVEN_REPOSITORY}}/com/nvidia/rapids-4-spark_{scala}/{version}/{jar}"
        self.stage(
            "FROM tools-gpu AS rapids\n"
            f"ARG MAVEN_REPOSITORY={MAVEN_REPOSITORY}\n"
            f"RUN mkdir -p /opt/rapids && curl -fsSL -o /opt/rapids/{jar} {url} \\\n"
            f' && echo "$(curl -fsSL {url}.sha1 | cut -c1-40)  /opt/rapids/{jar}" | sha1sum -c -'
        )

    def final(self, variant: Variant) -> None:
        spec = self.spec
        java_package = f"openjdk-{spec.spark.java}-{'jdk' if spec.databricks else 'jre'}-headless"
        packages = [java_package, "tini", "python3", "procps", "bash", "ca-certificates", *spec.system.packages]
        if spec.databricks:
            packages.extend(DATABRICKS_PACKAGES)
        setup = [
            _apt_install(packages),
            ' && ln -sfn "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java',
            f" && useradd --system --uid {SPARK_UID} --gid 0 --home-dir /opt/spark --shell /bin/bash spark",
        ]
        if spec.databricks:
            setup.append(" && useradd --create-home libraries && usermod --lock libraries")
        # Group 0 may write /etc/passwd so the entrypoint can name an arbitrary uid.
        setup.append(" && chgrp 0 /etc/passwd && chmod g+w /etc/passwd")
        env = {
            "JAVA_HOME": "/opt/java",
            "SPARK_HOME": "/opt/spark",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYSPARK_PYTHON": f"{self.venv}/bin/python3",
            "PATH": f"{self.venv}/bin:/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            **spec.env,
        }
        lines = [
            f"FROM base-{variant} AS {variant}",
            "ARG DEBIAN_FRONTEND=noninteractive",
            " \\\n".join(setup),
            "ENV " + " \\\n    ".join(f"{key}={json.dumps(value)}" for key, value in env.items()),
            "COPY --from=spark /opt/spark /opt/spark",
            "RUN mkdir -p /opt/spark/work-dir && chgrp -R 0 /opt/spark/work-dir && chmod -R g+rwX /opt/spark/work-dir",
            f"COPY --from=deps-{variant} {self.venv} {self.venv}",
            f"COPY kubricks/ {KUBRICKS_DIR}/",
        ]
        if rapids_version(spec, variant):
            lines.append("COPY --from=rapids /opt/rapids/ /opt/spark/jars/")
            if spec.databricks:
                # A Databricks runtime runs its own Spark, which loads jars from here.
                lines.append(f"COPY --from=rapids /opt/rapids/ {DATABRICKS_JARS}/")
        if spec.app.sources:
            lines.append(f"COPY --from=app-{variant} /opt/app /opt/app")
            lines.append(f"COPY --from=app-{variant} {WHEELS_DIR} {WHEELS_DIR}")
            install = f"{self.venv}/bin/pip install --no-cache-dir --no-index --find-links {WHEELS_DIR}"
            lines.append(f"RUN if ls {WHEELS_DIR}/*.whl >/dev/null 2>&1; then {install} {WHEELS_DIR}/*.whl; fi")
        lines.extend(
            [
                "WORKDIR /opt/spark/work-dir",
                f"USER {SPARK_UID}",
                f'ENTRYPOINT ["{KUBRICKS_DIR}/bin/entrypoint"]',
            ]
        )
        self.stage("\n".join(lines))

    def render(self) -> BuildContext:
        refuse_line_breaks(self.spec.to_json())
        refuse_line_breaks(
            {"baseDigests": self.inputs.base_digests, "gitCommits": self.inputs.git_commits}, "resolved inputs"
        )
        for target, asset in SCRIPTS.items():
            self.files[target] = (ASSETS / asset).read_bytes()
        if self.inputs.ca_bundle:
            self.files[BUILD_CA] = self.inputs.ca_bundle.encode()
        self.bases()
        for variant in self.spec.variants:
            self.tools(variant)
        self.spark()
        for variant in self.spec.variants:
            self.deps(variant)
            self.app(variant)
        self.rapids()
        for variant in self.spec.variants:
            self.final(variant)
        # Nothing here may name the SparkImage: the same spec must build once, whatever its name or namespace.
        header = f"# Rendered by kubricks; targets: {', '.join(self.spec.variants)}."
        dockerfile = "\n\n".join([header, *self.stages]) + "\n"
        return BuildContext(
            dockerfile=dockerfile,
            files=dict(self.files),
            build_args=dict(self.spec.build.build_args),
            base_images=tuple(self.base_images),
            cache_scope=self.inputs.cache_scope,
        )


def render(spec: SparkImageSpec, inputs: ResolvedInputs) -> BuildContext:
    """The Dockerfile and context for ``spec``; each variant is a build target of the same name."""
    return _Renderer(spec, inputs).render()
