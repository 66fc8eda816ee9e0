"""Importing the packages of optional extras, with an error that names the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from heygen_core.errors import MissingExtraError


def import_extra(package: str, *, extra: str, feature: str) -> ModuleType:
    """Import `package`, or raise `MissingExtraError` naming the extra that installs it.

    Args:
        package: The import name (``livekit.rtc``, ``rich``).
        extra: The heygen-core extra that installs it (``media``, ``cli``).
        feature: What the user asked for, for the message (``a LiveKit room``).
    """
    try:
        return importlib.import_module(package)
    except ModuleNotFoundError as exc:
        # Only the extra's own package missing is the user's fix; a broken
        # install of something else must surface as it is.
        top = package.split(".")[0]
        if exc.name is None or exc.name.split(".")[0] != top:
            raise
        raise MissingExtraError(feature, extra=extra, package=top) from None
