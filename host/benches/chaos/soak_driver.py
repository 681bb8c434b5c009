"""The soak's client side: mixed traffic against one tokenscope host for a
number of minutes (allowed and denied checks, secrets nobody has, API token
writes, page sign-ins), sampling the server's RSS and open file descriptors,
and reporting per minute the requests, p50 and p99 of the checks, RSS and fds.
Exits 1 when the last minute's RSS exceeds the second minute's by more than
the allowance (the caches are bounded, so memory must level off)."""

import http.client, json, os, random, sys, threading, time

from bench_secrets import unknown_secret

PORT, MINUTES, PID = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
ADMIN, GOOD, DENIED = os.environ["SOAK_ADMIN"], os.environ["SOAK_GOOD"], os.environ["SOAK_DENIED"]
ALLOWANCE_KIB = int(os.environ.get("SOAK_RSS_ALLOWANCE_KIB", str(64 * 1024)))


def request(conn, method, path, headers=None, body=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def check(conn, secret):
    return request(conn, "GET", "/v1/check", {
        "X-Original-URI": "/api/repo/main/noarch/pkg.conda", "X-Original-Method": "GET",
        "Authorization": "Bearer " + secret})[0]


lock = threading.Lock()
minute_of = lambda: int((time.time() - started) // 60)
latencies, counts, samples = {}, {}, {}
stop = threading.Event()
started = time.time()


def worker():
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    admin = {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"}
    while not stop.is_set():
        kind = random.choices(["allow", "deny", "unknown", "write", "sign-in"], [60, 15, 15, 5, 5])[0]
        t0 = time.time()
        try:
            if kind == "allow":
                status = check(conn, GOOD)
            elif kind == "deny":
                status = check(conn, DENIED)
            elif kind == "unknown":
                status = check(conn, unknown_secret())
            elif kind == "write":
                status, data = request(conn, "POST", "/api/principals/ci/tokens", admin,
                                       json.dumps({"name": "soak", "scopes": ["artifact:download"], "ttl": "1h"}))
                if status == 201:
                    token_id = json.loads(data)["id"]
                    status = request(conn, "DELETE", f"/api/principals/ci/tokens/{token_id}", admin)[0]
            else:
                status = request(conn, "POST", "/ui/sign-in",
                                 {"Content-Type": "application/x-www-form-urlencoded"}, f"token={GOOD}")[0]
        except (OSError, http.client.HTTPException) as err:
            status = type(err).__name__
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        took = time.time() - t0
        with lock:
            m = minute_of()
            counts.setdefault(m, {}).setdefault(f"{kind} {status}", 0)
            counts[m][f"{kind} {status}"] += 1
            if kind in ("allow", "deny", "unknown"):
                latencies.setdefault(m, []).append(took)


def sampler():
    while not stop.is_set():
        rss = next((int(l.split()[1]) for l in open(f"/proc/{PID}/status") if l.startswith("VmRSS:")), 0)
        fds = len(os.listdir(f"/proc/{PID}/fd"))
        with lock:
            samples.setdefault(minute_of(), []).append((rss, fds))
        stop.wait(10)


threads = [threading.Thread(target=worker) for _ in range(int(os.environ.get("SOAK_CLIENTS", "8")))]
threads.append(threading.Thread(target=sampler))
for t in threads:
    t.start()
time.sleep(MINUTES * 60)
stop.set()
for t in threads:
    t.join()

print("| minute | requests | check p50 ms | check p99 ms | RSS KiB (max) | open fds (max) | answers |")
print("| --- | --- | --- | --- | --- | --- | --- |")
rows = []
for m in sorted(m for m in latencies if m < MINUTES):  # not the last moments' partial minute
    lat = sorted(latencies[m])
    p = lambda q: lat[min(len(lat) - 1, round((len(lat) - 1) * q))] * 1000
    rss = max((s[0] for s in samples.get(m, [(0, 0)])), default=0)
    fds = max((s[1] for s in samples.get(m, [(0, 0)])), default=0)
    rows.append((m, rss, fds))
    print(f"| {m + 1} | {sum(counts[m].values())} | {p(0.5):.2f} | {p(0.99):.2f} | {rss} | {fds} | "
          f"{dict(sorted(counts[m].items()))} |")
full = [r for r in rows if r[0] < int(MINUTES)]
if len(full) >= 3:
    base, last = full[1], full[-1]
    grew = last[1] - base[1]
    print(f"RSS from minute 2 to minute {last[0] + 1}: {base[1]} -> {last[1]} KiB ({grew:+} KiB); "
          f"fds {base[2]} -> {last[2]}")
    sys.exit(1 if grew > ALLOWANCE_KIB or last[2] > base[2] + 64 else 0)
