"""File input/output: BART's ``.cfl``/``.hdr`` (:func:`read_cfl`, :func:`write_cfl`)."""

from .cfl import read_cfl, write_cfl

__all__ = ["read_cfl", "write_cfl"]
