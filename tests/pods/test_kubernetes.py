"""The pod fault through chaosk8s and the kubernetes client, against tests/kube.py's fake
API server over HTTP (no Kubernetes API server can run on this machine)."""


import pytest

from chaoslib_edx.ledger import Ledger
from chaoslib_edx.pods.actions import kill_lms_replicas, wait_lms_replicas_ready
from chaoslib_edx.pods.probes import lms_replicas_ready
from chaoslib_edx.recovery.recover import recover
from chaoslib_edx.targets import GuardrailRefused


def test_kill_a_third_of_the_pods_then_wait_ready(eks) -> None:
    cluster, config = eks
    assert lms_replicas_ready("lms", configuration=config) is True
    result = kill_lms_replicas("lms", share=0.33, grace_period_seconds=0, configuration=config)
    assert result["killed"] == sorted(name for name, _ in cluster.deleted)
    assert result["signal"] == "SIGKILL"
    assert len(cluster.deleted) == 2 and {g for _, g in cluster.deleted} == {0}
    assert lms_replicas_ready("lms", configuration=config) is False
    assert len(Ledger(config["edx_ledger"]).pending()) == 1
    assert wait_lms_replicas_ready("lms", timeout_seconds=10, configuration=config) \
        == {"ready_replicas": 6}
    assert lms_replicas_ready("lms", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []


def test_over_share_is_refused_before_any_delete(eks) -> None:
    cluster, config = eks
    with pytest.raises(GuardrailRefused, match="blast radius"):
        kill_lms_replicas("lms", share=0.5, configuration=config)
    assert cluster.deleted == []


def test_a_held_stop_scales_down_and_its_rollback_scales_back(eks) -> None:
    from chaoslib_edx.pods.actions import restore_lms_replicas, stop_lms_replicas

    cluster, config = eks
    result = stop_lms_replicas("lms", count=2, configuration=config)
    assert result["replicas"] == 6 and cluster.scaled == [4] and len(cluster.pods) == 4
    (entry,) = Ledger(config["edx_ledger"]).pending()
    assert entry.arguments == {"deployment": "lms", "replicas": 6}
    # The rollback as `recover` runs it: from the ledger, with the count to bring back.
    assert recover(config["edx_environment"], config["edx_ledger"]).results[0]["ok"] is True
    assert cluster.scaled == [4, 6] and cluster.ready() == 6
    assert Ledger(config["edx_ledger"]).pending() == []
    assert restore_lms_replicas("lms", configuration=config) == {"ready_replicas": 6}


def test_a_stop_over_the_blast_radius_is_refused_before_any_scale(eks) -> None:
    from chaoslib_edx.pods.actions import stop_lms_replicas

    cluster, config = eks
    with pytest.raises(GuardrailRefused, match="blast radius"):
        stop_lms_replicas("lms", count=3, configuration=config)
    assert cluster.scaled == []
