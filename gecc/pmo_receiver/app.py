"""The receiver's HTTP API (Starlette): the signature headers first, then the body's size as
declared and as read, its signature, the key, the body, the store."""

import asyncio
import hashlib
import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gecc.pmo_receiver import API_PREFIX
from gecc.pmo_receiver.contract import (
    Refusal,
    header_problem,
    idempotency_key,
    parse_batch,
    parse_complete,
    parse_evidence_manifest,
    parse_manifest,
    sha256_in_path,
    signature_problem,
    signed_bytes_of_get,
    streamed_signature_problem,
)
from gecc.pmo_receiver.control import Draw, Injection
from gecc.pmo_receiver.evidence import PART_SIZE, EvidenceStore, MissingParts
from gecc.pmo_receiver.storage import BatchStore, Decision, Outcome, body_hash
from shared.signing import CONTENT_SHA256_HEADER

MAX_BODY_BYTES = 16 * 1024 * 1024
INJECTED_RETRY_AFTER = "1"
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")

log = logging.getLogger("gecc.pmo_receiver")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Receiver:
    def __init__(
        self,
        store: BatchStore,
        injection: Injection,
        secret: str,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.evidence = EvidenceStore(store.directory)
        self.injection = injection
        self.secret = secret
        self.now = now
        self.lock = asyncio.Lock()

    # -- the PMO API -----------------------------------------------------------------------

    async def post_batch(self, request: Request) -> JSONResponse:
        return await self._injected(request, self._batch)

    async def post_manifest(self, request: Request) -> JSONResponse:
        return await self._injected(request, self._manifest)

    async def get_records(self, request: Request) -> JSONResponse:
        signed = signed_bytes_of_get(request.scope["path"])  # as routed: percent-decoded
        problem = signature_problem(self.secret, request.headers, signed, self.now())
        if problem is not None:
            return self._refused(request, Refusal(401, "unauthorized", problem))
        async with self.lock:
            return JSONResponse(self.store.round_view(request.path_params["round_id"]))

    # -- evidence files ----------------------------------------------------------------------

    async def get_evidence(self, request: Request) -> JSONResponse:
        signed = signed_bytes_of_get(request.scope["path"])
        problem = signature_problem(self.secret, request.headers, signed, self.now())
        if problem is not None:
            return self._refused(request, Refusal(401, "unauthorized", problem))
        try:
            sha256 = sha256_in_path(request.path_params["sha256"])
        except Refusal as refusal:
            return self._refused(request, refusal)
        status = await asyncio.to_thread(
            self.evidence.status, request.path_params["round_id"], sha256
        )
        return JSONResponse(status)

    async def put_part(self, request: Request) -> JSONResponse:
        return await self._injected(request, self._part)

    async def post_complete(self, request: Request) -> JSONResponse:
        return await self._injected(request, self._complete)

    async def post_evidence_manifest(self, request: Request) -> JSONResponse:
        return await self._injected(request, self._evidence_manifest)

    async def _part(self, request: Request) -> JSONResponse:
        round_id, number = request.path_params["round_id"], request.path_params["part"]
        problem = streamed_signature_problem(
            self.secret, request.headers, "PUT", request.scope["path"], self.now()
        )
        if problem is not None:
            raise Refusal(401, "unauthorized", problem, body_unread=True)
        sha256 = sha256_in_path(request.path_params["sha256"])
        if number < 1:
            raise Refusal(422, "invalid_part", f"part numbers start at 1, not {number}")
        if not self.injection.take_part():
            log.info("%s: 503 injected (parts_before_failure)", request.url.path)
            return JSONResponse(
                {"error": "injected_failure", "reason": "failure injected (parts_before_failure)"},
                status_code=503,
                headers={"Retry-After": INJECTED_RETRY_AFTER, "Connection": "close"},
            )
        declared = request.headers.get("content-length", "")
        if _CONTENT_LENGTH.fullmatch(declared) and int(declared) > PART_SIZE:
            raise Refusal(
                413, "too_large", f"a part has at most {PART_SIZE} bytes", body_unread=True
            )
        staged = self.evidence.part_staging(round_id, sha256, number)
        digest, size = hashlib.sha256(), 0
        try:
            with staged.open("wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > PART_SIZE:
                        raise Refusal(
                            413, "too_large", f"a part has at most {PART_SIZE} bytes",
                            body_unread=True,
                        )  # fmt: skip
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != request.headers[CONTENT_SHA256_HEADER]:
                raise Refusal(
                    422,
                    "part_sha256_mismatch",
                    f"the part's bytes have SHA-256 {digest.hexdigest()}, not the "
                    f"{CONTENT_SHA256_HEADER} it was signed with: send it again",
                )
            async with self.lock:
                repeated = self.evidence.keep_part(staged, round_id, sha256, number)
        finally:
            staged.unlink(missing_ok=True)
        counters = self.injection.counters
        counters.parts_stored += 1
        if repeated:
            counters.parts_repeated += 1
        log.info("%s evidence %s part %d: %d bytes", round_id, sha256[:12], number, size)
        return JSONResponse(
            {"sha256": sha256, "part": number, "bytes": size, "repeated": repeated},
            status_code=200 if repeated else 201,
        )

    async def _complete(self, request: Request) -> JSONResponse:
        round_id = request.path_params["round_id"]
        sha256 = sha256_in_path(request.path_params["sha256"])
        body = await self._verified_body(request)
        size = parse_complete(body).size
        try:
            async with self.lock:
                assembled = await asyncio.to_thread(self.evidence.assemble, round_id, sha256, size)
        except MissingParts as missing:
            raise Refusal(
                422, "parts_missing", f"{missing}: send them, then complete again"
            ) from None
        counters = self.injection.counters
        if not assembled.verified:
            counters.evidence_mismatched += 1
            log.warning(
                "%s evidence %s refused: %d bytes with SHA-256 %s",
                round_id, sha256, assembled.size, assembled.sha256,
            )  # fmt: skip
            raise Refusal(
                409,
                "sha256_mismatch",
                f"the {assembled.size} bytes assembled have SHA-256 {assembled.sha256}, not "
                f"{sha256} ({size} bytes declared); its parts are dropped: send it again",
            )
        counters.evidence_verified += 1
        log.info("%s evidence %s verified: %d bytes", round_id, sha256, assembled.size)
        return JSONResponse({"sha256": sha256, "size": assembled.size, "verified": True})

    async def _evidence_manifest(self, request: Request) -> JSONResponse:
        body, _key = await self._signed_body(request)
        round_id = request.path_params["round_id"]
        manifest = parse_evidence_manifest(body, round_id)
        files = [f.model_dump() for f in manifest.files]
        async with self.lock:
            await asyncio.to_thread(
                self.evidence.put_manifest, round_id, manifest.export_id, json.loads(body)
            )
            report = await asyncio.to_thread(
                self.evidence.manifest_report, round_id, manifest.export_id, files
            )
        log.info("%s evidence manifest of %s: %s", round_id, manifest.export_id, report)
        return JSONResponse(report)

    async def _injected(
        self, request: Request, handle: Callable[[Request], Awaitable[JSONResponse]]
    ) -> JSONResponse:
        draw: Draw = self.injection.draw()
        if draw.fail:
            log.info("%s %s: 503 injected", request.method, request.url.path)
            return JSONResponse(
                {"error": "injected_failure", "reason": "failure injected (fail_share)"},
                status_code=503,
                headers={"Retry-After": INJECTED_RETRY_AFTER},
            )
        try:
            response = await handle(request)
        except Refusal as refusal:
            response = self._refused(request, refusal)
        if draw.slow:
            # Whatever was stored is stored: a client that gave up and retries gets a duplicate.
            await asyncio.sleep(draw.slow_seconds)
        return response

    def _refused(self, request: Request, refusal: Refusal) -> JSONResponse:
        counters = self.injection.counters
        if refusal.status == 401:
            counters.refused_signature += 1
        else:
            counters.refused_invalid += 1
        log.warning("%s: %s %s", request.url.path, refusal.status, refusal.reason)
        # Kept open, the server would go on reading (and dropping) the rest of the body.
        headers = {"Connection": "close"} if refusal.body_unread else None
        return JSONResponse(refusal.payload(), status_code=refusal.status, headers=headers)

    async def _signed_body(self, request: Request) -> tuple[bytes, str]:
        body = await self._verified_body(request)
        return body, idempotency_key(request.headers)

    async def _verified_body(self, request: Request) -> bytes:
        problem = header_problem(request.headers, self.now())
        if problem is not None:
            raise Refusal(401, "unauthorized", problem, body_unread=True)
        body = await read_body(request, MAX_BODY_BYTES)
        problem = signature_problem(self.secret, request.headers, body, self.now())
        if problem is not None:
            raise Refusal(401, "unauthorized", problem)
        return body

    async def _batch(self, request: Request) -> JSONResponse:
        body, key = await self._signed_body(request)
        number: int = request.path_params["batch"]
        if number < 1:
            raise Refusal(422, "invalid_batch", f"batch numbers start at 1, not {number}")
        parsed, raw = parse_batch(body, request.path_params["round_id"], number)
        async with self.lock:
            decision: Decision = await asyncio.to_thread(
                self.store.put_batch, key, body_hash(body), parsed, raw
            )
        counters = self.injection.counters
        if decision.outcome is Outcome.KEY_REUSED:
            raise Refusal(422, "idempotency_key_reused", decision.reason)
        if decision.outcome is Outcome.BATCH_CONFLICT:
            raise Refusal(409, "batch_conflict", decision.reason)
        assert decision.batch is not None
        duplicate = decision.outcome is Outcome.DUPLICATE
        if duplicate:
            counters.duplicates += 1
        else:
            counters.stored += 1
        log.info(
            "%s batch %d of %s (%s): %d records%s",
            parsed.round_id,
            parsed.batch,
            parsed.export_id,
            parsed.kind,
            decision.batch.accepted,
            ", duplicate" if duplicate else ", stored",
        )
        return JSONResponse(
            {
                "export_id": parsed.export_id,
                "batch": parsed.batch,
                "accepted": decision.batch.accepted,
                "duplicate": duplicate,
            },
            status_code=200 if duplicate else 201,
        )

    async def _manifest(self, request: Request) -> JSONResponse:
        body, key = await self._signed_body(request)
        manifest = parse_manifest(body, request.path_params["round_id"])
        raw = json.loads(body)
        async with self.lock:
            decision = await asyncio.to_thread(
                self.store.put_manifest, key, body_hash(body), manifest, raw
            )
            if decision.outcome is Outcome.KEY_REUSED:
                raise Refusal(422, "idempotency_key_reused", decision.reason)
            report = self.store.manifest_report(manifest)
        self.injection.counters.manifests += 1
        log.info("%s manifest of %s: %s", manifest.round_id, manifest.export_id, report)
        return JSONResponse(report)

    # -- operations ------------------------------------------------------------------------

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": "ok", "batches": self.store.batch_count, "dir": str(self.store.directory)}
        )

    async def get_control(self, request: Request) -> JSONResponse:
        return JSONResponse(self.injection.view())

    async def put_control(self, request: Request) -> JSONResponse:
        if not _is_loopback(request):
            return JSONResponse(
                {"error": "forbidden", "reason": "PUT /control is accepted from loopback only"},
                status_code=403,
            )
        try:
            changes = json.loads(await request.body())
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            self.injection.update(changes)
        except ValueError as error:
            return JSONResponse({"error": "invalid_body", "reason": str(error)}, status_code=422)
        log.info("control: %s", {k: v for k, v in self.injection.view().items() if k != "counters"})
        return JSONResponse(self.injection.view())


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to be over ``limit`` bytes: from its
    Content-Length before reading any of it, else while reading (chunked, or a
    Content-Length that lies), without holding more than ``limit`` plus one chunk."""
    declared = request.headers.get("content-length", "")
    if _CONTENT_LENGTH.fullmatch(declared) and int(declared) > limit:
        raise Refusal(
            413,
            "too_large",
            f"Content-Length {declared} is over the limit of {limit} bytes",
            body_unread=True,
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refusal(
                413, "too_large", f"body over the limit of {limit} bytes", body_unread=True
            )
    return bytes(body)


def _is_loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def create_app(
    store: BatchStore,
    injection: Injection,
    secret: str,
    now: Callable[[], datetime] = _utc_now,
) -> Starlette:
    receiver = Receiver(store, injection, secret, now)
    rounds = f"{API_PREFIX}/rounds/{{round_id}}"
    app = Starlette(
        routes=[
            Route("/health", receiver.health, methods=["GET"]),
            Route("/control", receiver.get_control, methods=["GET"]),
            Route("/control", receiver.put_control, methods=["PUT"]),
            Route(f"{rounds}/batches/{{batch:int}}", receiver.post_batch, methods=["POST"]),
            Route(f"{rounds}/manifest", receiver.post_manifest, methods=["POST"]),
            Route(f"{rounds}/records", receiver.get_records, methods=["GET"]),
            Route(f"{rounds}/evidence/manifest", receiver.post_evidence_manifest, methods=["POST"]),
            Route(f"{rounds}/evidence/{{sha256}}", receiver.get_evidence, methods=["GET"]),
            Route(
                f"{rounds}/evidence/{{sha256}}/parts/{{part:int}}",
                receiver.put_part,
                methods=["PUT"],
            ),
            Route(
                f"{rounds}/evidence/{{sha256}}/complete", receiver.post_complete, methods=["POST"]
            ),
        ]
    )
    app.state.receiver = receiver
    return app
