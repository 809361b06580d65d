"""Stargate routes on the real SDE: jumps between the trade hubs by each preference and
security filter, checked against a plain breadth-first / lexicographic search written here
from the SDE's gate table, and the speed of a hub-region jump matrix."""

import heapq
import itertools
import random
import time
from collections import defaultdict

import numpy as np
import pytest

from sde import routes
from sde.models import MapSolarSystem, MapSolarSystemJump
from sde.selectors import display_security
from tests.conftest import sde_db

JITA, PERIMETER, AMARR, DODIXIE, RENS, HEK = (
    30000142,
    30000144,
    30002187,
    30002659,
    30002510,
    30002053,
)
AHBAZON = 30005196  # true security 0.42: low-sec, on the short Jita - Amarr road
BAMIETTE = 30002690  # 0.4988 shown as 0.5: high-sec, but walled in by low-sec
AKONOINEN = 30001382  # 0.4945 shown as 0.5: high-sec, reachable from Jita in high-sec
EGBINGER = 30002420  # 0.0346 shown as 0.1: low-sec, not null
ONE_DQ = 30004759  # 1DQ1-A, null-sec
THERA = 31000005  # wormhole space: no stargates

pytestmark = sde_db


# --- A plain reference search over the SDE, independent of sde.routes ------------------


class Reference:
    """Breadth-first and lexicographic (avoided systems entered, then jumps) searches in
    pure Python over the gate table."""

    def __init__(self) -> None:
        self.neighbours: dict[int, list[int]] = defaultdict(list)
        for a, b in MapSolarSystemJump.objects.values_list(
            "from_solar_system_id", "to_solar_system_id"
        ):
            self.neighbours[a].append(b)
        self.shown = {
            sid: display_security(sec)
            for sid, sec in MapSolarSystem.objects.values_list("solar_system_id", "security")
        }
        self.searches: dict[tuple[int, str, str], dict[int, int]] = {}

    def allowed(self, system: int, security: str) -> bool:
        shown = self.shown.get(system)
        if security == "any":
            return shown is not None
        if shown is None:
            return False
        return shown >= 0.5 if security == "high" else shown > 0.0

    def avoided(self, system: int, preference: str) -> bool:
        high = (self.shown.get(system) or 0.0) >= 0.5
        return {"shortest": False, "safer": not high, "less_secure": high}[preference]

    def search(self, a: int, preference: str, security: str) -> dict[int, int]:
        """Every system reachable from `a`, with the system it is reached from."""
        key = (a, preference, security)
        if key in self.searches:
            return self.searches[key]
        previous: dict[int, int] = {}
        if self.allowed(a, security):
            best = {a: (0, 0)}
            previous[a] = a
            queue = [(0, 0, a)]
            while queue:
                avoided, hops, node = heapq.heappop(queue)
                if (avoided, hops) > best[node]:
                    continue
                for nxt in self.neighbours[node]:
                    if not self.allowed(nxt, security):
                        continue
                    cost = (avoided + self.avoided(nxt, preference), hops + 1)
                    if cost < best.get(nxt, (1 << 30, 0)):
                        best[nxt] = cost
                        previous[nxt] = node
                        heapq.heappush(queue, (*cost, nxt))
        self.searches[key] = previous
        return previous

    def route(self, a: int, b: int, preference: str, security: str) -> list[int] | None:
        previous = self.search(a, preference, security)
        if b not in previous:
            return None
        path = [b]
        while path[-1] != a:
            path.append(previous[path[-1]])
        return path[::-1]

    def cost(self, path: list[int], preference: str) -> tuple[int, int]:
        return sum(self.avoided(s, preference) for s in path[1:]), len(path) - 1


@pytest.fixture(scope="module")
def reference(django_db_blocker):
    with django_db_blocker.unblock():
        return Reference()


def assert_real_route(path: list[int], reference: Reference, security: str) -> None:
    for a, b in itertools.pairwise(path):
        assert b in reference.neighbours[a], f"no stargate {a} -> {b}"
    assert all(reference.allowed(s, security) for s in path)


