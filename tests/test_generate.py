"""The instance generator: deterministic for a seed, valid, the profiles' limits as promised."""

import json
import subprocess
import sys

import pytest

import outopt
from outopt.model.data import compile_data
from outopt.instance.validation import check_instance


def test_same_seed_same_instance_other_seed_other():
    a, b = outopt.generate(60, 6, "hard", seed=5), outopt.generate(60, 6, "hard", seed=5)
    assert a == b
    assert a != outopt.generate(60, 6, "hard", seed=6)


@pytest.mark.parametrize("profile", ["easy", "hard"])
@pytest.mark.parametrize("rules", [False, True])
def test_valid_with_the_promised_size(profile, rules):
    inst = outopt.generate(100, 10, profile, seed=1, rules=rules)
    check_instance(inst)  # raises on any cross-table problem
    assert len(inst.functions) == 100 and len(inst.vendors) == 10
    assert len(inst.offers) == 100 * 3  # about 30 % of the vendors per function
    if rules:
        assert inst.rules.separate and inst.rules.together and inst.rules.max_vendors is not None
        quo = outopt.status_quo(inst)
        assert quo is not None and sum(p != outopt.INHOUSE for p in quo.values()) > 0


def test_easy_limits_are_loose_and_hard_limits_bind():
    easy = compile_data(outopt.generate(200, 10, "easy", seed=2))
    assert not easy.binding_resources and not easy.binding_vendor_capacity and not easy.engaged_vendors
    hard_inst = outopt.generate(200, 10, "hard", seed=2)
    hard = compile_data(hard_inst)
    assert hard.binding_resources and len(hard.binding_vendor_capacity) == 10 and len(hard.engaged_vendors) == 10
    assert all(v.max_share == 0.4 for v in hard_inst.vendors)
    # the all-in-house plan breaks the operating budget and the staff limits
    quo = outopt.verify(hard_inst, {f.id: outopt.INHOUSE for f in hard_inst.functions})
    assert any(v.startswith("budget.operating") for v in quo.violations)
    assert any(v.startswith("resources[") for v in quo.violations)


def test_cli_writes_a_loadable_file(tmp_path):
    path = tmp_path / "g.json"
    r = subprocess.run([sys.executable, "-m", "outopt", "generate", str(path), "--size", "30x4", "--profile", "hard",
                        "--seed", "3"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{path}: 30 functions, 4 vendors, 30 offers (hard, seed 3)"
    assert outopt.load(path) == outopt.generate(30, 4, "hard", seed=3)
    assert json.loads(path.read_text())["name"] == "generated-hard-30x4-s3"
    bad = subprocess.run([sys.executable, "-m", "outopt", "generate", str(path), "--size", "30by4"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--size must look like 2000x50, got '30by4'" in bad.stderr
