"""The state a route operation compares before it changes anything: one route, or a whole table's
routes, as `az --query` prints them now and as the scan saw them."""
from __future__ import annotations

from typing import Sequence

from ...jmes import to_string


# One route, as `az network route-table route show` prints it (properties are flattened).
ROUTE_STATE = "to_string([addressPrefix, nextHopType, nextHopIpAddress || ''])"
# All routes of a table, as `az network route-table show` prints it, in name order.
ROUTES_STATE = "to_string(sort_by(routes || `[]`, &name)[*].[name, addressPrefix, nextHopType, nextHopIpAddress || ''])"


def route_state(address_prefix: str, next_hop_type: str, next_hop_ip: str) -> str:
    """ROUTE_STATE of a route with these values."""
    return to_string([address_prefix, next_hop_type, next_hop_ip or ""])


def routes_state(routes: Sequence[dict[str, str]]) -> str:
    """ROUTES_STATE of a table holding these routes (evidence `route_table_routes`)."""
    ordered = sorted(routes, key=lambda r: r["name"])
    return to_string([[r["name"], r["address_prefix"], r["next_hop_type"], r["next_hop_ip"] or ""] for r in ordered])
