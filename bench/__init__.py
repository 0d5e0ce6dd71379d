"""Performance benchmark of the map app against the obvious ``explore()`` + ``st_folium`` way (``make bench``)."""
