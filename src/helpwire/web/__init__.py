"""The web UI: customer portal, agent console and admin, rendered on the server."""
