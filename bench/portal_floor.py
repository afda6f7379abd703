"""The floor under ``bench/portal.py``: the least any web tier in Python must do to take a
report through the portal's four steps, as a bare ASGI app without a database.

It answers the same requests as the portal: the form (the portal's own page, captured once,
served as bytes), the form posted for review (its fields parsed into the report intake
takes, kept in memory, 303), the review page (bytes, with the key) and sending (the report
posted to intake with the session's API token and an Idempotency-Key, 303). No sessions,
drafts, templates, checks or evidence: what is left is parsing HTTP and forms, building the
JSON and calling intake. The portal cannot be faster than this on the same machine.

Served by ``python -m uvicorn bench.portal_floor:app`` (uvloop, httptools, like the
services) with ``FLOOR_INTAKE_URL``, ``FLOOR_FORM`` and ``FLOOR_REVIEW`` (files of the
captured pages); a session's cookie ``floor=<API token>``.
"""

import json
import os
from pathlib import Path
from urllib.parse import parse_qsl
from uuid import uuid4

import aiohttp

from bench.servers import Receive, Scope, Send, lifespan, read_body, redirect, respond

FORM = Path(os.environ.get("FLOOR_FORM", "/dev/null")).read_bytes()
REVIEW = Path(os.environ.get("FLOOR_REVIEW", "/dev/null")).read_bytes()
INTAKE = os.environ.get("FLOOR_INTAKE_URL", "http://127.0.0.1:8080")
STANDARD = os.environ.get("FLOOR_STANDARD", "")
reports: dict[str, bytes] = {}
client: list[aiohttp.ClientSession] = []  # made at startup
HTML = b"text/html; charset=utf-8"


def report_of(round_id: str, fields: dict[str, str]) -> bytes:
    counts: dict[str, list[int]] = {}
    items = []
    for name, value in fields.items():
        if name.startswith("count-"):
            _, code, rating = name.split("-")
            counts.setdefault(code, [0] * 5)[int(rating) - 1] = int(value)
        elif name.startswith("met-"):
            code = name[4:]
            items.append(
                {"code": code, "met": value == "yes", "evidence": fields[f"evidence-{code}"]}
            )
    report = {
        "round_id": round_id,
        "satisfaction": {
            "respondents": int(fields["respondents"]),
            "questions": [{"code": c, "counts": v} for c, v in counts.items()],
        },
        "checklist": {"standard": STANDARD, "items": items},
    }
    return json.dumps(report, ensure_ascii=False).encode()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":

        async def startup() -> None:
            client.append(aiohttp.ClientSession(base_url=INTAKE))

        async def shutdown() -> None:
            await client[0].close()

        await lifespan(receive, send, startup, shutdown)
        return
    body = await read_body(receive)
    headers = dict(scope["headers"])
    token = headers.get(b"cookie", b"").decode().partition("floor=")[2]
    parts = scope["path"].split("/")  # /rounds/{round}/report|review|submit
    step, round_id = parts[-1], parts[2]
    if step == "report" and scope["method"] == "GET":
        await respond(send, 200, FORM, HTML)
    elif step == "report":
        reports[token] = report_of(round_id, dict(parse_qsl(body.decode())))
        await redirect(send, f"/rounds/{round_id}/review")
    elif step == "review":
        await respond(send, 200, REVIEW, HTML)
    else:
        async with client[0].post(
            "/v1/submissions",
            data=reports[token],
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": str(uuid4()),
                "Content-Type": "application/json",
            },
        ) as sent:
            receipt = await sent.json()
        await redirect(
            send, f"/submissions/{receipt['submission_id']}/versions/{receipt['version']}"
        )
