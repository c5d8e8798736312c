"""What a channel is asked to deliver: one firing (or its resolution) of one alert, frozen.

The engine builds it after recording the firing, so `firing_id` names a row that exists.
Delivery stores it (`to_json`) with each pending attempt, so a retry after a restart sends
exactly what the first attempt sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

@dataclass(frozen=True)
class Notification:
    firing_id: int
    alert_id: int
    alert_name: str
    account: str
    kind: str  # presence | absence | index_rate | archive_lag | anomaly | security
    state: str  # firing | resolved
    query: str
    url: str  # absolute link to the view
    matches: int
    threshold: int
    window_start: datetime  # aware UTC
    window_end: datetime
    lines: tuple[dict, ...]  # up to 10 sample lines, shaped like /v1/export's
    late_lines: int = 0
    reason: str = ""
    # An `anomaly` alert's anomaly: its kind (new_template, ...), key (app=x template=123) and evidence.
    anomaly_kind: str = ""
    anomaly_key: str = ""
    evidence: str = ""

    def context(self) -> dict[str, Any]:
        """The names a template may use. `level`, `app` and `host` are the first sample line's (`level`, `_app`, `_host`)
        (empty without lines), `first_line_object` is that line whole, `name` is the alert's."""
        first = self.lines[0] if self.lines else {}
        fields = asdict(self)
        fields.update(
            name=self.alert_name,
            lines=[dict(line) for line in self.lines],
            window_start=self.window_start.isoformat(),
            window_end=self.window_end.isoformat(),
            first_line_object=dict(first),
            level=first.get("level", ""),
            app=first.get("_app", ""),
            host=first.get("_host", ""),
        )
        return fields

    def to_json(self) -> bytes:
        """The stored form, so a delivery pending at a restart can be made afterwards."""
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes | str) -> Notification:
        fields = orjson.loads(data)
        fields.update(
            window_start=datetime.fromisoformat(fields["window_start"]),
            window_end=datetime.fromisoformat(fields["window_end"]),
            lines=tuple(fields["lines"]),
        )
        return cls(**fields)


def sample(account: str, url: str) -> Notification:
    """What "send test" delivers and what templates are checked against on save."""
    end = datetime.now(UTC).replace(microsecond=0)
    line = {"_line": 'GET /checkout 500 "upstream timed out"', "_ts": int(end.timestamp() * 1000), "_host": "web-1", "_app": "nginx", "level": "error"}
    return Notification(
        firing_id=0, alert_id=0, alert_name="Timberyard test notification", account=account, kind="presence",
        state="firing", query="app:nginx level:error", url=url, matches=1, threshold=1,
        window_start=end - timedelta(minutes=5), window_end=end, lines=(line,),
        reason="a test sent from the channel's settings",
    )
