"""heygen-core: a protocol-first Python client for HeyGen streaming avatars.

The wire contract lives in ``schemas/``; ``heygen_models`` holds the pydantic
models generated from it; this package is the hand-written part on top.
"""

from heygen_core.errors import HeyGenError, ProtocolError
from heygen_core.protocol import UnknownEvent, decode, decode_as, encode

__all__ = ["HeyGenError", "ProtocolError", "UnknownEvent", "decode", "decode_as", "encode"]
__version__ = "0.1.0"
