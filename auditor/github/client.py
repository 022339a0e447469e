"""The few code scanning REST endpoints the uploader needs, over the standard library.

No SDK: the workflow token and four endpoints are all it takes, and a dependency would have to
be installed in every scan job. Transient answers (5xx, rate limits with `Retry-After`) are
retried a few times; anything else is raised with GitHub's own message, so a rejection is loud.
"""
from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

API_VERSION = "2022-11-28"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
RETRIES = 4


class ApiError(Exception):
    """An answer the uploader cannot go on from: status, method, path and GitHub's message."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class CodeScanning:
    api_url: str  # e.g. https://api.github.com, or $GITHUB_API_URL on GitHub Enterprise Server
    repository: str  # owner/name
    token: str
    timeout: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def _url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        url = f"{self.api_url.rstrip('/')}/repos/{self.repository}/code-scanning/{path}"
        return url + ("?" + urllib.parse.urlencode(query) if query else "")

    def _request(self, method: str, url: str, body: Any = None) -> tuple[Any, Mapping[str, str]]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {self.token}",
                   "X-GitHub-Api-Version": API_VERSION, "User-Agent": "aksaudit"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(RETRIES + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read().decode("utf-8")
                    return (json.loads(text) if text else None), dict(response.headers)
            except urllib.error.HTTPError as error:
                text = error.read().decode("utf-8", "replace")
                wait = _retry_after(error.code, error.headers, text, attempt)
                if wait is None or attempt == RETRIES:
                    raise ApiError(error.code, method, urllib.parse.urlsplit(url).path, _message(text)) from None
                self.sleep(wait)
            except urllib.error.URLError as error:
                if attempt == RETRIES:
                    raise ApiError(0, method, urllib.parse.urlsplit(url).path, str(error.reason)) from None
                self.sleep(2.0 ** attempt)
        raise AssertionError("unreachable")

    def upload(self, gzipped_sarif: bytes, commit_sha: str, ref: str) -> str:
        """POST .../code-scanning/sarifs; the id to poll."""
        body = {"commit_sha": commit_sha, "ref": ref, "sarif": base64.b64encode(gzipped_sarif).decode("ascii")}
        answer, _ = self._request("POST", self._url("sarifs"), body)
        return str(answer["id"])

    def processing(self, sarif_id: str) -> Mapping[str, Any]:
        """GET .../code-scanning/sarifs/{id}: processing_status pending|complete|failed, errors."""
        answer, _ = self._request("GET", self._url(f"sarifs/{urllib.parse.quote(sarif_id, safe='')}"))
        return answer

    def alerts(self, **query: str) -> Iterator[Mapping[str, Any]]:
        """Every alert matching `query` (tool_name, ref, state), following the Link header."""
        url: str | None = self._url("alerts", {**query, "per_page": 100})
        while url:
            page, headers = self._request("GET", url)
            yield from page
            found = _NEXT.search(headers.get("Link", "") or headers.get("link", ""))
            url = found.group(1) if found else None

    def update_alert(self, number: int, state: str, reason: str | None = None, comment: str | None = None) -> None:
        """PATCH .../code-scanning/alerts/{number}: dismiss (with reason and comment) or reopen."""
        body: dict[str, Any] = {"state": state}
        if state == "dismissed":
            body.update(dismissed_reason=reason, dismissed_comment=comment or "")
        self._request("PATCH", self._url(f"alerts/{int(number)}"), body)


def _message(text: str) -> str:
    try:
        answer = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(answer, dict):
        return str(answer.get("message", text))[:500] + "".join(f"; {e}" for e in answer.get("errors", ())[:5])
    return text[:500]


def _retry_after(status: int, headers: Any, text: str, attempt: int) -> float | None:
    """Seconds to wait before trying again, or None when the answer is final."""
    if status in (500, 502, 503, 504):
        return 2.0 ** attempt
    limited = status == 429 or (status == 403 and "rate limit" in text.lower())
    if not limited:
        return None
    after = headers.get("Retry-After") if headers else None
    if after and after.isdigit():
        return float(after)
    reset = headers.get("X-RateLimit-Reset") if headers else None
    if reset and reset.isdigit():
        return max(1.0, float(reset) - time.time())
    return 60.0
