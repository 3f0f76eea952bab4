"""Zone, calibration and rule bodies accepted at the API edge (422 on anything inconsistent).

They are built from detect.rules_config, the worker's own models and field types, so what the API
accepts is exactly what the worker can run: one validator per concept.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from detect.rules_config import (
    Calibration,
    OccupancyCap,
    RequiredPPE,
    ScheduleWindows,
    ZoneName,
    ZonePolygon,
    default_required_ppe,
)
from detect.rules_config import RuleConfig as DetectRuleConfig


def _no_windows_is_none(value: Any) -> Any:
    return None if value == [] else value


class ZoneIn(BaseModel):
    """A zone as an admin draws it: detect's ZoneConfig fields, minus the id (the server assigns it).

    `schedule` is weekly windows in the site's local time (the worker pairs them with the site's time
    zone); a window whose end is before its start runs past midnight. None (or []) = always enforced.
    """

    model_config = ConfigDict(extra="forbid")

    name: ZoneName
    polygon: ZonePolygon
    required_ppe: RequiredPPE = Field(default_factory=default_required_ppe)
    occupancy_cap: OccupancyCap = None
    schedule: Annotated[ScheduleWindows | None, BeforeValidator(_no_windows_is_none)] = Field(
        None, description="Weekly windows in the site's local time; an end before its start = overnight"
    )


# The worker's own calibration model: 4-20 point pairs, four of them in general position on both sides.
CalibrationIn = Calibration


class RuleConfigIn(DetectRuleConfig):
    """The detector's own rule config (detect.rules_config.RuleConfig): one schema from the API to the rules,
    so whatever is accepted here is exactly what the worker runs. `version` is managed by the server."""
