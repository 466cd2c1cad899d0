"""Area page: choose the street network (upload a file or download by place) and see it drawn."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from geo.errors import BeatplanError
from geo.streets import NetworkUnavailableError, StreetNetwork
from geo.workspace import install_network
from ui.auth import require
from ui.escape import md_text
from ui.maps import add_street_network, base_map, tile_options
from ui.state import get_network, get_settings, get_store, synthetic_banner

user = require("area")
st.title("Area")
st.write(
    "The street network that reports are snapped to and patrols are routed on. Load an "
    "OpenStreetMap extract (.osm.pbf or .osm), or a line layer (GeoPackage, GeoJSON, "
    "zipped Shapefile) such as Ordnance Survey Open Roads."
)
synthetic_banner()
store = get_store()
settings = get_settings()
network = get_network()

if network is None:
    st.info("No street network loaded yet: hotspots are found in point mode until one is.")
else:
    s = network.summary()
    c = st.columns(3)
    c[0].metric("Street segments", f"{s['segments']:,}")
    c[1].metric("Junctions", f"{s['nodes']:,}")
    c[2].metric("Length", f"{s['length_km']:,.1f} km")
    seg = network.segments
    w, so, e, n = seg.total_bounds
    m = base_map(bounds=(w, so, e, n), **tile_options(settings.maps))
    add_street_network(m, seg)
    st_folium(m, height=480, returned_objects=[], key="area_map", use_container_width=True)

tab_file, tab_place = st.tabs(["Load a street file", "Download by place"])
with tab_file, st.form("network_file"):
    up = st.file_uploader("Street file", type=["pbf", "osm", "gpkg", "geojson", "json"])
    bbox_text = st.text_input(
        "Clip to area (optional)", placeholder="min_lon, min_lat, max_lon, max_lat"
    )
    walk = st.radio("Streets", ["Walkable (default)", "Drivable"], horizontal=True)
    go = st.form_submit_button("Load network", type="primary")
if go and up is not None:
    try:
        bbox = None
        if bbox_text.strip():
            parts = [float(p) for p in bbox_text.split(",")]
            if len(parts) != 4:
                raise BeatplanError(
                    "The area must be four numbers: min_lon, min_lat, max_lon, max_lat."
                )
            bbox = (parts[0], parts[1], parts[2], parts[3])
        suffix = (
            "".join(Path(up.name).suffixes[-2:])
            if up.name.endswith(".osm.pbf")
            else Path(up.name).suffix
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(up.getvalue())
            with st.spinner("Building the street network…"):
                net = StreetNetwork.from_file(
                    path, bbox=bbox, network_type="walk" if walk.startswith("Walk") else "drive"
                )
        out = install_network(net, store, settings=settings, what=up.name, actor=user.email)
        st.cache_data.clear()
        st.cache_resource.clear()
        st.success(
            f"Loaded {out['segments']:,} street segments ({out['length_km']:,.1f} km); "
            f"{out['snapped']:,} of {out['reports']:,} stored reports snapped to a street."
        )
        st.rerun()
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
        out = install_network(
            net, store, settings=settings, what=f"download {place.strip()}", actor=user.email
        )
        st.cache_data.clear()
        st.cache_resource.clear()
        st.rerun()
    except NetworkUnavailableError as exc:
        st.error(md_text(exc))
    except ValueError as exc:
        st.error(md_text(f"Could not download streets for {place}. {exc}"))