# --- Hand-checked routes between the hubs --------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "preference", "security", "expected"),
    [
        (JITA, JITA, "shortest", "any", 0),  # same system: no gate
        (JITA, PERIMETER, "shortest", "any", 1),  # next door
        (JITA, PERIMETER, "safer", "high", 1),
        # Jita - Amarr: 11 through Ahbazon (0.4), 45 staying in high-sec.
        (JITA, AMARR, "shortest", "any", 11),
        (JITA, AMARR, "safer", "any", 45),
        (JITA, AMARR, "shortest", "high", 45),
        # Jita - Dodixie: 12 through the Tama low-sec pipe, 15 in high-sec.
        (JITA, DODIXIE, "shortest", "any", 12),
        (JITA, DODIXIE, "safer", "any", 15),
        (JITA, RENS, "shortest", "any", 15),
        (JITA, RENS, "safer", "any", 25),
        (JITA, HEK, "shortest", "any", 9),
        (JITA, HEK, "safer", "any", 19),
    ],
)
def test_jumps_between_hubs(a, b, preference, security, expected, reference):
    assert routes.jumps(a, b, preference, security) == expected
    path = routes.route(a, b, preference, security)
    assert path is not None
    assert len(path) - 1 == expected  # jumps are the route length minus one
    assert (path[0], path[-1]) == (a, b)
    assert_real_route(path, reference, security)
    expected_path = reference.route(a, b, preference, security)
    assert expected_path is not None
    assert reference.cost(path, preference) == reference.cost(expected_path, preference)


def test_the_safer_road_to_amarr_avoids_the_low_sec_the_shortest_crosses(reference):
    shortest = routes.route(JITA, AMARR, "shortest", "any")
    safer = routes.route(JITA, AMARR, "safer", "any")
    assert shortest is not None and safer is not None
    assert AHBAZON in shortest
    assert [s for s in shortest if reference.shown[s] < 0.5] == [AHBAZON]
    assert all(reference.shown[s] >= 0.5 for s in safer)
    assert len(safer) > len(shortest)


def test_less_secure_prefers_low_sec(reference):
    path = routes.route(JITA, AMARR, "less_secure", "any")
    assert path is not None
    shortest = routes.route(JITA, AMARR, "shortest", "any")
    assert shortest is not None
    # Fewer high-sec systems entered than on the shortest road, whatever the length.
    assert reference.cost(path, "less_secure")[0] < reference.cost(shortest, "less_secure")[0]
    assert routes.jumps(JITA, AMARR, "less_secure", "any") == len(path) - 1


def test_security_is_judged_as_the_game_shows_it():
    # 0.4945 is shown as 0.5: high-sec, reachable without leaving high-sec.
    assert routes.jumps(JITA, AKONOINEN, "shortest", "high") == 4
    # 0.0346 is shown as 0.1: low-sec, allowed when only null-sec is excluded.
    assert routes.jumps(JITA, EGBINGER, "shortest", "low") == 18
    assert routes.jumps(JITA, EGBINGER, "shortest", "high") is None


@pytest.mark.parametrize(
    ("a", "b", "security"),
    [
        (JITA, BAMIETTE, "high"),  # a high-sec pocket only low-sec leads to
        (JITA, AHBAZON, "high"),  # the end itself is low-sec
        (JITA, ONE_DQ, "low"),  # null-sec excluded
        (JITA, THERA, "any"),  # wormhole space has no gates
        (JITA, 30999999, "any"),  # no such system
    ],
)
def test_unreachable_is_none_and_minus_one(a, b, security):
    assert routes.jumps(a, b, "shortest", security) is None
    assert routes.route(a, b, "shortest", security) is None
    assert routes.jump_matrix([a], [b], "shortest", security).tolist() == [[-1]]


