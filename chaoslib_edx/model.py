"""The base of every file model we read: unknown fields refused, values frozen."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A strict, immutable pydantic model (a typo in a file is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
