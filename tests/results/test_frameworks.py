"""The framework mappings: every file valid against its schema, every check id a built-in check,
every built-in check mapped somewhere or deliberately listed as unmapped, with its reason."""
from __future__ import annotations

import pytest

from aksaudit.config import ConfigError, parse_config
from aksaudit.reports.check_docs import builtin_registry
from aksaudit.results.frameworks import (FrameworkError, builtin_frameworks, mapping_files, parse_framework, problems,
                                         read_toml, select_frameworks, unmapped_checks)


@pytest.fixture(scope="module")
def builtin_ids() -> set[str]:
    return {check.id for check in builtin_registry().checks}


@pytest.mark.parametrize("name", mapping_files())
def test_every_mapping_file_is_valid_against_the_schema(name):
    document = read_toml(name)
    assert problems(document) == []
    assert f"{document['id']}.toml" == name


def test_the_bundled_frameworks_are_the_four_asked_for():
    assert {f.id for f in builtin_frameworks()} == {"mcsb", "nist-800-53-r5", "pci-dss-4.0", "cis-aks"}


def test_the_unmapped_list_is_valid_against_its_schema():
    assert problems(read_toml("unmapped.toml"), "unmapped.schema.json") == []


def test_every_mapped_check_is_a_builtin_check(builtin_ids):
    mapped = {c.check_id for f in builtin_frameworks() for control in f.controls for c in control.checks}
    assert mapped - builtin_ids == set()


def test_every_builtin_check_is_mapped_or_deliberately_unmapped(builtin_ids):
    mapped = {c.check_id for f in builtin_frameworks() for control in f.controls for c in control.checks}
    unmapped = set(unmapped_checks())
    assert unmapped <= builtin_ids
    assert mapped & unmapped == set(), "a check listed as unmapped is mapped"
    assert builtin_ids - mapped - unmapped == set()
    assert all(reason.strip() for reason in unmapped_checks().values())


def test_control_ids_are_unique_within_each_framework():
    for framework in builtin_frameworks():
        ids = [c.id for c in framework.controls]
        assert len(ids) == len(set(ids)), framework.id


@pytest.mark.parametrize("broken, where", [
    ({"coverage": "complete"}, "coverage"),
    ({"check": "udr001"}, "check"),
    ({"reason": ""}, "reason"),
])
def test_a_broken_mapping_line_is_refused_naming_the_file(broken, where):
    line = {"check": "UDR001", "coverage": "sufficient", "reason": "why", **broken}
    document = {"id": "x", "name": "X", "version": "1", "url": "https://example.org",
                "controls": [{"id": "C-1", "title": "T", "checks": [line]}]}
    with pytest.raises(FrameworkError, match=rf"^x\.toml: controls/0/checks/0/{where}"):
        parse_framework(document, "x.toml")


def test_a_control_listed_twice_is_refused():
    control = {"id": "C-1", "title": "T", "checks": [{"check": "UDR001", "coverage": "partial", "reason": "r"}]}
    document = {"id": "x", "name": "X", "version": "1", "url": "https://example.org", "controls": [control, control]}
    with pytest.raises(FrameworkError, match="C-1 is listed twice"):
        parse_framework(document, "x.toml")


@pytest.mark.parametrize("names, expected", [
    ([], {"mcsb", "nist-800-53-r5", "pci-dss-4.0", "cis-aks"}),
    (["NIST"], {"nist-800-53-r5"}),
    (["pci", "mcsb"], {"pci-dss-4.0", "mcsb"}),
    (["CIS-AKS"], {"cis-aks"}),
])
def test_frameworks_are_chosen_by_id_or_prefix_in_any_case(names, expected):
    assert {f.id for f in select_frameworks(names)} == expected


def test_an_unknown_framework_names_the_valid_ones():
    with pytest.raises(ValueError) as error:
        select_frameworks(["iso27001"])
    assert all(f.id in str(error.value) for f in builtin_frameworks())


def test_the_configuration_file_chooses_frameworks_and_refuses_unknown_ones():
    registry = builtin_registry()
    assert parse_config({"frameworks": ["nist"]}, "aksaudit.toml", registry).frameworks == ("nist-800-53-r5",)
    assert parse_config({}, "aksaudit.toml", registry).frameworks == ()
    with pytest.raises(ConfigError, match=r"^aksaudit\.toml: frameworks: unknown framework 'sox'"):
        parse_config({"frameworks": ["sox"]}, "aksaudit.toml", registry)
    with pytest.raises(ConfigError, match=r"frameworks\[0\]: expected a string"):
        parse_config({"frameworks": [1]}, "aksaudit.toml", registry)
