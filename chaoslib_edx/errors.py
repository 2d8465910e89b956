"""Errors a user can fix: one paragraph naming the file, the field and the fix; exit 2."""

from pathlib import Path

EXIT_BAD_INPUT = 2  # the CLI's exit codes: 0 held, 1 deviated, 2 bad input, 3 aborted


class UserError(Exception):
    """Bad input or configuration; the CLI prints it as one paragraph and exits 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, file: str | Path | None = None,
                 field: str | None = None, fix: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.field = field
        self.fix = fix
        self.message = message.rstrip(".")
        parts = []
        if self.file:
            parts.append(f"{self.file}:")
        if field:
            parts.append(f"field '{field}':")
        parts.append(message.rstrip(".") + ".")
        if fix:
            parts.append(fix.rstrip(".") + ".")
        super().__init__(" ".join(parts))
