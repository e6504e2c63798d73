"""One active replica: the operator reconciles only while it holds a Lease (kubricks.leadership decides; this
reads and writes it). A standby claims it once the holder gives it up or goes silent for its duration."""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kubricks import leadership, metrics
from kubricks.k8s.client import failure_of
from kubricks.k8s.leases import read_lease, write_lease
from kubricks.leadership import LeaseTimings, Seen

logger = logging.getLogger(__name__)


@dataclass
class Leadership:
    namespace: str
    name: str
    identity: str
    timings: LeaseTimings = field(default_factory=LeaseTimings)
    seen: Seen | None = None
    version: str | None = None
    """The resourceVersion this replica last wrote while it holds the lease."""
    last_contact: float = 0.0
    """When (monotonic) the API server last answered: a standby that cannot reach it is not ready."""
    leading: bool = False

    @property
    def lease(self) -> str:
        return f"{self.namespace}/{self.name}"

    async def acquire(self) -> None:
        """Returns once this replica holds the lease."""
        waiting_for = None
        while not await self._claim():
            holder = leadership.holder(self.seen.spec) if self.seen else ""
            if holder != waiting_for:
                logger.info("standing by: the Lease %s is held by %s", self.lease, holder or "nobody")
                waiting_for = holder
            await asyncio.sleep(self.timings.standby_poll_seconds)
        logger.info("leading: this replica (%s) holds the Lease %s", self.identity, self.lease)
        self.leading = True
        metrics.LEADER.set(1)

    async def keep(self, lost: asyncio.Event) -> None:
        """Renews the lease until cancelled; sets ``lost`` when it could not for renew_deadline_seconds (or another
        replica took it), so the operator stops before anyone else may start."""
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while True:
            await asyncio.sleep(self.timings.renew_seconds)
            if await self._claim():
                renewed = loop.time()
            elif self.seen and leadership.holder(self.seen.spec) not in ("", self.identity):
                logger.error("lost the Lease %s to %s", self.lease, leadership.holder(self.seen.spec))
                break
            elif loop.time() - renewed > self.timings.renew_deadline_seconds:
                logger.error("could not renew the Lease %s for %.0fs", self.lease, loop.time() - renewed)
                break
        self.leading = False
        metrics.LEADER.set(0)
        lost.set()

    async def release(self) -> None:
        """Gives the lease up on a clean stop, so a standby takes over at once."""
        if self.seen is None or self.version is None:
            return
        spec = leadership.released(self.seen.spec, datetime.now(UTC))
        try:
            await asyncio.to_thread(write_lease, self.namespace, self.name, spec, self.version)
        except Exception as error:
            logger.warning("could not release the Lease %s: %s", self.lease, error)
        self.leading = False
        metrics.LEADER.set(0)

    def reachable(self, within: float) -> bool:
        return asyncio.get_running_loop().time() - self.last_contact <= within

    async def _claim(self) -> bool:
        """One try to hold (or keep holding) the lease; False when another holds it or the API server fails."""
        loop = asyncio.get_running_loop()
        try:
            found = await asyncio.to_thread(read_lease, self.namespace, self.name)
            now = loop.time()
            self.last_contact = now
            if found is not None:
                self.seen = leadership.observe(self.seen, *found, now)
            if not leadership.may_claim(self.seen if found else None, self.identity, now):
                return False
            current = self.seen.spec if found and self.seen else None
            spec = leadership.claimed(current, self.identity, self.timings, datetime.now(UTC))
            version = await asyncio.to_thread(write_lease, self.namespace, self.name, spec, found[1] if found else None)
        except Exception as error:
            if failure_of(error) is None:
                raise
            logger.warning("the Lease %s cannot be read or written: %s", self.lease, error)
            return False
        if version is None:
            return False
        self.version = version
        self.seen = Seen(spec, version, loop.time())
        return True
