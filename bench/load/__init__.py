"""Load test of ``rapport serve`` with Locust: see ``python -m bench.load.run --help``."""
