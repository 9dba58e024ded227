"""The pages of the web app, one module per area."""

from web.pages import (
    account,
    admin,
    attachments,
    auth,
    conversation,
    dashboard,
    ticket_actions,
    ticket_forms,
    ticket_list,
    ticket_view,
)

# `/t/new` is listed before `/t/{key}`, so a ticket key never shadows it.
ROUTES = [*auth.ROUTES, *account.ROUTES, *ticket_list.ROUTES, *ticket_forms.ROUTES,
          *ticket_view.ROUTES, *ticket_actions.ROUTES, *attachments.ROUTES,
          *conversation.ROUTES, *dashboard.ROUTES, *admin.ROUTES]
