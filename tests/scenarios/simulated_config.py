"""The `crisis.toml` the service scenarios run on: one database, simulated voice and SMS."""

from __future__ import annotations

from pathlib import Path


def simulated_config(
    tmp: Path, url: str, *, rate: int = 8, latency_ms: int = 50, extra: str = ""
) -> Path:
    """Write `tmp/crisis.toml` (data in `tmp/data`) and return its path."""
    config = tmp / "crisis.toml"
    channels = "".join(
        f"""[channels.{name}]
rate_per_second = {rate}
concurrency = 4
[channels.{name}.simulation]
latency_ms = {latency_ms}
"""
        for name in ("voice", "sms")
    )
    config.write_text(
        f'data_dir = "{tmp / "data"}"\n[database]\nurl = "{url}"\n{channels}{extra}\n',
        encoding="utf-8",
    )
    return config
