#!/usr/bin/env python3
"""Login flood for tests/bench/edge: CLIENTS threads, each on its own keep-alive connection,
POST /triage/login with a random (valid) staff name and password as fast as the server answers,
for SECONDS. Prints one JSON object: answers by status, socket errors, attempts per second, the
latency of the login answers and the CPU seconds this client used (on a small machine the load
generator takes CPU from the server it measures).

  login-flood.py URL CLIENTS SECONDS MODE

MODE says which client address the attempts claim:
  loopback     no X-Forwarded-For: every attempt is from the peer, 127.0.0.1
  xff-client   one X-Forwarded-For address per flood client (198.18.0.N, RFC 2544's range)
  xff-request  a new random X-Forwarded-For address (198.18.0.0/15) on every attempt: a botnet
               as the per-client limit sees it
"""

import http.client
import json
import random
import resource
import string
import sys
import threading
import time
import urllib.parse

NAME_CHARS = string.ascii_lowercase + string.digits


def flood(host, port, deadline, mode, index, out):
    rng = random.Random(index)
    statuses, errors, latencies = {}, 0, []
    conn = None
    while time.monotonic() < deadline:
        name = "".join(rng.choice(NAME_CHARS) for _ in range(12))
        body = urllib.parse.urlencode({"name": name, "password": "%032x" % rng.getrandbits(128)})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if mode == "xff-client":
            headers["X-Forwarded-For"] = "198.18.0.%d" % (index + 1)
        elif mode == "xff-request":
            n = rng.getrandbits(17)
            headers["X-Forwarded-For"] = "198.%d.%d.%d" % (18 + (n >> 16), (n >> 8) & 255, n & 255)
        started = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request("POST", "/triage/login", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            errors += 1
            if conn is not None:
                conn.close()
            conn = None
            continue
        latencies.append(time.monotonic() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    if conn is not None:
        conn.close()
    out[index] = (statuses, errors, latencies)


def main():
    url, clients, seconds, mode = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    if mode not in ("loopback", "xff-client", "xff-request"):
        sys.exit("unknown mode " + mode)
    parsed = urllib.parse.urlsplit(url)
    started = time.monotonic()
    deadline = started + seconds
    out = [None] * clients
    threads = [
        threading.Thread(target=flood, args=(parsed.hostname, parsed.port, deadline, mode, i, out))
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    statuses, errors, latencies = {}, 0, []
    for s, e, lat in out:
        for code, n in s.items():
            statuses[str(code)] = statuses.get(str(code), 0) + n
        errors += e
        latencies.extend(lat)
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else 0

    print(json.dumps({
        "mode": mode,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "attempts": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "statuses": statuses,
        "errors": errors,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0,
        "client_cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
    }))


if __name__ == "__main__":
    main()
