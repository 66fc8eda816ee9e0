"""simulator/rest."""
