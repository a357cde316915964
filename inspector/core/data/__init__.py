"""Datasets: one folder per class, validated, split without leakage, imported from many formats."""
