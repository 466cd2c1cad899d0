"""A tiny Streamlit page with an offline map: street network, coloured segments, a hostile street name."""

import geopandas as gpd
import streamlit as st
from shapely.geometry import LineString
from streamlit_folium import st_folium

from ui import maps

HOSTILE = "<img src=x onerror=alert(1)>"

# A small grid of streets (about 700 m x 450 m) near Anlaby Road, Hull.
west, south = -0.3700, 53.7390
dx, dy = 0.0035, 0.0020
lines, names = [], []
for i in range(4):
    lines.append(LineString([(west, south + i * dy / 1.5), (west + 3 * dx, south + i * dy / 1.5)]))
    names.append(f"East-west street {i}")
for j in range(4):
    lines.append(LineString([(west + j * dx, south), (west + j * dx, south + 2 * dy)]))
    names.append(f"North-south street {j}")
names[1] = HOSTILE
streets = gpd.GeoDataFrame({"name": names}, geometry=lines, crs="EPSG:4326")
streets["risk"] = [float(i) for i in range(len(streets))]

st.title("Offline map check")
m = maps.base_map(bounds=tuple(streets.total_bounds))
maps.add_street_network(m, streets)
hot = streets.iloc[[1, 5, 6]]
maps.add_segments_by_value(
    m, hot, column="risk", tooltip_fields={"name": "Street", "risk": "Risk"}, weight=7
)
maps.add_legend(m, maps.default_colormap(hot["risk"]), caption="Risk")
st_folium(m, returned_objects=[], height=400, use_container_width=True)
st.caption("Map drawn with no tiles and no request off this server.")
