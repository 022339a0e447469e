"""GitHub code scanning, faked on loopback from GitHub's documented REST API and SARIF limits.

Endpoints (REST API "Code scanning", version 2022-11-28):

* POST /repos/{owner}/{repo}/code-scanning/sarifs: `commit_sha` (40 hex), `ref` (`refs/...`),
  `sarif` (gzip, then base64). 202 with `{id, url}`; 413 when the gzipped SARIF is over 10 MB;
  422 for a malformed body; 401 without the token.
* GET .../code-scanning/sarifs/{id}: `processing_status` `pending` (on the first look, as the
  real service takes seconds), then `complete`, or `failed` with `errors`; 404 for an unknown id.
* GET .../code-scanning/alerts?tool_name=&ref=&state=&per_page=&page=: pages of alerts with a
  `Link: <...>; rel="next"` header.
* PATCH .../code-scanning/alerts/{number}: `state` open|dismissed; dismissing needs
  `dismissed_reason` ("false positive", "won't fix", "used in tests"), `dismissed_comment` is at
  most 280 characters; 422 otherwise.

Processing rejects a whole delivery, as code scanning does, for: more than 20 runs; more than
25,000 results or rules in a run; more than 20 tags on a rule; two runs of one category ("A
delivery cannot contain multiple runs with the same category"); a result without a location
("locationFromSarifResult: expected at least one location") or without an artifact URI
("locationFromSarifResult: expected artifact location"); a URI with a scheme other than `file`
('SARIF URI scheme "X" did not match the checkout URI scheme "file"'); a non-numeric
`security-severity` ("could not convert rules: invalid security severity value, is not a
number"). Those strings are the ones codeql-action's upload code recognises; limit rejections
start with "rejecting SARIF" as it expects, the rest of their wording is this fake's.

Alerts: identity is (tool, category, rule id, `primaryLocationLineHash`) on a ref. An analysis
replaces its category's: results seen open (or reopen a fixed alert); an open alert of the
category that is missing becomes `fixed`; a dismissed one stays dismissed. The alert's `rule`
(severity labels included) is taken from the latest analysis that holds it; security-severity
maps to labels as documented (>9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low).
"""
from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import threading
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

MAX_GZIP = 10 * 1000 * 1000
MAX_RUNS = 20
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_TAGS = 20
MAX_COMMENT = 280
REASONS = ("false positive", "won't fix", "used in tests")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)/code-scanning/(sarifs|alerts)(?:/([^/?]+))?$")


def security_label(value: Any) -> str | None:
    score = float(value)
    if score > 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score >= 0.1:
        return "low"
    return None


@dataclass
class Delivery:
    errors: list[str]
    looks: int = 0
    categories: tuple[str, ...] = ()


