"""The realtime control socket (`connection`), its own events (`events`), their fan-out (`hub`).

`log_redaction` keeps credentials out of what the sockets' libraries log.
"""
