"""Benchmark: the online service on loopback, as the issue asks. Not a test: it
prints figures.

- every English authority (153) uploading one quarter's return at once through the
  API to two ``lscb-nb serve`` processes: total time and errors (target <= 2 min, 0);
- upload to feedback for one authority's quarterly return, p50 and p95 (target
  p95 <= 1 s);
- the benchmarking page under 20 concurrent signed-in clients, p95 (target <= 300 ms).

    python benchmarks/bench_service.py [--authorities 153] [--uploads 30] [--clients 20]

A project made with ``lscb-nb init`` (every English authority) in a temporary
folder, SQLite (the embedded default); the cookies are sent over plain HTTP
(``LSCB_SERVICE_INSECURE_COOKIES=1``) because the clients talk to loopback.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

PERIOD = "2025-26 Q1"
AGENCY = "childrens_social_care"
PASSWORD = "benchmark passphrase, loopback only"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _return_csv(items, la) -> bytes:
    from lscb_nb.core import periods
    from lscb_nb.core.returnformat import RETURN_CSV_COLUMNS

    tp, ti = periods.to_ees(PERIOD)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RETURN_CSV_COLUMNS)
    writer.writeheader()
    for item_id, item in items[items["agency"] == AGENCY].iterrows():
        pct = item["unit"] == "percentage"
        writer.writerow(
            {
                "time_period": tp,
                "time_identifier": ti,
                "geographic_level": "Local authority",
                "new_la_code": la["la_code_ons"],
                "old_la_code": la["la_code_dfe"],
                "la_name": la["la_name"],
                "item_id": item_id,
                "numerator": 40 if pct else 300,
                "denominator": 100 if pct else "",
            }
        )
    return out.getvalue().encode()


def _post_file(url: str, token: str, body: bytes) -> tuple[int, float]:
    b = uuid.uuid4().hex
    data = (
        (
            f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{b}--\r\n".encode()
    )
    req = urllib.request.Request(
        url + "/api/v1/submissions/",
        data=data,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={b}",
        },
    )
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            r.read()
            return r.status, time.perf_counter() - t0
    except urllib.error.HTTPError as e:
        return e.code, time.perf_counter() - t0
    except OSError:
        return 0, time.perf_counter() - t0


def _signed_in_opener(url: str, email: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(url + "/sign-in/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode(
        {"email": email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(urllib.request.Request(url + "/sign-in/", data=data, headers={"Referer": url}))
    return opener


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authorities", type=int, default=153)
    ap.add_argument("--uploads", type=int, default=30)
    ap.add_argument("--clients", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        from lscb_nb.core.workspace import init_project

        root = init_project(Path(tmp) / "p", authorities="england",
                            first_period=PERIOD, last_period="2025-26 Q4").root  # fmt: skip
        os.environ.update(LSCB_SERVICE_PROJECT=str(root), LSCB_SERVICE_INSECURE_COOKIES="1")
        from lscb_nb.service import runtime

        runtime.setup(root)
        from lscb_nb.service import toolkit
        from lscb_nb.service.accounts.manage import add_user, issue_token
        from lscb_nb.service.collection.windows import open_window

        today = date.today()
        open_window(PERIOD, today - timedelta(days=1), today + timedelta(days=5),
                    today + timedelta(days=30))  # fmt: skip
        items = toolkit.candidate().items
        las = toolkit.project().authorities.head(args.authorities).to_dict("records")
        t0 = time.perf_counter()
        work = []
        for n, la in enumerate(las):
            email = f"csc{n}@example.invalid"
            add_user(email, "agency_submitter", PASSWORD, la["la_code_ons"], AGENCY)
            work.append((issue_token(email), _return_csv(items, la)))
        add_user("lead@example.invalid", "partnership_lead", PASSWORD, las[0]["la_code_ons"])
        print(f"set-up: {len(las)} authorities' accounts in {time.perf_counter() - t0:.1f} s")
        env = {**os.environ}
        ports = [_port(), _port()]
        servers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "lscb_nb.cli",
                    "-q",
                    "serve",
                    "--project",
                    str(root),
                    "--port",
                    str(p),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,  # waitress logs its queue depth under load
            )
            for p in ports
        ]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        try:
            for url in urls:
                for _ in range(300):
                    try:
                        urllib.request.urlopen(url + "/healthz", timeout=2).read()
                        break
                    except OSError:
                        time.sleep(0.2)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(len(work)) as pool:
                answers = list(
                    pool.map(lambda w: _post_file(urls[w[0] % 2], *w[1]), enumerate(work))
                )
            total = time.perf_counter() - t0
            errors = sum(code != 201 for code, _ in answers)
            print(
                f"{len(work)} authorities uploading one quarter at once, 2 server processes: "
                f"{total:.1f} s, {errors} errors (target <= 120 s, 0 errors)"
            )
            token, body = work[0]
            times = [_post_file(urls[0], token, body)[1] for _ in range(args.uploads)]
            rows = len(body.splitlines()) - 1
            print(
                f"upload to feedback, one quarterly return ({rows} rows), "
                f"{args.uploads} uploads: p50 {statistics.median(times) * 1000:.0f} ms, "
                f"p95 {_pct(times, 0.95) * 1000:.0f} ms (target p95 <= 1000 ms)"
            )
            openers = [_signed_in_opener(urls[i % 2], "lead@example.invalid")
                       for i in range(args.clients)]  # fmt: skip

            def hit(i: int) -> list[float]:
                out = []
                for _ in range(10):
                    t = time.perf_counter()
                    openers[i].open(urls[i % 2] + "/benchmark/").read()
                    out.append(time.perf_counter() - t)
                return out

            with ThreadPoolExecutor(args.clients) as pool:
                page_times = [t for ts in pool.map(hit, range(args.clients)) for t in ts]
            print(
                f"benchmarking page, {args.clients} concurrent signed-in clients x 10: "
                f"p50 {statistics.median(page_times) * 1000:.0f} ms, "
                f"p95 {_pct(page_times, 0.95) * 1000:.0f} ms (target p95 <= 300 ms)"
            )
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=60)


if __name__ == "__main__":
    main()
