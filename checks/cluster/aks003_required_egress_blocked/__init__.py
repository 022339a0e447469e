"""Firewall blocks AKS's own required egress.

**What it checks**
For every node subnet of a cluster whose egress path reaches an Azure Firewall (through a UDR,
or a Virtual WAN hub's routing intent), the firewall's effective rules (base policies included,
in processing order: network rules, then application rules; parent collections first) must let
the subnet reach every FQDN AKS needs over HTTPS:

* `mcr.microsoft.com`, `*.data.mcr.microsoft.com`, `mcr-0001.mcr-msedge.net`,
* `management.azure.com`, `login.microsoftonline.com`, `packages.microsoft.com`,
* `acs-mirror.azureedge.net` or `packages.aks.azure.com`,
* `*.hcp.<region>.azmk8s.io` (or the cluster's own API server FQDN) unless the cluster is private.

The FQDNs' addresses are not known offline, so network rules are read as the traffic they allow:
for every public address an FQDN might have, the first network rule matching (node subnet,
address, TCP 443) decides. Network rules whose destinations together cover every public address
(`*`, `0.0.0.0/0`, the `/1` halves in two rules, a range, IP groups) let the FQDN through; so
does one naming it in `destinationFqdns`. A network `Deny` deciding any public address first
blocks it. What no network rule decides meets the application rules: an application rule with
the `AzureKubernetesService` FQDN tag over HTTPS covers every FQDN, otherwise each FQDN needs an
`Allow` application rule (HTTPS 443) whose target FQDN or wildcard covers it. The rules' sources
(CIDRs, ranges, `*`, IP groups expanded) must together cover the whole node subnet; a `Deny`
application rule met earlier in processing order blocks what it matches. A rule whose addresses,
ports or protocols could not be read, or a network rule naming a service tag (whose prefixes are
not known offline: a `Deny` of `Storage` may match the FQDN's address), makes the cluster
`skipped` only when reading it could turn the verdict. When
the live collector read the cluster's own dependency list (`outboundNetworkDependenciesEndpoints`
rows), its HTTPS domains replace the list above. Options: `required_fqdns` (an entry may give
alternatives as `a or b`), `public_cluster_fqdns` (`{region}` is replaced), `fqdn_tag`,
`excluded_endpoint_categories`. A cluster whose pools, node subnet, route table or routes, rule
collections or rules (name, kind, action, priority, protocols, ports, sources, targets), policy
chain or own dependency list could not be read, or whose next hop may be a firewall that could
not be read, is `skipped`, naming the datum.

**Why it matters**
A firewall that filters well but forgets AKS's dependencies breaks the cluster, not at once but
at the worst time: nodes cannot pull system images, scale-out and upgrades fail, certificates
are not rotated. The usual emergency fix is an any/any rule that stays forever. Checking the
required egress lets teams tighten rules without fear of cutting the cluster off.

Live scans ask the AKS API for a cluster's own list only when it can change this verdict: not
when the firewall already fails the domains every cluster's list holds (`settled_lookups`,
see settled.py), nor when no firewall can be on the cluster's path (collect/relevance.py).

**How to fix**
Add an application rule for the node subnet with the FQDN tag: `az network firewall policy
rule-collection-group collection add-filter-collection ... --rule-type ApplicationRule
--fqdn-tags AzureKubernetesService --protocols Https=443 --source-addresses <node subnet>`, plus
the network rules AKS documents (UDP 1194, TCP 9000, UDP 123). Move any `Deny` rule that matches
these FQDNs below the allow, or narrow it.
"""
from dataclasses import dataclass

from aksaudit.api import (
    APPLICATION, NETWORK, AddressSet, T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_POLICY, T_RCG, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_VNET,
    CheckMeta, FixKind, Severity, effective_rules, fail, passed, skipped,
    DENIED, LOWER, TCP, UNDECIDED, UPPER, Addresses, SourceCells, T_PUBLIC_IP, atom_reach, ip_group_addresses, network_rules, parse_addresses, source_parts,
)
from aksaudit.checks.cluster.aks003_required_egress_blocked.requirements import (
    Requirement, Requirements,
)
from aksaudit.checks.cluster.aks003_required_egress_blocked.settled import settled_lookups  # noqa: F401 (see below)
from aksaudit.checks.evidence import unidentified_next_hops

@dataclass(frozen=True, kw_only=True)
class BlockedFqdn:
    fqdn: str
    rule: str
    collection: str


