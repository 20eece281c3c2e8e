"""Shared fixtures: the csbox backend fixture (numpy, array_api_strict CPU/device1, torch, cupy)."""

from hypothesis import settings

from csbox.testing import backend  # noqa: F401  (registers the fixture)

settings.register_profile("csbox", max_examples=30, deadline=None, derandomize=True)
settings.load_profile("csbox")
