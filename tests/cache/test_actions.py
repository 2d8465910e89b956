"""Cache eviction on the real sandbox: evictions rise, sessions are lost; restore."""


from chaoslib_edx.cache.actions import evict_cache, restore_cache
from chaoslib_edx.cache.probes import cache_healthy, cache_memory
from chaoslib_edx.ledger import Ledger
from tests.sandbox.helpers import login


def test_eviction_loses_sessions_then_restore(sandbox, tmp_path) -> None:
    config = sandbox.configuration(tmp_path)
    base = sandbox.layout.lb_url
    sessions = [login(base, f"learner{n}") for n in range(50, 60)]
    assert all(s.get(f"{base}/dashboard", allow_redirects=False, timeout=5).status_code == 200
               for s in sessions)
    before = cache_memory("sessions", configuration=config)
    try:
        result = evict_cache("sessions", maxmemory="4mb", fill_mb=16, configuration=config)
        after = cache_memory("sessions", configuration=config)
        assert after["evicted_keys"] > before["evicted_keys"]
        assert result["sessions_after"] < result["sessions_before"]
        # The same session cookies, replayed: pages send the learner to the sign-in
        # page, the API refuses; the ones that kept their session still pass.
        pages = [s.get(f"{base}/dashboard", allow_redirects=False, timeout=5)
                 for s in sessions]
        lost = [s for s, page in zip(sessions, pages) if page.status_code == 302]
        assert len(lost) >= 5, [page.status_code for page in pages]
        assert all(page.headers["Location"].startswith("/login") for page in pages
                   if page.status_code == 302)
        assert {s.get(f"{base}/api/learner_home/init", timeout=5).status_code
                for s in lost} == {401}
        assert cache_healthy("sessions", configuration=config) is False
        assert len(Ledger(config["edx_ledger"]).pending()) == 1
    finally:
        restore_cache("sessions", configuration=config)
    assert cache_healthy("sessions", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []
    assert login(base, "learner50").get(f"{base}/dashboard", timeout=5).status_code == 200
    assert sandbox.status()["state"] == "healthy"
