"""The relationship map at size: layout time in Chromium and the decision-unit API.

    python -m bench.relationship_map [--people 300] [--edges 1000] [--runs 7] [--db sqlite|postgres]

Target (from the issue): the map lays out 300 people and 1,000 relationships in ≤ 1 s in the
browser. "layout" is building the graph with its positions (cytoscape.js, preset layout from
organisation and level); "first paint" also waits for the browser to draw it. Results:
bench/results/relationship_map-<db>-<people>.json.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from typing import Any

from bench import common

TARGETS = {"layout_p50_ms": 1000}
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int) -> None:
    import waitress

    from rapport.wsgi import application

    waitress.serve(application, host="127.0.0.1", port=port, threads=4, _quiet=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--edges", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)

    common.setup("relationship_map", db=args.db)
    from django.test import Client

    from rapport.accounts.services import create_user
    from rapport.relationships.demo import large_unit

    admin = create_user(username="bench_admin", role="admin", password=PASSWORD, validate=False)
    started = time.perf_counter()
    org = large_unit(owner=admin, people=args.people, edges=args.edges)
    build_s = time.perf_counter() - started

    client = Client()
    client.force_login(admin)
    api_ms = [common.timed(lambda: client.get(f"/api/v1/organizations/{org.pk}/decision-unit"))[0] for _ in range(args.runs)]

    port = free_port()
    threading.Thread(target=serve, args=(port,), daemon=True).start()
    time.sleep(0.5)
    from playwright.sync_api import sync_playwright

    layout, paint = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", admin.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        for _ in range(args.runs):
            page.goto(f"{base}/organizations/{org.pk}/decision-unit/")
            page.wait_for_selector("#dmu-map[data-ready='1']", timeout=60_000)
            layout.append(float(page.get_attribute("#dmu-map", "data-layout-ms") or "nan"))
            paint.append(float(page.get_attribute("#dmu-map", "data-paint-ms") or "nan"))
        browser.close()

    figures: dict[str, Any] = {
        "data_build_s": round(build_s, 2),
        "layout": common.percentiles(layout),
        "layout_and_first_paint": common.percentiles(paint),
        "decision_unit_api": common.percentiles(api_ms),
        "layout_p50_ms": common.percentiles(layout)["p50_ms"],
    }
    path = common.write_results(
        f"relationship_map-{args.db}-{args.people}",
        parameters={"people": args.people, "edges": args.edges, "runs": args.runs},
        figures=figures,
        targets=TARGETS,
    )
    print(f"layout p50 {figures['layout']['p50_ms']} ms, with first paint p50 {figures['layout_and_first_paint']['p50_ms']} ms, "
          f"API p50 {figures['decision_unit_api']['p50_ms']} ms → {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
