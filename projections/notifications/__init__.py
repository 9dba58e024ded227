"""Notifications read model: one notification per watcher per ticket command, and who watches
each ticket. Rebuildable like every read model: its ids follow from the log, and having read a
notification is an event (`domain.reading.ReadMark`), so a rebuild gives the same rows.

    schema      the tables and indexes
    ids         a notification's id, from its command, ticket and user
    summary     a notification's summary line, in words
    rows        writing a batch's notifications (COPY for a rebuild's, INSERT for a few)
    projector   `NotificationsProjection`: watchers, recipients and rows, a batch at a time
    queries     `NotificationView`, the list, the unread count, ranges for the live streams,
                a ticket's watchers
"""

from projections.notifications.ids import notification_id
from projections.notifications.projector import NotificationsProjection
from projections.notifications.queries import (
    Addressed,
    NotificationView,
    list_notifications,
    notifications_between,
    owner,
    ticket_watchers,
    unread_count,
)

__all__ = [
    "Addressed",
    "NotificationView",
    "NotificationsProjection",
    "list_notifications",
    "notification_id",
    "notifications_between",
    "owner",
    "ticket_watchers",
    "unread_count",
]
