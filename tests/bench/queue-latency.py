#!/usr/bin/env python3
"""Latency of the queue (Q1), privacy requests (Q2) and the triage view's inbox, saved views,
trends and stats (Q3) against a running, seeded feedbackd.

Called by tests/bench/queue, once per backend. Sequential requests over one keep-alive HTTP/1.1
connection (http.client, standard library only): a warm-up that is not recorded, then up to
--requests timed requests per query, or fewer when --max-seconds runs out first (the count is
reported). The time of a request runs from sending it to having read the whole answer.
Percentiles are nearest-rank. Every answer is checked (status, and a shape check per query); a
wrong answer fails the run.

Writes one JSON document: {"results": [{"id", "query", "n", "p50", "p95", "p99", "target_ms",
"items"}...]} with times in milliseconds.
"""

import argparse
import http.client
import json
import math
import sys
import time
import urllib.parse


def percentile(sorted_ms, p):
    rank = max(1, math.ceil(p / 100 * len(sorted_ms)))
    return sorted_ms[rank - 1]


class Client:
    def __init__(self, base, headers):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.headers = headers
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            # The server closed an idle keep-alive connection: reconnect once, time it anew.
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            start = time.perf_counter()
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
            data = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        return response.status, response.getheaders(), data, elapsed


def fail(message):
    print(f"queue-latency: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def measure(client, qid, label, target_ms, make_request, check, args):
    """Runs the warm-up, then timed requests; make_request(i) -> (method, path, body)."""
    for i in range(args.warmup):
        method, path, body = make_request(i)
        status, _, data, _ = client.request(method, path, body)
        check(status, data)
    times, items = [], None
    deadline = time.monotonic() + args.max_seconds
    for i in range(args.requests):
        method, path, body = make_request(args.warmup + i)
        status, _, data, elapsed = client.request(method, path, body)
        items = check(status, data)
        times.append(elapsed)
        if time.monotonic() > deadline:
            break
    times.sort()
    result = {
        "id": qid,
        "query": label,
        "n": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "target_ms": target_ms,
        "items": items,
    }
    print(
        f"queue-latency: {qid:<5} n={result['n']:<4} p50={result['p50']:7.2f} "
        f"p95={result['p95']:7.2f} p99={result['p99']:7.2f} ms  items={items}  {label}",
        file=sys.stderr,
    )
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--token", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--current-version", required=True)
    parser.add_argument("--old-version", required=True)
    parser.add_argument("--targets", required=True, help="comma-separated e-mail addresses")
    parser.add_argument("--per-target", type=int, required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=20)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    targets = args.targets.split(",")

    api = Client(args.base, {"Authorization": f"Bearer {args.token}"})

    # A staff session for the HTML view.
    login = Client(args.base, {})
    form = urllib.parse.urlencode({"name": args.user, "password": args.password})
    status, headers, _, _ = login.request(
        "POST", "/triage/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    cookie = None
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("feedbackd_session="):
            cookie = value.split(";", 1)[0]
    if status not in (302, 303) or not cookie:
        fail(f"login answered {status} without a session cookie")
    view = Client(args.base, {"Cookie": cookie})

    def page_check(expect_full):
        def check(status, data):
            if status != 200:
                fail(f"queue answered {status}: {data[:300]!r}")
            items = len(json.loads(data)["items"])
            if expect_full and items != 50:
                fail(f"first page has {items} items, not 50")
            return items

        return check

    def html_check(status, data):
        if status != 200 or b"<html" not in data.lower():
            fail(f"/triage answered {status}: {data[:300]!r}")
        # Rows link to their submission; minijinja writes "/" in attributes as "&#x2f;".
        return data.count(b'href="/triage/feedback/') + data.count(
            b'href="&#x2f;triage&#x2f;feedback&#x2f;'
        )

    results = []
    queue = "/api/v1/internal/feedback"
    q1 = [
        ("Q1a", f"GET {queue}?limit=50", f"{queue}?limit=50", True),
        (
            "Q1b1",
            f"GET {queue}?status=new&kind=bug&webapp_version={args.current_version} (current release)",
            f"{queue}?status=new&kind=bug&webapp_version={args.current_version}&limit=50",
            False,
        ),
        (
            "Q1b2",
            f"GET {queue}?browser=Firefox&webapp_version={args.current_version} (current release)",
            f"{queue}?browser=Firefox&webapp_version={args.current_version}&limit=50",
            False,
        ),
        (
            "Q1b3",
            f"GET {queue}?status=new&kind=bug&webapp_version={args.old_version} (release of a year ago)",
            f"{queue}?status=new&kind=bug&webapp_version={args.old_version}&limit=50",
            False,
        ),
        (
            "Q1b4",
            f"GET {queue}?browser=Firefox&webapp_version={args.old_version} (release of a year ago)",
            f"{queue}?browser=Firefox&webapp_version={args.old_version}&limit=50",
            False,
        ),
    ]
    for qid, label, path, full in q1:
        results.append(
            measure(api, qid, label, 30, lambda i, p=path: ("GET", p, None), page_check(full), args)
        )
    results.append(
        measure(
            view,
            "Q1c",
            "GET /triage (HTML first page with its counts per status, kept by the database)",
            30,
            lambda i: ("GET", "/triage", None),
            html_check,
            args,
        )
    )

    results.append(
        measure(
            view,
            "Q1d",
            f"GET /triage?browser=Firefox&webapp_version={args.current_version} "
            "(HTML filtered page with its counts, as cached by the view)",
            30,
            lambda i: (
                "GET",
                f"/triage?browser=Firefox&webapp_version={args.current_version}",
                None,
            ),
            html_check,
            args,
        )
    )

    # Q3 (issue 13): the inbox (the default view), saved views, the trends page and the stats
    # API over 90 days. Saved views are saved through the view's own form, then opened as
    # their pill links them; their filters are typed in another case than the data holds
    # (assignees and browsers match without case: these must still use an index).
    results.append(
        measure(
            view,
            "Q3a",
            "GET /triage (the inbox: new and not spam, with pills, kept counts, choices, "
            "saved views, the visit recorded)",
            30,
            lambda i: ("GET", "/triage", None),
            html_check,
            args,
        )
    )
    status, _, data, _ = view.request("GET", "/triage")
    marker = b'name="csrf" value="'
    start = data.find(marker)
    if status != 200 or start < 0:
        fail("no CSRF field on /triage")
    start += len(marker)
    csrf = data[start : data.index(b'"', start)].decode()
    saved_views = [
        ("Q3b1", "Ann's Firefox", "status=all&assignee=ANN&browser=firefox"),
        ("Q3b2", "New Safari bugs", "kind=bug&browser=safari"),
    ]
    for _, name, query in saved_views:
        form = urllib.parse.urlencode(
            {"csrf": csrf, "view": query, "name": name, "action": "save"}
        )
        status, _, data, _ = view.request(
            "POST", "/triage/views", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 303:
            fail(f"saving a view answered {status}: {data[:300]!r}")
    for qid, name, query in saved_views:
        results.append(
            measure(
                view,
                qid,
                f"GET /triage?{query} (the saved view “{name}”, its counts as cached by the view)",
                30,
                lambda i, q=query: ("GET", f"/triage?{q}", None),
                html_check,
                args,
            )
        )
    results.append(
        measure(
            view,
            "Q3c",
            "GET /triage/trends?days=90 (per day by kind, bugs by version × browser)",
            100,
            lambda i: ("GET", "/triage/trends?days=90", None),
            html_check,
            args,
        )
    )
    to_day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    from_day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 89 * 86400))

    def stats_check(status, data):
        if status != 200:
            fail(f"stats answered {status}: {data[:300]!r}")
        return None

    for qid, by in [("Q3d1", "by=day,kind"), ("Q3d2", "by=webapp_version,browser&kind=bug")]:
        path = f"/api/v1/internal/stats?from={from_day}&to={to_day}&{by}"
        results.append(
            measure(
                api,
                qid,
                f"GET /api/v1/internal/stats?from=…&to=…&{by} (90 days)",
                100,
                lambda i, p=path: ("GET", p, None),
                stats_check,
                args,
            )
        )

    # The view keeps a filter's counts per status for a while and forgets them on any triage
    # change (the unfiltered counts are kept by the database, and read afresh every time):
    # the two pages again, each right after a change (an untimed PATCH through the API), so
    # that every timed request counts afresh, as the first view after a triager's change does.
    # One without contact details: a change answers with the submission, contact opened, and
    # the seeded contacts are random bytes, not ciphertexts.
    status, _, data, _ = api.request("GET", f"{queue}?limit=50")
    if status != 200:
        fail(f"queue answered {status}")
    patched = next(i["id"] for i in json.loads(data)["items"] if not i["has_contact"])
    patch_headers = {"Content-Type": "application/json"}

    def after_change(path):
        def make(i):
            # Assignees are staff: the benchmark's own account, or nobody.
            body = json.dumps({"assignee": [args.user, None][i % 2]})
            status, _, data, _ = api.request(
                "PATCH", f"{queue}/{patched}", body, patch_headers
            )
            if status != 200:
                fail(f"PATCH answered {status}: {data[:300]!r}")
            return "GET", path, None

        return make

    cold_args = argparse.Namespace(
        warmup=min(args.warmup, 5), requests=args.requests, max_seconds=args.max_seconds
    )
    results.append(
        measure(
            view,
            "Q1c-cold",
            "GET /triage right after a triage change (kept counts, read afresh)",
            30,
            after_change("/triage"),
            html_check,
            cold_args,
        )
    )
    results.append(
        measure(
            view,
            "Q1d-cold",
            f"GET /triage?browser=Firefox&webapp_version={args.current_version} "
            "right after a triage change (counts not cached: counted afresh)",
            30,
            after_change(f"/triage?browser=Firefox&webapp_version={args.current_version}"),
            html_check,
            cold_args,
        )
    )

    json_headers = {"Content-Type": "application/json"}

    def export_request(i):
        body = json.dumps({"email": targets[i % len(targets)]})
        return "POST", "/api/v1/internal/privacy/export", body

    def export_check(status, data):
        if status != 200:
            fail(f"export answered {status}: {data[:300]!r}")
        found = len(json.loads(data)["submissions"])
        if found != args.per_target:
            fail(f"export found {found} submissions, not {args.per_target}")
        return found

    api.headers.update(json_headers)
    results.append(
        measure(
            api,
            "Q2a",
            'POST /api/v1/internal/privacy/export {"email": …} '
            f"({args.per_target} of 1,000,000 submissions tied to the address)",
            100,
            export_request,
            export_check,
            args,
        )
    )

    def erase_check(status, data):
        if status != 200:
            fail(f"erase answered {status}: {data[:300]!r}")
        removed = json.loads(data)["removed"]["contacts_removed"]
        if removed != args.per_target:
            fail(f"erase removed {removed} contacts, not {args.per_target}")
        return removed

    # Each address can be erased once: one timed erasure per address, no warm-up.
    erase_args = argparse.Namespace(warmup=0, requests=len(targets), max_seconds=1e9)
    results.append(
        measure(
            api,
            "Q2b",
            'POST /api/v1/internal/privacy/erase {"email": …, "scope": "contact"} '
            f"(once per address, {len(targets)} addresses)",
            100,
            lambda i: (
                "POST",
                "/api/v1/internal/privacy/erase",
                json.dumps({"email": targets[i], "scope": "contact"}),
            ),
            erase_check,
            erase_args,
        )
    )
    # Erased for real: an export now finds nothing.
    status, _, data, _ = api.request("POST", "/api/v1/internal/privacy/export", export_request(0)[2])
    if status != 200 or json.loads(data)["submissions"]:
        fail("an export after the erasure still finds submissions")

    with open(args.out, "w", encoding="utf-8") as out:
        json.dump({"results": results}, out, indent=1)


if __name__ == "__main__":
    main()
