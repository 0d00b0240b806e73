"""The native API, fuzzed against its own /openapi.json as an admin, an agent and a
customer: no answer is a 5xx, and every answer is one the document describes (status,
media type, headers and body)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import negative_data_rejection, status_code_conformance

from helpwire.app import create_app
from helpwire.settings import Settings
from tests.fuzz.conftest import BASE_CHECKS, FuzzTarget, fuzz_operation

PEOPLE = ("admin", "agent", "owner")
# POST /api/v1/mail/inbound takes a raw message, which schemathesis cannot make from a
# schema: well-formed messages, broken ones, and any bytes at all.
schemathesis.openapi.media_type(
    "message/rfc822",
    st.one_of(
        st.builds(
            lambda subject, body: (
                f"From: owner@acme.test\r\nTo: support@helpwire.test\r\n"
                f"Subject: {subject}\r\n\r\n{body}\r\n"
            ).encode("utf-8", "surrogatepass"),
            st.text(max_size=80).map(lambda t: " ".join(t.split())),
            st.text(max_size=400),
        ),
        st.binary(min_size=1, max_size=2000),
    ),
)
# And: every status is one the document lists; a request the document calls invalid is
# refused with a 4xx.
CHECKS = [*BASE_CHECKS, status_code_conformance, negative_data_rejection]


def _operations() -> list[tuple[str, str]]:
    """Every operation of the document, read once at collection (no database needed)."""
    with tempfile.TemporaryDirectory() as where:
        document = create_app(
            Settings(database_url=f"sqlite+aiosqlite:///{where}/x.db", files_dir=Path(where))
        ).openapi()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    ]


@pytest.fixture(scope="module")
def native_schema(fuzz_target: FuzzTarget) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app)
    # An invalid request over the body limit is refused before it is read, with 413 (which
    # every operation with a body documents); schemathesis's list of refusals lacks it.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


@pytest.mark.parametrize(("method", "path"), _operations())
def test_native_operation(
    native_schema: Any, fuzz_target: FuzzTarget, method: str, path: str
) -> None:
    headers = [{"Authorization": f"Bearer {fuzz_target.tokens[who]}"} for who in PEOPLE]
    fuzz_operation(native_schema, method=method, path=path, headers=headers, checks=CHECKS)
