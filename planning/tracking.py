"""Patrol tracking: GPX tracks reduced to hotspot visits (dosage), compared with the plan.

The work is split by concern; this module re-exports the public names so callers keep
importing from :mod:`planning.tracking`:

- :mod:`planning.tracking_gpx`: reading GPX files and cleaning spikes and gaps;
- :mod:`planning.tracking_visits`: hotspot visits (dosage) and weekly dosage;
- :mod:`planning.tracking_match`: planned stops against delivered minutes;
- :mod:`planning.tracking_effect`: the difference-in-differences effect estimate;
- :mod:`planning.tracking_store`: the ``patrol_logs`` table (visits only, never tracks);
- :mod:`planning.tracking_synthetic`: a synthetic demo track of a planned route.
"""

from __future__ import annotations

from collections.abc import Sequence

from planning.tracking_effect import EFFECT_CAVEAT as EFFECT_CAVEAT
from planning.tracking_effect import effect_estimate as effect_estimate
from planning.tracking_gpx import FIX_COLUMNS as FIX_COLUMNS
from planning.tracking_gpx import LOCAL_TZ as LOCAL_TZ
from planning.tracking_gpx import MAX_SPEED_KMH as MAX_SPEED_KMH
from planning.tracking_gpx import clean_track as clean_track
from planning.tracking_gpx import read_tracks as read_tracks
from planning.tracking_gpx import time_zone_warnings as time_zone_warnings
from planning.tracking_match import DONE_SHARE as DONE_SHARE
from planning.tracking_match import MATCH_COLUMNS as MATCH_COLUMNS
from planning.tracking_match import match_plan as match_plan
from planning.tracking_match import plan_stops as plan_stops
from planning.tracking_store import LOG_COLUMNS as LOG_COLUMNS
from planning.tracking_store import log_patrol as log_patrol
from planning.tracking_store import patrol_log as patrol_log
from planning.tracking_store import patrol_logs as patrol_logs
from planning.tracking_store import save_visits as save_visits
from planning.tracking_synthetic import WALK_KMH as WALK_KMH
from planning.tracking_synthetic import synthetic_track as synthetic_track
from planning.tracking_visits import VISIT_COLUMNS as VISIT_COLUMNS
from planning.tracking_visits import dosage_by_week as dosage_by_week
from planning.tracking_visits import hotspot_visits as hotspot_visits
from planning.tracking_visits import plan_stop_hotspots as plan_stop_hotspots

__all__: Sequence[str] = (
    "EFFECT_CAVEAT",
    "clean_track",
    "dosage_by_week",
    "effect_estimate",
    "hotspot_visits",
    "log_patrol",
    "match_plan",
    "patrol_log",
    "patrol_logs",
    "plan_stop_hotspots",
    "plan_stops",
    "read_tracks",
    "save_visits",
    "synthetic_track",
    "time_zone_warnings",
)
