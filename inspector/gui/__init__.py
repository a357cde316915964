"""The desktop application (PySide6): a thin front end over inspector.core.

`inspector.gui.app.run_app` starts it; `app.py` is the one place that builds and connects the
objects. Pages and widgets receive plain data and never import torch, cv2 or albumentations.
"""
