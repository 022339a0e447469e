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

An application rule with the `AzureKubernetesService` FQDN tag over HTTPS covers them all.
Otherwise each FQDN needs an `Allow` application rule (HTTPS 443) whose target FQDN or wildcard
covers it, or an `Allow` network rule for TCP 443 naming it in `destinationFqdns` or reaching
any destination. The rules' sources (CIDRs, `*`, IP groups expanded) must together cover the
whole node subnet; a `Deny` rule met earlier in processing order blocks what it matches. When
the live collector read the cluster's own dependency list (`outboundNetworkDependenciesEndpoints`
rows), its HTTPS domains replace the list above. Options: `required_fqdns` (an entry may give
alternatives as `a or b`), `public_cluster_fqdns` (`{region}` is replaced), `fqdn_tag`,
`excluded_endpoint_categories`.

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
from aksaudit.api import (
    APPLICATION, NETWORK, AddressSet, T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_POLICY, T_RCG, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_VNET,
    CheckMeta, Severity, effective_rules, fail, passed, skipped,
)
from aksaudit.checks.cluster.aks003_required_egress_blocked.requirements import Requirement, requirements
from aksaudit.checks.cluster.aks003_required_egress_blocked.settled import settled_lookups  # noqa: F401 (see below)
from aksaudit.checks.firewall.scope import (
    carries_tcp, expand_addresses, overlaps_any, port_allowed, reaches_everywhere, uncovered,
)

META = CheckMeta(
    id="AKS003",
    slug="required-egress-blocked",
    title="Firewall blocks AKS's own required egress",
    severity=Severity.MEDIUM,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP),
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


def _matches(estate, rule, requirement: Requirement, tag: str) -> tuple[bool, list[str]]:
    """Whether the rule's destination side matches the requirement, and IP groups it could not read.

    An allow needs to match one alternative; a deny blocks only when it matches all of them.
    """
    names = any if rule.allows else all
    if rule.kind == NETWORK:
        if not (carries_tcp(rule) and port_allowed(rule, HTTPS_PORT)):
            return False, []
        if names(any(fqdn_covers(d, alt) for d in rule.destination_fqdns) for alt in requirement.alternatives):
            return True, []
        destinations, missing = expand_addresses(estate, rule.destination_addresses, rule.destination_ip_groups)
        return reaches_everywhere(destinations), missing
    if rule.kind == APPLICATION and _https(rule):
        if tag.lower() in (t.strip().lower() for t in rule.fqdn_tags):
            return True, []
        return names(any(fqdn_covers(t, alt) for t in _targets(rule)) for alt in requirement.alternatives), []
    return False, []


