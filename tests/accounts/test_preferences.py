"""Each user's language and time zone: carried by the API's user answers, changed by an
admin or by the user themselves, and checked (a language helpwire ships, an IANA zone)."""

from __future__ import annotations

from tests.conftest import World


async def test_a_user_answer_carries_language_and_time_zone(world: World) -> None:
    made = await world.post(
        "admin",
        "/api/v1/users",
        json={
            "username": "maya",
            "role": "agent",
            "language": "de",
            "time_zone": "Europe/Berlin",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["language"] == "de" and made.json()["time_zone"] == "Europe/Berlin"

    plain = (await world.get("admin", "/api/v1/users/agent")).json()
    assert plain["language"] is None and plain["time_zone"] is None


async def test_admins_change_both_and_empty_means_the_default(world: World) -> None:
    changed = await world.patch(
        "admin", "/api/v1/users/owner", json={"language": "de-AT", "time_zone": "Asia/Tokyo"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["language"], changed.json()["time_zone"]) == ("de-at", "Asia/Tokyo")
    # A change of something else leaves them as they are.
    other = await world.patch("admin", "/api/v1/users/owner", json={"real_name": "Olga"})
    assert other.json()["time_zone"] == "Asia/Tokyo"
    cleared = await world.patch("admin", "/api/v1/users/owner", json={"time_zone": ""})
    assert cleared.json()["time_zone"] is None and cleared.json()["language"] == "de-at"


async def test_everyone_sets_their_own(world: World) -> None:
    mine = await world.patch(
        "alice", "/api/v1/me", json={"language": "de", "time_zone": "America/New_York"}
    )
    assert mine.status_code == 200, mine.text
    me = (await world.get("alice", "/api/v1/me")).json()
    assert (me["username"], me["language"], me["time_zone"]) == ("alice", "de", "America/New_York")
    # Nothing else of theirs is theirs to change here.
    refused = await world.patch("alice", "/api/v1/me", json={"real_name": "Someone"})
    assert refused.status_code == 422
    assert (await world.client.patch("/api/v1/me", json={"language": "en"})).status_code == 401


async def test_unknown_languages_and_zones_are_refused(world: World) -> None:
    for body, field in (
        ({"language": "fr"}, "language"),
        ({"language": "not a tag"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "europe/berlin"}, "time_zone"),
        ({"time_zone": "Europe"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": "x" * 65}, "time_zone"),
    ):
        for who, url in (("admin", "/api/v1/users/owner"), ("owner", "/api/v1/me")):
            refused = await world.patch(who, url, json=body)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.json()["errors"][0]["field"] == field
    unchanged = (await world.get("owner", "/api/v1/me")).json()
    assert unchanged["language"] is None and unchanged["time_zone"] is None
