"""`siteaudit audit verify`: the audit log's hash chain and every stored object's SHA-256, checked from the
command line. Exit code 0 when both are intact, 1 when anything is broken (the first broken entry and the
first broken object are named), 2 for the CLI's usual failures (database or store unreachable)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from audit_api._cli_open import open_database, open_store, settings_from


def register(sub: Any) -> None:
    audit = sub.add_parser("audit", help="check the audit log and the stored evidence")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify", help="verify the hash chain and every stored object's SHA-256 (exit 1 when broken)"
    )
    verify.add_argument(
        "--json", action="store_true", help="print the result as JSON (as GET /api/audit/integrity)"
    )
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    from audit_api.api.routes.audit import integrity_status
    from audit_api.services import integrity

    settings = settings_from()
    sessions = open_database(settings)
    store = open_store(settings)
    with sessions() as session:
        result = integrity.verify(session, store)
    status = integrity_status(result)
    if args.json:
        print(json.dumps(status.model_dump(mode="json"), indent=2))
        return 0 if status.valid else 1
    chain = status.chain
    if chain.valid:
        print(f"audit chain: intact ({chain.checked} entries)")
    else:
        print(
            f"audit chain: BROKEN at entry {chain.first_bad_seq}: {chain.reason} "
            f"({chain.checked} entries intact before it)"
        )
    broken = status.first_broken_object
    if status.objects_expired:
        print(f"expired evidence: {status.objects_expired} objects deleted by retention (in the audit log)")
    if broken is None:
        print(f"stored objects: intact ({status.objects_checked} checked)")
    else:
        print(
            f"stored objects: {status.objects_broken} of {status.objects_checked} BROKEN; "
            f"first: {broken.what} ({broken.key}): {broken.reason}"
        )
    return 0 if status.valid else 1
