"""simulator/rooms."""
