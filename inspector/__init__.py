"""Inspector: visual inspection of printed circuit boards."""

import os

# Factories are often offline: albumentations must not look for updates at import time.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"
