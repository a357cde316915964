"""Tests of inspector.core.evaluation."""
