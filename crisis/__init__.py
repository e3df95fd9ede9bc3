"""The crisis communication orchestrator (Qual-e-pref, module 7)."""
