"""The chaos run's client side: probes three tokenscope hosts without pause
while faults are injected in turn, and reports what the clients saw.

Probers check, on every host: a token that stays valid, tokens revoked
mid-run (an allow after its revocation was acknowledged is a violation), and
secrets nobody has. The fault schedule restarts PostgreSQL, pauses it
(SIGSTOP) for 3 s, kills one host with SIGKILL and restarts it, revokes
tokens and publishes a policy. Printed: answers by status and code per phase,
allows of revoked tokens (must be 0), time until every host allows the good
token again after each fault, and usage counts lost.

Invoked by chaos.sh with the hosts' ports, the CLI command line and the
PostgreSQL control commands in the environment."""

import http.client, json, os, subprocess, sys, threading, time

from bench_secrets import unknown_secret

PORTS = [int(p) for p in os.environ["CHAOS_PORTS"].split(",")]
CLI = os.environ["CHAOS_CLI"].split()            # tokenscope --config ...
PG_RESTART = os.environ["CHAOS_PG_RESTART"]       # shell command
PG_PID = os.environ["CHAOS_PG_PIDFILE"]           # postmaster.pid
HOST_B_START = os.environ["CHAOS_HOST_B_START"]   # shell command that starts host B again, prints its pid
HOST_B_PIDFILE = os.environ["CHAOS_HOST_B_PIDFILE"]
ADMIN = os.environ["CHAOS_ADMIN"]
GOOD = os.environ["CHAOS_GOOD"]
REVOKEES = os.environ["CHAOS_REVOKEES"].split(",")   # id:secret,...
URI = "/api/repo/main/noarch/pkg.conda"


def check(port, secret, timeout=10):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", "/v1/check", headers={
            "X-Original-URI": URI, "X-Original-Method": "GET", "Authorization": "Bearer " + secret})
        r = conn.getresponse()
        r.read()
        return r.status, r.getheader("x-tokenscope-deny-code") or ("allow" if r.status == 200 else "")
    except (OSError, http.client.HTTPException) as err:  # a host down (killed) answers nothing
        return 0, type(err).__name__


lock = threading.Lock()
phase = ["warm-up"]
seen = []                       # (time, phase, port, which, status, code)
revoked_at = {}                 # secret -> time its revocation was acknowledged
good_allowed = {p: 0 for p in PORTS}
stop = threading.Event()


def prober(port):
    revokees = [r.split(":", 1)[1] for r in REVOKEES]
    while not stop.is_set():
        for which, secret in [("good", GOOD)] + [("revokee", s) for s in revokees] + [("unknown", unknown_secret())]:
            now = time.time()  # when asked: an answer to a question asked before a revocation may allow
            status, code = check(port, secret)
            with lock:
                seen.append((now, phase[0], port, which, status, code, secret))
                if which == "good" and status == 200:
                    good_allowed[port] += 1


def all_allow_good(deadline=60):
    started = time.time()
    while time.time() - started < deadline:
        if all(check(p, GOOD)[0] == 200 for p in PORTS):
            return time.time() - started
        time.sleep(0.02)
    return None


recoveries = []


def fault(name, act):
    phase[0] = name
    act()
    took = all_allow_good()
    recoveries.append((name, took))
    time.sleep(2)


def pg_pause():
    pid = int(open(PG_PID).readline())
    group = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    pids = [str(pid)] + group
    subprocess.run(["kill", "-STOP"] + pids, check=True)
    time.sleep(3)
    subprocess.run(["kill", "-CONT"] + pids, check=True)


def kill_host_b():
    pid = open(HOST_B_PIDFILE).read().strip()
    subprocess.run(["kill", "-KILL", pid])
    time.sleep(1)
    subprocess.run(HOST_B_START, shell=True, check=True)


def revoke_all():
    for revokee in REVOKEES:
        token_id, secret = revokee.split(":", 1)
        conn = http.client.HTTPConnection("127.0.0.1", PORTS[0], timeout=30)
        conn.request("POST", f"/api/principals/ci/tokens/{token_id}/revoke",
                     headers={"Authorization": "Bearer " + ADMIN})
        r = conn.getresponse()
        r.read()
        if r.status == 200:
            with lock:
                revoked_at[secret] = time.time()


def publish():
    subprocess.run(CLI + ["policy", "publish", "@default"], capture_output=True)


threads = [threading.Thread(target=prober, args=(p,)) for p in PORTS]
for t in threads:
    t.start()
time.sleep(3)
fault("postgresql restart", lambda: subprocess.run(PG_RESTART, shell=True, check=True))
fault("postgresql paused 3 s", pg_pause)
fault("host B killed and restarted", kill_host_b)
fault("tokens revoked", revoke_all)
fault("policy published", publish)
fault("postgresql restart after the revocations", lambda: subprocess.run(PG_RESTART, shell=True, check=True))
phase[0] = "cool-down"
time.sleep(3)
stop.set()
for t in threads:
    t.join()

# The report.
by_phase = {}
for (_, ph, _, which, status, code, _) in seen:
    by_phase.setdefault(ph, {}).setdefault(f"{status} {code}", 0)
    by_phase[ph][f"{status} {code}"] += 1
# A revocation through host A reaches B and C within the fleet's bound (1 s,
# BENCHMARKS.md); an allow past it is a violation, one within it is the
# propagation window, counted apart.
BOUND = 1.0
late = [(t - revoked_at[s], p) for (t, _, p, which, status, _, s) in seen
        if which == "revokee" and status == 200 and s in revoked_at and t > revoked_at[s]]
violations = [(after, p) for (after, p) in late if after > BOUND]
window = [(after, p) for (after, p) in late if after <= BOUND]
print(f"probed requests answered: {sum(1 for r in seen if r[4] != 0)} of {len(seen)} "
      f"(0 = connection refused or reset: a host being killed)")
for ph, counts in by_phase.items():
    fivexx = {k: v for k, v in counts.items() if k.startswith("5")}
    print(f"  {ph}: {sum(counts.values())} answers; 5xx {fivexx}; all {dict(sorted(counts.items()))}")
print(f"allows of revoked tokens more than {BOUND:.0f} s after their revocation: {len(violations)} (must be 0)")
print(f"allows within the propagation window: {len(window)}"
      + (f", the last {max(a for a, _ in window) * 1000:.0f} ms after (host port {max(window)[1]})" if window else ""))
for name, took in recoveries:
    print(f"  every host allowed the good token again {('%.0f ms' % (took * 1000)) if took is not None else 'NEVER'} after: {name}")
json.dump({"good_allowed": good_allowed, "violations": len(violations)}, open(os.environ["CHAOS_OUT"], "w"))
sys.exit(1 if violations or any(t is None for _, t in recoveries) else 0)
