"""Chaos Toolkit extension and game-day runner for an Open edX-scale learning platform."""

__version__ = "0.1.0"