@dataclass(frozen=True, kw_only=True)
class PathReach:
    """What one subnet's firewall lets through of AKS's required egress."""

    subnet_name: str
    subnet_prefixes: tuple[str, ...]
    firewall_name: str
    policy: str | None
    missing: tuple[str, ...]
    blocked: tuple[BlockedFqdn, ...]


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    paths: tuple[PathReach, ...]


META = CheckMeta(
    id="AKS003",
    slug="required-egress-blocked",
    title="Firewall blocks AKS's own required egress",
    severity=Severity.MEDIUM,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/aks/outbound-rules-control-egress",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic",
                "https://learn.microsoft.com/azure/firewall/rule-processing"),
    tags=("cluster", "firewall", "egress"),
    options={
        "required_fqdns": ("mcr.microsoft.com", "*.data.mcr.microsoft.com", "mcr-0001.mcr-msedge.net",
                           "management.azure.com", "login.microsoftonline.com", "packages.microsoft.com",
                           "acs-mirror.azureedge.net or packages.aks.azure.com"),
        "public_cluster_fqdns": ("*.hcp.{region}.azmk8s.io",),
        "fqdn_tag": "AzureKubernetesService",
        "excluded_endpoint_categories": (),
    },
)

HTTPS_PORT = 443
BLOCKED, UNCOVERED = "blocked", "uncovered"  # what a walk finds of a requirement it does not let through


def fqdn_covers(pattern: str, wanted: str) -> bool:
    """Whether a firewall FQDN pattern matches every host `wanted` names (itself a host or `*.` wildcard)."""
    pattern, wanted = pattern.strip().lower().rstrip("."), wanted.strip().lower().rstrip(".")
    if pattern in ("*", wanted):
        return True
    # '*.x.com' matches subdomains only (not 'x.com'); it also covers a narrower wildcard '*.a.x.com'
    return pattern.startswith("*") and wanted.endswith(pattern[1:])


def _https(rule) -> bool:
    for protocol in rule.protocols:
        kind, _, port = protocol.partition(":")
        if kind.strip().lower() == "https" and port.strip() in ("", str(HTTPS_PORT)):
            return True
    return False


def _targets(rule) -> list[str]:
    """Target FQDNs, plus URL targets that allow a whole host (`host` or `host/*`)."""
    hosts = list(rule.target_fqdns)
    for url in rule.target_urls:
        host, _, path = url.split("://", 1)[-1].partition("/")
        if path in ("", "*"):
            hosts.append(host)
    return hosts


def _names_host(rule, requirement: Requirement) -> bool:
    """Whether a network rule's `destinationFqdns` match the requirement's host.

    An Allow needs to match one alternative; a Deny blocks only when it matches all of them.
    """
    names = any if rule.allow else all
    return names(any(fqdn_covers(d, alt) for d in rule.destination_fqdns) for alt in requirement.alternatives)


def _app_matches(rule, requirement: Requirement, tag: str) -> bool:
    """Whether an application rule's targets match the requirement (same any/all reading as above)."""
    if not _https(rule):
        return False
    if tag.lower() in (t.strip().lower() for t in rule.fqdn_tags):
        return True
    names = any if rule.allows else all
    return names(any(fqdn_covers(t, alt) for t in _targets(rule)) for alt in requirement.alternatives)


