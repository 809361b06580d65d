"""Stargate routes: how many jumps from one solar system to another, the way a hauler flies.

The graph is the SDE's `mapSolarSystemJumps` (each gate stored in both directions) as a
scipy sparse matrix, built once per installed SDE. A route is a path of systems; its jumps
are the gates taken, the route length minus one (0 inside one system).

Preferences, as the in-game autopilot offers them:
- "shortest": fewest jumps.
- "safer": enter as few low- and null-sec systems as possible, then fewest jumps.
- "less_secure": enter as few high-sec systems as possible, then fewest jumps.

Security filters drop systems from the graph before routing (the start and the end too):
- "high": high-sec only (displayed security 0.5 or more);
- "low": high- and low-sec (no null-sec: displayed security above 0.0);
- "any": every system.
Displayed security is the game's rounding of true security (`sde.selectors.display_security`).

The avoided systems weigh PENALTY each instead of 1. PENALTY is larger than any number of
systems, so a weighted distance d holds both counts exactly: d // PENALTY avoided systems
entered and d % PENALTY others, which makes "safer" strictly lexicographic (never one more
low-sec system to save any number of jumps) and gives the jump count without walking the
path. Hop counts from each source are kept (int16 rows, least recently used dropped), so a
warm `jump_matrix` over the same systems is a gather from memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sde.models import MapSolarSystem, MapSolarSystemJump
from sde.selectors import display_security, per_installed_sde

Preference = Literal["shortest", "safer", "less_secure"]
Security = Literal["high", "low", "any"]
PREFERENCES: tuple[Preference, ...] = ("shortest", "safer", "less_secure")
SECURITY: tuple[Security, ...] = ("high", "low", "any")
# The route every hauling answer, form and board uses unless told otherwise: a hauler's
# autopilot default, and high-sec only (a loaded hauler in low-sec is a gift to pirates).
DEFAULT_PREFERENCE: Preference = "shortest"
DEFAULT_SECURITY: Security = "high"

PENALTY = 1 << 16  # more than the number of systems (about 8,400)
UNREACHABLE = -1
# Source rows kept per (preference, security): 2 bytes per system each (about 17 KB), so
# at most about 9 MB per view of the graph.
ROWS_KEPT = 512


def _check(preference: str, security: str) -> None:
    if preference not in PREFERENCES:
        raise ValueError(f"Route preference must be one of {', '.join(PREFERENCES)}.")
    if security not in SECURITY:
        raise ValueError(f"Security filter must be one of {', '.join(SECURITY)}.")


@dataclass
class _Graph:
    """One (preference, security) view of the stargate graph, with its cached hop rows."""

    matrix: csr_matrix
    allowed: npt.NDArray[np.bool_]
    weighted: bool
    rows: OrderedDict[int, npt.NDArray[np.int16]] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Map:
    system_ids: npt.NDArray[np.int64]  # sorted
    security: npt.NDArray[np.float64]  # displayed (rounded) security, NaN if unknown
    sources: npt.NDArray[np.intp]  # each gate, both directions, as node indexes
    targets: npt.NDArray[np.intp]
    graphs: dict[tuple[str, str], _Graph] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@per_installed_sde
def _map() -> _Map:
    systems = sorted(MapSolarSystem.objects.values_list("solar_system_id", "security"))
    ids = np.array([s[0] for s in systems], dtype=np.int64)
    shown = [display_security(s[1]) for s in systems]
    security = np.array([np.nan if s is None else s for s in shown], dtype=np.float64)
    gates = np.array(
        list(MapSolarSystemJump.objects.values_list("from_solar_system_id", "to_solar_system_id")),
        dtype=np.int64,
    ).reshape(-1, 2)
    known = np.isin(gates[:, 0], ids) & np.isin(gates[:, 1], ids)
    gates = gates[known]
    if len(ids) >= PENALTY:
        raise RuntimeError("More systems than the route penalty can count; raise PENALTY.")
    return _Map(
        system_ids=ids,
        security=security,
        sources=np.searchsorted(ids, gates[:, 0]),
        targets=np.searchsorted(ids, gates[:, 1]),
    )


def _graph(preference: str, security: str) -> _Graph:
    _check(preference, security)
    m = _map()
    key = (preference, security)
    graph = m.graphs.get(key)
    if graph is not None:
        return graph
    with m.lock:
        if key in m.graphs:
            return m.graphs[key]
        with np.errstate(invalid="ignore"):  # NaN security is never high nor low
            high = m.security >= 0.5
            above_null = m.security > 0.0
        allowed = {"high": high, "low": above_null, "any": np.ones(len(high), bool)}[security]
        keep = allowed[m.sources] & allowed[m.targets]
        sources, targets = m.sources[keep], m.targets[keep]
        # Each gate weighs what it costs to enter its target system.
        avoided = {"shortest": None, "safer": ~high, "less_secure": high}[preference]
        weights = (
            np.ones(len(targets))
            if avoided is None
            else np.where(avoided[targets], float(PENALTY), 1.0)
        )
        n = len(m.system_ids)
        matrix = csr_matrix((weights, (sources, targets)), shape=(n, n))
        graph = _Graph(matrix=matrix, allowed=allowed, weighted=avoided is not None)
        m.graphs[key] = graph
        return graph


def _nodes(system_ids: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Node index of each system id, and which ids are systems of the graph at all."""
    ids = _map().system_ids
    ask = np.asarray(system_ids, dtype=np.int64).ravel()
    at = np.minimum(np.searchsorted(ids, ask), len(ids) - 1)
    return at, ids[at] == ask


