"""Training: fit(), the epoch loop, data loading, checkpoints, distributed runs."""
