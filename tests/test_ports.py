"""Free ports: picked from EDX_PORTS when set (runners and test workers sharing a host keep
apart), a malformed range, or one among the kernel's ports for outgoing connections (a
client may hold any of them), refused naming the variable."""

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.ports import ephemeral_range, free_block, port_range


def test_blocks_come_from_the_range_edx_ports_names(monkeypatch) -> None:
    monkeypatch.setenv("EDX_PORTS", "21000-21300")
    assert port_range() == (21000, 21300)
    base = free_block(30)
    assert 21000 <= base and base + 30 <= 21300 and (base - 21000) % 30 == 0


def test_without_edx_ports_the_default_range(monkeypatch) -> None:
    monkeypatch.delenv("EDX_PORTS", raising=False)
    assert port_range() == (20000, 30000)


FIRST, LAST = ephemeral_range()


@pytest.mark.parametrize("text", ["x", "30000-20000", "80-90", "20000-70000", "20000",
                                  f"{FIRST - 1000}-{FIRST + 1000}", f"{FIRST + 10}-{FIRST + 300}"])
def test_a_malformed_range_is_refused_naming_the_variable(monkeypatch, text: str) -> None:
    monkeypatch.setenv("EDX_PORTS", text)
    with pytest.raises(UserError) as refused:
        free_block(1)
    assert refused.value.field == "EDX_PORTS" and repr(text) in str(refused.value)
