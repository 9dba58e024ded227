"""The pages of the web app, one module per area."""

from web.pages import (
    account,
    admin,
    admin_teams,
    admin_webhooks,
    attachments,
    auth,
    conversation,
    dashboard,
    notifications,
    ticket_actions,
    ticket_forms,
    ticket_list,
    ticket_view,
    tokens,
)

# `/t/new` is listed before `/t/{key}`, so a ticket key never shadows it.
ROUTES = [*auth.ROUTES, *account.ROUTES, *tokens.ROUTES, *ticket_list.ROUTES, *ticket_forms.ROUTES,
          *ticket_view.ROUTES, *ticket_actions.ROUTES, *attachments.ROUTES,
          *conversation.ROUTES, *notifications.ROUTES, *dashboard.ROUTES, *admin.ROUTES,
          *admin_teams.ROUTES, *admin_webhooks.ROUTES]
