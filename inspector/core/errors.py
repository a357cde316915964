"""Errors a user can cause, each with a message written for that user (DESIGN rule 3)."""

from __future__ import annotations


class InspectorError(Exception):
    """Base of every error whose message is meant to be shown to a user as is."""


class ConfigError(InspectorError):
    """A settings file or value is invalid."""


class WorkspaceError(InspectorError):
    """A workspace folder is missing, unreadable or not a workspace."""


class DatasetError(InspectorError):
    """A dataset operation cannot be done (bad class name, missing image, ...)."""


class DatasetImportError(DatasetError):
    """An import source is unusable (bad archive, unknown format, unsafe paths)."""


class CheckpointError(InspectorError):
    """A model file is unreadable, corrupt or made for other classes."""


class CameraError(InspectorError):
    """A frame source cannot be opened."""


class TrainingError(InspectorError):
    """Training cannot go on (out of memory at batch size 1, no usable device, ...)."""
