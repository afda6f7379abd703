"""The survey service's API as the portal uses it (spec §11): a center's live tally in a
round and its poster. The portal reads no table of the survey service; its read API asks for
the shared read secret (``GECC_SURVEY_READ_SECRET``). Who may see a center's tally or poster
is decided before (intake's answer for the session): the survey service knows no people."""

from urllib.parse import quote

import aiohttp

from services.portal.adapters.intake import FileStream, NotFound
from services.portal.domain.survey import Tally

TALLY_SECONDS = 3.0


class SurveyUnavailable(Exception):
    """The survey service did not answer in time, or answered 5xx."""


class SurveyClient:
    def __init__(self, http: aiohttp.ClientSession, read_secret: str) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {read_secret}"}

    async def tally(self, center_id: str, round_id: str) -> Tally | None:
        """The center's tally in the round; None while nobody has answered."""
        path = f"/v1/centers/{quote(center_id)}/rounds/{quote(round_id)}/tally"
        try:
            async with self._http.get(
                path, headers=self._headers, timeout=aiohttp.ClientTimeout(total=TALLY_SECONDS)
            ) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise SurveyUnavailable(f"GET {path}: {response.status}")
                return Tally.of(await response.json())
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
            raise SurveyUnavailable(f"GET {path}: {error!r}") from error

    async def poster(self, center_id: str) -> FileStream:
        """The center's A4 poster (PDF) as the survey service streams it; read ``chunks`` to
        the end (it releases the connection). NotFound for a center it does not know."""
        path = f"/v1/centers/{quote(center_id)}/poster.pdf"
        try:
            response = await self._http.get(path, headers=self._headers)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SurveyUnavailable(f"GET {path}: {error!r}") from error
        if response.status != 200:
            response.release()
            if response.status == 404:
                raise NotFound(path)
            raise SurveyUnavailable(f"GET {path}: {response.status}")
        return FileStream.of(
            response, "application/pdf", f'attachment; filename="{center_id}-poster.pdf"'
        )