def test_a_pocket_unreachable_in_high_sec_is_reachable_through_low_sec():
    assert routes.jumps(JITA, BAMIETTE, "shortest", "low") == 5
    assert routes.jumps(JITA, BAMIETTE, "safer", "any") == 5


def test_unknown_preference_or_filter_is_refused():
    with pytest.raises(ValueError, match="preference must be one of shortest, safer"):
        routes.jumps(JITA, AMARR, "fastest", "any")
    with pytest.raises(ValueError, match="Security filter must be one of high, low, any"):
        routes.jump_matrix([JITA], [AMARR], "shortest", "null")


# --- The matrix ----------------------------------------------------------------------------


def test_matrix_matches_single_routes_and_the_reference(reference):
    hubs = [JITA, AMARR, DODIXIE, RENS, HEK, BAMIETTE, THERA]
    for preference in routes.PREFERENCES:
        for security in routes.SECURITY:
            matrix = routes.jump_matrix(hubs, hubs[::-1], preference, security)
            assert matrix.dtype == np.int32
            assert matrix.shape == (7, 7)
            for i, a in enumerate(hubs):
                for j, b in enumerate(hubs[::-1]):
                    path = reference.route(a, b, preference, security)
                    assert matrix[i, j] == (-1 if path is None else len(path) - 1), (
                        a,
                        b,
                        preference,
                        security,
                    )


def test_random_pairs_agree_with_the_reference(reference):
    rng = random.Random(20261122)
    systems = sorted(s for s in reference.neighbours if reference.shown.get(s) is not None)
    pairs = [(rng.choice(systems), rng.choice(systems)) for _ in range(12)]
    for preference, security in [("shortest", "any"), ("safer", "low"), ("less_secure", "any")]:
        matrix = routes.jump_matrix(
            [a for a, _ in pairs], [b for _, b in pairs], preference, security
        )
        for k, (a, b) in enumerate(pairs):
            path = reference.route(a, b, preference, security)
            assert matrix[k, k] == (-1 if path is None else len(path) - 1), (a, b)


def test_empty_inputs_give_an_empty_matrix():
    assert routes.jump_matrix([], [JITA]).shape == (0, 1)
    assert routes.jump_matrix(np.array([JITA]), np.array([], dtype=np.int64)).shape == (1, 0)


def security_of(systems: np.ndarray) -> list[float | None]:
    security = dict(MapSolarSystem.objects.values_list("solar_system_id", "security"))
    return [security[int(s)] for s in systems]


def test_a_hundred_by_hundred_matrix_is_fast():
    """Forge systems with stations to Domain ones: the size of a region-to-region haul."""
    with_stations = MapSolarSystem.objects.filter(stations__isnull=False).distinct()
    forge = list(with_stations.filter(region_id=10000002).values_list("pk", flat=True))
    domain = list(with_stations.filter(region_id=10000043).values_list("pk", flat=True))
    sources = np.array(([JITA, *forge] * 2)[:100])  # 78 systems: some twice
    targets = np.array([AMARR, *domain][:100])
    routes.clear_cached_rows()
    start = time.perf_counter()
    cold = routes.jump_matrix(sources, targets, "safer", "high")
    cold_seconds = time.perf_counter() - start
    start = time.perf_counter()
    warm = routes.jump_matrix(sources, targets, "safer", "high")
    warm_seconds = time.perf_counter() - start
    assert (cold == warm).all()
    high = np.array([(display_security(s) or 0.0) >= 0.5 for s in security_of(sources)])
    assert (warm[high][:, targets == AMARR] > 0).all()  # every high-sec start reaches Amarr
    assert warm[0, 0] == 45  # Jita - Amarr in high-sec
    assert (warm[~high] == -1).all()  # a low- or null-sec start is outside the filter
    assert warm_seconds < 0.05, f"warm 100 x 100 matrix took {warm_seconds * 1000:.1f} ms"
    assert cold_seconds < 1.0, f"cold 100 x 100 matrix took {cold_seconds * 1000:.1f} ms"
