"""Readers and writers of scanner and data-set file formats (optional dependencies imported lazily).

* ``cfl``: BART's ``.cfl``/``.hdr`` (:func:`read_cfl`, :func:`write_cfl`), NumPy only.
* ``ultrasound``: UFF/USTB channel data (HDF5, ``h5py``), MATLAB ``.mat`` from MUST and
  Verasonics (``scipy.io.loadmat``) -> :class:`~csbox.io.ultrasound.ChannelData`.
* ``radar``: TI DCA1000 raw ADC captures (``.bin``, NumPy) -> MIMO-SAR beat samples.

Every reader validates what it reads: a malformed file raises ``ValueError``
naming the file and the field; nothing is ever unpickled.
"""

from .cfl import read_cfl, write_cfl
from .radar import read_dca1000, write_dca1000
from .ultrasound import ChannelData, read_mat, read_uff, write_uff

__all__ = [
    "ChannelData",
    "read_cfl",
    "read_dca1000",
    "read_mat",
    "read_uff",
    "write_cfl",
    "write_dca1000",
    "write_uff",
]
