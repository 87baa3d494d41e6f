"""``rapport pop``: the screen pop in a terminal."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cli import main

pytestmark = pytest.mark.django_db


def test_rapport_pop_prints_the_callers_card(users: Any, maria: Any, capsys: Any) -> None:
    assert main(["pop", "612", "34", "56", "78", "--user", "rep_ana"]) == 0
    printed = capsys.readouterr().out
    assert "María García" in printed and "+34612345678" in printed


def test_rapport_pop_says_so_for_a_number_out_of_reach(users: Any, hidden: Any, capsys: Any) -> None:
    assert main(["pop", "+34699112233", "--user", "rep_ana"]) == 0
    printed = capsys.readouterr().out
    assert "No customer has '+34699112233'" in printed and "Chen" not in printed
