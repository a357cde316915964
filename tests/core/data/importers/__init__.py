"""Tests of inspector.core.data.importers."""
