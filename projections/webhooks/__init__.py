"""Webhook deliveries: a follower of the log whose view is one row per event to deliver to each
webhook, and the state of its delivery.

For each event it writes a `pending` row for every webhook that matches it (its type is one the
webhook subscribed to, or the webhook takes `*`; and, for a webhook of one project, the event is
about that project or one of its tickets), in the same transaction as its tracking position.
Rows are keyed by (webhook, event) and inserted with ON CONFLICT DO NOTHING, so replaying the log
writes nothing twice. A webhook receives the events recorded after it was created; `replay`
writes the matching events after a position again, as new deliveries, after everything the
webhook had before. The deliverer (`workers/webhooks`) sends each webhook's rows one at a time
in the order they were written. Never rebuilt: a rebuild would drop the delivery state.

    schema      the tables and indexes
    projector   `WebhookRouter`: the follower that writes the rows
    rows        every change of a delivery's state, and the admin queries
"""

from projections.webhooks.projector import WebhookRouter
from projections.webhooks.schema import CHANNEL

__all__ = ["CHANNEL", "WebhookRouter"]
