"""The package's layering, read from its imports (grimp, import-linter's graph builder):
the generic layers never import the sandbox, and no module imports itself in a cycle."""

import grimp
import pytest

from chaoslib_edx.faults import FAULTS

GRAPH = grimp.build_graph("chaoslib_edx", exclude_type_checking_imports=True)
SANDBOX = "chaoslib_edx.sandbox"
# Generic layers: they see a platform only through chaoslib_edx.platforms.
GENERIC = ("chaoslib_edx.targets", "chaoslib_edx.environment", "chaoslib_edx.gameday",
           "chaoslib_edx.load", "chaoslib_edx.report", "chaoslib_edx.slo",
           "chaoslib_edx.ledger", "chaoslib_edx.guardrails", "chaoslib_edx.faults",
           "chaoslib_edx.context", "chaoslib_edx.recovery", "chaoslib_edx.platforms",
           "chaoslib_edx.detection", "chaoslib_edx.lease", "chaoslib_edx.liveness",
           "chaoslib_edx.console", "chaoslib_edx.history",
           *(f"chaoslib_edx.{fault.package}.{part}" for fault in FAULTS
             for part in ("actions", "probes", "contract")))


def _modules(prefix: str) -> list[str]:
    return sorted(m for m in GRAPH.modules if m == prefix or m.startswith(prefix + "."))


def _generic_modules() -> list[str]:
    found = {m for prefix in GENERIC for m in _modules(prefix)}
    return sorted(found - {"chaoslib_edx.platforms.sandbox"})  # the adapter may


@pytest.mark.parametrize("module", _generic_modules())
def test_generic_layers_never_import_the_sandbox(module: str) -> None:
    for sandbox_module in _modules(SANDBOX):
        chain = GRAPH.find_shortest_chain(importer=module, imported=sandbox_module)
        assert chain is None, " -> ".join(chain)


def test_only_driver_modules_and_the_adapter_import_the_sandbox() -> None:
    importers = {m for s in _modules(SANDBOX) for m in GRAPH.find_modules_that_directly_import(s)}
    allowed = {"chaoslib_edx.platforms.sandbox", "chaoslib_edx.cli.sandbox",
               *(f"chaoslib_edx.{fault.package}.sandbox" for fault in FAULTS)}
    assert {m for m in importers if not m.startswith(SANDBOX)} <= allowed


def test_no_import_cycles() -> None:
    cycles, state, path = [], {}, []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(GRAPH.find_modules_directly_imported_by(module)):
            if state.get(imported) == "open":
                cycles.append(path[path.index(imported):] + [imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = "done"

    for module in sorted(GRAPH.modules):
        if module not in state:
            visit(module)
    assert cycles == [], [" -> ".join(c) for c in cycles]


def test_the_ledger_is_low_level() -> None:
    """Every fault writes the ledger: it must not pull in guards, runner or report."""
    for upper in ("chaoslib_edx.guardrails", "chaoslib_edx.gameday", "chaoslib_edx.report",
                  "chaoslib_edx.recovery", "chaoslib_edx.targets"):
        for module in _modules(upper):
            assert GRAPH.find_shortest_chain(importer="chaoslib_edx.ledger",
                                             imported=module) is None, module
