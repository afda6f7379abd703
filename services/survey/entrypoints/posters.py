"""``GET /v1/centers/{center}/poster.pdf``: the center's A4 survey poster (public data only:
its Thai name, the survey's address and its QR code)."""

import asyncio
from collections import OrderedDict

from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse

from services.survey.adapters.poster import poster_pdf
from services.survey.entrypoints.pages import Pages
from services.survey.handlers.responses import Desk

KEPT = 64


def install(app: FastAPI, desk: Desk, pages: Pages, public_url: str) -> None:
    made: OrderedDict[tuple[str, str], bytes] = OrderedDict()
    drawing = asyncio.Lock()
    base = public_url.rstrip("/")

    @app.get(
        "/v1/centers/{center_id}/poster.pdf",
        tags=["survey"],
        summary="A center's A4 survey poster with its QR code (PDF)",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}, 404: {}},
    )
    async def poster(center_id: str) -> Response:
        center = desk.directory.centers.get(center_id)
        if center is None:
            return HTMLResponse(pages.message("not_found"), status_code=404)
        url = f"{base}/s/{center.center_id}"
        key = (center.center_id, center.name_th)
        pdf = made.get(key)
        if pdf is None:
            async with drawing:  # one at a time: drawing takes a core for a moment
                template = pages.env.get_template("poster.html")
                pdf = await asyncio.to_thread(
                    poster_pdf, template, t=pages.catalogue.text, center=center, url=url
                )
            made[key] = pdf
            while len(made) > KEPT:
                made.popitem(last=False)
        filename = f"survey-poster-{center.center_id}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="{filename}"'},
        )
