"""The console list's filters by subtopic, access level, channel, rating and dates: the form
offers them, each narrows the list, and a value that cannot be understood is said on the
page, kept in its field for fixing."""

from __future__ import annotations

import html
import re

from tests.conftest import World
from tests.tickets.test_listing_filters import seed
from tests.web.conftest import Browser, WebHarness

_ROW_NUMBERS = re.compile(r'<tr data-row-link data-number="(\d+)"')


def listed(page: str) -> list[int]:
    return [int(n) for n in _ROW_NUMBERS.findall(page)]


async def numbers(agent: Browser, query: str) -> list[int]:
    page = await agent.get("/agent?" + query)
    assert page.status_code == 200, page.text
    return listed(page.text)


async def test_the_filter_panel_offers_every_new_field_with_a_label(
    web: WebHarness, world: World
) -> None:
    await seed(world)
    agent = await web.sign_in("agent")
    page = (await agent.get("/agent")).text
    panel = page[page.index('<details class="more-filters"') : page.index("</details>")]
    for name, field_id in (
        ("subtopic", "filter-subtopic"),
        ("access_level", "filter-access-level"),
        ("via", "filter-via"),
        ("rated", "filter-rated"),
        ("rating", "filter-rating"),
        ("created_after", "filter-created-after"),
        ("created_before", "filter-created-before"),
        ("updated_after", "filter-updated-after"),
        ("updated_before", "filter-updated-before"),
    ):
        assert f'id="{field_id}" name="{name}"' in panel, name
        assert f'<label for="{field_id}">' in panel, name
    # Date pickers while no time is set; subtopics grouped under their topics' names.
    assert 'type="date" id="filter-created-after"' in panel
    assert '<optgroup label="Billing">' in panel and '<optgroup label="Shop">' in panel
    for level in ("account_users", "project_users", "all_users"):
        assert f'<option value="{level}"' in panel
    assert '<option value="cocalc">' in panel  # a face's name among the channels offered
    # Nothing refined: the panel starts closed.
    assert '<details class="more-filters" >' in page


async def test_each_new_filter_narrows_the_list(web: WebHarness, world: World) -> None:
    t = await seed(world)
    agent = await web.sign_in("agent")
    assert len(await numbers(agent, "")) == 5
    assert await numbers(agent, "subtopic=invoices") == [t["carol"], t["alice"]]
    assert await numbers(agent, "topic=billing&subtopic=invoices") == [t["alice"]]
    assert await numbers(agent, "access_level=all_users") == [t["bob"]]
    assert await numbers(agent, "via=cocalc") == [t["gus"]]
    assert await numbers(agent, "via=web") == [t["carol"], t["bob"]]
    assert await numbers(agent, "rated=yes") == [t["carol"], t["bob"], t["alice"]]
    assert await numbers(agent, "rated=no") == [t["gus"], t["owner"]]
    assert await numbers(agent, "rating=2") == [t["bob"]]
    # As the date pickers send them; an empty field is no filter.
    assert await numbers(agent, "created_after=2024-02-05&created_before=") == [
        t["gus"],
        t["owner"],
    ]
    assert await numbers(agent, "created_before=2024-01-20") == [t["alice"]]
    assert await numbers(agent, "updated_after=2024-03-01") == [t["gus"], t["carol"]]
    assert await numbers(agent, "updated_before=2024-01-26") == [t["bob"]]
    # A date-time typed into the address works too.
    assert await numbers(agent, "created_after=2024-01-31T23:59:00Z") == [
        t["gus"],
        t["owner"],
        t["carol"],
    ]
    # With a queue's preset and a sort.
    assert await numbers(agent, "queue=new&via=api") == [t["owner"]]
    assert await numbers(agent, "rating=5&sort=updated_at&order=asc") == [t["alice"], t["carol"]]


async def test_the_form_shows_the_filters_it_lists_by_and_pages_keep_them(
    web: WebHarness, world: World
) -> None:
    t = await seed(world)
    agent = await web.sign_in("agent")
    page = await agent.get(
        "/agent?topic=billing&subtopic=invoices&access_level=project_users&via=api&rated=yes"
        "&rating=5&created_after=2024-01-01&updated_before=2024-02-01T12%3A30%3A00%2B00%3A00"
    )
    assert page.status_code == 200, page.text
    assert listed(page.text) == [t["alice"]]
    text = page.text
    assert '<details class="more-filters" open>' in text
    assert '<option value="invoices" selected>Invoices</option>' in text
    assert '<option value="invoices" >Shop invoices</option>' in text  # another topic's
    assert '<option value="project_users" selected>' in text
    assert 'name="via" value="api"' in text
    assert re.search(r'id="filter-rated" name="rated">.*?<option value="yes" selected>', text, re.S)
    assert '<option value="5" selected>5 of 5</option>' in text
    assert 'type="date" id="filter-created-after" name="created_after" value="2024-01-01"' in text
    # A date-time is shown in full, in a text field (a date picker would drop it).
    assert (
        'type="text" id="filter-updated-before" name="updated_before" '
        'value="2024-02-01T12:30:00+00:00"' in text
    )

    # The "Next page" link carries the filters with the cursor.
    first = await agent.get("/agent?via=web&limit=1&sort=priority")
    assert listed(first.text) == [t["carol"]]
    next_link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first.text)
    assert next_link
    second = await agent.get(html.unescape(next_link.group(1)))
    assert listed(second.text) == [t["bob"]]
    assert 'rel="next"' not in second.text


async def test_a_bad_date_or_score_is_said_on_the_page_and_kept_for_fixing(
    web: WebHarness, world: World
) -> None:
    await seed(world)
    agent = await web.sign_in("agent")
    page = await agent.get("/agent?created_after=31.01.2024&rating=9&rated=maybe")
    assert page.status_code == 422
    text = html.unescape(page.text)
    assert "created_after: not an ISO 8601 date (2026-01-31)" in text
    assert "rating: a score 1..5" in text
    assert "rated: yes or no" in text
    assert listed(page.text) == []  # nothing listed under filters half understood
    assert '<details class="more-filters" open>' in page.text
    assert 'type="text" id="filter-created-after" name="created_after" value="31.01.2024"' in text

    for query in (
        "updated_before=2024-02-30",
        "created_before=0001-01-01T00:00:00%2B05:00",
        "access_level=secret",
    ):
        refused = await agent.get("/agent?" + query)
        assert refused.status_code == 422, query
        assert query.split("=")[0] + ":" in refused.text
