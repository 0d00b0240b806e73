"""Mounting the web UI on the application."""

from __future__ import annotations

import re

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from helpwire.web import (
    admin,
    console,
    console_bulk,
    console_new,
    console_presence,
    console_views,
    mail_rating,
    portal,
    settings_page,
    shared,
    signin,
)
from helpwire.web.auth import form_before_transaction
from helpwire.web.errors import install_web_errors
from helpwire.web.templating import STATIC_DIR

# Forms that may carry files: a new ticket, a reply, a reopening, an agent's comment.
_FILE_FORMS = re.compile(r"^/(tickets/new|tickets/\d+/[a-z]+|agent/tickets/\d+/[a-z]+)$")


def carries_files(path: str) -> bool:
    return bool(_FILE_FORMS.match(path))


def install_web(app: FastAPI) -> None:
    # The console's fixed paths (/agent/tickets/new) before its /agent/tickets/{number}.
    for module in (
        signin,
        shared,
        portal,
        console_new,
        console_bulk,
        console_views,
        console,
        console_presence,
        settings_page,
        admin,
        mail_rating,
    ):
        app.include_router(module.router, dependencies=[Depends(form_before_transaction)])
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_web_errors(app)
