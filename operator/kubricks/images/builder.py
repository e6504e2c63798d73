"""Builds a SparkImage: resolve the inputs, render, skip what the registry already has, build and push the
rest. Shared by the operator and ``kubricks image build``."""

import asyncio
import re
from collections.abc import Callable, Mapping

from kubricks.api.sparkimage import BuiltImage, SparkImageSpec, Variant
from kubricks.images.backend import BuildBackend, Deadline, Progress
from kubricks.images.outcomes import BuildOutcome, InputError, PushedImage, RegistryError
from kubricks.images.registry import Credentials, RegistryClient
from kubricks.images.render import BuildContext, ResolvedInputs, git_key, image_tag, rapids_version, render

COMMIT = re.compile(r"^[0-9a-f]{40}$")


async def git_commit(url: str, ref: str) -> str:
    """The commit ``ref`` names in the repository at ``url``."""
    if COMMIT.match(ref):
        return ref
    process = await asyncio.create_subprocess_exec(
        "git", "ls-remote", "--", url, ref, f"refs/tags/{ref}^{{}}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        raise InputError(f"git ls-remote {url} failed: {err.decode().strip()}")
    commits = {name: sha for sha, name in (line.split("\t", 1) for line in out.decode().splitlines())}
    commit = commits.get(f"refs/tags/{ref}^{{}}") or next(iter(commits.values()), None)
    if commit is None:
        raise InputError(f"{url} has no branch or tag {ref!r} (spec.app.sources[].git.ref)")
    return commit


async def resolve_inputs(
    spec: SparkImageSpec,
    registry: RegistryClient,
    config_maps: Mapping[str, dict[str, str]],
    ca_bundle: str | None,
) -> ResolvedInputs:
    bases = {getattr(spec.base, variant) for variant in spec.variants}
    if spec.spark.source.image:
        bases.add(spec.spark.source.image.ref)
    digests = {}
    for ref in sorted(bases):
        if "@" in ref:
            digests[ref] = ref.split("@", 1)[1]
            continue
        try:
            manifest = await registry.manifest(ref)
        except RegistryError as error:
            if error.refused:
                raise  # a credentials problem, not a wrong base: the Secret is what to fix
            raise InputError(f"cannot resolve the base image {ref}: {error}") from None
        if manifest is None:
            raise InputError(f"the base image {ref} does not exist in its registry (spec.base / spec.spark.source)")
        digests[ref] = manifest.digest
    commits = {}
    for source in spec.app.sources:
        if source.git:
            commits[git_key(source.git.url, source.git.ref)] = await git_commit(source.git.url, source.git.ref)
    return ResolvedInputs(base_digests=digests, git_commits=commits, config_maps=dict(config_maps), ca_bundle=ca_bundle)


async def build_spark_image(
    spec: SparkImageSpec,
    inputs: ResolvedInputs,
    backend: BuildBackend,
    credentials: Credentials,
    progress: Progress,
    on_rendered: Callable[[BuildContext], None] | None = None,
) -> BuildOutcome:
    context = render(spec, inputs)
    if on_rendered:
        on_rendered(context)
    inputs_hash = context.inputs_hash()
    registry = RegistryClient(credentials)
    repository = spec.registry.repository
    deadline = Deadline.after(spec.build.timeout_seconds)
    images: list[BuiltImage] = []
    built: list[PushedImage] = []
    for variant in spec.variants:
        ref = f"{repository}:{image_tag(inputs_hash, variant)}"
        existing = await registry.manifest(ref)
        if existing:
            progress(f"{variant}: {ref} is already in the registry; nothing to build")
            images.append(_built(spec, variant, ref, existing.digest, existing.size_bytes))
            continue
        progress(f"{variant}: building {ref}")
        try:
            pushed = await asyncio.to_thread(
                backend.build_and_push, context, variant, ref, credentials, progress, deadline
            )
        except asyncio.CancelledError:
            deadline.stop.set()  # the thread goes on until its engine calls end: end them now
            raise
        stored = await registry.manifest(ref)
        if stored is None or stored.digest != pushed.digest:
            raise RegistryError(f"the registry does not show {ref} as pushed ({pushed.digest}); try again")
        built.append(pushed)
        # The registry's size, as for a variant found there: the same image reports the same size.
        images.append(_built(spec, variant, ref, stored.digest, stored.size_bytes))
    return BuildOutcome(inputs_hash=inputs_hash, images=images, built=built)


def _built(spec: SparkImageSpec, variant: Variant, ref: str, digest: str, size: int) -> BuiltImage:
    return BuiltImage(variant=variant, ref=ref, digest=digest, size_bytes=size, rapids=rapids_version(spec, variant))
