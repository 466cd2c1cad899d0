"""Error types whose messages are meant for the user, in plain English."""


class BeatplanError(ValueError):
    """A problem with the user's input that they can fix; the message says how."""


class ReportFileError(BeatplanError):
    """A partner file that cannot be imported as a whole (empty, unreadable, no usable columns)."""
