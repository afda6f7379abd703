"""The reference PMO receiver: what the OPS/PMO central system's receiving API must do (spec §6).

``gecc pmo-receiver`` (or ``python -m gecc.pmo_receiver``) serves, over plain HTTP on
127.0.0.1:8090 by default:

- ``POST /gecc/v1/rounds/{round_id}/batches/{n}``: one signed batch of an export (at most
  500 records), stored once per ``Idempotency-Key``: 201 when stored, 200 ``duplicate`` for
  the same key and body again, 422 for the same key with another body, 401 for a bad
  signature or a timestamp more than 300 s off.
- ``POST /gecc/v1/rounds/{round_id}/manifest``: the export's manifest, answered with what
  was actually received (batches, records, records by status, ``complete``).
- ``GET /gecc/v1/rounds/{round_id}/records``: the latest record per center of the round,
  signed the same way with the request path (UTF-8) in place of the body.
- Evidence files in parts of 8 MiB (``evidence``): ``GET .../evidence/{sha256}`` (signed like
  the records' GET) answers the parts held; ``PUT .../evidence/{sha256}/parts/{n}`` one part,
  streamed, signed over its SHA-256 (``X-GECC-Content-SHA256``); ``POST .../complete``
  assembles the file and verifies its SHA-256 (200, or 409 and the parts dropped); ``POST
  .../evidence/manifest`` the package's manifest, answered with the files held verified.
- ``GET /health``; ``GET /control`` and (loopback only) ``PUT /control``: failure injection.

A POST's body is refused (413) over ``app.MAX_BODY_BYTES`` from its Content-Length before a
byte is read, or as soon as the bytes read pass it; missing or malformed signature headers
are refused (401) before the body is read.

Each stored batch is one JSON file ``<dir>/<round>/<export_id>/batch-<n:05d>.json``, written
whole or not at all; a restarted receiver reloads them and still recognises duplicates.

This module holds only the constants others need (the launcher imports them); the server
is in ``app``, ``storage``, ``evidence``, ``control``, ``contract`` and ``server``;
``client`` signs a POST the way the export service does, and a GET (tests, demo).
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
DEFAULT_SECRET = "gecc-local-pmo-secret"
SECRET_ENV = "GECC_PMO_SECRET"
API_PREFIX = "/gecc/v1"
MAX_RECORDS = 500
