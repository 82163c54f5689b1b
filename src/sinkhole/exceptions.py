"""The exception family: every error a user can cause is a SinkholeError.

The CLI prints any SinkholeError as one line and exits with code 2, so each
message must stand on its own: name the file, the key or the value at fault
and what was expected.
"""

from __future__ import annotations

from typing import Any


class SinkholeError(Exception):
    """Something went wrong in sinkhole."""

    fmt: str | None = None

    def __init__(self, *args: object, **kwargs: Any) -> None:
        if args or self.fmt is None:
            message = str(args[0]) if args else (self.__doc__ or "").strip()
        else:
            message = self.fmt.format(**kwargs)
        super().__init__(message)
        self.kwargs = kwargs

    @property
    def message(self) -> str:
        """The one-line message shown to the user."""
        return " ".join(str(self).split())


class FamilyError(SinkholeError):
    """Unknown or broken botnet family."""

    fmt = "unknown family {name!r}; known families: {known}"


class DgaError(SinkholeError):
    """A DGA could not run with the inputs given."""


class OperationError(SinkholeError):
    """The operation file is invalid."""


class PlanError(SinkholeError):
    """The plan could not be computed or written."""
