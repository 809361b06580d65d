"""A local ESI stand-in for tests, benchmarks and demos (see docs/standin.md).

`EsiStandIn` is a real HTTP server on 127.0.0.1 that plays ESI's market routes from generated
or given order books, with faults on demand (`Faults`); `standin.contract` checks requests and
responses against the official ESI OpenAPI document shipped in `standin/data/`.
"""

from standin.esi import EsiStandIn, Faults, RequestRecord

__all__ = ["EsiStandIn", "Faults", "RequestRecord"]
