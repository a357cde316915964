"""The Qt-free core: every capability of Inspector as plain Python calls."""