class RuleWalk:
    """One firewall's rules, asked per node subnet whether AKS's required egress gets through.

    Network rules first, as Azure evaluates them: for every public address the host might have,
    the first network rule matching (subnet, address, TCP 443) decides (`reach_host`: the union of
    what the rules allow, so `0.0.0.0/1` and `128.0.0.0/1` in two rules reach everywhere as `*`
    does). What no network rule decides meets the application rules, walked in processing order:
    an Allow whose target covers the host takes its sources out of what remains, a Deny matching
    what remains blocks it. Both are worked out at the two bounds of unreadable data: the subnet
    passes only when it passes at the least the rules can allow, and fails only when it fails at
    the most. Application rules are indexed once per ruleset (FQDN patterns by exact name and by
    wildcard suffix), so each subnet walks only the rules that can match.
    """

    def __init__(self, estate, ruleset, tag: str) -> None:
        self.estate, self.ruleset, self.tag = estate, ruleset, tag
        self.net = network_rules(estate, ruleset)
        self.rules = [r for r in ruleset.rules if r.kind == APPLICATION and r.action in ("allow", "deny")]
        self._static: set[int] = set()  # rules matching whatever the host (the FQDN tag)
        self._exact: dict[str, set[int]] = {}  # normalised pattern -> rules naming it
        self._suffix: dict[str, set[int]] = {}  # what follows '*' in a wildcard pattern -> rules
        self._allows = frozenset(pos for pos, rule in enumerate(self.rules) if rule.allows)
        self._entries: dict[tuple[str, ...], list[int]] = {}
        self._covering: dict[str, frozenset[int]] = {}
        self._sources: dict[int, Addresses] = {}
        self._fqdn_rules = tuple(rule for rule in self.net.rules if rule.destination_fqdns)
        self._named: dict[str, frozenset[int]] = {}
        self._kinds: dict[tuple[str, ...], int] = {}
        self._shapes: dict[tuple, int] = {}
        self._cells: SourceCells | None = None
        self._verdicts: dict[tuple, tuple[list, list[str]]] = {}
        lowered_tag = tag.lower()
        self._https = frozenset(pos for pos, rule in enumerate(self.rules) if _https(rule))
        for pos, rule in enumerate(self.rules):
            if pos in self._https:
                if lowered_tag in (t.strip().lower() for t in rule.fqdn_tags):
                    self._static.add(pos)
                else:
                    self._index(pos, _targets(rule))
        self._suffix_lengths = sorted({len(suffix) for suffix in self._suffix})

    def _index(self, pos: int, patterns) -> None:
        for pattern in patterns:
            pattern = pattern.strip().lower().rstrip(".")
            self._exact.setdefault(pattern, set()).add(pos)
            if pattern.startswith("*"):
                self._suffix.setdefault(pattern[1:], set()).add(pos)

    def _covers(self, alternative: str) -> frozenset[int]:
        """Rules with a pattern for which `fqdn_covers(pattern, alternative)` holds."""
        found = self._covering.get(alternative)
        if found is None:
            wanted = alternative.strip().lower().rstrip(".")
            hits = set(self._exact.get(wanted, ()))
            hits.update(self._exact.get("*", ()))
            for length in self._suffix_lengths:  # every tail of `wanted` some wildcard could end with
                if length > len(wanted):
                    break
                hits.update(self._suffix.get(wanted[len(wanted) - length:], ()))
            found = self._covering[alternative] = frozenset(hits)
        return found

    def entries(self, requirement: Requirement) -> list[int]:
        """Positions of the application rules matching the requirement (`_app_matches`), in order."""
        key = requirement.alternatives
        found = self._entries.get(key)
        if found is None:
            if not key:  # all() of nothing is true: every deny would match; keep the plain walk
                found = [pos for pos, rule in enumerate(self.rules) if _app_matches(rule, requirement, self.tag)]
            else:
                covering = [self._covers(alternative) for alternative in key]
                any_of, all_of = frozenset().union(*covering), frozenset.intersection(*covering)
                found = sorted(self._static | (any_of & self._allows) | (all_of - self._allows))
            self._entries[key] = found
        return found

    def _sources_of(self, pos: int) -> Addresses:
        found = self._sources.get(pos)
        if found is None:
            rule = self.rules[pos]
            where = f"rule '{rule.name}' ({rule.owner_id}/{rule.locus})"
            found = self._sources[pos] = parse_addresses(rule.source_addresses, where=where).union(
                ip_group_addresses(self.estate, rule.source_ip_groups, where))
        return found

    def _outcome(self, parts, requirement: Requirement, bound: str) -> tuple[AddressSet, object, list[str]]:
        """(what stays unallowed, the rule blocking it or None, unreadable sources of application rules)."""
        undecided, denied, first = [], [], None
        for version, atom in parts:
            outcome, deny = atom_reach(self.net, version, atom, TCP, HTTPS_PORT, bound,
                                       lambda rule: _names_host(rule, requirement))
            if outcome == DENIED:
                denied.append(atom.addresses)
                if deny is not None and (first is None or deny.position < first.position):
                    first = deny
            elif outcome == UNDECIDED:
                undecided.append(atom.addresses)
        if denied:
            return AddressSet().union(*denied), first.rule if first else None, []
        if not undecided:
            return AddressSet(), None, []
        remaining = undecided[0].union(*undecided[1:])
        gaps: list[str] = []
        for pos in self.entries(requirement):
            rule, sources = self.rules[pos], self._sources_of(pos)
            gaps += sources.unknown
            if rule.allows:
                remaining = remaining - sources.ips
                if not remaining:
                    break
            elif remaining.overlaps(sources.ips):
                return remaining, rule, gaps
        return remaining, None, gaps

    def _naming(self, alternative: str) -> frozenset[int]:
        """Positions of the network rules whose `destinationFqdns` cover the alternative (`_names_host`)."""
        found = self._named.get(alternative)
        if found is None:
            found = self._named[alternative] = frozenset(
                rule.position for rule in self._fqdn_rules
                if any(fqdn_covers(d, alternative) for d in rule.destination_fqdns))
        return found

    def _kind(self, requirement: Requirement) -> int:
        """A number shared by requirements every rule matches alike: the same application rules cover
        each alternative, the same network rules name it. A public cluster's own API server FQDN is a
        new name per cluster, but the rules match it as they match its neighbours'."""
        key = requirement.alternatives
        found = self._kinds.get(key)
        if found is None:
            shape = tuple((self._covers(alternative), self._naming(alternative)) for alternative in key)
            found = self._kinds[key] = self._shapes.setdefault(shape, len(self._shapes))
        return found

    def _judge(self, subnet: AddressSet, wanted: list[Requirement]) -> tuple[list, list[str]]:
        """Per requirement None (allowed), (BLOCKED, the rule blocking it) or (UNCOVERED, what stays
        unallowed); and what could not be read."""
        gaps = list(self.ruleset.gaps)
        outcomes: list = []
        lower_parts = source_parts(self.net, subnet, TCP, HTTPS_PORT, LOWER)
        for requirement in wanted:
            lower = self._outcome(lower_parts, requirement, LOWER)
            gaps += lower[2]
            if not lower[0]:
                outcomes.append(None)  # allowed even at the least the rules can allow
                continue
            upper = self._outcome(source_parts(self.net, subnet, TCP, HTTPS_PORT, UPPER), requirement, UPPER)
            gaps += upper[2]
            if not upper[0]:  # allowed only if what could not be read (or a tag's contents) allows it
                gaps += [gap for rule in self.net.rules for gap in rule.imprecise]
                outcomes.append(None)
                continue
            outcomes.append((BLOCKED, upper[1]) if upper[1] is not None else (UNCOVERED, upper[0]))
        return outcomes, sorted(set(gaps))

    @staticmethod
    def _by_cells(outcomes: list, subnet: AddressSet, cells) -> list | None:
        """The outcomes with each unallowed set as the positions of the cells it is made of (None
        for the whole subnet), or None when one is not made of cells: then they are not kept."""
        shaped: list = []
        for outcome in outcomes:
            if outcome is None or outcome[0] == BLOCKED:
                shaped.append(outcome)
                continue
            left = outcome[1]
            if left == subnet:
                shaped.append((UNCOVERED, None))
                continue
            picked = tuple(i for i, (_, part) in enumerate(cells) if part.overlaps(left))
            if AddressSet().union(*(cells[i][1] for i in picked)) != left:
                return None
            shaped.append((UNCOVERED, picked))
        return shaped

    @staticmethod
    def _from_cells(outcome, subnet: AddressSet, cells):
        """An outcome kept by `_by_cells`, in terms of this subnet's cells."""
        if outcome is None or outcome[0] == BLOCKED:
            return outcome
        picked = outcome[1]
        return UNCOVERED, subnet if picked is None else AddressSet().union(*(cells[i][1] for i in picked))

    def verdict(self, prefixes, wanted: list[Requirement]) -> dict:
        """Per requirement, what stays uncovered or who blocks it, and what could not be read.

        Worked out once per ruleset, kind of requirement (`_kind`) and keys of the subnet's cells
        (`SourceCells`: the parts every rule that can decide the walk holds wholly or not at all),
        since the walk asks only which rules hold which part; other subnets with the same keys get
        the same answer, in terms of their own addresses.
        """
        subnet = AddressSet.of_networks(prefixes)  # immutable: every requirement starts from the same set
        if self._cells is None:
            self._cells = SourceCells(self.net, TCP, HTTPS_PORT, (LOWER, UPPER),
                                      tuple(self._sources_of(pos).ips for pos in sorted(self._https)))
        cells = self._cells.cells(subnet)
        kinds = self._kinds
        key = (tuple(k for k, _ in cells),
               tuple(kinds[r.alternatives] if r.alternatives in kinds else self._kind(r) for r in wanted))
        known = self._verdicts.get(key)
        if known is None:
            outcomes, gaps = self._judge(subnet, wanted)
            shaped = self._by_cells(outcomes, subnet, cells)
            if shaped is not None:
                self._verdicts[key] = (shaped, gaps)
        else:
            shaped, gaps = known
            outcomes = [self._from_cells(outcome, subnet, cells) for outcome in shaped]
        return self._report(wanted, outcomes, gaps)

    @staticmethod
    def _report(wanted: list[Requirement], outcomes: list, gaps: list[str]) -> dict:
        if not any(outcomes):  # everything allowed: the usual case
            return {"missing": [], "uncovered": {}, "blocked": [], "gaps": list(gaps)}
        remaining: dict[str, AddressSet] = {}
        blocked: dict[str, object] = {}
        for requirement, outcome in zip(wanted, outcomes):
            if outcome is None:
                continue
            if outcome[0] == BLOCKED:
                blocked.setdefault(requirement.label, outcome[1])
            else:
                remaining[requirement.label] = remaining.get(requirement.label, AddressSet()) | outcome[1]
        described: dict[AddressSet, list[str]] = {}
        for nets in remaining.values():
            if nets not in described:
                described[nets] = nets.describe(limit=20)
        return {
            "missing": [r.label for r in wanted if r.label in remaining and r.label not in blocked],
            "uncovered": {label: list(described[nets]) for label, nets in remaining.items() if label not in blocked},
            "blocked": [{"fqdn": label, "rule": rule.name, "collection": rule.collection, "locus": rule.locus,
                         "owner": rule.owner_id} for label, rule in blocked.items()],
            "gaps": list(gaps),
        }


