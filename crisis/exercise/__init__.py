"""Exercises (49): scenarios with timed injects, the media-pressure simulator and the simulated
callers of the CIP. Pure code: the runner and the channels are wired elsewhere."""
