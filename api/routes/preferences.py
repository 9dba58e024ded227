"""The caller's preferences: for now, how it wants email about its tickets."""

from __future__ import annotations

import msgspec
from litestar import Response, get, patch
from msgspec import UNSET, UnsetType

from api.context import Context
from api.errors import problem_responses
from api.headers import TRAIL_POSITION
from api.responses import answer
from commands.messages import ChoosePreferences
from commands.permissions import Actor
from domain.user import User
from domain.values import EmailPreference

TAGS = ["users"]


class Preferences(msgspec.Struct, frozen=True):
    email: EmailPreference


class PreferencesPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: EmailPreference | UnsetType = UNSET


def _preferences(user: User) -> Preferences:
    return Preferences(email=user.email_preference)


@get(
    "/me/preferences",
    tags=TAGS,
    sync_to_thread=True,
    summary="The caller's preferences",
    description="`email`: `each_change` (an email per change, the default), `daily_digest` "
    "(one email a day listing the previous day's changes) or `off`. Password-reset emails are "
    "always sent.",
    responses=problem_responses(401),
)
def get_preferences(context: Context, actor: Actor) -> Preferences:
    return _preferences(context.commands.accounts.user(actor.id))


@patch(
    "/me/preferences",
    tags=TAGS,
    sync_to_thread=True,
    summary="Change the caller's preferences",
    description="`email` is the only preference; any other key is 422.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 413, 415, 422),
)
def change_preferences(
    data: PreferencesPatch, context: Context, actor: Actor
) -> Response[Preferences]:
    if isinstance(data.email, UnsetType):
        user = context.commands.accounts.user(actor.id)
        return answer(_preferences(user), context.commands.store.current_position())
    outcome = context.commands.accounts.choose_preferences(actor, ChoosePreferences(
        email=data.email))
    return answer(_preferences(outcome.aggregate), outcome.position)


ROUTES = [get_preferences, change_preferences]
