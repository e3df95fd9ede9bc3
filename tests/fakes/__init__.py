"""Project-owned fakes of external providers, served on 127.0.0.1 for fault tests."""
