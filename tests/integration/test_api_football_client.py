"""The real API-Football client against the stand-in server over real HTTP."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import pytest
import requests

from footy.api_football import (
    ApiAccessError,
    ApiAuthError,
    ApiFootballClient,
    ApiPlanError,
    ApiRateLimitError,
    ApiRequestError,
    ApiTimeoutError,
    ApiUnavailableError,
    raise_for_errors,
)
from footy.errors import ConfigError, PayloadError, TransientError
from footy.goals import goal_events
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
DAY = "2026-03-14"


class Sleeps:
    """Records waits and really sleeps them (they are tiny in these tests)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)


@pytest.fixture(scope="module")
def server():
    srv = start_in_thread("test_matchday", base_time=BASE, paused_at=150)
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def clean(request):
    if "server" in request.fixturenames:
        srv = request.getfixturevalue("server")
        srv.world.clear_faults()
        srv.world.requests.clear()
        srv.world.clock.set(150)


def client(url, **kw) -> ApiFootballClient:
    opts = dict(timeout=(0.5, 0.5), max_attempts=3, backoff_initial=0.01, backoff_max=0.05,
                max_total_wait=3, rate_limit_pause=0.2, sleep=Sleeps())
    key = kw.pop("api_key", "test-key")
    opts.update(kw)
    return ApiFootballClient(url, key, **opts)


def pages(srv) -> list[str | None]:
    return [r["query"].get("page") for r in srv.world.requests_for("/fixtures")]


# ---- listings ------------------------------------------------------------------------------


def test_date_listing_follows_pagination(server):
    api = client(server.url)
    batch = api.fixtures_by_date(DAY)
    assert sorted(f.id for f in batch.fixtures) == [2001, 2002, 2003, 2004]
    assert batch.errors == []
    assert pages(server) == [None, "2"]  # page size 3 in test_matchday
    by_id = {f.id: f for f in batch.fixtures}
    assert by_id[2001].status_short == "2H" and by_id[2001].elapsed == 59
    assert by_id[2003].status_short == "PST"
    assert by_id[2001].events is None  # listings carry no events
    assert by_id[2001].date == "2026-03-14T12:01:00+00:00"
    assert api.rate_limit["minute_remaining"] is not None


def test_date_listing_per_league_and_team_needs_season(server):
    api = client(server.url)
    batch = api.fixtures_by_date(DAY, league_ids=[45, 39], team_ids=[50], season=2025)
    assert sorted(f.id for f in batch.fixtures) == [2001, 2002, 2003, 2004]  # de-duplicated
    queries = [r["query"] for r in server.world.requests_for("/fixtures")]
    assert {(q.get("league"), q.get("team"), q.get("season")) for q in queries} == {
        ("45", None, "2025"), ("39", None, "2025"), (None, "50", "2025")}
    assert client(server.url).fixtures_by_date(DAY, team_ids=[55], season=2025).fixtures[0].id \
        == 2003
    with pytest.raises(ConfigError):
        api.fixtures_by_date(DAY, league_ids=[39])
    with pytest.raises(ConfigError):
        api.fixtures_by_date("14/03/2026")


def test_other_day_is_empty(server):
    assert client(server.url).fixtures_by_date("2026-03-15").fixtures == []


def test_ids_carry_events_and_goals(server):
    batch = client(server.url).fixtures_by_ids([2001, 2002, 2001, 999])
    assert [f.id for f in batch.fixtures] == [2001, 2002]
    fx = batch.fixtures[0]
    assert fx.events is not None
    ids = [g.goal_id for g in goal_events(fx)]
    assert ids == ["2001_50_1100_normal_1", "2001_42_g-martinelli_normal_1",
                   "2001_42_567_own_1"]
    assert server.world.requests_for("/fixtures")[0]["query"]["ids"] == "2001-2002-999"


