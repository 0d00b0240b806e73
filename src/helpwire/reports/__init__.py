"""Reports: tickets created and solved, reply and resolution times, SLA achievement and
customer satisfaction, from one row of facts per ticket kept current by a subscriber."""
