"""The A4 poster of a center's survey: its Thai name, the survey's address and a QR code
leading there (``segno``), laid out from an HTML template and drawn to PDF by WeasyPrint
(Pango shapes the Thai text, set in the Sarabun font shipped with the service)."""

from pathlib import Path

import jinja2
import segno

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=10, border=2)


def poster_pdf(template: jinja2.Template, **context: object) -> bytes:
    """The poster as PDF bytes; slow (a few hundred ms): run it off the event loop."""
    from weasyprint import HTML  # heavy: loaded the first time a poster is asked for

    url = str(context["url"])
    html = template.render(fonts=FONTS.as_uri(), qr=qr_data_uri(url), **context)
    pdf: bytes = HTML(string=html, base_url=str(FONTS)).write_pdf()
    return pdf
