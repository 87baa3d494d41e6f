from typing import Any

import pytest


@pytest.fixture
def maria(make_person: Any) -> Any:
    """rep_ana's contact María García, mobile +34 612 34 56 78 (team North)."""
    return make_person(phones=["+34 612 34 56 78"])


@pytest.fixture
def hidden(make_person: Any) -> Any:
    """A customer of the other team, out of rep_ana's reach, mobile +34 699 11 22 33."""
    return make_person(owner="rep_bo_other_team", given_name="Chen", family_name="Wei", phones=["+34 699 11 22 33"])
