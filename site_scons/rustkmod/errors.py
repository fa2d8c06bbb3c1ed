"""The one exception type that reaches users: a single line naming the thing and the fix."""


class RustkmodError(Exception):
    """Bad input or environment. `str(err)` is one line: what is wrong, then how to fix it."""

    def __init__(self, what: str, fix: str = ""):
        self.what = what
        self.fix = fix
        super().__init__(f"{what}; {fix}" if fix else what)