@dataclass
class FakeCodeScanning:
    """State of one repository's code scanning, and the limits it enforces."""

    repository: str = "octo/estate"
    token: str = "test-token"
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    alerts: dict[tuple[str, str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    analyses: list[dict[str, Any]] = field(default_factory=list)  # {ref, category, tool, results, executionSuccessful}
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Answers served before the next real ones: (status, headers, message), e.g. a secondary rate
    # limit (403 with Retry-After) or a 502 from the load balancer.
    faults: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- processing ----------------------------------------------------------------------------

    def process(self, log: Any, ref: str, commit_sha: str) -> Delivery:
        errors = _problems(log)
        runs = log.get("runs", []) if isinstance(log, dict) else []
        categories = tuple(str((run.get("automationDetails") or {}).get("id", "")) for run in runs)
        if errors:
            return Delivery(errors, categories=categories)
        for run, category in zip(runs, categories):
            self._analysis(run, category, ref, commit_sha)
        return Delivery([], categories=categories)

    def _analysis(self, run: dict, category: str, ref: str, commit_sha: str) -> None:
        driver = run["tool"]["driver"]
        tool = driver["name"]
        rules = {r["id"]: r for r in driver.get("rules", [])}
        invocation = (run.get("invocations") or [{}])[0]
        self.analyses.append({"ref": ref, "commit_sha": commit_sha, "category": category, "tool": tool,
                              "results": len(run["results"]),
                              "execution_successful": invocation.get("executionSuccessful", True)})
        seen = set()
        for result in run["results"]:
            fingerprint = result.get("partialFingerprints", {}).get("primaryLocationLineHash", "")
            key = (ref, tool, category, result["ruleId"], fingerprint)
            seen.add(key)
            alert = self.alerts.get(key)
            if alert is None:
                alert = {"number": len(self.alerts) + 1, "state": "open", "dismissed_reason": None,
                         "dismissed_comment": None, "dismissed_at": None, "tool": {"name": tool}}
                self.alerts[key] = alert
            elif alert["state"] == "fixed":
                alert["state"] = "open"
            alert["rule"] = _rule_view(rules.get(result["ruleId"], {"id": result["ruleId"]}), result)
            location = result["locations"][0]["physicalLocation"]
            alert["most_recent_instance"] = {
                "ref": ref, "category": category, "commit_sha": commit_sha, "state": "open",
                "message": {"text": result["message"]["text"]},
                "location": {"path": location["artifactLocation"]["uri"],
                             "start_line": location.get("region", {}).get("startLine")},
            }
        for key, alert in self.alerts.items():
            if key[:3] == (ref, tool, category) and key not in seen:
                alert["most_recent_instance"]["state"] = "fixed"
                if alert["state"] == "open":
                    alert["state"] = "fixed"

    # --- views ---------------------------------------------------------------------------------

    def alert_list(self, tool_name: str = "", ref: str = "", state: str = "") -> list[dict[str, Any]]:
        return [a for key, a in sorted(self.alerts.items(), key=lambda item: item[1]["number"])
                if (not tool_name or key[1] == tool_name) and (not ref or key[0] == ref)
                and (not state or a["state"] == state)]

    def alerts_numbered(self) -> dict[int, dict[str, Any]]:
        return {a["number"]: a for a in self.alerts.values()}

    def by_number(self, number: int) -> dict[str, Any] | None:
        return self.alerts_numbered().get(number)


def _rule_view(rule: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    severity = (rule.get("properties") or {}).get("security-severity")
    level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level", "warning")
    return {"id": rule["id"], "name": rule.get("name"), "severity": level,
            "security_severity_level": security_label(severity) if severity is not None else None,
            "description": (rule.get("shortDescription") or {}).get("text", ""),
            "tags": list((rule.get("properties") or {}).get("tags", []))}


def _problems(log: Any) -> list[str]:
    """Why code scanning would refuse this delivery (empty: accepted)."""
    if not isinstance(log, dict) or not isinstance(log.get("runs"), list):
        return ["rejecting SARIF, as it is not a SARIF log with a runs array"]
    runs = log["runs"]
    if len(runs) > MAX_RUNS:
        return [f"rejecting SARIF, as there are more runs than allowed ({len(runs)} > {MAX_RUNS})"]
    problems: list[str] = []
    categories = [str((run.get("automationDetails") or {}).get("id", "")) for run in runs]
    if len(set(categories)) != len(categories):
        problems.append("A delivery cannot contain multiple runs with the same category")
    for run in runs:
        results = run.get("results")
        if results is None:
            problems.append("rejecting SARIF, as a run has no results array")
            continue
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        if len(results) > MAX_RESULTS:
            problems.append(f"rejecting SARIF, as there are more results per run than allowed ({len(results)} > {MAX_RESULTS})")
        if len(rules) > MAX_RULES:
            problems.append(f"rejecting SARIF, as there are more rules per run than allowed ({len(rules)} > {MAX_RULES})")
        for rule in rules:
            properties = rule.get("properties") or {}
            if len(properties.get("tags", [])) > MAX_TAGS:
                problems.append(f"rejecting SARIF, as there are more tags per rule than allowed ({rule['id']})")
            if "security-severity" in properties:
                try:
                    float(properties["security-severity"])
                except (TypeError, ValueError):
                    problems.append("could not convert rules: invalid security severity value, is not a number")
        for result in results:
            problems += _location_problems(result)
    return list(dict.fromkeys(problems))


def _location_problems(result: dict[str, Any]) -> list[str]:
    locations = result.get("locations") or []
    if not locations:
        return ["locationFromSarifResult: expected at least one location"]
    uri = ((locations[0].get("physicalLocation") or {}).get("artifactLocation") or {}).get("uri", "")
    if not uri:
        return ["locationFromSarifResult: expected artifact location"]
    scheme = _SCHEME.match(uri)
    if scheme and scheme.group(1).lower() != "file":
        return [f'SARIF URI scheme "{scheme.group(1)}" did not match the checkout URI scheme "file"']
    if " " in uri.split("/")[0] or ":" in uri.split("/")[0]:
        return ["an invalid URI was provided as a SARIF location"]
    return []


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        fake = self.server.fake
        split = urllib.parse.urlsplit(self.path)
        match = _PATH.match(split.path)
        with fake.lock:
            fake.requests.append((method, split.path))
        if not match or f"{match.group(1)}/{match.group(2)}" != fake.repository:
            return self._send(404, {"message": "Not Found"})
        if self.headers.get("Authorization") not in (f"Bearer {fake.token}", f"token {fake.token}"):
            return self._send(401, {"message": "Bad credentials"})
        with fake.lock:
            fault = fake.faults.pop(0) if fake.faults else None
        if fault is not None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self._send(fault[0], {"message": fault[2]}, fault[1])
        kind, item = match.group(3), match.group(4)
        query = dict(urllib.parse.parse_qsl(split.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with fake.lock:
            handler = {("POST", "sarifs", False): self._upload, ("GET", "sarifs", True): self._status,
                       ("GET", "alerts", False): self._list, ("PATCH", "alerts", True): self._update,
                       ("GET", "alerts", True): self._one}.get((method, kind, item is not None))
            if handler is None:
                return self._send(404, {"message": "Not Found"})
            return handler(fake, item, query, body)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def _upload(self, fake: FakeCodeScanning, _item: Any, _query: Any, body: bytes) -> None:
        try:
            request = json.loads(body)
            sha, ref, sarif = request["commit_sha"], request["ref"], request["sarif"]
        except (ValueError, KeyError, TypeError):
            return self._send(422, {"message": "Invalid request: commit_sha, ref and sarif are required"})
        if not re.fullmatch(r"[0-9a-f]{40}", str(sha)) or not str(ref).startswith("refs/"):
            return self._send(422, {"message": "Invalid request: commit_sha must be 40 hex digits, ref a full ref"})
        try:
            compressed = base64.b64decode(sarif, validate=True)
        except (binascii.Error, ValueError):
            return self._send(400, {"message": "Bad Request: sarif is not valid base64"})
        if len(compressed) > MAX_GZIP:
            return self._send(413, {"message": "Payload Too Large: the SARIF file is too large"})
        try:
            log = json.loads(gzip.decompress(compressed))
        except (OSError, ValueError, EOFError):
            return self._send(400, {"message": "Bad Request: sarif is not gzip-compressed SARIF JSON"})
        sarif_id = f"{len(fake.deliveries) + 1:08d}-fake"
        fake.deliveries[sarif_id] = fake.process(log, ref, sha)
        base = f"http://{self.headers.get('Host')}/repos/{fake.repository}/code-scanning/sarifs/{sarif_id}"
        return self._send(202, {"id": sarif_id, "url": base})

    def _status(self, fake: FakeCodeScanning, item: str, _query: Any, _body: bytes) -> None:
        delivery = fake.deliveries.get(item)
        if delivery is None:
            return self._send(404, {"message": "Not Found"})
        delivery.looks += 1
        if delivery.looks == 1:
            return self._send(200, {"processing_status": "pending", "analyses_url": None})
        if delivery.errors:
            return self._send(200, {"processing_status": "failed", "analyses_url": None, "errors": delivery.errors})
        return self._send(200, {"processing_status": "complete", "analyses_url": "", "errors": None})

    def _list(self, fake: FakeCodeScanning, _item: Any, query: dict[str, str], _body: bytes) -> None:
        per_page = min(100, int(query.get("per_page", 30)))
        page = int(query.get("page", 1))
        found = fake.alert_list(query.get("tool_name", ""), query.get("ref", ""), query.get("state", ""))
        chunk = found[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(found):
            following = urllib.parse.urlencode({**query, "page": page + 1})
            headers["Link"] = (f'<http://{self.headers.get("Host")}/repos/{fake.repository}/code-scanning/alerts?'
                               f'{following}>; rel="next"')
        return self._send(200, chunk, headers)

    def _one(self, fake: FakeCodeScanning, item: str, _query: Any, _body: bytes) -> None:
        alert = fake.by_number(int(item)) if item.isdigit() else None
        return self._send(200, alert) if alert else self._send(404, {"message": "Not Found"})

    def _update(self, fake: FakeCodeScanning, item: str, _query: Any, body: bytes) -> None:
        alert = fake.by_number(int(item)) if item.isdigit() else None
        if alert is None:
            return self._send(404, {"message": "Not Found"})
        try:
            request = json.loads(body)
        except ValueError:
            return self._send(400, {"message": "Problems parsing JSON"})
        state = request.get("state")
        if state not in ("open", "dismissed"):
            return self._send(422, {"message": "Invalid request: state must be open or dismissed"})
        if state == "dismissed":
            if request.get("dismissed_reason") not in REASONS:
                return self._send(422, {"message": "Invalid request: dismissed_reason is required when dismissing"})
            comment = request.get("dismissed_comment") or ""
            if len(comment) > MAX_COMMENT:
                return self._send(422, {"message": f"Invalid request: dismissed_comment is longer than {MAX_COMMENT}"})
            alert.update(state="dismissed", dismissed_reason=request["dismissed_reason"], dismissed_comment=comment,
                         dismissed_at="2026-01-01T00:00:00Z")
        else:
            alert.update(state="open", dismissed_reason=None, dismissed_comment=None, dismissed_at=None)
        return self._send(200, alert)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeCodeScanning) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def running(fake: FakeCodeScanning | None = None) -> Iterator[tuple[str, FakeCodeScanning]]:
    """(API base URL, state) of a fake served on a free loopback port for the duration."""
    fake = fake or FakeCodeScanning()
    server = _Server(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()
