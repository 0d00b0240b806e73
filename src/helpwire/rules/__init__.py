"""Rules: triggers (on events), automations (on time) and macros (by hand).

Triggers and automations share one language of conditions (rules.conditions) and one of
actions (rules.actions); each run leaves a ``rule.applied`` event in the ticket's timeline
saying which rule ran, why, and what it did.
"""
