"""Reading every page of one Resource Graph query, through the real SDK, without losing track.

One `GraphReader.read` call is one query at one scope: it pages with `$skipToken`, asks the
quota limiter before each request, retries what retrying can fix, and returns what it got plus
a named error when anything is missing (a failed or lost page, a truncated result, a scope the
identity may not read). It never raises for missing data, because a partial scan must still be
reported; it raises only for authentication failures, which no amount of data can make useful.

Missing data is caught even when the service does not say so: a query that ends with fewer
rows than its `totalRecords` (a `$skipToken` lost on the way) is a named gap, and a page cut
off mid-body (a connection reset) is retried like a timeout. A `$skipToken` the service
refuses (it has expired) makes the query start over from page 1, once.
"""
from __future__ import annotations

import math
import random
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from .identity import is_auth_failure
from .progress import NullProgress, Progress
from .queries import PAGE_SIZE, TableQuery
from .throttle import (
    SUBSCRIPTION_LIMIT_HIT, Budget, Clock, QuotaLimiter, RetryPolicy, header, quota_of, retry_after, wait_for_429,
)

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
FORBIDDEN_CODES = frozenset({"authorizationfailed", "novalidsubscriptionsinqueryrequest", "forbidden"})


@dataclass(frozen=True)
class GraphScope:
    """What one request covers: listed subscriptions, management groups, or (neither) the tenant."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()

    def label(self) -> str:
        if self.management_groups:
            noun = "management group" if len(self.management_groups) == 1 else "management groups"
            return f"{noun} {', '.join(self.management_groups)}"
        if not self.subscriptions:
            return "tenant"
        if len(self.subscriptions) == 1:
            return f"subscription {self.subscriptions[0]}"
        if len(self.subscriptions) <= 3:
            return f"subscriptions {', '.join(self.subscriptions)}"
        return f"{len(self.subscriptions)} subscriptions ({self.subscriptions[0]} ... {self.subscriptions[-1]})"


@dataclass(frozen=True)
class QueryOutcome:
    """All rows one query returned at one scope, and what (if anything) is missing from them."""

    query: TableQuery
    scope: GraphScope
    rows: tuple[Mapping[str, Any], ...]
    pages: int
    error: str = ""
    forbidden: bool = False  # the identity may not read this scope at all
    limit_hit: bool = False  # Resource Graph only searched the first 10,000 subscriptions

    @property
    def complete(self) -> bool:
        return not self.error and not self.limit_hit


class Unreadable(Exception):
    """A page that cannot be had; `forbidden` when the identity lacks access to the scope, `codes`
    the ARM error codes of the last answer (lower-cased)."""

    def __init__(self, message: str, forbidden: bool = False, codes: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.forbidden = forbidden
        self.codes = codes


def shortfall(label: str, rows: Sequence[Mapping[str, Any]], total: int | None, pages: int) -> str:
    """A named gap when fewer distinct rows arrived than Resource Graph counted (totalRecords):
    a page went missing without an error, e.g. a $skipToken lost on the way ('' when none did)."""
    if total is None:
        return ""
    distinct = len({str(row.get("id", index)).lower() if isinstance(row, Mapping) else index
                    for index, row in enumerate(rows)})
    if distinct >= total:
        return ""
    return (f"{label}: Resource Graph counted {total} row(s) (totalRecords) but {distinct} arrived in "
            f"{pages} page(s); the rest is missing")


@dataclass(frozen=True)
class FirstPage:
    """Page 1 of a query read with offset paging: its rows, and how many pages the rest takes."""

    query: TableQuery
    scope: GraphScope
    key: str
    label: str
    rows: tuple[Mapping[str, Any], ...]
    total: int | None  # totalRecords, when the service reported it
    token: str | None  # $skipToken for the next page; None when page 1 was the last
    limit_hit: bool
    error: str = ""
    forbidden: bool = False
    cut_short: bool = False  # more pages exist but were not read (the 10,000-subscription cap was hit)
    too_large: bool = False  # page 1 exceeded the response size limit: re-read with smaller pages


# Resource Graph refuses an answer over 16 MiB: HTTP 400 BadRequest, detail code
# ResponsePayloadTooLarge ("Response payload size is N, and has exceeded the limit of 16777216.
# Please consider querying less data at a time ..."). 1,000 rule collection groups with hundreds
# of rules each are far more than that, so such a query is read again with half the rows a page.
TOO_LARGE = "responsepayloadtoolarge"


def _too_large(failure: Unreadable) -> bool:
    return TOO_LARGE in failure.codes


class _Tally:
    """Pages and rows read so far by one query's concurrent page reads, for the progress display."""

    def __init__(self, pages: int, rows: int) -> None:
        self.pages, self.rows = pages, rows
        self.lock = threading.Lock()


