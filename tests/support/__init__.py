"""Helpers of the template's tests (no fixtures, no tests): imported as ``support.<module>``."""
