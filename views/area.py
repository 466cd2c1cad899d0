"""Area page: the current area's boundary and street network; load a network for this area only."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.errors import BeatplanError
from geo.streets import NetworkUnavailableError, StreetNetwork
from geo.workspace import install_network
from ui.area_forms import STREET_TYPES, add_area_boundary, load_street_file, parse_bbox
from ui.auth import require
from ui.escape import md_text
from ui.maps import base_map, tile_options
from ui.state import current_area, get_network, get_settings, get_store, synthetic_banner
from ui.static_layers import street_layer

user = require("area")
st.title("Area")
st.write(
    "The area's boundary and its street network, which reports are snapped to and patrols "
    "are routed on. Load an OpenStreetMap extract (.osm.pbf or .osm, e.g. from Geofabrik), "
    "or a line layer (GeoPackage, GeoJSON) such as Ordnance Survey Open Roads."
)
synthetic_banner()
store = get_store()
settings = get_settings()
area = current_area()  # None: no area set up yet (a network then waits for the first one)
name = area.name if area is not None else "The area"
try:
    network = get_network(None if area is None else area.area_id)
except (OSError, ValueError):
    network = None
    st.warning("This area's saved street network could not be read; load it again below.")

if area is not None:
    w, s, e, n = area.bbox
elif network is not None:
    w, s, e, n = network.segments.total_bounds
else:
    st.info("No area is set up yet: set one up on the Data page.")
    st.stop()
c = st.columns(4)
c[0].metric("Boundary", "Box" if area is None or area.boundary is None else "Polygon")
if network is None:
    st.info(
        md_text(
            f"{name} has no street network yet: hotspots are clusters of reports and "
            "patrol distances are straight lines until one is loaded."
        )
    )
else:
    summary = network.summary()
    c[1].metric("Street segments", f"{summary['segments']:,}")
    c[2].metric("Junctions", f"{summary['nodes']:,}")
    c[3].metric("Length", f"{summary['length_km']:,.1f} km")
st.caption(f"Box: {w:.5f}, {s:.5f}, {e:.5f}, {n:.5f} (west, south, east, north).")
m = base_map(bounds=(w, s, e, n), **tile_options(settings.maps))
if network is not None:
    street_layer(m, network)
if area is not None:
    add_area_boundary(m, area)
st_folium(m, height=480, returned_objects=[], key="area_map", use_container_width=True)


def _install(net: StreetNetwork, what: str) -> None:
    """Make ``net`` this area's network (re-snapping only its reports) and say so."""
    out = install_network(
        net,
        store,
        settings=settings,
        what=what,
        actor=user.email,
        area_id=None if area is None else area.area_id,
    )
    st.cache_data.clear()
    st.cache_resource.clear()
    st.session_state.area_loaded = (
        f"Loaded {out['segments']:,} street segments ({out['length_km']:,.1f} km) for "
        f"{name}; {out['snapped']:,} of {out['reports']:,} of its reports lie on a street."
    )
    st.rerun()


done = st.session_state.pop("area_loaded", None)
if done:
    st.success(md_text(done))
st.subheader(md_text(f"Street network of {name}"))
tab_file, tab_place = st.tabs(["Load a street file", "Download by place"])
with tab_file, st.form("network_file"):
    up = st.file_uploader("Street file", type=list(STREET_TYPES))
    bbox_text = st.text_input(
        "Clip to a box (optional)",
        placeholder="min_lon, min_lat, max_lon, max_lat",
        help="By default the file is clipped to the area's box.",
    )
    walk = st.radio("Streets", ["Walkable (default)", "Drivable"], horizontal=True)
    go = st.form_submit_button("Load network", type="primary")
if go and up is not None:
    try:
        bbox = parse_bbox(bbox_text) if bbox_text.strip() else (area.bbox if area else None)
        with st.spinner("Building the street network…"):
            net = load_street_file(up.name, up.getvalue(), bbox=bbox, walk=walk.startswith("Walk"))
        _install(net, up.name)
    except (BeatplanError, ValueError) as exc:
        st.error(md_text(f"{up.name} could not be loaded. {exc}"))
elif go:
    st.warning("Choose a street file first.")

with tab_place, st.form("network_place"):
    place = st.text_input("Place", placeholder="Kingston upon Hull, UK")
    fetch = st.form_submit_button("Download")
if fetch and place.strip():
    try:
        with st.spinner(f"Downloading streets for {md_text(place)}…"):
            net = StreetNetwork.download(place.strip())
        _install(net, f"download {place.strip()}")
    except NetworkUnavailableError as exc:
        st.error(md_text(exc))
    except ValueError as exc:
        st.error(md_text(f"Could not download streets for {place}. {exc}"))