def error_codes(error: HttpResponseError) -> set[str]:
    """The ARM error code and its detail codes, lower-cased (403 and 'no valid subscriptions')."""
    codes: set[str] = set()
    pending = [getattr(error, "error", None)]
    while pending:
        item = pending.pop()
        if item is None:
            continue
        if getattr(item, "code", None):
            codes.add(str(item.code).lower())
        pending.extend(getattr(item, "details", None) or ())
    return codes


def describe(error: BaseException) -> str:
    if isinstance(error, HttpResponseError) and error.status_code is not None:
        status = error.status_code
        code = getattr(getattr(error, "error", None), "code", None) or error.reason or ""
        details = sorted(error_codes(error) - {str(code).lower()})
        code += f" ({', '.join(_detail_codes(error, details))})" if details else ""
        message = getattr(getattr(error, "error", None), "message", None) or ""
        return f"HTTP {status} {code}{': ' + message.splitlines()[0] if message else ''}".strip()
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".strip()


def _detail_codes(error: HttpResponseError, lowered: list[str]) -> list[str]:
    """The detail codes as the service spelled them (e.g. InvalidSkipToken), in `lowered`'s order."""
    spelled: dict[str, str] = {}
    pending = list(getattr(getattr(error, "error", None), "details", None) or ())
    while pending:
        item = pending.pop()
        if getattr(item, "code", None):
            spelled.setdefault(str(item.code).lower(), str(item.code))
        pending.extend(getattr(item, "details", None) or ())
    return [spelled.get(code, code) for code in lowered]


def _hook(pipeline_response: Any, deserialized: Any, _headers: Any) -> tuple[Any, Mapping[str, str]]:
    """The SDK's `cls=` hook: the parsed page plus the raw headers, where the quota is reported."""
    return deserialized, pipeline_response.http_response.headers


