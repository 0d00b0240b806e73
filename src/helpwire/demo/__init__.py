"""A realistic demo data set: customer companies, a support team and a few thousand
tickets with conversations, made through the core services (``helpwire demo``)."""

from helpwire.demo.run import (
    DEFAULT_SEED,
    DEFAULT_TICKETS,
    DemoOptions,
    DemoRefused,
    DemoReport,
    SignIn,
    fill_demo,
)

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_TICKETS",
    "DemoOptions",
    "DemoRefused",
    "DemoReport",
    "SignIn",
    "fill_demo",
]
