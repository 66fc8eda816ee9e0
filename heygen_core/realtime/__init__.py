"""The realtime control socket (`connection`), its own events (`events`), their fan-out."""