def verdict(estate, ruleset, prefixes, wanted: list[Requirement], tag: str) -> dict:
    """Network rules by the traffic they allow, then application rules in processing order (see `RuleWalk`)."""
    return RuleWalk(estate, ruleset, tag).verdict(prefixes, wanted)


def _paths_by_cluster(estate) -> dict[int, list]:
    """Egress paths grouped by cluster object, in one pass (scanning all paths per cluster was quadratic)."""
    grouped: dict[int, list] = {}
    for path in estate.egress_paths:
        grouped.setdefault(id(path.cluster), []).append(path)
    return grouped


def _node_paths(estate, cluster, paths=None):
    node_subnets = {p.vnet_subnet_id.lower() for p in cluster.pools if p.vnet_subnet_id}
    candidates = estate.egress_paths if paths is None else paths
    return [p for p in candidates if p.cluster is cluster
            and (p.subnet.id if p.subnet is not None else p.subnet_id).lower() in node_subnets]


def evaluate(estate, options):
    tag = str(options.get("fqdn_tag", "AzureKubernetesService"))
    by_cluster = _paths_by_cluster(estate)
    walks: dict[int, RuleWalk] = {}  # per ruleset: one index however many clusters share the firewall
    required = Requirements(estate, options)
    for cluster in estate.clusters.values():
        wanted = required.of(cluster)
        problems, judged = [], False
        gaps = [gap for gap in (cluster.pools_unread, required.unread(cluster)) if gap]
        for path in _node_paths(estate, cluster, by_cluster.get(id(cluster), ())):
            if path.gap:  # the subnet, its route table or a route could not be read
                gaps.append(path.gap)
                continue
            gaps.extend(path.hub_gaps)
            gaps.extend(unidentified_next_hops(path))
            for firewall in path.firewalls:
                judged = True
                ruleset = effective_rules(estate, firewall)
                walk = walks.get(id(ruleset))
                if walk is None or walk.ruleset is not ruleset:
                    walk = walks[id(ruleset)] = RuleWalk(estate, ruleset, tag)
                result = walk.verdict(path.subnet.prefixes, wanted)
                if result["gaps"]:
                    gaps += result["gaps"]
                elif result["missing"] or result["blocked"]:
                    problems.append({"subnet": path.subnet.id, "subnet_name": path.subnet.name,
                                     "subnet_prefixes": [str(p) for p in path.subnet.prefixes],
                                     "firewall": firewall.id, "firewall_name": firewall.header.name,
                                     "policy": firewall.policy_id, **result})
        if problems:
            missing = [r.label for r in wanted if any(r.label in p["missing"] for p in problems)]
            blocked = [r.label for r in wanted if any(r.label == b["fqdn"] for p in problems for b in p["blocked"])]
            parts = [f"not allowed: {', '.join(missing)}"] if missing else []
            parts += [f"denied by an earlier rule: {', '.join(blocked)}"] if blocked else []
            yield fail(cluster.id,
                       f"The firewall on the egress path of cluster '{cluster.header.name}' does not let AKS's "
                       f"required egress through ({'; '.join(parts)}).",
                       evidence={"cluster": cluster.id, "private_cluster": cluster.private_cluster,
                                 "required": [r.label for r in wanted], "missing": missing, "blocked": blocked,
                                 "source": wanted[0].source if wanted else "", "paths": problems})
        elif gaps:
            yield skipped(cluster.id, "; ".join(sorted(set(gaps))))
        elif judged:
            yield passed(cluster.id)
