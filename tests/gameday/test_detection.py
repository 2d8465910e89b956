"""Detection drills on the sandbox's real monitoring: the origin loss must page through
the CDN edge's video-delivery alert (acknowledged by the simulated on-call), and the
cache eviction, which only learners see (lost sessions), must come out undetected: in
summary.json, the report, JUnit and the exit code."""

import json

import yaml
from junitparser import JUnitXml

from tests.conftest import compressed_gameday, run_cli


def test_one_fault_pages_and_one_goes_undetected(sandbox, tmp_path) -> None:
    path = compressed_gameday(tmp_path, sandbox, [("cloudfront-origin-loss", 0),
                                                  ("redis-eviction", 40)],
                              slos=("video-delivery", "session-continuity"))
    spec = yaml.safe_load(path.read_text())
    spec["detection"] = {"auto_ack_after_s": 3, "mtta_s": 60}
    path.write_text(yaml.safe_dump(spec))
    run_dir = tmp_path / "run"
    result = run_cli("run", str(path), "--out", str(run_dir),
                     env={"EDX_LEDGER": str(tmp_path / "ledger.jsonl")}, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    assert "UNDETECTED: redis-eviction" in result.stdout

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["detection_source"] == "prometheus" and summary["detection_error"] is None
    rows = {row["experiment"]: row for row in summary["detection"]}
    origin, eviction = rows["cloudfront-origin-loss"], rows["redis-eviction"]
    assert origin["status"] == "detected"
    assert "VideoDeliveryBudgetBurn (page)" in origin["alerts"]
    assert 0 < origin["detect_s"] <= origin["page_s"] < 40, origin
    assert origin["ack_simulated"] and origin["ack_s"] == round(origin["page_s"] + 3, 3)
    assert origin["detect_met"] and origin["ack_met"]
    assert origin["runbooks"] == ["https://runbooks.example.com/edx/video-delivery"]
    assert eviction["status"] == "undetected" and eviction["alerts"] == []
    assert (eviction["detect_s"], eviction["page_s"], eviction["ack_s"]) == (None, None, None)
    # The learners' view next to the servers': the CDN edge logged the failed videos.
    video = summary["experiments"][0]["slos"]["video-delivery"]
    assert video["server_good_share"] is not None and video["server_good_share"] < 1

    html = (run_dir / "index.html").read_text()
    assert 'id="detection"' in html and 'id="undetected"' in html
    assert "VideoDeliveryBudgetBurn (page)" in html and "(simulated)" in html
    (suite,) = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    detection = {case.name: case for case in suite if case.classname == "detection"}
    assert set(detection) == {"cloudfront-origin-loss", "redis-eviction"}
    assert detection["cloudfront-origin-loss"].is_passed
    assert not detection["redis-eviction"].is_passed
    postmortem = (run_dir / "postmortem.md").read_text()
    what_went_wrong = postmortem.split("## What went wrong", 1)[1]
    assert "redis-eviction: learners were hurt and no alert fired" in what_went_wrong
