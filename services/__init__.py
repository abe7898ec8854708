"""Long-running consumers: e-ticketing and incidents (archive, warden alerts, escalation)."""
