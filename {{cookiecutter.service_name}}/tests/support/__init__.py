"""Helpers of the service's tests (fixtures are in ../conftest.py): imported as ``support.<module>``."""
