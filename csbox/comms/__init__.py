"""Communications: the IRS-aided MIMO uplink channel in Kronecker-structured sparse form (He and Joseph).

:func:`irs_channel` draws a channel and its three-factor Kronecker dictionary;
:class:`IRSChannel` adds noise at a given SNR and scores estimates (channel
NMSE); :func:`steering` is the ULA dictionary.
"""

from .irs import IRSChannel, irs_channel, steering

__all__ = ["IRSChannel", "irs_channel", "steering"]
