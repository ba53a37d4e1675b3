"""Tests for segtool.readers (a package so test module names need not be unique)."""
