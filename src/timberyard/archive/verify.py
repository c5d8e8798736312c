"""Check an account's archive the way an auditor would: with the destination and the node's
public key only (no database, no archive key).

Problems (each makes the check fail): a digest whose signature does not verify with any
trusted key (forged or edited), a break in the chain (a digest missing, edited, or two claiming
one place), a listed file that is missing (deleted) or whose SHA-256 differs (modified), and
a data file no digest lists (added). Notes: the hours in the range with no digest at all, when
nothing was delivered (the node down, or the exporter failing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from timberyard.archive import digest, layout
from timberyard.archive.destination import Destination, ObjectMissing

DAY_MS = 24 * layout.HOUR_MS
LATE_DELIVERY_MS = 7 * DAY_MS  # digests this long after the range are read to know which files are listed


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    digests: int = 0
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "notes": self.notes, "digests_checked": self.digests,
                "files_checked": self.files}


def verify(destination: Destination, account: str, from_ms: int, to_ms: int, keys: list[Ed25519PublicKey]) -> Report:
    report = Report()
    from_ms, to_ms = layout.hour_of(from_ms), to_ms
    chain = _digests(destination, account, from_ms - DAY_MS, to_ms + LATE_DELIVERY_MS)
    in_range = [(k, b, raw) for k, b, raw in chain if from_ms <= layout.hour_of(int(b.get("created_at", 0))) < to_ms]
    listed: dict[str, str] = {}
    for key, body, _raw in chain:
        for f in body.get("files", []):
            listed[f["key"]] = f["sha256"]
    _check_chain(destination, in_range, keys, report)
    for _key, body, _raw in in_range:
        for f in body.get("files", []):
            report.files += 1
            try:
                data = destination.get(f["key"])
            except ObjectMissing:
                report.problems.append(f"deleted: {f['key']} is listed in digest {body['sequence']} but missing")
                continue
            if digest.sha256(data) != f["sha256"]:
                report.problems.append(f"modified: {f['key']} does not match the SHA-256 in digest {body['sequence']}")
    for prefix in layout.day_prefixes(from_ms, to_ms):
        for key in destination.list(prefix):
            parsed = layout.parse_data_key(key)
            if parsed is not None and parsed.account == account and from_ms <= parsed.hour_ms < to_ms and key not in listed:
                report.problems.append(f"added: {key} is listed in no digest")
    delivered = {layout.hour_of(int(b["created_at"])) for _k, b, _r in in_range}
    silent = [h for h in range(from_ms, to_ms, layout.HOUR_MS) if h not in delivered]
    if silent:
        report.notes.append(f"no delivery (no digest) in {len(silent)} hour(s): {', '.join(_hour(h) for h in silent[:48])}"
                            + (" …" if len(silent) > 48 else ""))
    return report


def _digests(destination: Destination, account: str, from_ms: int, to_ms: int) -> list[tuple[str, dict[str, Any], bytes]]:
    """(key, body, stored bytes) of the account's digests written in the window, by sequence.
    A digest that is not one (unreadable) is returned with an empty body and checked as forged."""
    found = []
    for prefix in layout.day_prefixes(from_ms, to_ms):
        for key in destination.list(layout.DIGESTS + prefix):
            parsed = layout.parse_digest_key(key)
            if parsed is None or parsed[0] != account:
                continue
            raw = destination.get(key)
            try:
                body, signature = digest.read(raw)
            except ValueError:
                body, signature = {"sequence": -1, "created_at": parsed[1]}, ""
            found.append((key, {**body, "_signature": signature}, raw))
    return sorted(found, key=lambda item: (int(item[1].get("sequence", -1)), item[0]))


def _check_chain(destination: Destination, chain: list[tuple[str, dict[str, Any], bytes]], keys: list[Ed25519PublicKey], report: Report) -> None:
    previous: tuple[str, dict[str, Any], bytes] | None = None
    for key, body, raw in chain:
        report.digests += 1
        signature = body.pop("_signature")
        if not digest.signed_by(body, signature, keys):
            report.problems.append(f"forged: digest {key} has no valid signature by a trusted key")
        sequence = int(body.get("sequence", -1))
        if previous is None and body.get("previous_digest_key"):
            try:
                previous_raw = destination.get(body["previous_digest_key"])
            except ObjectMissing:
                report.problems.append(f"broken chain: {body['previous_digest_key']}, before {key}, is missing")
            else:
                if digest.sha256(previous_raw) != body.get("previous_digest_sha256"):
                    report.problems.append(f"broken chain: {body['previous_digest_key']} does not match the hash {key} records")
        elif previous is not None:
            prev_key, prev_body, prev_raw = previous
            if sequence == int(prev_body.get("sequence", -1)):
                report.problems.append(f"broken chain: {prev_key} and {key} both claim sequence {sequence}")
            elif sequence != int(prev_body.get("sequence", -1)) + 1:
                report.problems.append(f"broken chain: digests {int(prev_body.get('sequence', -1)) + 1}..{sequence - 1} "
                                       f"are missing between {prev_key} and {key}")
            elif body.get("previous_digest_key") != prev_key or body.get("previous_digest_sha256") != digest.sha256(prev_raw):
                report.problems.append(f"broken chain: {key} does not name {prev_key} with its hash")
        previous = (key, body, raw)


def _hour(hour_ms: int) -> str:
    return datetime.fromtimestamp(hour_ms / 1000, UTC).strftime("%Y-%m-%dT%H:00Z")
