"""Builders of small real models and fixtures for tests (no downloads)."""
