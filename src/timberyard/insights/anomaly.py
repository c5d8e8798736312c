"""What a detector reports: one anomaly, small enough to log, store or send as an alert."""

from __future__ import annotations

from dataclasses import dataclass

# Every kind a detector reports, in the order `Detectors` runs them.
KINDS = ("new_template", "template_surge", "silence", "volume_spike", "volume_drop", "error_trend")


@dataclass(frozen=True)
class Anomaly:
    """`kind` names the detector (`new_template`, `template_surge`, `silence`, `volume_spike`,
    `volume_drop`, `error_trend`); `key` is what in the account it is about (`app=x`,
    `host=y`, `app=x template=123`, "" for the account as a whole); `started_at` is the
    epoch ms of the first minute (or line) that was out of the ordinary; `score` says how far
    out (deviations, expected lines missed, minutes to the threshold); `evidence` says it in a
    sentence."""

    kind: str
    account: str
    key: str
    started_at: int
    score: float
    evidence: str
