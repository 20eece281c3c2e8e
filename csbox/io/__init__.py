"""Readers and writers of scanner and data-set file formats (optional dependencies imported lazily).

* ``cfl``: BART's ``.cfl``/``.hdr`` (:func:`read_cfl`, :func:`write_cfl`), NumPy only.
* ``ultrasound``: UFF/USTB channel data (HDF5, ``h5py``), MATLAB ``.mat`` from MUST and
  Verasonics (``scipy.io.loadmat``) -> :class:`~csbox.io.ultrasound.ChannelData`.
* ``radar``: TI DCA1000 raw ADC captures (``.bin``, NumPy) -> MIMO-SAR beat samples.
* ``mri``: raw MRI data -> :class:`~csbox.io.mri.RawMRI`: ISMRMRD/MRD HDF5 (:func:`read_ismrmrd`,
  :func:`write_ismrmrd`; ``h5py``, and the ``ismrmrd`` package to write), fastMRI ``.h5``
  (:func:`read_fastmri`, ``h5py``) and Siemens twix ``.dat`` (:func:`read_twix`, ``twixtools``):
  the ``mri`` extra.

Every reader validates what it reads: a malformed file raises ``ValueError``
naming the file and the field; nothing is ever unpickled.
"""

from .cfl import read_cfl, write_cfl
from .fastmri import read_fastmri
from .mrd import read_ismrmrd, write_ismrmrd
from .mri import LEADING_AXES, MRIHeader, RawMRI
from .radar import read_dca1000, write_dca1000
from .twix import read_twix
from .ultrasound import ChannelData, read_mat, read_uff, write_uff

__all__ = [
    "LEADING_AXES",
    "ChannelData",
    "MRIHeader",
    "RawMRI",
    "read_cfl",
    "read_dca1000",
    "read_fastmri",
    "read_ismrmrd",
    "read_mat",
    "read_twix",
    "read_uff",
    "write_cfl",
    "write_dca1000",
    "write_ismrmrd",
    "write_uff",
]
