"""Playbooks: the steps to take from T0, as data (TOML), and their French message templates."""
