"""Free ports: picked from EDX_PORTS when set (runners and test workers sharing a host keep
apart), a malformed range refused naming the variable."""

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.ports import free_block, port_range


def test_blocks_come_from_the_range_edx_ports_names(monkeypatch) -> None:
    monkeypatch.setenv("EDX_PORTS", "41000-41300")
    assert port_range() == (41000, 41300)
    base = free_block(30)
    assert 41000 <= base and base + 30 <= 41300 and (base - 41000) % 30 == 0


def test_without_edx_ports_the_default_range(monkeypatch) -> None:
    monkeypatch.delenv("EDX_PORTS", raising=False)
    assert port_range() == (20000, 30000)


@pytest.mark.parametrize("text", ["x", "30000-20000", "80-90", "20000-70000", "20000"])
def test_a_malformed_range_is_refused_naming_the_variable(monkeypatch, text: str) -> None:
    monkeypatch.setenv("EDX_PORTS", text)
    with pytest.raises(UserError) as refused:
        free_block(1)
    assert refused.value.field == "EDX_PORTS" and repr(text) in str(refused.value)