def _hops(distances: npt.NDArray[np.float64], weighted: bool) -> npt.NDArray[np.int16]:
    """Weighted distances to jump counts (-1 where unreachable)."""
    reachable = np.isfinite(distances)
    d = np.where(reachable, distances, 0).astype(np.int64)
    hops = d // PENALTY + d % PENALTY if weighted else d
    return np.where(reachable, hops, UNREACHABLE).astype(np.int16)


def _rows(graph: _Graph, nodes: Iterable[int]) -> dict[int, npt.NDArray[np.int16]]:
    """Hop counts from each node to every node, computed in one scipy call for the missing."""
    wanted = list(dict.fromkeys(int(n) for n in nodes))
    with graph.lock:
        found = {n: graph.rows[n] for n in wanted if n in graph.rows}
        for n in found:
            graph.rows.move_to_end(n)
    missing = [n for n in wanted if n not in found]
    if missing:
        distances = dijkstra(graph.matrix, directed=True, indices=missing)
        hops = _hops(np.atleast_2d(distances), graph.weighted)
        with graph.lock:
            for n, row in zip(missing, hops, strict=True):
                row = row.copy()
                row.flags.writeable = False
                graph.rows[n] = row
                found[n] = row
            while len(graph.rows) > ROWS_KEPT:
                graph.rows.popitem(last=False)
    return found


def jump_matrix(
    from_systems: npt.ArrayLike,
    to_systems: npt.ArrayLike,
    preference: str = "shortest",
    security: str = "any",
) -> npt.NDArray[np.int32]:
    """Jumps from each of `from_systems` (rows) to each of `to_systems` (columns), -1 where
    no route exists under the filter (or an id is not a solar system)."""
    graph = _graph(preference, security)
    sources, source_known = _nodes(from_systems)
    targets, target_known = _nodes(to_systems)
    result = np.full((len(sources), len(targets)), UNREACHABLE, dtype=np.int32)
    source_ok = source_known & graph.allowed[sources]
    target_ok = target_known & graph.allowed[targets]
    if not source_ok.any() or not target_ok.any():
        return result
    rows = _rows(graph, sources[source_ok])
    columns = targets[target_ok]
    block = np.stack([rows[int(n)][columns] for n in sources[source_ok]])
    result[np.ix_(np.flatnonzero(source_ok), np.flatnonzero(target_ok))] = block
    return result


def jumps(
    from_system: int,
    to_system: int,
    preference: str = "shortest",
    security: str = "any",
) -> int | None:
    """Jumps on the chosen route (route length minus one; 0 inside one system), or None
    when no route exists under the security filter."""
    hops = int(jump_matrix([from_system], [to_system], preference, security)[0, 0])
    return None if hops == UNREACHABLE else hops


def route(
    from_system: int,
    to_system: int,
    preference: str = "shortest",
    security: str = "any",
) -> list[int] | None:
    """The systems of the chosen route, both ends included, or None when there is none."""
    graph = _graph(preference, security)
    (source, target), known = _nodes([from_system, to_system])
    if not known.all() or not graph.allowed[source] or not graph.allowed[target]:
        return None
    distances, predecessors = dijkstra(
        graph.matrix, directed=True, indices=int(source), return_predecessors=True
    )
    if not np.isfinite(distances[target]):
        return None
    ids = _map().system_ids
    path = [int(target)]
    while path[-1] != source:
        path.append(int(predecessors[path[-1]]))
    return [int(ids[node]) for node in reversed(path)]


def clear_cached_rows() -> None:
    """Forget every cached hop row (benchmarks use it to time a cold matrix)."""
    for graph in list(_map().graphs.values()):
        with graph.lock:
            graph.rows.clear()
