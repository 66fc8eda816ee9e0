"""The ``heygen-avatar`` command line (extra ``cli``): `main` and its commands.

`main` parses the arguments and dispatches; the commands (``_say``,
``_chat``, ``_admin``), the progress display, the exit codes and the PNG
writer are private modules of this package.
"""
