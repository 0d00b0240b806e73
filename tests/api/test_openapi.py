"""helpwire's own OpenAPI document is valid, every reference in it resolves, each route
documents the errors it can answer, and real answers (errors, downloads) match it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate

from helpwire.app import create_app
from helpwire.settings import Settings
from tests.conftest import World

HOST = "http://helpwire.test"
PROBLEM_REF = "#/components/schemas/Problem"
# What every native route answers besides success (DESIGN.md's error statuses).
COMMON_ERRORS = {"400", "401", "403", "404", "409", "413", "422", "429", "503"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document as /openapi.json serves it (made without a database)."""
    where = tmp_path_factory.mktemp("openapi")
    app = create_app(
        Settings(database_url=f"sqlite+aiosqlite:///{where}/x.db", files_dir=where / "files")
    )
    # Round-trip through JSON: what a client reads.
    loaded: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return loaded


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise LookupError(ref)
        node = node[part]
    return node


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(re.findall(r'"\$ref": "([^"]*)"', json.dumps(document)))
    assert refs, "the document refers to no schema at all"
    dangling = []
    for ref in sorted(refs):
        try:
            resolve(document, ref)
        except LookupError:
            dangling.append(ref)
    assert not dangling, f"references to nothing: {dangling}"
    assert "$defs" not in json.dumps(document), "a schema carries $defs of its own"


def test_problem_and_field_error_are_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem.get("additionalProperties", True) is not False  # extensions
    items = problem["properties"]["errors"]["anyOf"][0]["items"]
    assert items == {"$ref": "#/components/schemas/FieldError"}
    assert set(schemas["FieldError"]["required"]) == {"field", "message", "code"}


def test_every_native_route_documents_its_errors_as_problems(document: dict[str, Any]) -> None:
    missing = {}
    for method, path, operation in operations(document):
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/create_support_ticket"):
            continue
        if path.startswith("/api/v1/get_support_tickets"):  # CoCalc's face, its own errors
            continue
        responses = operation["responses"]
        if absent := COMMON_ERRORS - set(responses):
            missing[f"{method.upper()} {path}"] = sorted(absent)
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": PROBLEM_REF}, (method, path, status)
    assert not missing, missing


def test_routes_document_their_special_answers(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert {"412", "428"} <= set(paths["/api/v1/tickets/{number}"]["patch"]["responses"])
    assert "304" in paths["/api/v1/tickets/{number}"]["get"]["responses"]
    assert "415" in paths["/api/v1/files"]["post"]["responses"]
    download = paths["/api/v1/files/{file_id}"]["get"]["responses"]["200"]["content"]
    assert "*/*" in download  # images, PDFs, text: the file's own type
    assert "503" in paths["/readyz"]["get"]["responses"]  # not ready
    assert "401" in paths["/metrics"]["get"]["responses"]  # HELPWIRE_METRICS_TOKEN


# --- Real answers against the document -----------------------------------------------


@pytest.fixture
def spec(document: dict[str, Any]) -> OpenAPI:
    # openapi-core reads application/json only; a problem is JSON too.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict({**document, "servers": [{"url": HOST}]}, config=config)


def check(spec: OpenAPI, response: httpx.Response) -> None:
    sent = response.request
    request = MockRequest(
        HOST,
        sent.method,
        sent.url.path,
        args=dict(sent.url.params),
        headers=dict(sent.headers),
        content_type=sent.headers.get("content-type", ""),
    )
    spec.validate_response(
        request,
        MockResponse(
            response.content,
            status_code=response.status_code,
            headers=dict(response.headers),
            content_type=response.headers.get("content-type", ""),
        ),
    )


async def test_error_answers_match_the_document(world: World, spec: OpenAPI) -> None:
    answers = [
        await world.post("alice", "/api/v1/tickets", json={"subject": ""}),  # 422 + errors
        await world.get("alice", "/api/v1/tickets/999"),  # 404
        await world.client.get("/api/v1/tickets"),  # 401
        await world.post("alice", "/api/v1/users", json={"username": "x", "role": "admin"}),
        await world.post("alice", "/api/v1/files", content=b"x"),  # 415
    ]
    assert [a.status_code for a in answers] == [422, 404, 401, 403, 415]
    assert answers[0].json()["errors"]
    for answer in answers:
        check(spec, answer)


async def test_a_precondition_failure_matches_the_document(world: World, spec: OpenAPI) -> None:
    ticket = await world.create_ticket("alice")
    answer = await world.patch(
        "agent",
        f"/api/v1/tickets/{ticket['number']}",
        json={"priority": "high"},
        headers={"If-Match": '"stale"'},
    )
    assert answer.status_code == 412, answer.text
    check(spec, answer)


async def test_an_image_download_matches_the_document(
    world: World, spec: OpenAPI, tmp_path: Path
) -> None:
    uploaded = await world.upload("alice", "shot.png", PNG, "image/png")
    answer = await world.get("alice", f"/api/v1/files/{uploaded['id']}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content == PNG
    check(spec, answer)


@pytest.mark.parametrize(
    ("path", "options"),
    [
        ("/api/v1/get_support_tickets", {"id": None}),
        (
            "/api/v1/create_support_ticket",
            {"email_address": "a@b.test", "subject": "s", "body": "b", "tags": "one", "info": None},
        ),
    ],
)
async def test_cocalc_s_description_takes_what_cocalc_takes(
    world: World, spec: OpenAPI, path: str, options: dict[str, Any]
) -> None:
    """CoCalc reads a null option as one not given, and one tag as a string: the face
    does too, so its description must say so (found by the fuzz tests)."""
    answer = await world.client.post(path, json=options, headers=world.headers("alice"))
    assert answer.status_code == 200, answer.text
    sent = answer.request
    request = MockRequest(
        HOST,
        "POST",
        path,
        headers=dict(sent.headers),
        data=sent.content,
        content_type="application/json",
    )
    assert not spec.unmarshal_request(request).errors
    check(spec, answer)
