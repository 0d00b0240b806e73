"""The English labels the ``label`` filter makes of enum values (``account_users`` ->
"Account users"), written out so that the catalogue has them: the filter looks each one up
by its English text. tests/web/test_i18n.py checks that every value of the enums pages
label is here."""

from __future__ import annotations

from helpwire.web.i18n import N_

LABELS = (
    # Ticket statuses, and the queues named after them
    N_("New"),
    N_("Open"),
    N_("Pending"),
    N_("Hold"),
    N_("Solved"),
    N_("Closed"),
    # Priorities
    N_("Low"),
    N_("Normal"),
    N_("High"),
    N_("Urgent"),
    # Ticket types
    N_("Question"),
    N_("Incident"),
    N_("Problem"),
    N_("Task"),
    N_("Bug"),
    N_("Suggestion"),
    # Access levels
    N_("Account users"),
    N_("Project users"),
    N_("All users"),
    # Roles
    N_("Customer"),
    N_("Agent"),
    N_("Admin"),
    N_("Service"),
    # The other queues
    N_("Mine"),
    N_("Unassigned"),
    N_("Escalated"),
    N_("My groups"),
    N_("SLA breached"),
    N_("Following"),
    # Service-level targets and report measures
    N_("First reply"),
    N_("Next reply"),
    N_("Resolution"),
    # Report dimensions
    N_("Group"),
    N_("Topic"),
    N_("Account"),
    # The console's sort orders
    N_("Created at"),
    N_("Updated at"),
    N_("Priority"),
    N_("Status"),
    N_("SLA due time"),
    # What a macro changes
    N_("Set status"),
    N_("Set priority"),
    N_("Set type"),
    N_("Set topic"),
    N_("Set group"),
    N_("Assign"),
    N_("Add tags"),
    N_("Remove tags"),
    # How a customer came when staff file a ticket for them
    N_("Phone"),
    N_("Chat"),
    N_("Walk in"),
    N_("Email"),
    # What the audit log's entries are about
    N_("User"),
    N_("Token"),
    N_("Mail template"),
    N_("Calendar"),
    N_("SLA policy"),
    N_("Trigger"),
    N_("Automation"),
    N_("Macro"),
    N_("Field"),
    N_("Retention"),
)
