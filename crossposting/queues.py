"""The broker queues of deliveries: one per network, so that one network's backlog or outage
never stands in front of another's messages.

Workers listen to ``worker_queues()`` (docker-compose's worker, ``./dev run``, the benchmark
rigs); Redis hands a worker listening to several queues their messages in turn. Every
``crossposting.deliver`` message goes through ``enqueue``.
"""

from __future__ import annotations

import logging

from crossposting.models import Network

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
NETWORK_QUEUES: dict[str, str] = {network: f"deliveries.{network}" for network in Network.values}


def queue_for(network: str) -> str:
    """The queue of a network's deliveries (unknown networks share the default queue)."""
    return NETWORK_QUEUES.get(network, DEFAULT_QUEUE)


def worker_queues() -> list[str]:
    """Every queue a worker must listen to: the default one and each network's."""
    return [DEFAULT_QUEUE, *NETWORK_QUEUES.values()]


def enqueue(delivery_id: int, institution_id: int, network: str, countdown: float = 0) -> bool:
    """Send one delivery to its network's queue; False when the broker is unreachable (the
    sweeper sends it again later)."""
    from crossposting.tasks import deliver

    try:
        deliver.apply_async(
            args=[delivery_id],
            kwargs={"institution_id": institution_id},
            queue=queue_for(network),
            countdown=countdown or None,
        )
    except Exception:
        log.warning("delivery %s not enqueued; the sweeper will", delivery_id)
        return False
    return True


def backlog() -> dict[str, int]:
    """Messages waiting in each network's queue (0 when the broker cannot say)."""
    from podium.celery import app

    waiting = dict.fromkeys(NETWORK_QUEUES, 0)
    try:
        with app.connection_for_write() as connection:
            for network, queue in NETWORK_QUEUES.items():
                try:
                    declared = connection.default_channel.queue_declare(queue=queue, passive=True)
                except connection.channel_errors:  # never used yet: nothing waits in it
                    continue
                waiting[network] = int(declared.message_count)
    except Exception:  # no broker, or one that cannot count: presume the messages lost
        log.info("the broker cannot count waiting deliveries")
    return waiting
