"""The audit log: who changed users, tokens, channels, settings, rules and policies, with
what each looked like before and after. Written by the services that make the changes, in
the same transaction, so a change and its entry commit or vanish together."""
