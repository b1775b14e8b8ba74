"""Driver of bench/delivery.sh: receivers, the capture server, a steady stream of leads.

Usage: delivery.py BIN OUT LEADS RATE. For each target (webhook, e-mail) it writes the site's
config with that target, starts `splitmark capture`, posts LEADS distinct leads at RATE per
second, and measures, per lead, the time from reading the 201 to the delivery's arrival.
With BEACONS=1 (and wrk installed), a flood of exposure beacons (bench/exposure.lua, 2
threads, 64 connections) runs against the same capture server for the whole stream, so the
leads are delivered while every CPU is busy.
"""

import http.client
import http.server
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller

BIN, OUT, LEADS, RATE = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
BEACONS = os.environ.get("BEACONS") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
arrived = {}  # lead id -> arrival time (monotonic)
lock = threading.Lock()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        now = time.monotonic()
        lead = json.loads(body)["data"]["id"]
        with lock:
            arrived.setdefault(lead, now)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Mail:
    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        m = ID.search(envelope.content.decode("utf-8", "replace"))
        if m:
            with lock:
                arrived.setdefault(m.group(0), now)
        return "250 OK"


def base36(n):
    digits, s = "0123456789abcdefghijklmnopqrstuvwxyz", ""
    while True:
        n, d = divmod(n, 36)
        s = digits[d] + s
        if n == 0:
            return s


def visitor():
    """A visitor id as the head script makes one: the time in ms in base 36, a dash, a UUID."""
    return f"{base36(int(time.time() * 1000))}-{uuid.uuid4()}"


def beacon_flood(port):
    """wrk sending exposure beacons for as long as the stream of leads lasts, and a bit."""
    seconds = int(LEADS / RATE) + 2
    return subprocess.Popen(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "-s", os.path.join(HERE, "exposure.lua"),
         f"http://127.0.0.1:{port}/api/v1/events"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def run(target, toml, env):
    arrived.clear()
    site = os.path.join(OUT, "site")
    with open(os.path.join(OUT, "base.toml")) as f:
        base = f.read()
    with open(os.path.join(site, "splitmark.toml"), "w") as f:
        f.write(base.replace("[capture]\n", "[capture]\nallow_private_targets = true\n", 1) + toml)
    db = os.path.join(OUT, f"{target}.db")
    port = free_port()
    proc = subprocess.Popen(
        [BIN, "capture", "--root", site, "--bind", f"127.0.0.1:{port}", "--db", f"sqlite:{db}"],
        stdout=subprocess.PIPE, stderr=open(os.path.join(OUT, f"{target}.log"), "w"),
        env={**os.environ, **env},
    )
    proc.stdout.readline()  # "Capture server listening on …"
    acked = {}
    local = threading.local()

    def post(i):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = f"email=lead{i}%40example.com&name=Lead+{i}&consent=on&employees=201%2B&_visitor={visitor()}"
        conn.request("POST", "/api/v1/forms/lead", body, {
            "content-type": "application/x-www-form-urlencoded", "accept": "application/json"})
        res = conn.getresponse()
        data = res.read()
        now = time.monotonic()
        if res.status == 201:
            acked[json.loads(data)["id"]] = now
        else:
            print(f"  lead {i}: HTTP {res.status} {data[:200]!r}", file=sys.stderr)

    flood = beacon_flood(port) if BEACONS else None
    start = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        for i in range(LEADS):
            delay = start + i / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, i)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if all(k in arrived for k in acked):
                break
        time.sleep(0.05)
    beacons = ""
    if flood:
        text = flood.communicate(timeout=60)[0]
        m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
        beacons = f", beside {float(m.group(1)):.0f} beacons/s" if m else ", beside a beacon flood"
    proc.terminate()
    proc.wait(timeout=30)
    with lock:
        lat = sorted((arrived[k] - t) * 1000 for k, t in acked.items() if k in arrived)
    missing = len(acked) - len(lat)
    if not lat:
        print(f"{target}: nothing arrived ({len(acked)} acknowledged); see {OUT}/{target}.log")
        return
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"{target}: {len(acked)} leads at {RATE:g}/s{beacons}, {len(lat)} arrived, {missing} missing")
    print(f"  201 -> arrival: p50 {p50:.1f} ms ({p50 / 20:.2f}x the 20 ms aim), "
          f"p99 {p99:.1f} ms ({p99 / 1000:.3f}x the 1 s target), max {lat[-1]:.1f} ms, min {lat[0]:.1f} ms")


hook_port = free_port()
hook = http.server.ThreadingHTTPServer(("127.0.0.1", hook_port), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()
smtp_port = free_port()
smtp = Controller(Mail(), hostname="127.0.0.1", port=smtp_port)
smtp.start()
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
run("webhook", f'[[capture.webhooks]]\nurl = "http://127.0.0.1:{hook_port}/hook"\nsecret_env = "BENCH_HOOK_SECRET"\n',
    {"BENCH_HOOK_SECRET": secret})
run("email", '[capture.email]\nsmtp_url_env = "BENCH_SMTP_URL"\nfrom = "Leads <leads@example.com>"\nto = ["sales@example.com"]\n',
    {"BENCH_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"})
smtp.stop()
hook.shutdown()
