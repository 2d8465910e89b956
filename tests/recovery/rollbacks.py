"""A rollback function for the ledger tests, resolved by module path like real ones."""

calls: list[tuple[str, dict]] = []


def record_call(name: str, configuration: dict = None, secrets: dict = None) -> None:
    calls.append((name, configuration))
    if name == "fail":
        raise RuntimeError("asked to fail")