class GraphReader:
    """Runs queries through one `ResourceGraphClient`; safe to share between worker threads."""

    def __init__(self, client: Any, *, clock: Clock, limiter: QuotaLimiter, policy: RetryPolicy, budget: Budget,
                 progress: Progress | None = None, page_size: int = PAGE_SIZE, timeout: float = 60.0,
                 rand: Callable[[], float] = random.random) -> None:
        self._client = client
        self._clock = clock
        self._limiter = limiter
        self._policy = policy
        self._budget = budget
        self._progress = progress or NullProgress()
        self._page_size = page_size
        self._timeout = timeout
        self._rand = rand

    def read(self, query: TableQuery, scope: GraphScope, key: str = "", top: int | None = None) -> QueryOutcome:
        """The whole query by $skipToken, `top` rows a page (the reader's page size by default).

        A page over Resource Graph's response size limit restarts the query with half as many rows
        a page, down to one; a $skipToken the service refuses restarts it once.
        """
        key = key or f"{query.table}@{scope.label()}"
        label = f"{query.table} ({scope.label()})"
        top = top or self._page_size
        self._progress.started(key, label)
        rows: list[Mapping[str, Any]] = []
        pages, token, limit_hit = 0, None, False
        error, forbidden = "", False
        total: int | None = None
        restarted = 0
        while True:
            try:
                page, headers = self._page(query, scope, token, label, top=top)
            except Unreadable as failure:
                if _too_large(failure) and top > 1:
                    top = max(1, top // 2)
                    rows, pages, token, total = [], 0, None, None
                    self._progress.waiting(label, 0.0, f"a page exceeded Resource Graph's response size limit; "
                                                       f"reading the query again, {top} rows a page")
                    continue
                if token and "invalidskiptoken" in failure.codes and not restarted:
                    # The token expired (or the service lost it): start over from page 1, once.
                    restarted, rows, pages, token, total = pages, [], 0, None, None
                    self._progress.waiting(label, 0.0, f"$skipToken refused on page {restarted + 1}; "
                                                       "reading the query again from page 1")
                    continue
                forbidden = failure.forbidden
                lost = f"page {pages + 1} could not be read; rows after page {pages} are missing" if pages else ""
                error = f"{label}: {failure}" + (f" ({lost})" if lost else "")
                break
            pages += 1
            rows.extend(page.data or ())
            if page.total_records is not None:
                total = max(total or 0, page.total_records)
            self._progress.page(key, pages, len(rows))
            limit_hit = limit_hit or (header(headers, SUBSCRIPTION_LIMIT_HIT) or "").lower() == "true"
            if str(page.result_truncated).lower() == "true":
                error = (f"{label}: Resource Graph truncated the result (resultTruncated=true) after "
                         f"{len(rows)} row(s); the rest is missing")
                break
            token = page.skip_token
            if not token:
                break
        error = error or shortfall(label, rows, total, pages)
        self._progress.finished(key, pages, len(rows), error)
        return QueryOutcome(query, scope, tuple(rows), pages, error, forbidden, limit_hit)

    # --- offset paging: page 1 first, then every other page at once -------------------------
    #
    # Following $skipToken makes a query's pages a chain: one request in flight per query, so a
    # big table is read at 1 / latency pages per second whatever the quota allows. Page 1 says
    # how many rows there are (totalRecords); with the same query, scope and `order by id`, the
    # other pages are `$skip` offsets (documented for Resource Graph, and what `az graph query
    # --skip` sends) that can all be requested at once, so the quota limiter, not the latency,
    # sets the pace. The requests sent are exactly ceil(rows / page size), as with tokens.

    def start(self, query: TableQuery, scope: GraphScope, key: str = "", stop_at_limit: bool = True) -> FirstPage:
        """Read page 1. With `stop_at_limit`, a tenant or management-group query that hit the
        10,000-subscription cap reads no further: the collector re-reads it in batches anyway."""
        key = key or f"{query.table}@{scope.label()}"
        label = f"{query.table} ({scope.label()})"
        self._progress.started(key, label)
        try:
            page, headers = self._page(query, scope, None, label)
        except Unreadable as failure:
            return FirstPage(query, scope, key, label, (), None, None, False, f"{label}: {failure}", failure.forbidden,
                             too_large=_too_large(failure))
        rows = tuple(page.data or ())
        self._progress.page(key, 1, len(rows))
        limit_hit = (header(headers, SUBSCRIPTION_LIMIT_HIT) or "").lower() == "true"
        if str(page.result_truncated).lower() == "true":
            error = (f"{label}: Resource Graph truncated the result (resultTruncated=true) after "
                     f"{len(rows)} row(s); the rest is missing")
            return FirstPage(query, scope, key, label, rows, page.total_records, None, limit_hit, error)
        token = page.skip_token or None
        cut = bool(token) and limit_hit and stop_at_limit and not scope.subscriptions
        return FirstPage(query, scope, key, label, rows, page.total_records, None if cut else token, limit_hit,
                         cut_short=cut)

    def rest(self, first: FirstPage) -> range:
        """Indexes (0-based) of the pages still to read, all known from page 1's totalRecords
        (pages as large as page 1 was: the service may serve fewer rows than $top asks for)."""
        if not first.token or first.total is None or not first.rows:
            return range(0)
        return range(1, max(1, math.ceil(first.total / len(first.rows))))

    def page_at(self, first: FirstPage, index: int, tally: _Tally | None = None) -> Any:
        """Page `index` (0-based) by offset; raises Unreadable when it cannot be had."""
        page, _ = self._page(first.query, first.scope, None, first.label, skip=index * len(first.rows))
        if tally is not None:
            with tally.lock:
                tally.pages += 1
                tally.rows += len(page.data or ())
                self._progress.page(first.key, tally.pages, tally.rows)
        return page

    def tally(self, first: FirstPage) -> _Tally:
        return _Tally(1, len(first.rows))

    def finish(self, first: FirstPage, pages: Sequence[Future]) -> QueryOutcome:
        """Assemble the pages in order, with the same account of what is missing as `read` gives."""
        rows = list(first.rows)
        error, forbidden, count = first.error, first.forbidden, 1 if not first.error or first.rows else 0
        total = first.total or 0
        if first.too_large:
            return self._smaller_pages(first, pages, self._page_size // 2, 0)
        if not error:
            for index, future in enumerate(pages, start=1):
                try:
                    page = future.result()
                except Unreadable as failure:
                    if _too_large(failure):
                        return self._smaller_pages(first, pages, len(first.rows) // 2, count)
                    forbidden = failure.forbidden
                    error = (f"{first.label}: {failure} (page {index + 1} could not be read; rows after page "
                             f"{index} are missing)")
                    break
                count += 1
                rows.extend(page.data or ())
                total = max(total, page.total_records or 0)
                if str(page.result_truncated).lower() == "true":
                    error = (f"{first.label}: Resource Graph truncated the result (resultTruncated=true) after "
                             f"{len(rows)} row(s); the rest is missing")
                    break
            else:
                if first.token and (first.total is None or not first.rows):
                    # No totalRecords to plan offsets with: follow $skipToken from page 1, as `read` does.
                    outcome = self._follow(first, rows, count)
                    rows, count, error, forbidden = list(outcome.rows), outcome.pages, outcome.error, outcome.forbidden
                elif first.token and len({str(r.get("id", "")).lower() for r in rows}) < total:
                    # Fewer rows than the service counted (rows created meanwhile, or a short page
                    # mid-way): offsets no longer line up, so read the query again by $skipToken.
                    outcome = self.read(first.query, first.scope, first.key)
                    outcome = QueryOutcome(outcome.query, outcome.scope, outcome.rows, count + outcome.pages,
                                           outcome.error, outcome.forbidden, outcome.limit_hit or first.limit_hit)
                    return outcome
        if not first.cut_short:  # a query cut at the subscription cap is re-read in batches instead
            error = error or shortfall(first.label, rows, total if first.total is not None else None, count)
        if error:
            for future in pages:
                future.cancel()
        self._progress.finished(first.key, count, len(rows), error)
        return QueryOutcome(first.query, first.scope, tuple(rows), count, error, forbidden, first.limit_hit)

    def _smaller_pages(self, first: FirstPage, pages: Sequence[Future], top: int, count: int) -> QueryOutcome:
        """A page was over the response size limit: the pages still planned are dropped and the
        query is read again, `top` rows a page (halved again if need be)."""
        for future in pages:
            future.cancel()
        self._progress.waiting(first.label, 0.0, f"a page exceeded Resource Graph's response size limit; "
                                                 f"reading the query again, {max(1, top)} rows a page")
        outcome = self.read(first.query, first.scope, first.key, top=max(1, top))
        return QueryOutcome(outcome.query, outcome.scope, outcome.rows, count + outcome.pages, outcome.error,
                            outcome.forbidden, outcome.limit_hit or first.limit_hit)

    def _follow(self, first: FirstPage, rows: list[Mapping[str, Any]], count: int) -> QueryOutcome:
        """The rest of a query after page 1 by $skipToken, with `read`'s account of what is missing."""
        token, error, forbidden = first.token, "", False
        while token:
            try:
                page, _ = self._page(first.query, first.scope, token, first.label)
            except Unreadable as failure:
                forbidden = failure.forbidden
                error = f"{first.label}: {failure} (page {count + 1} could not be read; rows after page {count} are missing)"
                break
            count += 1
            rows.extend(page.data or ())
            if str(page.result_truncated).lower() == "true":
                error = (f"{first.label}: Resource Graph truncated the result (resultTruncated=true) after "
                         f"{len(rows)} row(s); the rest is missing")
                break
            token = page.skip_token
        return QueryOutcome(first.query, first.scope, tuple(rows), count, error, forbidden, first.limit_hit)

    def _request(self, query: TableQuery, scope: GraphScope, token: str | None, skip: int | None = None,
                 top: int | None = None) -> QueryRequest:
        return QueryRequest(
            subscriptions=list(scope.subscriptions) or None,
            management_groups=list(scope.management_groups) or None,
            query=query.kql,
            options=QueryRequestOptions(top=top or self._page_size, skip_token=token, skip=skip,
                                        result_format="objectArray"),
        )

    def _page(self, query: TableQuery, scope: GraphScope, token: str | None, label: str,
              skip: int | None = None, top: int | None = None) -> tuple[Any, Mapping[str, str]]:
        request = self._request(query, scope, token, skip, top)
        attempt = 0
        while True:
            held = self._limiter.acquire()
            if held >= 1.0:
                self._progress.waiting(label, held, "query quota spent, waited for it to reset")
            try:
                result = self._client.resources(request, cls=_hook, connection_timeout=self._timeout,
                                                read_timeout=self._timeout)
            except HttpResponseError as failure:
                headers = failure.response.headers if failure.response is not None else None
                self._limiter.release(headers)
                if is_auth_failure(failure):
                    raise
                wait, reason = self._classify(failure, headers, attempt)
            except (ServiceRequestError, ServiceResponseError) as failure:
                self._limiter.release(None)
                wait, reason = self._policy.backoff(attempt, self._rand), describe(failure)
            else:
                self._limiter.release(result[1])
                self._budget.progressed()
                return result
            attempt += 1
            if attempt >= self._policy.max_attempts:
                raise Unreadable(f"gave up after {attempt} attempts: {reason}")
            if not self._budget.allows(wait):
                raise Unreadable(f"retry budget of {self._budget.seconds:g}s exhausted after {attempt} "
                                 f"attempt(s): {reason}")
            self._progress.waiting(label, wait, f"{reason}; retry {attempt}")
            self._clock.sleep(wait)

    def _classify(self, failure: HttpResponseError, headers: Mapping[str, str] | None,
                  attempt: int) -> tuple[float, str]:
        """How long to wait before retrying; raises Unreadable for what a retry cannot fix."""
        status = failure.status_code or 0
        reason = describe(failure)
        if not status:  # no whole answer: the connection broke while the page was arriving
            return self._policy.backoff(attempt, self._rand), f"the page was cut off ({reason})"
        codes = frozenset(error_codes(failure))
        if status == 403 or codes & FORBIDDEN_CODES:
            raise Unreadable(f"not readable by this identity ({reason})", forbidden=True, codes=codes)
        if status not in RETRYABLE_STATUS:
            raise Unreadable(reason, codes=codes)
        if status == 429:
            wait = wait_for_429(headers, self._policy, attempt, self._rand)
            quota = quota_of(headers)
            # Everyone waits when the quota is spent, unknown, or Azure names a time; a 429 that
            # says quota remains concerns this request alone, and only it backs off.
            if retry_after(headers) is not None or quota.remaining is None or quota.remaining <= 0:
                self._limiter.hold(wait)
            return wait, "throttled (HTTP 429)"
        return self._policy.backoff(attempt, self._rand), reason
