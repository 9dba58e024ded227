"""The read models `trail projector` runs and `trail projections rebuild` knows by name."""

from __future__ import annotations

from projections.attachments import AttachmentsProjection
from projections.base import ReadModel
from projections.comments import CommentsProjection
from projections.conversations import ConversationsProjection
from projections.daily import DailyOpenProjection
from projections.notifications import NotificationsProjection
from projections.projects import ProjectsProjection
from projections.stats import StatsProjection
from projections.teams import TeamsProjection
from projections.tickets import TicketsProjection
from projections.users import UsersProjection

READ_MODELS: tuple[type[ReadModel], ...] = (
    TicketsProjection,
    CommentsProjection,
    UsersProjection,
    ProjectsProjection,
    StatsProjection,
    NotificationsProjection,
    ConversationsProjection,
    TeamsProjection,
    DailyOpenProjection,
    AttachmentsProjection,
)

BY_NAME: dict[str, type[ReadModel]] = {model.name: model for model in READ_MODELS}
