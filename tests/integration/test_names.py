"""Names that ride on every event (an API key's, an account's) hold only plain text."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from infrastructure.bootstrap import Services
from tests.support import META, make_tenant


@pytest.mark.parametrize("name", ["a\x00b", "line\nbreak", "   ", "x" * 101])
def test_a_key_name_a_column_cannot_hold_is_refused(services: Services, name: str) -> None:
    tenant = make_tenant(services)
    with pytest.raises(InvalidInput) as refused:
        services.app.create_key(tenant.account_id, name, ["all"], META)
    assert "name" in refused.value.details
    assert len(services.queries.keys_of(tenant.account_id)) == 1  # only the tenant's own


def test_an_account_name_with_control_characters_is_refused(services: Services) -> None:
    with pytest.raises(InvalidInput):
        services.app.create_account("Bad\x00Co", "o@example.com", "PRO", True, META)
    assert services.queries.list_accounts() == []
