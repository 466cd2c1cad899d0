"""User-interface helpers shared by the Streamlit pages: maps (plain folium) and browser-test tools."""
