"""The hostile load script's helpers (the script itself is run by hand: benchmarks/load_hostile.py)."""

import importlib.util

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("load_hostile", ROOT / "benchmarks" / "load_hostile.py")
load_hostile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(load_hostile)


def test_payloads_mix_every_hostile_setting_with_valid_requests():
    work = load_hostile.payloads(50, ["صفحة أولى", "صفحة ثانية"])
    kinds = [kind for kind, _ in work]
    assert len(work) == 50 and kinds.count("hostile") == 25 and kinds.count("valid") == 25
    sent = [body["settings"] for kind, body in work if kind == "hostile"]
    for hostile in load_hostile.HOSTILE_SETTINGS:
        assert hostile in sent
    assert {"headline_max_new_tokens": 10**30} in sent and {"batch_size": 10**12} in sent


def test_peak_rss_is_read_from_proc_status():
    text = "Name:\tpython\nVmPeak:\t  999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  1000 kB\n"
    assert load_hostile.vm_hwm_bytes(text) == 204800 * 1024
    assert load_hostile.vm_hwm_bytes("Name:\tpython\n") is None


def test_the_bars():
    ok = [{"kind": "valid", "status": 200}, {"kind": "hostile", "status": 422},
          {"kind": "valid", "status": 503, "retry_after": "5"}]
    assert load_hostile.judge(ok, 100 * 2**20) == []
    assert load_hostile.judge(ok + [{"kind": "valid", "status": 503, "retry_after": None}], None)
    assert load_hostile.judge(ok + [{"kind": "hostile", "status": 500}], None)
    assert load_hostile.judge(ok + [{"kind": "hostile", "status": None}], None)
    assert load_hostile.judge(ok, load_hostile.RSS_LIMIT_BYTES)
    assert load_hostile.judge(ok, None, over_budget=True)
