from tests.conftest import World


async def test_file_a_ticket_and_read_it_back(world: World) -> None:
    ticket = await world.create_ticket("alice", subject="Printer on fire", topic="billing")
    assert ticket["number"] == 1
    assert ticket["status"] == "new"
    got = await world.get("alice", f"/api/v1/tickets/{ticket['number']}")
    assert got.status_code == 200, got.text
    assert got.json()["subject"] == "Printer on fire"
    assert got.headers["etag"]
