#!/usr/bin/env python3
"""Writes dashboards/pricing.json, the Grafana dashboard for the pricing cluster.

The JSON is generated so every panel follows one layout and the queries stay readable here;
tests/deploy_files.rs checks that every query names only metrics the code exports or recording
rules in ../prometheus/rules. Run after changing a panel: python3 deploy/grafana/make_dashboard.py
"""
import json
import pathlib

ROWS = [
    ("Lanes", [
        ("Queue depth per lane", "max by (lane) (pricing_queue_depth)", "short"),
        ("Consumers per lane", "max by (lane) (pricing_queue_consumers)", "short"),
        ("Queue wait p99 against target", "pricing:queue_wait_seconds:p99_5m", "s"),
        ("Queue wait target", "pricing:queue_wait_target_seconds", "s"),
        ("Pricing time p99 per lane", "pricing:job_duration_seconds:p99_5m", "s"),
        ("Jobs finished per second", "pricing:jobs_finished:rate5m", "short"),
    ]),
    ("ETA truth", [
        ("ETA relative error, median (1 h)", "pricing:eta_relative_error:p50_1h", "percentunit"),
        ("ETA relative error, p90 (1 h)", "pricing:eta_relative_error:p90_1h", "percentunit"),
        ("Share finished later than promised (1 h)",
         "max by (lane) (rate(pricing_eta_late_total[1h])) / max by (lane) (rate(pricing_eta_relative_error_count[1h]))",
         "percentunit"),
        ("Cost model: seconds per million triangles",
         "max by (format, source) (pricing_cost_model_per_triangle_seconds) * 1e6", "s"),
    ]),
    ("Requests (RED per route and role)", [
        ("Requests per second by route and role",
         "sum by (route, role) (pricing:http_requests:rate5m)", "reqps"),
        ("Errors (5xx) by route", "pricing:http_errors:ratio_rate5m", "percentunit"),
        ("Latency p99 by route", "pricing:http_request_duration_seconds:p99_5m", "s"),
        ("Refused (4xx) by route and status",
         "sum by (route, status) (rate(http_requests_total{status=~\"4..\"}[5m]))", "reqps"),
    ]),
    ("Jobs and workers", [
        ("Jobs by status", "max by (status) (pricing_jobs)", "short"),
        ("Oldest job in each status", "max by (status) (pricing_oldest_job_age_seconds)", "s"),
        ("Workers alive (heartbeats)", "max(pricing_workers_alive)", "short"),
        ("Jobs past 3x their ETA", "max by (lane) (pricing_jobs_overdue)", "short"),
    ]),
    ("Outbox and dead letters", [
        ("Outbox: messages waiting", "max(pricing_outbox_pending)", "short"),
        ("Outbox: oldest waiting", "max(pricing_outbox_oldest_pending_age_seconds)", "s"),
        ("Relay: since last confirmation", "max(pricing_outbox_last_sent_age_seconds)", "s"),
        ("Dead-lettered messages by queue", "max by (source) (pricing_dead_letter_messages)", "short"),
    ]),
]


def panel(pid, title, expr, unit, x, y):
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": "__auto",
                     "datasource": {"type": "prometheus", "uid": "prometheus"}}],
    }


def dashboard():
    panels, pid, y = [], 1, 0
    for row_title, row in ROWS:
        panels.append({"id": pid, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid += 1
        y += 1
        for i, (title, expr, unit) in enumerate(row):
            panels.append(panel(pid, title, expr, unit, (i % 3) * 8, y + (i // 3) * 8))
            pid += 1
        y += ((len(row) + 2) // 3) * 8
    return {
        "uid": "alexandrite-pricing",
        "title": "Alexandrite pricing cluster",
        "tags": ["alexandrite", "pricing"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


if __name__ == "__main__":
    out = pathlib.Path(__file__).parent / "dashboards" / "pricing.json"
    out.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {out}")
