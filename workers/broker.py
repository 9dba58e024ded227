"""The Dramatiq broker on Redis. Built by a function the runtime calls: nothing connects, and
no global broker exists, until a process decides to deliver email."""

from __future__ import annotations

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Retries

from workers.config import Delivery

ACTOR_NAME = "send_email"


def make_broker(redis_url: str, delivery: Delivery) -> RedisBroker:
    # The outbox owns retries (its rows survive a Redis flush and show admins when the next try
    # is due), so Dramatiq never retries a message: one that raises is dead-lettered and its row
    # is enqueued again by the relay.
    return RedisBroker(
        url=redis_url,
        namespace=delivery.namespace,
        middleware=[Retries(max_retries=0)],
    )


def send_email_message(email_id: str, delivery: Delivery) -> Message[None]:
    """The message that asks a worker to deliver one outbox row."""
    return Message(
        queue_name=delivery.queue_name,
        actor_name=ACTOR_NAME,
        args=(email_id,),
        kwargs={},
        options={},
    )
