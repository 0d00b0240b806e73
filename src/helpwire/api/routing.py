"""All or nothing: a request that is refused leaves the database exactly as it was.

The request's session (``api.deps.get_session``) commits when the route returns and rolls
back when it raises. Some routes refuse without raising: a web form shown again with its
mistake (422), a face answering a core refusal in its own error format. Their route class
marks such a request as refused, and the session dependency, which exits after the route
handler returns, rolls the transaction back instead of committing it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from helpwire.api.deps import refuse_transaction

# A status from which on an answer is a refusal: nothing of the request may stay.
FIRST_REFUSAL_STATUS = 400

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class TransactionalRoute(APIRoute):
    """A route whose answers of 400 and above roll the request's transaction back."""

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            response = await original(request)
            if response.status_code >= FIRST_REFUSAL_STATUS:
                refuse_transaction(request)
            return response

        return handler
