"""Can this cluster reach that destination, and why: one destination judged hop by hop.

For every AKS subnet of the cluster the destination is followed the way Azure forwards a packet:

1. the subnet's route table, longest prefix first (ties go to the earlier route, as in
   `routing.partition`); what no route covers follows Azure's system route to the Internet,
   unless a Virtual WAN secured hub advertises its firewall to the VNet (`egress.hub_route`);
2. the deciding route's next hop: a firewall (same VNet, a Connected peering, a connected hub),
   the Internet (unfiltered), None (dropped), or something aksaudit cannot see into;
3. the firewall's rules in Azure's processing order ("Azure Firewall rule processing logic"):
   DNAT rules translate inbound traffic only and decide no egress; network rules next, first
   match wins (a base policy's collections before the child's, then group and collection
   priority); application rules only see HTTP, HTTPS and MSSQL traffic no network rule decided;
   nothing matching is denied by default.

A rule either matches the destination, does not, or *may*: its data could not be read (the
least and the most it can match differ, see `network_rules.LOWER/UPPER`), it names a service tag
or FQDN tag whose contents are not known offline, or it depends on the address a host name
resolves to. A rule that may match before the deciding one and would decide otherwise makes the
answer unknown, naming why; one that would decide the same is reported as a note.

A destination that is a range (a CIDR) or a subnet whose parts meet different rules is cut
where any route or rule boundary falls, and each piece is judged on its own (`Part`).
Everything here is a pure function of the estate.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from aksaudit.analysis.egress_paths import FIREWALL, FIREWALL_PUBLIC_IP, UNRESOLVED, EgressPath, cluster_paths, resolve_next_hop
from aksaudit.model.firewall_rules import APPLICATION, FirewallRule
from aksaudit.model.row_fields import id_key, last_segment, parent_id
from aksaudit.analysis.rulesets import effective_rules
from .addresses import PUBLIC_V4, PUBLIC_V6, AddressSet, parse_addresses
from .fqdn import matches as fqdn_matches, target_host
from .intervals import IntervalSet
from .network_rules import LOWER, UPPER, CompiledRule, ip_group_addresses, network_rules
from .ports import TCP, UDP

if TYPE_CHECKING:
    from aksaudit.model.estate import Estate
    from aksaudit.model.resources import Firewall, ManagedCluster, Route
    from aksaudit.analysis.rulesets import RuleSet

ALLOWED, DENIED, UNFILTERED, UNKNOWN = "allowed", "denied", "unfiltered", "unknown"
# The order verdicts combine in: a cluster is only as controlled as its least known subnet part.
VERDICT_ORDER = (UNKNOWN, UNFILTERED, DENIED, ALLOWED)
DEFAULT_PORT = 443
APP_PROTOCOLS = ("http", "https", "mssql")
# Azure's default port per application protocol, when a rule's protocol names none.
APP_DEFAULT_PORTS = {"http": 80, "https": 443, "mssql": 1433}
YES, NO, MAYBE = "yes", "no", "maybe"
ORDER_NOTE = ("Azure Firewall processes DNAT rules (inbound only: none decide egress), then network rules, then "
              "application rules (HTTP, HTTPS, MSSQL only); the first match decides, nothing matching is denied")
# Destinations `why` does not follow: private and special-purpose space, which Azure's system routes
# send within the VNet, to peerings or to None ("Virtual network traffic routing"), and which no
# route table of an AKS subnet describes alone. Documentation ranges (TEST-NET) follow the
# default route like any Internet address, so they are followed.
_NOT_FOLLOWED = AddressSet.of_networks(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4")) | AddressSet(v6=AddressSet.everything().v6 - PUBLIC_V6.v6)
_HOST = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$")


class WhyError(ValueError):
    """A destination or cluster that cannot be asked about; the message names what is wrong."""


# --- the question ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Destination:
    """What the user asked to reach: a host name and/or addresses, one port, one protocol."""

    text: str
    host: str  # '' when only addresses were given
    addresses: AddressSet | None  # None when only a host name was given (its address is not known)
    port: int
    protocol: str  # tcp | udp
    app_protocol: str  # http | https | mssql: how application rules would see TCP traffic to a host
    assumed: tuple[str, ...] = ()  # what was not given and was assumed (said in the output)

    def describe(self) -> str:
        shown = ", ".join(self.addresses.describe()) if self.addresses is not None else ""
        where = f"{self.host} ({shown})" if self.host and shown else self.host or shown
        return f"{where} {self.protocol.upper()} {self.port}"


def parse_destination(text: str, ip: str | None = None, app_protocol: str | None = None) -> Destination:
    """`HOST|IP|CIDR[:PORT][/tcp|/udp]`; `ip` gives the address a host name resolves to.

    The port defaults to 443 and the protocol to TCP (both said in the output). IPv6 addresses
    with a port are written in brackets: `[2001:db8::1]:443`.
    """
    raw = text.strip()
    if not raw:
        raise WhyError("--to is empty: give an IP, a CIDR or a host name, optionally with :port and /tcp or /udp")
    assumed = []
    body, protocol = raw, ""
    lowered = raw.lower()
    for name in (TCP, UDP):
        if lowered.endswith("/" + name):
            body, protocol = raw[: -len(name) - 1], name
    port_text = ""
    if body.startswith("["):
        close = body.find("]")
        if close < 0:
            raise WhyError(f"--to {text!r}: '[' without ']'")
        host_part, rest = body[1:close], body[close + 1:]
        if rest and not rest.startswith(":"):
            raise WhyError(f"--to {text!r}: expected ':port' after ']'")
        port_text = rest[1:]
    elif body.count(":") == 1:
        host_part, port_text = body.split(":")
    else:
        host_part = body  # no port, or a bare IPv6 address
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise WhyError(f"--to {text!r}: port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    else:
        port = DEFAULT_PORT
        assumed.append(f"port {DEFAULT_PORT}")
    if not protocol:
        protocol = TCP
        assumed.append("TCP")
    host, addresses = "", None
    try:
        addresses = AddressSet.of_networks((ipaddress.ip_network(host_part, strict=False),))
    except ValueError:
        name = host_part.strip().lower().rstrip(".")
        if not _HOST.match(name) or name.startswith("*"):
            raise WhyError(f"--to {text!r}: {host_part!r} is neither an IP address, a CIDR nor a host name") from None
        host = name
    if ip:
        if not host:
            raise WhyError("--ip gives the address a host name resolves to: --to must then be a host name")
        try:
            addresses = AddressSet.of_networks((ipaddress.ip_network(ip.strip(), strict=False),))
        except ValueError:
            raise WhyError(f"--ip {ip!r} is not an IP address or CIDR") from None
    if app_protocol:
        chosen = app_protocol.strip().lower()
        if chosen not in APP_PROTOCOLS:
            raise WhyError(f"--app-protocol {app_protocol!r}: expected one of {', '.join(APP_PROTOCOLS)}")
    else:
        chosen = {80: "http", 1433: "mssql"}.get(port, "https")
    return Destination(raw, host, addresses, port, protocol, chosen, tuple(assumed))


def find_cluster(estate: "Estate", wanted: str) -> "ManagedCluster":
    """A cluster by ARM id or name (case-insensitive); an unknown or ambiguous name is an error
    that lists the candidates (by id), so the user can pick one."""
    key = id_key(wanted.strip())
    if key in estate.clusters:
        return estate.clusters[key]
    named = sorted((c for c in estate.clusters.values() if c.header.name.lower() == wanted.strip().lower()),
                   key=lambda c: id_key(c.id))
    if len(named) == 1:
        return named[0]
    if named:
        raise WhyError(f"cluster name '{wanted}' is ambiguous; give one of these ids: "
                       + ", ".join(c.id for c in named))
    known = sorted(c.header.name for c in estate.clusters.values())
    raise WhyError(f"no cluster '{wanted}' in the estate (clusters: {', '.join(known) or 'none'})")


# --- the answer -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRef:
    """Where a rule lives: its policy and rule collection group (or classic firewall) and collection."""

    action: str
    kind: str  # network | application
    owner_id: str  # rule collection group, or the firewall for classic rules
    collection: str
    name: str
    locus: str

    @property
    def group(self) -> str:
        return last_segment(self.owner_id)

    @property
    def policy(self) -> str:
        return parent_id(self.owner_id) if "/rulecollectiongroups/" in self.owner_id.lower() else ""

    def describe(self) -> str:
        where = f"collection group '{self.group}'" if self.policy else f"firewall '{self.group}'"
        policy = f" of policy '{last_segment(self.policy)}'" if self.policy else ""
        return f"{self.kind} rule '{self.name}' in collection '{self.collection}', {where}{policy}"

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "policy": self.policy, "collection_group": self.owner_id,
                "collection": self.collection, "rule": self.name, "locus": self.locus}


def _ref(rule: FirewallRule) -> RuleRef:
    return RuleRef(rule.action, rule.kind, rule.owner_id, rule.collection, rule.name, rule.locus)


@dataclass(frozen=True)
class Hop:
    """One step of the path: what it is, which resource, and what it did."""

    kind: str  # subnet | route | next-hop | firewall | rule | hub
    id: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "text": self.text}


@dataclass(frozen=True)
class Part:
    """One verdict for a part of the subnet's addresses reaching a part of the destination."""

    verdict: str
    reason: str
    hops: tuple[Hop, ...]
    sources: tuple[str, ...]  # the subnet's addresses this holds for
    destinations: tuple[str, ...]  # the destination's addresses this holds for ('' entries: the host)
    firewall: str = ""  # firewall id when one was reached
    rule: RuleRef | None = None
    unknown: tuple[str, ...] = ()  # the missing data, for an unknown verdict
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reason": self.reason, "sources": list(self.sources),
                "destinations": list(self.destinations), "firewall": self.firewall,
                "rule": self.rule.as_dict() if self.rule else None, "unknown": list(self.unknown),
                "notes": list(self.notes), "hops": [h.as_dict() for h in self.hops]}


