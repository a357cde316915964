"""Inference: loading a model and classifying images (live inspection builds on it)."""