def test_ids_are_batched_at_twenty():
    fixtures = [{"id": 5000 + i, "kickoff": 0, "league": {"id": 39, "season": 2025},
                 "home": {"id": 1, "name": "A"}, "away": {"id": 2, "name": "B"},
                 "timeline": [{"t": 0, "status": "1H"}]} for i in range(45)]
    with start_in_thread({"fixtures": fixtures, "settings": {"page_size": 10}},
                         base_time=BASE, paused_at=10) as srv:
        api = client(srv.url)
        batch = api.fixtures_by_ids(range(5000, 5045))
        assert [f.id for f in batch.fixtures] == list(range(5000, 5045))
        sizes = [len(r["query"]["ids"].split("-")) for r in srv.world.requests_for("/fixtures")]
        assert sizes == [20, 20, 5]
        srv.world.requests.clear()
        assert len(api.fixtures_by_date(DAY).fixtures) == 45
        assert pages(srv) == [None, "2", "3", "4", "5"]


def test_standin_refuses_more_than_twenty_ids_like_the_real_api(server):
    ids = "-".join(str(i) for i in range(1, 22))
    resp = requests.get(server.url + "/fixtures", params={"ids": ids},
                        headers={"x-apisports-key": "k"}, timeout=5)
    body = resp.json()
    assert resp.status_code == 200 and body["response"] == [] and "ids" in body["errors"]
    with pytest.raises(ApiRequestError, match="ids"):
        raise_for_errors(body["errors"])
    assert set(body) == {"get", "parameters", "errors", "results", "paging", "response"}
    assert resp.headers["X-RateLimit-Remaining"] and resp.headers["x-ratelimit-requests-remaining"]


def test_live_and_events_endpoints(server):
    api = client(server.url)
    live = api.live_fixtures()
    assert sorted(f.id for f in live.fixtures) == [2001, 2002, 2004]
    events = api.fixture_events(2001)
    assert [e.type for e in events][:3] == ["Goal", "Card", "Goal"]
    assert events[0].elapsed == 11  # corrected minute


def test_one_malformed_fixture_is_reported_not_raised(server):
    server.world.add_fault("/fixtures", "corrupt", index=1, field="fixture.status.short")
    batch = client(server.url).fixtures_by_ids([2001, 2002, 2003])
    assert [f.id for f in batch.fixtures] == [2001, 2003]
    [(key, err)] = batch.errors
    assert key == 2002 and err.field == "response[1].fixture.status.short"
    server.world.add_fault("/fixtures", "corrupt", index=0, field="fixture.id", value="x")
    batch = client(server.url).fixtures_by_ids([2001, 2002])
    assert batch.errors[0][0] == "response[0]" and batch.errors[0][1].field == \
        "response[0].fixture.id"


def test_a_number_storage_cannot_hold_is_a_payload_error(server):
    # 10^30 is valid JSON but no BSON integer: refused when parsed, naming the field, and the
    # other fixtures of the batch are unaffected.
    server.world.add_fault("/fixtures", "corrupt", index=1, field="teams.home.id", value=10**30)
    batch = client(server.url).fixtures_by_ids([2001, 2002, 2003])
    assert [f.id for f in batch.fixtures] == [2001, 2003]
    [(key, err)] = batch.errors
    assert key == 2002 and err.field == "response[1].teams.home.id"
    assert "out of the range" in str(err)


# ---- errors inside HTTP 200 ----------------------------------------------------------------


@pytest.mark.parametrize("kind,error", [
    ("errors200_token", ApiAuthError),
    ("errors200_plan", ApiPlanError),
    ("errors200_access", ApiAccessError),
    ("errors200_requests", ApiRateLimitError),
])
def test_errors_in_200_become_typed_errors_without_retry(server, kind, error):
    server.world.add_fault("/fixtures", kind, count=5)
    api = client(server.url)
    with pytest.raises(error):
        api.fixtures_by_ids([2001])
    assert api.calls == 1


def test_wrong_key_is_an_auth_error():
    with start_in_thread("test_matchday", settings={"api_key": "right"}) as srv:
        with pytest.raises(ApiAuthError, match="token"):
            client(srv.url, api_key="wrong").fixtures_by_date(DAY)
        assert client(srv.url, api_key="right").fixtures_by_ids([2001]).fixtures


