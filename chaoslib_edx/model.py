"""The base of every file model we read (unknown fields refused, values frozen, numbers
finite: an offset of .inf would start a run that can never reach it), and its errors as
one paragraph naming the file and the dotted field."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from chaoslib_edx.errors import UserError


class Model(BaseModel):
    """A strict, immutable pydantic model (a typo in a file is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _union_tag(part: object) -> bool:
    """Pydantic's name for a member of a union in an error's location ('BurnRateAbort',
    'function-after[_check(), Slo]'): not a field of the file, so not in the field path."""
    text = str(part)
    return "[" in text or (text[:1].isupper() and text.isidentifier() and "_" not in text
                           and not text.isupper())


def validation_error(path: Path | str, err: ValidationError) -> UserError:
    """Turn pydantic's first error into a one-paragraph UserError naming the dotted field."""
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"] if not _union_tag(p)) or "(top level)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown field (check its spelling and indentation)"
    elif first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    return UserError(message, file=path, field=field,
                     fix="Fix the file and run the command again; nothing was changed")
