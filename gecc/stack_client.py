"""What tools (`gecc demo`, ``bench/round.py``) read of a running stack: intake's HTTP API
with an operator token and each service's ``/metrics``, never a service's tables, so a
change of schema cannot break them."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gecc.stack.config import StackConfig
from services.survey.settings import SurveySettings


@dataclass(frozen=True)
class Metrics:
    """One scrape of a service's ``/metrics``."""

    samples: tuple[Sample, ...]

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` with these labels (0 when there are none)."""
        return sum(s.value for s in self._matching(name, labels))

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """The samples named ``name`` with these labels, summed per value of ``label``."""
        found: dict[str, float] = {}
        for sample in self._matching(name, labels):
            key = sample.labels[label]
            found[key] = found.get(key, 0.0) + sample.value
        return found

    def _matching(self, name: str, labels: Mapping[str, str]) -> list[Sample]:
        return [
            s
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]


class StackClient:
    def __init__(self, config: StackConfig, operator_token: str) -> None:
        self._config = config
        self._operator = {"Authorization": f"Bearer {operator_token}"}
        self._http = httpx.AsyncClient(timeout=10, trust_env=False)

    async def __aenter__(self) -> "StackClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    async def metrics(self, service: str) -> Metrics:
        response = await self._http.get(f"{self._url(service)}/metrics")
        response.raise_for_status()
        families = text_string_to_metric_families(response.text)
        return Metrics(tuple(s for family in families for s in family.samples))

    async def round_submissions(self, round_id: str) -> dict[str, Any]:
        """``GET /v1/rounds/{id}/submissions/summary`` (docs/http-api.md)."""
        return await self._intake(f"/v1/rounds/{round_id}/submissions/summary")

    async def round_exports(self, round_id: str) -> list[dict[str, Any]]:
        """The round's exports as intake shows them, oldest first."""
        found = await self._intake(f"/v1/rounds/{round_id}/exports")
        exports: list[dict[str, Any]] = found["exports"]
        return exports

    async def change_round_dates(
        self, round_id: str, dates: Mapping[str, str], reason: str
    ) -> None:
        """``PATCH /v1/rounds/{id}`` as an operator (audited with ``reason``)."""
        response = await self._http.patch(
            f"{self._url('intake')}/v1/rounds/{round_id}",
            json={**dates, "reason": reason},
            headers=self._operator,
        )
        response.raise_for_status()

    async def survey_tally(self, center_id: str, round_id: str) -> dict[str, Any] | None:
        """A center's citizen survey tally in a round from the survey's read API (None: no
        response yet), with the read secret the stack's services share."""
        default = SurveySettings.model_fields["read_secret"].default
        secret = os.environ.get("GECC_SURVEY_READ_SECRET", default)
        found = await self._http.get(
            f"{self._url('survey')}/v1/centers/{center_id}/rounds/{round_id}/tally",
            headers={"Authorization": f"Bearer {secret}"},
        )
        if found.status_code == 404:
            return None
        found.raise_for_status()
        tally: dict[str, Any] = found.json()
        return tally

    async def _intake(self, path: str) -> dict[str, Any]:
        response = await self._http.get(f"{self._url('intake')}{path}", headers=self._operator)
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def _url(self, service: str) -> str:
        return f"http://{self._config.service_address(service)}"