class RuleWalk:
    """One firewall's rules, indexed once so each cluster path walks only the rules that matter.

    `verdict` used to try every rule against every requirement for every node subnet; with
    hundreds of rules per hub and thousands of clusters behind it that dominated a scan. The
    destination side of a rule (`_matches`) does not depend on the subnet, so it is worked out
    here once per ruleset: rules whose match needs no FQDN (FQDN tag, any destination, unreadable
    IP groups) are listed up front, and FQDN patterns are indexed by exact name and by wildcard
    suffix so a requirement finds the rules covering it by lookup. Per subnet, only those rules
    are walked, in processing order, with exactly the old semantics.
    """

    def __init__(self, estate, ruleset, tag: str) -> None:
        self.estate, self.ruleset, self.tag = estate, ruleset, tag
        self.rules = [r for r in ruleset.rules if r.action in ("allow", "deny")]
        self._static: dict[int, tuple[bool, list[str]]] = {}  # alternative-independent outcomes
        self._exact: dict[str, set[int]] = {}  # normalised pattern -> rules naming it
        self._suffix: dict[str, set[int]] = {}  # what follows '*' in a wildcard pattern -> rules
        self._allows = frozenset(pos for pos, rule in enumerate(self.rules) if rule.allows)
        self._entries: dict[tuple[str, ...], list[tuple[int, bool, list[str]]]] = {}
        self._covering: dict[str, frozenset[int]] = {}
        self._sources: dict[int, tuple[tuple[str, ...], list[str]]] = {}
        lowered_tag = tag.lower()
        for pos, rule in enumerate(self.rules):
            if rule.kind == NETWORK:
                if not (carries_tcp(rule) and port_allowed(rule, HTTPS_PORT)):
                    continue
                destinations, missing = expand_addresses(estate, rule.destination_addresses, rule.destination_ip_groups)
                everywhere = reaches_everywhere(destinations)
                if everywhere or missing:
                    self._static[pos] = (everywhere, missing)
                self._index(pos, rule.destination_fqdns)
            elif rule.kind == APPLICATION and _https(rule):
                if lowered_tag in (t.strip().lower() for t in rule.fqdn_tags):
                    self._static[pos] = (True, [])
                else:
                    self._index(pos, _targets(rule))

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
            for start in range(len(wanted) + 1):
                hits.update(self._suffix.get(wanted[start:], ()))
            found = self._covering[alternative] = frozenset(hits)
        return found

    def entries(self, requirement: Requirement) -> list[tuple[int, bool, list[str]]]:
        """(position, hit, unreadable IP groups) for every rule whose `_matches` is not (False, [])."""
        key = requirement.alternatives
        found = self._entries.get(key)
        if found is not None:
            return found
        if not key:  # all() of nothing is true: every deny would match; keep the plain walk
            found = [(pos, *_matches(self.estate, rule, requirement, self.tag)) for pos, rule in enumerate(self.rules)]
            found = [entry for entry in found if entry[1] or entry[2]]
        else:
            covering = [self._covers(alternative) for alternative in key]
            any_of, all_of = frozenset().union(*covering), frozenset.intersection(*covering)
            outcome = dict(self._static)
            for pos in (any_of & self._allows) | (all_of - self._allows):
                outcome[pos] = (True, [])
            found = [(pos, hit, missing) for pos, (hit, missing) in sorted(outcome.items()) if hit or missing]
        self._entries[key] = found
        return found

    def _sources_of(self, pos: int) -> tuple[tuple[str, ...], list[str]]:
        found = self._sources.get(pos)
        if found is None:
            rule = self.rules[pos]
            found = self._sources[pos] = expand_addresses(self.estate, rule.source_addresses, rule.source_ip_groups)
        return found

    def verdict(self, prefixes, wanted: list[Requirement]) -> dict:
        """Per requirement, what stays uncovered or who blocks it (see `verdict`)."""
        subnet = AddressSet.of_networks(prefixes)  # immutable: every requirement starts from the same set
        remaining = {r.label: subnet for r in wanted}
        blocked: dict[str, tuple[tuple[int, int], object]] = {}  # label -> ((position, order), rule)
        gaps = list(self.ruleset.gaps)
        groups: dict[str, list[tuple[int, Requirement]]] = {}
        for order, requirement in enumerate(wanted):
            groups.setdefault(requirement.label, []).append((order, requirement))
        for label, members in groups.items():
            # Requirements sharing a label share its state, rule by rule, as in the full walk.
            per_member = [(order, dict(((pos, (hit, missing)) for pos, hit, missing in self.entries(r))))
                          for order, r in members]
            positions = sorted(set().union(*(entries for _, entries in per_member)))
            for pos in positions:
                if not remaining[label] or label in blocked:
                    break
                rule = self.rules[pos]
                for order, entries in per_member:
                    if not remaining[label] or label in blocked:
                        break
                    hit, missing = entries.get(pos, (False, []))
                    gaps += missing
                    if not hit:
                        continue
                    sources, missing = self._sources_of(pos)
                    gaps += missing
                    if rule.allows:
                        remaining[label] = uncovered(remaining[label], sources)
                    elif overlaps_any(remaining[label], sources):
                        blocked[label] = ((pos, order), rule)
        ordered = sorted(blocked.items(), key=lambda item: item[1][0])
        return {
            "missing": [r.label for r in wanted if remaining[r.label] and r.label not in blocked],
            "uncovered": {label: nets.describe(limit=20) for label, nets in remaining.items()
                          if nets and label not in blocked},
            "blocked": [{"fqdn": label, "rule": rule.name, "collection": rule.collection, "locus": rule.locus,
                         "owner": rule.owner_id} for label, (_, rule) in ordered],
            "gaps": sorted(set(gaps)),
        }


def verdict(estate, ruleset, prefixes, wanted: list[Requirement], tag: str) -> dict:
    """Walk the rules in processing order; per requirement, what stays uncovered or who blocks it."""
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
    return [p for p in candidates if p.cluster is cluster and p.subnet is not None
            and p.subnet.id.lower() in node_subnets]


def evaluate(estate, options):
    tag = str(options.get("fqdn_tag", "AzureKubernetesService"))
    by_cluster = _paths_by_cluster(estate)
    walks: dict[int, RuleWalk] = {}  # per ruleset: one index however many clusters share the firewall
    for cluster in estate.clusters.values():
        wanted = requirements(estate, cluster, options)
        problems, gaps, judged = [], [], False
        for path in _node_paths(estate, cluster, by_cluster.get(id(cluster), ())):
            gaps.extend(path.hub_gaps)
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
