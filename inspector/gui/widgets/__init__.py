"""Reusable widgets. They take plain data (numbers, strings, numpy arrays) and know nothing of
pages, workers or the core's long-running calls."""