def test_errors200_ratelimit_is_transient_and_retried(server):
    server.world.add_fault("/fixtures", "errors200_ratelimit", count=1)
    api = client(server.url)
    assert [f.id for f in api.fixtures_by_ids([2001]).fixtures] == [2001]
    assert api.calls == 2
    server.world.add_fault("/fixtures", "errors200_ratelimit", count=10)
    api = client(server.url)
    with pytest.raises(ApiRateLimitError) as err:
        api.fixtures_by_ids([2001])
    assert err.value.transient and api.calls == 3


# ---- HTTP faults and retries ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "500", "503", "timeout", "reset"])
def test_transient_fault_then_success(server, kind):
    server.world.add_fault("/fixtures", kind, count=2, seconds=1.0)
    api = client(server.url, timeout=(0.5, 0.3))
    batch = api.fixtures_by_ids([2001])
    assert [f.id for f in batch.fixtures] == [2001]
    assert api.calls == 3
    assert len(api._sleep.waits) == 2


@pytest.mark.parametrize("kind,error", [
    ("429", ApiRateLimitError),
    ("500", ApiUnavailableError),
    ("reset", ApiUnavailableError),
])
def test_persistent_fault_raises_typed_transient_error(server, kind, error):
    server.world.add_fault("/fixtures", kind, count=10)
    api = client(server.url)
    with pytest.raises(error) as err:
        api.fixtures_by_ids([2001])
    assert isinstance(err.value, TransientError)
    assert api.calls == 3


def test_timeout_is_honoured_quickly(server):
    server.world.add_fault("/fixtures", "timeout", count=10, seconds=2.0)
    api = client(server.url, timeout=(0.5, 0.2), max_attempts=2)
    started = time.monotonic()
    with pytest.raises(ApiTimeoutError):
        api.fixtures_by_ids([2001])
    assert time.monotonic() - started < 1.5
    assert api.calls == 2


def test_retry_after_is_honoured_within_bounds(server):
    server.world.add_fault("/fixtures", "429", count=1, retry_after=0.3)
    api = client(server.url, rate_limit_pause=1.0)
    api.fixtures_by_ids([2001])
    assert api._sleep.waits and api._sleep.waits[0] >= 0.3
    server.world.add_fault("/fixtures", "429", count=1, retry_after=120)
    api = client(server.url, rate_limit_pause=0.25)
    api.fixtures_by_ids([2001])
    assert api._sleep.waits == [0.25]  # capped


def test_minute_quota_spent_pauses_the_next_call(server):
    server.world.add_fault("/fixtures", "remaining0", count=1)
    api = client(server.url, rate_limit_pause=0.2)
    api.fixtures_by_ids([2001])
    assert api.rate_limit["minute_remaining"] == 0 and api._sleep.waits == []
    api.fixtures_by_ids([2001])
    assert len(api._sleep.waits) == 1 and 0.1 < api._sleep.waits[0] <= 0.2
    assert api.rate_limit["minute_remaining"] > 0


def test_total_wait_is_bounded(server):
    server.world.add_fault("/fixtures", "429", count=10, retry_after=5)
    api = client(server.url, max_attempts=10, rate_limit_pause=5, max_total_wait=0.5)
    started = time.monotonic()
    with pytest.raises(ApiRateLimitError):
        api.fixtures_by_ids([2001])
    assert time.monotonic() - started < 1.5


def test_malformed_body_is_a_payload_error_not_retried(server):
    server.world.add_fault("/fixtures", "malformed", count=5)
    api = client(server.url)
    with pytest.raises(PayloadError):
        api.fixtures_by_ids([2001])
    assert api.calls == 1


def test_connection_refused_is_unavailable():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    api = client(f"http://127.0.0.1:{port}", max_attempts=2)
    with pytest.raises(ApiUnavailableError):
        api.fixtures_by_date(DAY)
    assert api.calls == 2


def test_constructor_rejects_empty_key():
    with pytest.raises(ConfigError):
        ApiFootballClient("http://127.0.0.1:1", "")
