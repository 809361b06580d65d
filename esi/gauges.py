"""ESI's budgets and circuit state as Prometheus gauges, read from the shared store at each
scrape (so any web instance answers for the whole deployment).

`budget_gauges` is a store reader for `config.metrics.read_at_scrape`; the market app
registers it (market/apps.py), being the app that runs the ESI client.
"""

from __future__ import annotations

from config.metrics import MakeGauge
from esi.client import shared_client


def budget_gauges(gauge: MakeGauge) -> None:
    budget = gauge(
        "esi_budget_remaining",
        "What ESI says is left: the error limit, and each token bucket group.",
        ["budget"],
    )
    circuit = gauge("esi_circuit_open", "1 when the ESI circuit breaker is open or half open.", [])
    status = shared_client().status()
    remain = status["limits"]["error_limit"]["remain"]
    if remain is not None:
        budget.add_metric(["error_limit"], float(remain))
    for group, state in status["limits"]["groups"].items():
        if state.get("remaining") is not None:
            budget.add_metric([f"group:{group}"], float(state["remaining"]))
    circuit.add_metric([], 0.0 if status["breaker"]["state"] == "closed" else 1.0)
