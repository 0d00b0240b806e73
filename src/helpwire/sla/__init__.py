"""Service levels: business-hours calendars, policies, and each ticket's clocks.

A subscriber hears of the events that start, stop or pause a clock and writes the ticket's
due times in the event's transaction; a job per ticket (keyed, so it moves) fires the
warning and the breach at their moment, once, whichever worker runs it.
"""
