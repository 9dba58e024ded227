"""The email outbox: a follower of the log whose view is one row per email to send.

For each command that changed a ticket it writes one row per recipient (every current assignee
after the command, and anyone the command removed from the assignees; not deactivated users),
in the same transaction as its tracking position. A command that changed nothing a reader would
see (assignees set to the same list) sends nothing. Rows are keyed by (command_id, recipient_id)
and inserted with ON CONFLICT DO NOTHING, so replaying the log from any position never emails
anyone twice. The outbox is never rebuilt (a rebuild would drop the delivery state); its tables
are migrated instead.

    schema      the tables and indexes
    payloads    what a row carries for its email: the contract the workers read
    composer    a command's events -> the emails it sends (who, what changed, in words)
    projector   `Outbox`: the follower that writes the rows, a batch at a time
    rows        every change of a row's delivery state (enqueue, claim, sent, retry, failed),
                and the admin queries (list, counts)

A row holds everything its email needs (ticket key, title, changes, names and addresses), so
delivery never reads a read model that a rebuild may be rewriting.
"""

from projections.outbox.projector import Outbox
from projections.outbox.schema import CHANNEL

__all__ = ["CHANNEL", "Outbox"]
