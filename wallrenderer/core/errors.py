"""The base of every error whose message is written for the operator."""


class WallError(Exception):
    """A problem the operator can fix (bad layout, missing font, no GL); printed plainly."""
