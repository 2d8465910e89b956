"""CDN faults: the video/asset origin behind the edge is lost, and its probes."""
