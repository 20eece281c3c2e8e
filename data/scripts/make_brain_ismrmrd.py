"""Convert the real 16-channel brain scan of pulseq/MR-Physics-with-Pulseq to ISMRMRD HDF5.

Source: ``tutorials/04_hardware_and_imprefections/data/2024-02-06-164128.dat`` of the
repository github.com/pulseq/MR-Physics-with-Pulseq (MIT licence, Copyright (c) 2024 pulseq):
a Siemens twix (VD/VE) file of an in-vivo head, 2-D spoiled gradient echo (FLASH) written with
Pulseq, one transversal 3-mm slice, 128 x 128, FOV 256 mm, TR 48 ms, TE 12.4 ms, flip 8 degrees,
20 us dwell (no readout oversampling), 16-channel local receive array, MAGNETOM Cima.X at 2.89 T,
fully sampled. The sequence parameters are those of the course notebook
``2D_FLASH_B1_minus_fieldmap.ipynb`` that wrote the sequence (the twix protocol of a Pulseq scan holds
the interpreter's placeholders, not the sequence's values).

What is kept: the 128 imaging readouts x 16 channels, as measured (complex64, no scaling, no
filtering), each placed by its line counter; the technical header below. What is dropped: every
other twix field (institution, patient and protocol records). Run from the repository root::

    python data/scripts/make_brain_ismrmrd.py PATH/TO/2024-02-06-164128.dat

(needs ``twixtools`` and ``ismrmrd``: ``pip install twixtools ismrmrd``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

OUT = Path("data/brain_flash_16ch.h5")
N = 128
FOV_MM = 256.0
SLICE_MM = 3.0


def read_scan(path: str) -> np.ndarray:
    """The imaging readouts ``(lines, coils, samples)`` complex64, ordered by line counter."""
    import twixtools

    meas = twixtools.read_twix(path, verbose=False)[-1]
    scans = [m for m in meas["mdb"] if m.is_image_scan()]
    lines = np.array([m.cLin for m in scans])
    if sorted(lines.tolist()) != list(range(N)):
        raise ValueError(f"{path}: expected lines 0..{N - 1} once each, got {len(lines)} readouts")
    data = np.stack([m.data for m in scans]).astype(np.complex64)  # (readouts, coils, samples)
    if data.shape[1:] != (16, N):
        raise ValueError(f"{path}: expected 16 coils x {N} samples per readout, got {data.shape[1:]}")
    return data[np.argsort(lines)]


def header_xml(n_coils: int) -> str:
    """The ISMRMRD XML header: encoding (matrix, FOV, limits), system, sequence parameters."""
    import ismrmrd.xsd as x

    def space() -> x.encodingSpaceType:
        return x.encodingSpaceType(matrixSize=x.matrixSizeType(x=N, y=N, z=1),
                                   fieldOfView_mm=x.fieldOfViewMm(x=FOV_MM, y=FOV_MM, z=SLICE_MM))

    def lim(n: int) -> x.limitType:
        return x.limitType(minimum=0, maximum=n - 1, center=n // 2)

    zero = lim(1)
    limits = x.encodingLimitsType(kspace_encoding_step_0=lim(N), kspace_encoding_step_1=lim(N),
                                  kspace_encoding_step_2=zero, average=zero, slice=zero, contrast=zero,
                                  phase=zero, repetition=zero, set=zero, segment=zero)
    enc = x.encodingType(encodedSpace=space(), reconSpace=space(), encodingLimits=limits,
                         trajectory=x.trajectoryType.CARTESIAN)
    h = x.ismrmrdHeader(
        experimentalConditions=x.experimentalConditionsType(H1resonanceFrequency_Hz=123206013),
        acquisitionSystemInformation=x.acquisitionSystemInformationType(
            systemVendor="Siemens", systemModel="MAGNETOM Cima.X", systemFieldStrength_T=2.89362,
            receiverChannels=n_coils, relativeReceiverNoiseBandwidth=0.793),
        encoding=[enc],
        sequenceParameters=x.sequenceParametersType(TR=[48.0], TE=[12.4], flipAngle_deg=[8.0],
                                                    sequence_type="Flash"))
    return h.toXML("utf-8")


def write(data: np.ndarray, out: Path) -> None:
    """One ISMRMRD acquisition per line (counters, flags, dwell time), under ``/dataset``."""
    import ismrmrd

    if out.exists():
        out.unlink()
    ds = ismrmrd.Dataset(str(out), "dataset", create_if_needed=True)
    ds.write_xml_header(header_xml(data.shape[1]))
    for i, line in enumerate(data):
        acq = ismrmrd.Acquisition.from_array(line)
        acq.idx.kspace_encode_step_1 = i
        acq.center_sample = N // 2
        acq.sample_time_us = 20.0
        acq.available_channels = data.shape[1]
        acq.scan_counter = i
        if i == 0:
            acq.setFlag(ismrmrd.ACQ_FIRST_IN_SLICE)
            acq.setFlag(ismrmrd.ACQ_FIRST_IN_ENCODE_STEP1)
        if i == len(data) - 1:
            acq.setFlag(ismrmrd.ACQ_LAST_IN_SLICE)
            acq.setFlag(ismrmrd.ACQ_LAST_IN_ENCODE_STEP1)
            acq.setFlag(ismrmrd.ACQ_LAST_IN_MEASUREMENT)
        ds.append_acquisition(acq)
    ds.close()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    data = read_scan(argv[0])
    write(data, OUT)
    size = OUT.stat().st_size / 2**20
    print(f"wrote {OUT} ({size:.2f} MiB): {data.shape[0]} lines x {data.shape[1]} coils x {data.shape[2]} "
          f"samples, max |k| = {np.abs(data).max():.3g}")


if __name__ == "__main__":
    main(sys.argv[1:])