@dataclass(frozen=True)
class SubnetAnswer:
    subnet_id: str
    subnet_name: str
    pools: tuple[str, ...]
    parts: tuple[Part, ...]

    @property
    def verdict(self) -> str:
        return combine(p.verdict for p in self.parts)

    def as_dict(self) -> dict[str, Any]:
        return {"subnet": self.subnet_id, "name": self.subnet_name, "pools": list(self.pools),
                "verdict": self.verdict, "parts": [p.as_dict() for p in self.parts]}


@dataclass(frozen=True)
class WhyAnswer:
    cluster_id: str
    cluster_name: str
    destination: Destination
    subnets: tuple[SubnetAnswer, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> str:
        return combine(s.verdict for s in self.subnets)

    def as_dict(self) -> dict[str, Any]:
        d = self.destination
        return {
            "cluster": self.cluster_id, "name": self.cluster_name, "verdict": self.verdict,
            "destination": {"text": d.text, "host": d.host,
                            "addresses": d.addresses.describe(limit=1000) if d.addresses is not None else [],
                            "port": d.port, "protocol": d.protocol, "application_protocol": d.app_protocol,
                            "assumed": list(d.assumed)},
            "order": ORDER_NOTE, "notes": list(self.notes), "subnets": [s.as_dict() for s in self.subnets],
        }


def combine(verdicts: Iterable[str]) -> str:
    """The least controlled of several verdicts: unknown, then unfiltered, then denied, then allowed."""
    found = set(verdicts)
    return next((v for v in VERDICT_ORDER if v in found), UNKNOWN)


# --- the walk -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Query:
    """One packet shape: a source address, a destination address (None: the host's, unknown)."""

    version: int
    source: int
    destination: int | None
    host: str
    port: int
    protocol: str
    app_protocol: str


@dataclass(frozen=True)
class _Match:
    status: str  # YES | NO | MAYBE
    why: str = ""  # for MAYBE: what would settle it


def _network_match(rule: CompiledRule, q: _Query) -> _Match:
    """Whether a network rule matches the query, at both bounds of what it can match."""
    statuses = []
    reason = ""
    for bound in (LOWER, UPPER):
        sources, destinations, ports, protocols = rule.box(bound)
        family = sources.v4 if q.version == 4 else sources.v6
        if q.protocol not in protocols or q.port not in ports or q.source not in family:
            statuses.append(NO)
            continue
        targets = destinations.v4 if q.version == 4 else destinations.v6
        public = (PUBLIC_V4 if q.version == 4 else PUBLIC_V6)
        if q.destination is not None and q.destination in targets:
            statuses.append(YES)
        elif q.destination is None and targets.covers(public.v4 if q.version == 4 else public.v6):
            statuses.append(YES)
        elif q.host and q.host in rule.destination_fqdns:
            statuses.append(YES)
        elif q.destination is None and targets.overlaps(public.v4 if q.version == 4 else public.v6):
            statuses.append(MAYBE)
            shown = AddressSet(v4=targets) if q.version == 4 else AddressSet(v6=targets)
            reason = (f"it names {', '.join(shown.describe(3))}, and the address {q.host} resolves to is not "
                      "given (--ip)")
        elif rule.destinations.tags and (q.destination is not None or q.host):
            statuses.append(MAYBE)
            reason = (f"it names service tag(s) {', '.join(sorted(rule.destinations.tags))}, whose addresses are not "
                      "known offline")
        elif rule.destination_fqdns and not q.host:
            statuses.append(MAYBE)
            reason = f"it names FQDN(s) {', '.join(rule.destination_fqdns)}; which addresses they resolve to is not known"
        else:
            statuses.append(NO)
    if statuses == [YES, YES]:
        return _Match(YES)
    if statuses == [NO, NO]:
        return _Match(NO)
    if rule.gaps and YES in statuses:
        reason = "; ".join(rule.gaps)
    return _Match(MAYBE, reason or "; ".join(rule.gaps))


def _app_sources(estate: "Estate", rule: FirewallRule) -> Any:
    where = f"rule '{rule.name}' ({rule.owner_id}/{rule.locus})"
    return parse_addresses(rule.source_addresses, where=where).union(
        ip_group_addresses(estate, rule.source_ip_groups, where))


def _app_match(rule: FirewallRule, sources: Any, q: _Query) -> _Match:
    """Whether an application rule matches: protocol and port, source, then the host name."""
    if q.protocol != TCP:
        return _Match(NO)
    protocol_ok = False
    for entry in rule.protocols:
        kind, _, port = entry.partition(":")
        kind = kind.strip().lower()
        port_number = int(port) if port.strip().isdigit() else APP_DEFAULT_PORTS.get(kind, -1)
        if kind == q.app_protocol and port_number == q.port:
            protocol_ok = True
    if not protocol_ok:
        return _Match(NO)
    family = sources.ips.v4 if q.version == 4 else sources.ips.v6
    maybes = []
    if q.source not in family:
        if not sources.unknown:
            return _Match(NO)
        maybes.append("; ".join(sources.unknown))
    if not q.host:
        # Application rules match the name the client sends (SNI or Host header), not an address:
        # only a rule for every name matches whatever an address-only client sends.
        every = any(target_host(t) in ("*", "*.*") for t in rule.target_fqdns)
        return _Match(MAYBE if every and maybes else YES if every else NO, "; ".join(maybes))
    if any(fqdn_matches(t, q.host) for t in rule.target_fqdns):
        return _Match(MAYBE, "; ".join(maybes)) if maybes else _Match(YES)
    for url in rule.target_urls:
        if fqdn_matches(target_host(url), q.host):
            path = url.split("://", 1)[-1].partition("/")[2]
            if path.strip("/*"):
                maybes.append(f"it allows or denies only URL {url}, and which path is requested is not known")
            elif not maybes:
                return _Match(YES)
    maybes += [f"it names FQDN tag {t}, whose host names are not known offline" for t in rule.fqdn_tags]
    maybes += [f"it names web category {c}, which is not known offline" for c in rule.web_categories]
    if maybes and (rule.fqdn_tags or rule.web_categories or any("URL" in m for m in maybes)):
        return _Match(MAYBE, "; ".join(maybes))
    return _Match(NO)


def _rule_hop(rule: FirewallRule, decided: str) -> Hop:
    return Hop("rule", rule.owner_id, f"{_ref(rule).describe()} {decided}")


def _judge_firewall(estate: "Estate", firewall: "Firewall", q: _Query,
                    lead: tuple[Hop, ...]) -> tuple[str, str, RuleRef | None, tuple[str, ...], tuple[str, ...], tuple[Hop, ...]]:
    """(verdict, reason, deciding rule, unknown data, notes, hops) for a query reaching the firewall."""
    ruleset = effective_rules(estate, firewall)
    name = firewall.header.name
    hops = (*lead, Hop("firewall", firewall.id, f"firewall '{name}'"))
    if ruleset.gaps:
        return (UNKNOWN, f"firewall '{name}': part of its rules could not be read", None, tuple(ruleset.gaps), (),
                hops)
    maybes: list[tuple[FirewallRule, str]] = []
    decider: FirewallRule | None = None
    for compiled in network_rules(estate, ruleset).rules:
        match = _network_match(compiled, q)
        if match.status == YES:
            decider = compiled.rule
            break
        if match.status == MAYBE:
            maybes.append((compiled.rule, match.why))
    stage = "network"
    if decider is None:
        stage = "application"
        for rule, sources in _application_rules(estate, ruleset):
            match = _app_match(rule, sources, q)
            if match.status == YES:
                decider = rule
                break
            if match.status == MAYBE:
                maybes.append((rule, match.why))
    allow = decider is not None and decider.allows
    against = [(rule, why) for rule, why in maybes if rule.allows != allow]
    notes = tuple(f"{_ref(rule).describe()} may match first and would decide alike: {why}" for rule, why in maybes
                  if rule.allows == allow)
    if decider is not None:
        hops = (*hops, _rule_hop(decider, "allows it" if allow else "denies it"))
    if against:
        unknown = tuple(f"{_ref(rule).describe()} may match first ({why or 'its data could not be read'}) and would "
                        f"{'allow' if rule.allows else 'deny'} it" for rule, why in against)
        return UNKNOWN, f"firewall '{name}': an earlier rule may decide otherwise", None, unknown, notes, hops
    if decider is None:
        skipped = "" if q.protocol == TCP else " (application rules see HTTP, HTTPS and MSSQL over TCP only)"
        return (DENIED, f"denied by firewall '{name}': no rule matches, and Azure Firewall denies by default{skipped}",
                None, (), notes, hops)
    ref = _ref(decider)
    first = " (network rules are evaluated before application rules)" if stage == "network" and q.host else ""
    verb = "allowed" if allow else "denied"
    return (ALLOWED if allow else DENIED, f"{verb} by firewall '{name}', {ref.describe()}{first}", ref, (), notes, hops)


def _route_for(routes: tuple["Route", ...], version: int, address: int) -> "Route | None":
    """Longest matching prefix; on a tie the earlier route in the table (as `routing.partition`)."""
    best = None
    for route in routes:
        network = route.network
        if network is None or network.version != version:
            continue
        start = int(network.network_address)
        if start <= address < start + network.num_addresses and (best is None or
                                                                   network.prefixlen > best.network.prefixlen):
            best = route
    return best


def _route_label(route: "Route") -> str:
    hop = f"{route.next_hop_type} {route.next_hop_ip}".strip()
    return f"route '{route.name}' ({route.address_prefix} -> {hop})"


@dataclass(frozen=True)
class _Steering:
    """Where one destination address goes from the subnet: a firewall, or a verdict already."""

    hops: tuple[Hop, ...]
    firewall: "Firewall | None" = None
    verdict: str = ""
    reason: str = ""
    unknown: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _steer(estate: "Estate", path: EgressPath, version: int, destination: int | None) -> _Steering:
    """The route that decides `destination` (None: a host name's unknown address) and its next hop."""
    subnet_hop = Hop("subnet", path.subnet_id, f"subnet '{path.subnet.name if path.subnet else last_segment(path.subnet_id)}'")
    lead: tuple[Hop, ...] = (subnet_hop,)
    if path.gap:
        return _Steering(lead, verdict=UNKNOWN, reason="the egress path could not be read", unknown=(path.gap,))
    notes: list[str] = []
    routes = path.route_table.routes if path.route_table else ()
    if path.route_table is not None:
        lead = (*lead, Hop("route-table", path.route_table.id, f"route table '{path.route_table.header.name}'"))
        broken = [r.defect for r in routes if r.network is None and not r.is_service_tag]
        if broken:
            return _Steering(lead, verdict=UNKNOWN, reason="a route of the subnet's table could not be read",
                             unknown=tuple(broken))
    if destination is None:
        # A host name: its address is not known, so only routes deciding "the Internet" as a whole
        # apply; narrower routes are named as what would change the answer.
        decision = path.decision_v6 if version == 6 else path.decision
        deciding = decision.deciding if decision else ()
        targets = {(r.next_hop_type.lower(), r.next_hop_ip) for r in deciding}
        if decision is not None and decision.uncovered:
            targets.add(("system", ""))
        if len(targets) > 1:
            return _Steering(lead, verdict=UNKNOWN, reason="where the traffic goes depends on the address the host "
                             "name resolves to", unknown=("the address the host name resolves to (give it with --ip)",))
        route = deciding[0] if deciding else None
        if decision is not None and decision.exceptions:
            notes.append("narrower routes send some addresses elsewhere: " + "; ".join(
                _route_label(r) for r in decision.exceptions) + " (give --ip to judge the host's own address)")
    else:
        route = _route_for(routes, version, destination)
        tagged = [r for r in routes if r.is_service_tag and (route is None or
                                                              (r.next_hop_type.lower(), r.next_hop_ip) !=
                                                              (route.next_hop_type.lower(), route.next_hop_ip))]
        if tagged:
            return _Steering(lead, verdict=UNKNOWN, reason="a service-tag route may decide this address",
                             unknown=tuple(f"whether the address is in service tag '{r.address_prefix}' (route "
                                           f"'{r.name}' sends it to {r.next_hop_type} {r.next_hop_ip})".rstrip()
                                           for r in tagged))
    if route is None:
        hub = path.hub_route  # set only when the subnet's table lets the hub's route in
        if hub is not None:
            lead = (*lead, Hop("hub", hub.connection.id, f"Virtual WAN hub connection '{hub.connection.header.name}' "
                               f"(steered by {last_segment(hub.steered_by)}: {hub.rule})"))
            if hub.firewall is None:
                return _Steering(lead, verdict=UNKNOWN, reason="the hub's firewall could not be read",
                                 unknown=(hub.gap,), notes=tuple(notes))
            return _Steering(lead, firewall=hub.firewall, notes=tuple(notes))
        if path.hub_unknown:
            return _Steering(lead, verdict=UNKNOWN, reason="a Virtual WAN hub may steer this traffic",
                             unknown=(path.hub_unknown,), notes=tuple(notes))
        via = "Azure's system route 0.0.0.0/0 -> Internet" if version == 4 else "Azure's system route ::/0 -> Internet"
        lead = (*lead, Hop("route", "", via))
        return _Steering(lead, verdict=UNFILTERED, reason=f"leaves unfiltered through {via}{_exit_note(path)}",
                         notes=tuple(notes))
    lead = (*lead, Hop("route", route.id, _route_label(route)))
    if route.defect:
        return _Steering(lead, verdict=UNKNOWN, reason=f"route '{route.name}' could not be read",
                         unknown=(route.defect,))
    kind = route.next_hop_type.lower()
    if kind == "internet":
        return _Steering(lead, verdict=UNFILTERED,
                         reason=f"leaves unfiltered through {_route_label(route)}{_exit_note(path)}", notes=tuple(notes))
    if kind == "none":
        return _Steering(lead, verdict=DENIED, reason=f"dropped by {_route_label(route)} (next hop None)",
                         notes=tuple(notes))
    if not route.to_appliance:
        return _Steering(lead, verdict=UNKNOWN, reason=f"{_route_label(route)} sends it where aksaudit cannot follow",
                         unknown=(f"what lies beyond next hop {route.next_hop_type} (not in the estate)",),
                         notes=tuple(notes))
    next_hop = resolve_next_hop(estate, path.subnet.vnet_id if path.subnet else parent_id(path.subnet_id), path.vnet,
                                route.next_hop_ip, path.subnet)
    if next_hop.kind == FIREWALL and next_hop.firewall is not None:
        via = f" over peering '{next_hop.peering.name}'" if next_hop.peering else ""
        lead = (*lead, Hop("next-hop", next_hop.peering.id if next_hop.peering else "",
                           f"next hop {route.next_hop_ip}{via}"))
        if next_hop.blocked:
            return _Steering(lead, verdict=DENIED, reason=f"dropped: the firewall cannot be reached ({next_hop.blocked})",
                             notes=tuple(notes))
        return _Steering(lead, firewall=next_hop.firewall, notes=tuple(notes))
    if next_hop.kind == UNRESOLVED:
        why = next_hop.reason
    elif next_hop.kind == FIREWALL_PUBLIC_IP:
        why = f"next hop {route.next_hop_ip} is a public IP of firewall '{next_hop.firewall.header.name}', not a private one"
    else:
        why = (f"next hop {route.next_hop_ip} is no firewall aksaudit can read (an appliance there, and what it "
               f"allows, is not in the estate)")
    return _Steering(lead, verdict=UNKNOWN, reason=f"{_route_label(route)} leads to an unknown next hop",
                     unknown=(why,), notes=tuple(notes))


def _exit_note(path: EgressPath) -> str:
    if path.subnet is not None and path.subnet.nat_gateway_id:
        return f" (via NAT gateway '{last_segment(path.subnet.nat_gateway_id)}')"
    return f" (outbound type {path.cluster.outbound_type})" if path.cluster.outbound_type else ""


def _cuts(spans: IntervalSet, boundaries: Iterable[int]) -> list[tuple[int, int]]:
    """`spans` cut at every boundary inside it."""
    points = sorted({b for s, e in spans.spans for b in (s, e)} | {b for b in boundaries
                                                                   if any(s < b < e for s, e in spans.spans)})
    return [(s, e) for s, e in zip(points, points[1:]) if s in spans]


def _rule_boundaries(estate: "Estate", firewalls: Iterable["Firewall"], side: str, version: int) -> set[int]:
    found: set[int] = set()
    for firewall in firewalls:
        found |= _ruleset_boundaries(estate, effective_rules(estate, firewall), side, version)
    return found


def _ruleset_boundaries(estate: "Estate", ruleset: "RuleSet", side: str, version: int) -> frozenset[int]:
    """Where any rule's sources or destinations start or end: once per rule set (many subnets ask)."""
    compiled = network_rules(estate, ruleset)
    key = ("why-boundaries", side, version)
    if key not in compiled.memo:
        found: set[int] = set()
        for rule in compiled.rules:
            for bound in (LOWER, UPPER):
                box = rule.box(bound)[0 if side == "source" else 1]
                found.update((box.v4 if version == 4 else box.v6).boundaries())
        if side == "source":
            for _, sources in _application_rules(estate, ruleset):
                found.update((sources.ips.v4 if version == 4 else sources.ips.v6).boundaries())
        compiled.memo[key] = frozenset(found)
    return compiled.memo[key]


def _application_rules(estate: "Estate", ruleset: "RuleSet") -> tuple[tuple[FirewallRule, Any], ...]:
    """The Allow and Deny application rules in processing order, with their sources parsed once."""
    compiled = network_rules(estate, ruleset)
    if "why-application" not in compiled.memo:
        compiled.memo["why-application"] = tuple(
            (rule, _app_sources(estate, rule)) for rule in ruleset.rules
            if rule.kind == APPLICATION and rule.action in ("allow", "deny"))
    return compiled.memo["why-application"]


def _route_boundaries(path: EgressPath, version: int) -> set[int]:
    found: set[int] = set()
    for route in path.route_table.routes if path.route_table else ():
        if route.network is not None and route.network.version == version:
            start = int(route.network.network_address)
            found.update((start, start + route.network.num_addresses))
    return found


def _describe(version: int, start: int, end: int) -> str:
    span = IntervalSet.span(start, end)
    return (AddressSet(v4=span) if version == 4 else AddressSet(v6=span)).describe()[0]


def _subnet_answer(estate: "Estate", path: EgressPath, dest: Destination) -> SubnetAnswer:
    prefixes = path.subnet.prefixes if path.subnet else ()
    sources = AddressSet.of_networks(prefixes)
    name = path.subnet.name if path.subnet else last_segment(path.subnet_id)
    if path.subnet is not None and not prefixes and not path.gap:
        part = Part(UNKNOWN, "the subnet's addresses are not known", (Hop("subnet", path.subnet_id, f"subnet '{name}'"),),
                    (), (), unknown=(f"subnet {path.subnet_id} came without address prefixes",))
        return SubnetAnswer(path.subnet_id, name, path.pools, (part,))
    versions = [4] if dest.addresses is None or dest.addresses.v4 else []
    versions += [6] if dest.addresses is not None and dest.addresses.v6 else []
    results: dict[tuple, tuple[list[str], list[str], Part]] = {}
    for version in versions:
        source_spans = sources.v4 if version == 4 else sources.v6
        if not source_spans:
            part = Part(UNKNOWN if path.gap else DENIED, "the subnet has no IPv6 addresses" if version == 6 else
                        "the subnet has no IPv4 addresses", (Hop("subnet", path.subnet_id, f"subnet '{name}'"),),
                        (), (), unknown=(path.gap,) if path.gap else ())
            results.setdefault((part.verdict, part.reason), ([], [], part))
            continue
        if dest.addresses is None:
            dest_pieces: list[tuple[int, int] | None] = [None]
        else:
            spans = dest.addresses.v4 if version == 4 else dest.addresses.v6
            followed_cuts = set((_NOT_FOLLOWED.v4 if version == 4 else _NOT_FOLLOWED.v6).boundaries())
            dest_pieces = list(_cuts(spans, _route_boundaries(path, version) | followed_cuts
                                     | _rule_boundaries(estate, path.firewalls, "destination", version)))
        source_pieces = _cuts(source_spans, _rule_boundaries(estate, path.firewalls, "source", version))
        for piece in dest_pieces:
            address = piece[0] if piece else None
            followed = (_NOT_FOLLOWED.v4 if version == 4 else _NOT_FOLLOWED.v6)
            steering = _steer(estate, path, version, address)
            for s_start, s_end in source_pieces:
                if address is not None and address in followed:
                    part = Part(UNKNOWN, "not an Internet address: aksaudit follows Internet-bound egress only",
                                steering.hops[:1], (), (), unknown=("routing to private and special-purpose addresses "
                                                                    "(VNet, peering, on-premises) is not modelled",))
                elif steering.firewall is None:
                    part = Part(steering.verdict, steering.reason, steering.hops, (), (), unknown=steering.unknown,
                                notes=steering.notes)
                else:
                    q = _Query(version, s_start, address, dest.host, dest.port, dest.protocol, dest.app_protocol)
                    verdict, reason, rule, unknown, notes, hops = _judge_firewall(estate, steering.firewall, q,
                                                                                  steering.hops)
                    part = Part(verdict, reason, hops, (), (), steering.firewall.id, rule, unknown,
                                (*steering.notes, *notes))
                key = (part.verdict, part.reason, part.hops, part.unknown, part.notes)
                entry = results.setdefault(key, ([], [], part))
                entry[0].append(_describe(version, s_start, s_end))
                entry[1].append(_describe(version, *piece) if piece else dest.host)
    parts = []
    for sources_seen, dests_seen, part in results.values():
        merged_sources = _merge_described(sources_seen)
        merged_dests = _merge_described(dests_seen)
        parts.append(Part(part.verdict, part.reason, part.hops, merged_sources, merged_dests, part.firewall, part.rule,
                          part.unknown, part.notes))
    return SubnetAnswer(path.subnet_id, name, path.pools, tuple(parts))


def _merge_described(items: list[str]) -> tuple[str, ...]:
    """Pieces back as few CIDRs and ranges as possible (host names kept as they are)."""
    names = [i for i in dict.fromkeys(items) if not _is_address(i)]
    addresses = parse_addresses([i for i in items if _is_address(i)]).ips
    return (*addresses.describe(limit=1000), *names)


def _is_address(text: str) -> bool:
    from .addresses import parse_address
    return parse_address(text) is not None


def why(estate: "Estate", cluster: "ManagedCluster", destination: Destination) -> WhyAnswer:
    """The answer for every AKS subnet of `cluster` (see the module docstring)."""
    paths = cluster_paths(estate, cluster)
    notes = []
    if destination.assumed:
        notes.append("assumed " + " and ".join(destination.assumed) + " (not given)")
    if destination.host and destination.addresses is None:
        notes.append("no address given for the host name (--ip): network rules that depend on it may leave the "
                     "answer unknown")
    if not paths:
        return WhyAnswer(cluster.id, cluster.header.name, destination, (_managed_vnet_answer(cluster),), tuple(notes))
    return WhyAnswer(cluster.id, cluster.header.name, destination,
                     tuple(_subnet_answer(estate, path, destination) for path in paths), tuple(notes))


def _managed_vnet_answer(cluster: "ManagedCluster") -> SubnetAnswer:
    """A cluster in an AKS-managed VNet has no route table of the user's: it leaves by its outbound type."""
    kind = (cluster.outbound_type or "").lower()
    hops = (Hop("cluster", cluster.id, f"cluster '{cluster.header.name}' in an AKS-managed VNet"),)
    if cluster.pools_unread or cluster.outbound_type_unread:
        part = Part(UNKNOWN, "the cluster's subnets could not be read", hops, (), (),
                    unknown=tuple(r for r in (cluster.pools_unread, cluster.outbound_type_unread) if r))
    elif kind in ("loadbalancer", "managednatgateway", ""):
        part = Part(UNFILTERED, f"leaves unfiltered through outbound type {cluster.outbound_type or 'loadBalancer'} "
                    "(an AKS-managed VNet has no route to a firewall)", hops, (), ())
    elif kind == "block":
        part = Part(DENIED, "outbound type block: AKS blocks egress from the cluster", hops, (), ())
    else:
        part = Part(UNKNOWN, f"outbound type {cluster.outbound_type} in an AKS-managed VNet", hops, (), (),
                    unknown=(f"where outbound type {cluster.outbound_type} sends traffic",))
    return SubnetAnswer("", "(AKS-managed VNet)", tuple(p.name for p in cluster.pools), (part,))


# --- rendering ------------------------------------------------------------------------------------

def render_text(answer: WhyAnswer) -> str:
    """The answer for a terminal: one block per subnet, the hops as an arrow chain."""
    lines = [f"{answer.cluster_name} -> {answer.destination.describe()}: {answer.verdict.upper()}"]
    lines += [f"  note: {n}" for n in answer.notes]
    for subnet in answer.subnets:
        pools = f" (pools {', '.join(subnet.pools)})" if subnet.pools else ""
        lines.append(f"  subnet {subnet.subnet_name}{pools}: {subnet.verdict}")
        for part in subnet.parts:
            indent = "    "
            if len(subnet.parts) > 1:
                lines.append(f"    from {', '.join(part.sources)} to {', '.join(part.destinations)}:")
                indent = "      "
            lines.append(f"{indent}{part.verdict}: {part.reason}")
            lines.append(f"{indent}path: " + " -> ".join(h.text for h in part.hops))
            lines += [f"{indent}unknown: {u}" for u in part.unknown]
            lines += [f"{indent}note: {n}" for n in part.notes]
    return "\n".join(lines) + "\n"
